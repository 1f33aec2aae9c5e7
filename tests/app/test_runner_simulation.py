"""simulate(): bars through SimBroker then BotRunner, and a summary read back from the event log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from statebot import SmaCross, simulate
from statebot.core.learning.outcomes import TradeOutcome
from statebot.feeds import SyntheticBars
from tests.runner_helpers import broker, events, make_runner


def test_summary_of_thanksgiving_week_adds_up(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, SmaCross(fast=5, slow=20), sim, equity="20000")
    result = simulate(SyntheticBars(start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 27), seed=11), runner, sim)
    runner.close()
    assert result.bars == sum(result.decisions.values())
    assert len(result.trades) == len(events(tmp_path, "TRADE_CLOSED")) > 0
    assert result.net_pnl == result.gross_pnl - result.commission
    # 1.25 per contract per side, both sides of every round trip
    assert result.commission == sum(Decimal("2.50") * t.contracts for t in result.trades)
    assert all(isinstance(t, TradeOutcome) for t in result.trades)
    assert result.net_pnl == sum((t.net_pnl_usd for t in result.trades), Decimal(0))
    assert result.stats.trades == len(result.trades)
    assert result.final_equity == Decimal(20000) + result.net_pnl
    assert result.max_drawdown >= 0
    assert [f.session for f in result.flattens] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27"]
    assert not any(f.late for f in result.flattens)
    assert sim.book == {}


def test_simulation_continues_after_a_restart(tmp_path: Path) -> None:
    sim = broker()
    bars = list(SyntheticBars(start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 24), seed=5))
    half = len(bars) // 2 + 7
    runner = make_runner(tmp_path, SmaCross(fast=5, slow=20), sim)
    first = simulate(bars[:half], runner, sim)
    runner.close()
    runner = make_runner(tmp_path, SmaCross(fast=5, slow=20), sim)
    second = simulate(bars[half:], runner, sim)
    runner.close()
    assert first.events + second.events == len(events(tmp_path))
    assert len(first.trades) + len(second.trades) == len(events(tmp_path, "TRADE_CLOSED"))
    assert sim.book == {}


def test_entries_are_counted_under_one_key_whatever_the_signals_reason(tmp_path: Path) -> None:
    from statebot import Signal
    from tests.runner_helpers import Scripted, bar_at, et

    strat = Scripted()
    sim = broker()
    runner = make_runner(tmp_path, strat, sim)
    strat.plan[et("2026-11-24", "10:00")] = Signal(side="LONG", stop_ticks=4, dvs=1, eqs=1, reason="close 6000.25 > sma")
    strat.plan[et("2026-11-24", "10:05")] = Signal(side="FLAT")
    strat.plan[et("2026-11-24", "10:10")] = Signal(side="SHORT", stop_ticks=4, dvs=1, eqs=1, reason="close 5999.75 < sma")
    bars = [bar_at(et("2026-11-24", f"10:{m:02d}")) for m in range(0, 15)]
    result = simulate(bars, runner, sim)
    runner.close()
    assert result.decisions[("ENTER", "signal")] == 2
    assert not any("sma" in reason for _, reason in result.decisions)
