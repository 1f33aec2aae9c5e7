"""A strategy can ask to hold nothing: ``Signal(side=FLAT)`` exits through the position machine."""

from __future__ import annotations

from pathlib import Path

from statebot import FLAT, Signal
from tests.runner_helpers import Scripted, bar_at, broker, drive, et, events, long, make_runner

DAY = "2026-11-24"


def test_a_flat_signal_closes_the_position_with_an_exit_order_logged_like_any_exit(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted(long())
    runner = make_runner(tmp_path, strat, sim)
    drive(runner, sim, [bar_at(et(DAY, "10:00")), bar_at(et(DAY, "10:01"))])
    assert runner.position_qty > 0
    strat.want = Signal(side=FLAT)
    (_, asked), (_, after) = drive(runner, sim, [bar_at(et(DAY, "10:02")), bar_at(et(DAY, "10:03"))])
    assert (asked.action, asked.reason) == ("EXIT", "strategy_flat")
    assert after.reason == "no_signal"  # flat already: a FLAT signal changes nothing
    assert runner.position_qty == 0
    exits = [e["payload"] for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"].get("purpose") == "exit"]
    assert len(exits) == 1 and exits[0]["order_id"] == asked.order_id
    assert len(events(tmp_path, "TRADE_CLOSED")) == 1
    runner.close()


def test_a_flat_signal_when_flat_sends_nothing(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(Signal(side=FLAT)), sim)
    (_, d), = drive(runner, sim, [bar_at(et(DAY, "10:00"))])
    assert d.reason == "no_signal"
    assert events(tmp_path, "ORDER_SUBMITTED") == []
    runner.close()
