"""A sweep's results read as a table, the best combinations with their robustness, edge warnings, a heatmap, Parquet."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from statebot.app.simrun import SessionRow, SimReport
from statebot.app.sweep import edge_warnings, export_parquet, heatmap_png, load_sweep, rank, results_table
from statebot.app.sweep.execute import daily_sharpe
from tests.app.sweep_helpers import result, write_sweep

GRID = [result(5, 20, 1, "10"), result(5, 20, 2, "-30"), result(10, 20, 1, "50"), result(10, 20, 2, "40"),
        result(5, 30, 1, "100"), result(5, 30, 2, "-90"), result(10, 30, 1, "0", status="failed")]


def test_combinations_rank_by_their_mean_over_seeds_with_the_worst_seed_and_share_positive() -> None:
    ranked = rank(GRID, "net_pnl")
    assert [g.label() for g in ranked] == ["fast=10 slow=20", "fast=5 slow=30", "fast=5 slow=20"]
    best = ranked[0]
    assert (best.points, best.mean, best.worst, best.positive_share) == (2, 45.0, 40.0, 1.0)
    assert ranked[1].worst == -90.0 and ranked[1].positive_share == 0.5


def test_a_metric_where_lower_is_better_ranks_the_lowest_first() -> None:
    rows = [result(5, 20, 1, "1"), result(10, 20, 1, "1")]
    rows = [attrs.evolve(rows[0], max_drawdown=Decimal(50)), attrs.evolve(rows[1], max_drawdown=Decimal(20))]
    assert [g.label() for g in rank(rows, "max_drawdown")] == ["fast=10 slow=20", "fast=5 slow=20"]


def test_points_without_the_metric_are_left_out_of_the_ranking() -> None:
    rows = [result(5, 20, 1, "1", sharpe=None), result(10, 20, 1, "1", sharpe=0.5)]
    assert [g.label() for g in rank(rows, "sharpe")] == ["fast=10 slow=20"]


def test_the_best_point_on_the_grid_edge_is_warned_about(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path, fast="[5, 10, 15]"))
    at_edge = rank([result(15, 20, 1, "9"), result(10, 30, 1, "1")])[0]
    inside = rank([result(10, 20, 1, "9")])[0]
    assert edge_warnings(spec, at_edge) == [
        "warning: the best point has fast = 15, the highest value tried (5..15): the optimum may lie outside the grid; widen it",
        "warning: the best point has slow = 20, the lowest value tried (20..30): the optimum may lie outside the grid; widen it"]
    assert [w for w in edge_warnings(spec, inside) if "fast" in w] == []


def test_the_table_has_one_line_per_point_and_a_failed_point_shows_its_error() -> None:
    lines = results_table(GRID).splitlines()
    assert len(lines) == 1 + len(GRID)
    assert lines[0].split()[:4] == ["fast", "slow", "period", "seed"]
    assert lines[-1].endswith("FAILED: ConfigError: bad")


def test_the_heatmap_is_a_png_of_the_two_parameters(tmp_path: Path) -> None:
    out = heatmap_png(GRID, "fast", "slow", tmp_path / "h.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_parquet_holds_one_row_per_point_with_the_swept_values_as_columns(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = export_parquet(GRID, tmp_path / "r.parquet")
    assert out is not None
    table = pq.read_table(out).to_pydict()
    assert table["param.fast"] == [5, 5, 10, 10, 5, 5, 10]
    assert table["net_pnl"][:2] == [Decimal(10), Decimal(-30)] and table["status"][-1] == "failed"


def test_without_pyarrow_no_parquet_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert export_parquet(GRID, tmp_path / "r.parquet") is None
    assert not (tmp_path / "r.parquet").exists()


def _report(sessions: list[str], curve: list[tuple[str, str]]) -> SimReport:
    return SimReport(seed=1, bars=0, bars_rejected=0, rejected_reasons={}, bars_flagged=0, trades=len(curve),
                     gross_pnl=Decimal(0), commission=Decimal(0), net_pnl=Decimal(0), max_drawdown=Decimal(0),
                     slippage_ticks_mean=None, slippage_expected_ticks_mean=None, throttle_path=(), throttle_events=0,
                     throttle_continuous=True, kill_switch_trips=(),
                     sessions=tuple(SessionRow(session=s, flatten_at=None, late=False, flat_at_close=True) for s in sessions),
                     restarts=0, log_verifies=True, log_error="", final_flat=True, equity_curve=tuple(curve), timeline=())


def test_sharpe_is_of_the_daily_net_with_quiet_sessions_counted_as_zero() -> None:
    days = ["2026-11-23", "2026-11-24", "2026-11-25"]
    curve = [("2026-11-23T10:00:00-05:00", "100"), ("2026-11-23T11:00:00-05:00", "150"), ("2026-11-25T10:00:00-05:00", "120")]
    # daily net 150, 0, -30: mean 40, sample stdev 96.44
    assert daily_sharpe(_report(days, curve)) == round(40 / 96.43650760992955 * 252 ** 0.5, 4)
    assert daily_sharpe(_report(days[:1], curve[:1])) is None
    assert daily_sharpe(_report(days[:2], [])) is None
