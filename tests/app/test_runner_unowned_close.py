"""Every fill is accounted: a round trip the flattener's unowned order closed is a trade."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from statebot import FaultPlan
from statebot.core.engine.fold import Fold
from statebot.journal.log import iter_events
from tests.runner_helpers import Scripted, bar_at, broker, et, events, long, make_runner

DAY = "2026-11-24"


@pytest.mark.invariant("a round trip closed by the flattener's unowned order is a trade of the machine that held it",
                       machine="position")
def test_a_round_trip_closed_by_an_unowned_flatten_order_reaches_equity_learning_and_the_daily_loss(tmp_path: Path) -> None:
    """The entry fills on the flatten bar but every report comes a bar late: the flattener sees
    contracts no machine holds and closes them with an order of its own. When the reports arrive,
    that execution closes the machine's position: TRADE_CLOSED, equity, learning, daily loss."""
    sim = broker(faults=FaultPlan(delay_p=1.0, delay_bars=1))
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    strat.plan[et(DAY, "15:54")] = long(stop_ticks=4)
    bars = [bar_at(et(DAY, f"15:{m}")) for m in range(50, 56)]
    bars += [bar_at(et(DAY, f"15:{m}"), 5990.0) for m in range(56, 60)] + [bar_at(et(DAY, "16:00"), 5990.0)]
    for b in bars:
        sim.on_bar(b)
        runner.run_once(b)
    fills = [e["payload"] for e in events(tmp_path, "FILL")]
    unowned = [f for f in fills if not f["routed"]]
    entry = [f for f in fills if f["routed"]]
    assert len(unowned) == 1 and unowned[0]["strategy"] == "" and len(entry) == 1
    (trade,) = [e["payload"] for e in events(tmp_path, "TRADE_CLOSED")]
    assert trade["strategy"] == strat.name and trade["qty"] == entry[0]["qty"] == -unowned[0]["qty"]
    assert (trade["entry_price"], trade["exit_price"]) == (entry[0]["price"], unowned[0]["price"])
    assert Decimal(trade["commission"]) == Decimal(entry[0]["commission"]) + Decimal(unowned[0]["commission"])
    net = Decimal(trade["net_pnl"])
    assert net < 0
    assert runner.equity == Decimal("10000") + net
    assert runner.killswitch.day_net_pnl == net
    assert runner.learning.metrics(strat.name).trades == 1
    assert runner.position_qty == 0 and runner.position_state == "FLAT" and sim.positions() == {}
    runner.events.sync()
    state = runner.fresh_state()
    fold = Fold(state)
    fold.apply_all(iter_events(runner.events.path))
    assert fold.anomalies == []
    assert state.view() == runner.bot_state().view()
    runner.close()


def test_an_unowned_execution_waiting_for_its_report_survives_a_restart(tmp_path: Path) -> None:
    """The flattener's execution is reported before the entry it closed: it waits in the book, the
    checkpoint keeps it, and the restarted runner still closes the late entry with it."""
    sim = broker(faults=FaultPlan(delay_p=1.0, delay_bars=1))
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    strat.plan[et(DAY, "15:54")] = long(stop_ticks=4)
    for m in range(50, 56):
        b = bar_at(et(DAY, f"15:{m}"))
        sim.on_bar(b)
        runner.run_once(b)
    # 15:55: the flattener closed the venue with an unowned order; the entry's report comes later still
    sim._delayed = [(release + 2, e) for release, e in sim._delayed]
    for m in (56, 57):
        b = bar_at(et(DAY, f"15:{m}"), 5990.0)
        sim.on_bar(b)
        runner.run_once(b)
    assert runner.book.unowned_fills() and runner.position_qty == 0
    runner.close()
    again = make_runner(tmp_path, strat, sim)
    assert again.book.unowned_fills() == runner.book.unowned_fills()
    for m in (58, 59):
        b = bar_at(et(DAY, f"15:{m}"), 5990.0)
        sim.on_bar(b)
        again.run_once(b)
    assert len(events(tmp_path, "TRADE_CLOSED")) == 1
    assert again.position_qty == 0 and not again.book.unowned_fills() and sim.positions() == {}
    again.close()
