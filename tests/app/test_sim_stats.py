"""A run's results as a quant reads them: typed trades, statistics, percentiles, a short throttle line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from statebot.app.simstats import TRADE_COLUMNS, Trade, percentile, trade_stats, trades_csv
from statebot.cli import main
from statebot.core.learning.outcomes import TradeOutcome

UTC = dt.timezone.utc


def _trade(day: int, minute: int, gross: str, commission: str = "2.50") -> Trade:
    entry = dt.datetime(2026, 11, day, 15, minute, tzinfo=UTC)
    outcome = TradeOutcome(strategy="s", symbol="MES", quantity=1, entry_time=entry, exit_time=entry + dt.timedelta(minutes=1),
                           entry_price=Decimal("6000"), exit_price=Decimal("6001"), gross_pnl_usd=Decimal(gross),
                           commission_usd=Decimal(commission), slippage_ticks=Decimal(0), expected_slippage_ticks=Decimal(0),
                           spread_ticks=Decimal(0))
    return Trade(outcome=outcome, session=f"2026-11-{day:02d}")


def test_the_statistics_of_a_known_set_of_trades() -> None:
    trades = [_trade(23, 0, "52.50"), _trade(23, 5, "-17.50"), _trade(24, 0, "-37.50"), _trade(24, 5, "27.50")]
    # net: +50, -20, -40, +25 -> cumulative 50, 30, -10, 15
    stats = trade_stats(trades, sessions=["2026-11-23", "2026-11-24", "2026-11-25"])
    assert (stats.trades, stats.wins, stats.losses) == (4, 2, 2)
    assert stats.win_rate == Decimal("0.5000")
    assert stats.profit_factor == Decimal("1.25")  # 75 won / 60 lost
    assert (stats.average_win, stats.average_loss) == (Decimal("37.50"), Decimal("-30.00"))
    assert stats.expectancy == Decimal("3.75")
    assert stats.max_drawdown == Decimal(60)
    assert stats.drawdown_peak == "2026-11-23T15:01:00+00:00" and stats.drawdown_trough == "2026-11-24T15:01:00+00:00"
    assert stats.commission_share == Decimal("0.1250")  # 10 commission / 80 gross of the winners
    assert stats.session_pnl == {"2026-11-23": Decimal(30), "2026-11-24": Decimal(-15), "2026-11-25": Decimal(0)}
    daily = [30.0, -15.0, 0.0]
    mean = sum(daily) / 3
    sd = math.sqrt(sum((d - mean) ** 2 for d in daily) / 2)
    assert stats.sharpe == pytest.approx(mean / sd * math.sqrt(252))
    assert stats.sortino == pytest.approx(mean / math.sqrt(15.0 ** 2 / 3) * math.sqrt(252))


def test_ratios_without_data_are_none_not_zero_or_infinite() -> None:
    stats = trade_stats([_trade(23, 0, "12.50")], sessions=["2026-11-23"])
    assert stats.profit_factor is None and stats.average_loss is None  # no losing trade
    assert stats.sharpe is None and stats.sortino is None  # one day
    assert stats.max_drawdown == 0 and stats.drawdown_trough is None
    empty = trade_stats([])
    assert empty.trades == 0 and empty.win_rate is None and empty.expectancy is None and empty.commission_share is None


def test_percentiles_interpolate_between_ranks() -> None:
    values = [Decimal(v) for v in (10, 20, 30, 40, 50)]
    assert [percentile(values, q) for q in (5, 50, 95)] == [Decimal("12.00"), Decimal("30.00"), Decimal("48.00")]
    assert percentile([Decimal(7)], 95) == Decimal("7.00")


def test_the_trade_csv_has_one_row_per_trade_with_the_columns() -> None:
    rows = list(csv.DictReader(io.StringIO(trades_csv([_trade(23, 0, "52.50"), _trade(23, 5, "-17.50")]))))
    assert [r["net_pnl"] for r in rows] == ["50.00", "-20.00"]
    assert tuple(rows[0]) == TRADE_COLUMNS


def test_the_sim_report_carries_the_trades_and_statistics_read_from_the_log(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    report, table = tmp_path / "r.json", tmp_path / "t.csv"
    assert main(["sim", "--report", str(report), "--trades-csv", str(table)]) == 0
    out = capsys.readouterr().out
    data = json.loads(report.read_text())
    assert len(data["trade_list"]) == data["trades"] == data["stats"]["trades"] > 0
    assert data["stats"]["max_drawdown"] == data["max_drawdown"]
    assert sum(Decimal(v) for v in data["stats"]["session_pnl"].values()) == Decimal(data["net_pnl"])
    assert sum(Decimal(t["net_pnl"]) for t in data["trade_list"]) == Decimal(data["net_pnl"])
    assert len(table.read_text().splitlines()) == data["trades"] + 1
    for label in ("win rate", "average win / loss", "Sharpe / Sortino", "commission share"):
        assert any(line.startswith(label) for line in out.splitlines())
    throttle = next(line for line in out.splitlines() if line.startswith("throttle"))
    assert len(throttle) < 120 and "ended" in throttle
    assert "net P&L" in next(line for line in out.splitlines() if line.startswith("session"))


def test_a_monte_carlo_reports_percentiles_of_net_and_drawdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, table = tmp_path / "r.json", tmp_path / "t.csv"
    assert main(["sim", "--seeds", "4", "--report", str(report), "--trades-csv", str(table)]) == 0
    out = capsys.readouterr().out
    data = json.loads(report.read_text())
    nets = sorted(Decimal(s["net_pnl"]) for s in data["seeds"])
    p = data["percentiles"]
    assert set(p) == {"net P&L", "max drawdown"} and set(p["net P&L"]) == {"P5", "P50", "P95"}
    assert nets[0] <= Decimal(p["net P&L"]["P5"]) <= Decimal(p["net P&L"]["P50"]) <= Decimal(p["net P&L"]["P95"]) <= nets[-1]
    assert "P95" in out
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert {r["seed"] for r in rows} == {str(s["seed"]) for s in data["seeds"] if s["trades"]}
    assert len(rows) == sum(s["trades"] for s in data["seeds"])


def test_exposure_is_the_share_of_market_time_with_a_position_open_counting_overlaps_once() -> None:
    a, b = _trade(23, 0, "10"), _trade(23, 5, "10")  # 15:00-15:01 and 15:05-15:06
    entry = dt.datetime(2026, 11, 23, 15, 5, 30, tzinfo=UTC)
    c = Trade(outcome=attrs.evolve(b.outcome, entry_time=entry, exit_time=entry + dt.timedelta(seconds=90)), session=b.session)
    # held: 1 min + 1 min + (15:06 to 15:07, c's part outside b) 1 min = 3 min of 20
    stats = trade_stats([a, b, c], sessions=["2026-11-23"], market_time=dt.timedelta(minutes=20))
    assert stats.exposure == Decimal("0.1500")
    assert trade_stats([a], market_time=dt.timedelta(0)).exposure is None


def test_the_sim_reports_exposure_over_the_bars_it_traded_in_json_and_terminal(tmp_path: Path,
                                                                                capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    assert main(["sim", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    data = json.loads(report.read_text())
    held = sum((dt.datetime.fromisoformat(t["exit_time"]) - dt.datetime.fromisoformat(t["entry_time"])
                for t in data["trade_list"]), dt.timedelta(0))
    # the demo: one-minute bars, none refused, trades one after another
    expected = (Decimal(held.total_seconds()) / Decimal(data["bars"] * 60)).quantize(Decimal("0.0001"))
    assert Decimal(data["stats"]["exposure"]) == expected > 0
    assert f"exposure              {expected * 100:.1f}% of market time in a position" in out


def test_each_trade_names_the_stop_its_entry_set(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    assert main(["sim", "--report", str(report)]) == 0
    data = json.loads(report.read_text())
    for t in data["trade_list"]:
        entry, stop = Decimal(t["entry_price"]), Decimal(t["stop_price"])
        assert (stop < entry) if t["side"] == "long" else (stop > entry)
    assert data["run"]["strategy"] == "sma-cross" and data["run"]["symbol"] == "MES"
    assert len(data["run"]["config_hash"]) == 1 and len(data["run"]["config_hash"][0]) == 64
