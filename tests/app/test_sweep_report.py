"""A sweep's HTML report: the best with their robustness, the edge warning, the heatmap inline, every point;
checked as text and in the real browser (a screenshot kept in test-artifacts/reports/)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from statebot.app.sweep import load_sweep, rank, sweep_html, write_sweep_html
from tests.app.sweep_helpers import result, write_sweep
from tests.chromium import ARTIFACTS, chromium_path, open_report, screenshot


def _results() -> list:  # type: ignore[type-arg]
    return [result(5, 20, 1, "10"), result(5, 20, 2, "0", status="failed"), result(5, 30, 1, "30"),
            result(10, 20, 1, "-5"), result(10, 30, 1, "50"), result(10, 30, 2, "70")]


def _page(tmp_path: Path) -> str:
    results = _results()
    return sweep_html(load_sweep(write_sweep(tmp_path)), results, rank(results), axes=("fast", "slow"))


def test_the_best_combination_is_ranked_with_its_worst_point_and_spread(tmp_path: Path) -> None:
    page = _page(tmp_path)
    best = page[page.index("class=best"):page.index("</table>", page.index("class=best"))]
    first_row = re.findall(r"<tr>(.*?)</tr>", best)[1]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", first_row)
    assert cells == ["1", "fast=10 slow=30", "60.00", "50.00", "14.14", "2", "100%"]


def test_the_edge_warning_is_on_the_page(tmp_path: Path) -> None:
    page = _page(tmp_path)
    assert page.count("class='warn edge'") == 2  # fast=10 and slow=30 are both the highest values tried
    assert "fast = 10, the highest value tried (5..10)" in page


def test_the_heatmap_is_inline_svg_with_a_cell_per_pair_and_the_best_outlined(tmp_path: Path) -> None:
    page = _page(tmp_path)
    heatmap = page[page.index("class='chart heatmap'"):page.index("</svg>", page.index("class='chart heatmap'"))]
    cells = re.findall(r"<rect class='cell'[^>]*>", heatmap)
    assert len(cells) == 4
    assert [c for c in cells if "stroke-width='2.5'" in c] == [c for c in cells if "y='10'" in c and "x='166'" in c]
    assert "fast=10 slow=30: mean net_pnl 60.00" in heatmap and "fast=5 slow=20: mean net_pnl 10.00" in heatmap
    assert "<img" not in page and "<script" not in page


def test_every_point_is_a_row_a_failed_one_with_its_error(tmp_path: Path) -> None:
    page = _page(tmp_path)
    rows = re.findall(r"<tr>(.*?)</tr>", page[page.index("class=points"):])
    assert len(rows) == 1 + 6
    assert "FAILED" in rows[2] and "ConfigError: bad" in rows[2]


def test_the_report_is_written_into_the_sweep_folder(tmp_path: Path) -> None:
    results = _results()
    path = write_sweep_html(load_sweep(write_sweep(tmp_path)), results, rank(results), tmp_path, axes=("fast", "slow"))
    assert path == tmp_path / "report.html" and "statebot sweep: tiny" in path.read_text()


def test_the_report_renders_in_chromium_without_errors(tmp_path: Path) -> None:
    browser = chromium_path()
    results = _results()
    path = write_sweep_html(load_sweep(write_sweep(tmp_path)), results, rank(results), tmp_path, axes=("fast", "slow"))
    seen = open_report(browser, path, tmp_path / "browser")
    assert seen["errors"] == [] and seen["console"] == []
    heatmap = seen["charts"]["heatmap"]
    assert heatmap["shapes"]["rect.cell"] == {"count": 4, "drawn": 4}
    assert 0 < heatmap["w"] <= 1200 and 0 < heatmap["h"] < 400
    assert "Best combinations by mean net_pnl" in seen["text"] and "Every point" in seen["text"]
    assert screenshot(browser, path, ARTIFACTS / "reports" / "sweep.png", tmp_path, width=1200,
                      height=seen["page"]["h"]) == (1200, seen["page"]["h"])


def test_a_heatmap_axis_no_point_swept_is_said_not_drawn(tmp_path: Path) -> None:
    results = _results()
    page = html.unescape(sweep_html(load_sweep(write_sweep(tmp_path)), results, rank(results), axes=("fast", "colour")))
    assert "not drawn: heatmap: 'fast' and 'colour' must both be swept" in page and "class='chart heatmap'" not in page
