"""The real browser of the test suite: Debian's headless chromium, installed by tools/install-browser-deps.sh.

``chromium_path()`` finds it (installing it when it can, else the test is skipped);
``open_report(path)`` loads a report page with a probe that records every error the page
raises or logs and what it rendered, and returns that record. ``ARTIFACTS`` is the
folder of pictures a person (or CI, which keeps it) looks at: test-artifacts/ at the top of
the repository, ignored by git.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
INSTALL = ROOT / "tools" / "install-browser-deps.sh"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")
# any host name fails to resolve: a page that reaches for the network logs an error
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push("error: " + (e.message || (e.target && (e.target.src || e.target.href)) || e)), true);
for (const level of ["error", "warn"]) {
  const original = console[level];
  console[level] = (...args) => { window.__errors.push(level + ": " + args.join(" ")); original.apply(console, args); };
}
window.addEventListener("load", () => {
  const box = el => { const r = el.getBoundingClientRect(); return {w: Math.round(r.width), h: Math.round(r.height)}; };
  const charts = {};
  for (const s of document.querySelectorAll("svg.chart")) {
    const name = s.getAttribute("class").replace("chart ", "");
    const shapes = {};
    for (const p of s.querySelectorAll("[class]")) {
      const key = p.tagName + "." + p.getAttribute("class").split(" ").join(".");
      const b = p.getBBox ? p.getBBox() : {width: 0, height: 0};
      const seen = shapes[key] || {count: 0, drawn: 0};
      seen.count += 1;
      if (b.width > 0 || b.height > 0) seen.drawn += 1;
      shapes[key] = seen;
    }
    charts[name] = {...box(s), shapes: shapes};
  }
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({errors: window.__errors, page: {w: document.documentElement.scrollWidth,
    h: document.documentElement.scrollHeight}, charts: charts, title: document.title,
    text: document.body.innerText.slice(0, 20000)});
  document.body.appendChild(probe);
});
</script>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_path() -> str:
    """The chromium binary; installs it with tools/install-browser-deps.sh when missing, skips when it cannot."""
    if chromium() is None:
        done = subprocess.run(["bash", str(INSTALL)], cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            pytest.skip(f"cannot install chromium for the browser check: {reason}")
    path = chromium()
    if path is None:
        pytest.skip("chromium still missing after tools/install-browser-deps.sh")
    return path


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180, check=False)


def open_report(binary: str, report: Path, work: Path, *, width: int = 1200) -> dict[str, Any]:
    """Load ``report`` (a copy with the probe added) offline in chromium at ``width`` px; the probe's record
    (``errors``, ``page`` size, ``charts`` by name with their size and shapes, ``text``) plus the
    browser's own console lines (``console``)."""
    work.mkdir(parents=True, exist_ok=True)
    probed = work / report.name
    probed.write_text(report.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    done = run_chromium(binary, work / "profile", OFFLINE, "--enable-logging=stderr", "--v=0",
                        f"--window-size={width},900", "--virtual-time-budget=10000", "--dump-dom", probed.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found is not None, "the page never finished loading"
    record: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    record["console"] = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    return record


def screenshot(binary: str, report: Path, png: Path, work: Path, *, width: int, height: int) -> tuple[int, int]:
    """A PNG of ``report`` at ``width`` x ``height`` px (the whole page when ``height`` is its height); returns its size."""
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    shot = run_chromium(binary, work / "profile-shot", OFFLINE, f"--window-size={width},{height}", f"--screenshot={png}",
                        report.as_uri())
    assert shot.returncode == 0 and png.exists(), f"no screenshot: {shot.stderr[-1000:]}"
    return png_size(png)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height
