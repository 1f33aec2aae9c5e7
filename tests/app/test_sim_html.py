"""``statebot sim --html``: one self-contained page a trader reads, checked as text and in the real browser.

The browser checks load the page offline in headless chromium (tests/chromium.py), assert what it
rendered, that it raised or logged no error, and that its size stays bounded for a week and for
a year of one-minute bars; a screenshot of each is kept in test-artifacts/reports/.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from statebot.cli import main
from tests.app.test_sim_gaps import two_weeks_months_apart
from tests.chromium import ARTIFACTS, chromium_path, open_report, screenshot

WEEK = ["sim", "--start", "2026-11-23", "--end", "2026-11-27"]  # Thanksgiving week: four sessions and a holiday


def _report(tmp_path: Path, args: list[str], name: str = "report") -> Path:
    out = tmp_path / name
    assert main([*args, "--html", str(out)]) == 0
    return out / "index.html"


def test_the_page_is_one_self_contained_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = _report(tmp_path, WEEK)
    page = index.read_text()
    assert sorted(p.name for p in index.parent.iterdir()) == ["index.html"]
    assert re.findall(r"https?://[^'\" ]+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")
    assert "<script" not in page and "<link" not in page and "<img" not in page and "url(http" not in page


def test_the_page_names_the_strategy_the_data_and_the_config_hash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = _report(tmp_path, [*WEEK, "-p", "fast=4"]).read_text()
    assert "sma-cross (fast=4)" in page
    assert "synthetic bars, seed 7, 2026-11-23..2026-11-27" in page
    assert re.search(r"<th>config hash</th><td>[0-9a-f]{16}</td>", page)


def test_the_calendar_marks_the_holiday_and_throttled_trading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = _report(tmp_path, WEEK).read_text()
    calendar = page[page.index("class='chart calendar'"):]
    assert calendar.count("class='session'") == 4
    assert "Thu 2026-11-26: no session (holiday)" in calendar
    assert "class='throttled'" in calendar  # the demo's throttle keeps sma-cross out most of the week


def test_sessions_without_data_have_their_own_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bars = two_weeks_months_apart(tmp_path)
    page = _report(tmp_path, ["sim", "--bars", str(bars), "--tz", "America/New_York"]).read_text()
    assert "Mon 2026-03-09: session without data" in page and "Fri 2026-09-04: session without data" in page
    assert str(bars) in page


def test_the_page_needs_no_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert "class='chart price'" in _report(tmp_path, WEEK).read_text()


def test_a_monte_carlo_page_has_every_seeds_equity_and_the_percentiles(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    page = _report(tmp_path, [*WEEK, "--seeds", "3"]).read_text()
    assert page.count("class='equity'") == 3
    assert "Percentiles over the seeds" in page and "P95" in page


def test_an_unwritable_folder_is_one_line_and_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main([*WEEK, "--html", str(blocker / "sub")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--html" in err[0] and "cannot write the report" in err[0]


# -- in the real browser ---------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> str:
    return chromium_path()


def _rendered(chart: dict[str, Any], shape: str) -> int:
    return int(chart["shapes"].get(shape, {}).get("drawn", 0))


def _check_in_browser(browser: str, index: Path, work: Path, name: str) -> dict[str, Any]:
    seen = open_report(browser, index, work)
    assert seen["errors"] == [] and seen["console"] == []
    assert seen["page"]["w"] <= 1200  # no sideways scrolling at 1200 px
    charts = seen["charts"]
    assert set(charts) == {"price", "equity", "sessions", "calendar"}
    price = charts["price"]
    for shape in ("path.band", "path.close", "path.entries.long", "path.entries.short", "path.exits", "path.stops"):
        assert _rendered(price, shape) == 1, shape
    assert _rendered(charts["equity"], "path.equity") == 1 and _rendered(charts["equity"], "path.drawdown") == 1
    assert _rendered(charts["calendar"], "rect.session") >= 4 and _rendered(charts["calendar"], "path.throttled") >= 1
    for text in ("sma-cross", "config hash", "exposure", "max drawdown"):
        assert text in seen["text"]
    width, height = screenshot(browser, index, ARTIFACTS / "reports" / f"{name}.png", work, width=1200, height=seen["page"]["h"])
    assert (width, height) == (1200, seen["page"]["h"])
    return seen


def test_a_week_renders_in_chromium_small_and_without_errors(browser: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    index = _report(tmp_path, WEEK)
    seen = _check_in_browser(browser, index, tmp_path / "browser", "sim-week")
    assert index.stat().st_size < 150_000
    assert _rendered(seen["charts"]["sessions"], "rect.session-pnl") == 4
    assert seen["charts"]["calendar"]["h"] <= 120  # one week: one row
    assert seen["page"]["h"] < 3500


def test_a_year_of_one_minute_bars_renders_in_chromium_and_stays_small(browser: str, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    index = _report(tmp_path, ["sim", "--start", "2025-01-01", "--end", "2025-12-31"])
    seen = _check_in_browser(browser, index, tmp_path / "browser", "sim-year")
    assert index.stat().st_size < 600_000  # 96,960 bars and about 1,800 trades
    assert _rendered(seen["charts"]["sessions"], "rect.session-pnl") > 240
    assert seen["charts"]["calendar"]["h"] <= 1100  # 53 week rows, not one row a session
    assert seen["charts"]["price"]["h"] <= 340
    assert seen["page"]["h"] < 5000
