"""Every mermaid diagram of the generated docs renders in a real browser.

mermaid.js (pinned in tests/browser/package-lock.json) parses and renders each
```mermaid block of docs/*.md in headless Chromium; any parse or render error
fails. A PNG of each diagram is kept in test-artifacts/diagrams/ for a person
to look at. tools/install-browser-deps.sh installs Debian's chromium and the
pinned mermaid when missing; the test is skipped only when that cannot be done.
"""

from __future__ import annotations

import html
import json
import math
import re
import subprocess
from pathlib import Path

import pytest

from statebot.review.diagrams import raw_mermaid, state_diagram, state_machines_markdown
from statebot.core.fsm import all_specs
from statebot.core.fsm.table import MachineSpec, Transition
from tests.chromium import INSTALL, ROOT, chromium, png_size, run_chromium

MERMAID_JS = ROOT / "tests" / "browser" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "diagrams"
# Shapes the real machines will have (self-loops, several sources, two triggers on one arrow,
# guards): checked against mermaid before such a machine lands.
SHAPES = MachineSpec(
    name="shapes",
    states=("FLAT", "ENTERING", "OPEN", "EXITING"),
    initial="FLAT",
    transitions=(
        Transition(trigger="submit_entry", source="FLAT", dest="ENTERING", guard="may_enter", why="entry sent"),
        Transition(trigger="fill", source="ENTERING", dest="OPEN", why="filled"),
        Transition(trigger="partial_fill", source="ENTERING", dest="ENTERING", why="part filled"),
        Transition(trigger="reject", source="ENTERING", dest="FLAT", why="refused"),
        Transition(trigger="cancel", source="ENTERING", dest="FLAT", why="cancelled"),
        Transition(trigger="flatten", source=("OPEN", "ENTERING"), dest="EXITING", actions=("flatten_all_positions",), why="exit"),
        Transition(trigger="exit_fill", source="EXITING", dest="FLAT", why="flat again"),
    ),
)
BLOCK = re.compile(r"^## (?P<machine>\S+)$|^```mermaid\n(?P<source>.*?)\n```$", re.MULTILINE | re.DOTALL)

RENDER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="{mermaid}"></script></head>
<body><pre id="result">pending</pre><script>
const sources = {sources};
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
(async () => {{
  const results = [];
  for (let i = 0; i < sources.length; i++) {{
    try {{
      await mermaid.parse(sources[i]);
      const {{svg}} = await mermaid.render("diagram" + i, sources[i]);
      results.push({{ok: true, svg: svg}});
    }} catch (e) {{
      results.push({{ok: false, error: String((e && e.message) || e)}});
    }}
  }}
  document.getElementById("result").textContent = JSON.stringify(results);
}})();
</script></body></html>
"""
PICTURE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>html, body {{ margin: 0; background: white; }} body {{ padding: 16px; }}</style></head>
<body>{svg}</body></html>
"""


@pytest.fixture(scope="module")
def browser() -> str:
    if chromium() is None or not MERMAID_JS.exists():
        done = subprocess.run(["bash", str(INSTALL)], cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            pytest.skip(f"cannot install chromium and mermaid for the browser check: {reason}")
    path = chromium()
    if path is None or not MERMAID_JS.exists():
        pytest.skip("chromium or mermaid still missing after tools/install-browser-deps.sh")
    return path


def diagrams_of(name: str, text: str) -> list[tuple[str, str, str]]:
    """(label, machine, mermaid source) of every ```mermaid block, by the machine heading above it."""
    found, machine = [], "top"
    for match in BLOCK.finditer(text):
        if match.group("machine"):
            machine = match.group("machine")
        else:
            found.append((f"{name}-{machine}", machine, match.group("source")))
    return found


def all_diagrams() -> list[tuple[str, str, MachineSpec, tuple[str, ...]]]:
    """Every diagram of the committed docs, a live one per machine (second state active), and SHAPES."""
    specs = {s.name: s for s in all_specs()}
    out = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for label, machine, source in diagrams_of(doc.stem, doc.read_text(encoding="utf-8")):
            out.append((label, source, specs[machine], ()))
    second = {s.name: s.states[min(1, len(s.states) - 1)] for s in specs.values()}
    live = state_machines_markdown(tuple(specs.values()), {name: {"": state} for name, state in second.items()})
    for label, machine, source in diagrams_of("live", live):
        out.append((label, source, specs[machine], (second[machine],)))
    out.append(("shapes", state_diagram(SHAPES, ["OPEN"]), SHAPES, ("OPEN",)))
    return out


def test_transitions_raw_mermaid_parses_but_draws_no_title(browser: str, tmp_path: Path) -> None:
    """Why fix_mermaid rewrites the front matter: transitions' bare title is silently dropped."""
    specs = all_specs()
    (result,) = render(browser, tmp_path, [raw_mermaid(specs[0])])
    assert result["ok"], result.get("error")
    assert f">{specs[0].name}<" not in result["svg"]


def render(browser: str, tmp_path: Path, sources: list[str]) -> list[dict]:
    """mermaid.parse then mermaid.render of each source in one headless Chromium page."""
    page = tmp_path / "render.html"
    page.write_text(RENDER_PAGE.format(mermaid=MERMAID_JS.as_uri(), sources=json.dumps(sources)), encoding="utf-8")
    done = run_chromium(browser, tmp_path / "profile-render", "--virtual-time-budget=30000", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found is not None and found.group(1) != "pending", "mermaid did not finish rendering"
    results: list[dict] = json.loads(html.unescape(found.group(1)))
    assert len(results) == len(sources)
    return results


def test_the_generated_docs_hold_a_diagram_per_machine() -> None:
    labels = [label for label, _, _, _ in all_diagrams()]
    assert [f"state-machines-{s.name}" for s in all_specs()] == [x for x in labels if x.startswith("state-machines-")]


def test_every_diagram_renders_in_headless_chromium(browser: str, tmp_path: Path) -> None:
    diagrams = all_diagrams()
    results = render(browser, tmp_path, [d[1] for d in diagrams])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for (label, source, spec, active), result in zip(diagrams, results):
        assert result["ok"], f"{label}: mermaid refused it: {result['error']}\n{source}"
        svg = result["svg"]
        assert 'aria-roledescription="error"' not in svg, f"{label}: mermaid drew its error picture"
        for state in spec.states:
            assert f">{state}<" in svg, f"{label}: state {state} is not drawn"
        assert f">{spec.name}<" in svg, f"{label}: the title {spec.name} is not drawn"
        for state in active:
            assert re.search(rf'class="node s_active[^"]*"[^>]*id="[^"]*{state}', svg), f"{label}: {state} not highlighted"

        width, height = (float(v) for v in re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', svg).groups())  # type: ignore[union-attr]
        picture = tmp_path / f"{label}.html"
        picture.write_text(PICTURE_PAGE.format(svg=svg), encoding="utf-8")
        png = ARTIFACTS / f"{label}.png"
        png.unlink(missing_ok=True)
        size = f"{math.ceil(width) + 32},{math.ceil(height) + 32}"
        shot = run_chromium(browser, tmp_path / f"profile-{label}", f"--window-size={size}",
                            f"--screenshot={png}", picture.as_uri())
        assert shot.returncode == 0 and png.exists(), f"{label}: no screenshot: {shot.stderr[-1000:]}"
        assert png_size(png) == tuple(int(v) for v in size.split(","))
