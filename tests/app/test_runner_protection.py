"""The runner with venue-held protective orders: a bracket from the entry until flat, cancelled by every
flatten before it closes, a lost stop tripping or re-sent, protectors across a restart, and a bot that dies
with an open position closed later by its stop at the venue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot.core.engine.fold import Fold
from statebot.journal.log import iter_events
from statebot.testing.invariants import check_events
from statebot.venues.sim import FaultPlan
from tests.runner_helpers import (
    Scripted,
    bar_at,
    broker,
    config,
    drive,
    et,
    events,
    long,
    make_runner,
    minute_bars,
)
from tests.testing.logs import xnys

DAY = "2026-11-24"


def opened(tmp_path: Path, cfg_text: str = "", stop_ticks: int = 8):  # type: ignore[no-untyped-def]
    """A runner holding a long of MES bought at 6000.00 with its stop at 5998.00 working at the venue."""
    sim, strat = broker(), Scripted()
    runner = make_runner(tmp_path, strat, sim, cfg=config(cfg_text))
    strat.plan[et(DAY, "10:00")] = long(stop_ticks=stop_ticks)
    drive(runner, sim, minute_bars(DAY, "09:58", "10:02"))
    assert runner.position_qty > 0
    [stop] = [o for o in sim.open_orders() if o.purpose == "protect"]
    return sim, strat, runner, stop


def verdicts(tmp_path: Path) -> dict[str, str]:
    return {v.name: v.detail for v in check_events(iter_events(tmp_path / "events.jsonl"), xnys()) if not v.passed}


def test_an_entry_leaves_with_its_gtc_stop_at_the_venue(tmp_path: Path) -> None:
    sim, _, runner, stop = opened(tmp_path)
    assert (stop.kind, stop.tif, stop.stop_ticks, stop.qty) == ("STOP", "GTC", 23992, -runner.position_qty)
    submitted = events(tmp_path, "ORDER_SUBMITTED")
    assert [e["payload"]["purpose"] for e in submitted] == ["entry", "protect"]
    assert submitted[1]["payload"]["parent_id"] == submitted[0]["payload"]["order_id"]
    assert runner.protection.working_stop(runner.name, "MES") == stop
    runner.close()


@pytest.mark.invariant("no protector survives its position: once flat, no stop is left that could open a new position",
                       machine="protector")
def test_the_session_flatten_cancels_the_stop_before_closing_and_leaves_none(tmp_path: Path) -> None:
    sim, _, runner, stop = opened(tmp_path)
    drive(runner, sim, minute_bars(DAY, "10:03", "16:01"))
    assert sim.book == {} and sim.open_orders() == () and runner.position_qty == 0
    cancels = [e["payload"]["order_id"] for e in events(tmp_path, "ORDER_CANCEL_REQUESTED")]
    flatten = next(e for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"]["purpose"] == "flatten")
    assert stop.client_order_id in cancels
    assert runner.killswitch_state == "ARMED"
    assert [e["payload"]["order_id"] for e in events(tmp_path, "ORDER_CANCEL_REQUESTED")
            if e["seq"] < flatten["seq"]] == [stop.client_order_id]
    assert verdicts(tmp_path) == {}
    runner.close()


def test_the_kill_switch_flatten_cancels_the_stop_and_closes(tmp_path: Path) -> None:
    sim, _, runner, stop = opened(tmp_path)
    runner._trip("manual", et(DAY, "10:02") + dt.timedelta(seconds=30), "test")  # noqa: SLF001
    drive(runner, sim, minute_bars(DAY, "10:03", "10:05"))
    assert sim.book == {} and sim.open_orders() == ()
    assert stop.client_order_id in [e["payload"]["order_id"] for e in events(tmp_path, "ORDER_CANCEL_REQUESTED")]
    assert verdicts(tmp_path) == {}
    runner.close()


def test_a_strategy_exit_cancels_the_stop_first_and_never_closes_twice(tmp_path: Path) -> None:
    sim, strat, runner, stop = opened(tmp_path)
    strat.plan[et(DAY, "10:03")] = long(stop_ticks=8).__class__(side="FLAT", stop_ticks=8, dvs=1, eqs=1)  # type: ignore[arg-type]
    out = drive(runner, sim, minute_bars(DAY, "10:03", "10:05"))
    assert out[0][1].action == "EXIT"
    assert sim.book == {} and sim.open_orders() == ()
    fills = [e["payload"]["order_id"] for e in events(tmp_path, "FILL")]
    assert stop.client_order_id not in fills
    assert verdicts(tmp_path) == {}
    runner.close()


def test_a_stop_the_venue_cancels_unasked_trips_the_kill_switch_and_the_position_is_closed(tmp_path: Path) -> None:
    sim, _, runner, stop = opened(tmp_path)
    sim._cancel_now(stop.client_order_id, reason="cancelled by the exchange")  # noqa: SLF001 - the venue's own cancel
    drive(runner, sim, minute_bars(DAY, "10:03", "10:05"))
    trips = [e["payload"]["reason"] for e in events(tmp_path, "KILL_SWITCH")]
    assert trips == ["protective_stop_lost"]
    assert sim.book == {} and runner.position_qty == 0
    assert verdicts(tmp_path) == {}
    runner.close()


def test_a_stop_the_venue_cancels_unasked_is_sent_again_when_configured(tmp_path: Path) -> None:
    sim, _, runner, stop = opened(tmp_path, '[protection]\non_lost = "resend"\n')
    sim._cancel_now(stop.client_order_id, reason="cancelled by the exchange")  # noqa: SLF001
    drive(runner, sim, minute_bars(DAY, "10:03", "10:04"))
    assert runner.killswitch_state == "ARMED"
    [again] = [o for o in sim.open_orders() if o.purpose == "protect"]
    assert (again.stop_ticks, again.tif, again.qty) == (stop.stop_ticks, "GTC", stop.qty)
    assert verdicts(tmp_path) == {}
    runner.close()


def test_protectors_survive_a_restart_and_their_fill_closes_the_trade(tmp_path: Path) -> None:
    sim, strat, runner, stop = opened(tmp_path)
    runner.close()
    again = make_runner(tmp_path, Scripted(), sim)
    assert again.protection.working_stop(again.name, "MES") == stop
    drive(again, sim, [bar_at(et(DAY, "10:03"), 5999.0, low=5995.0, close=5996.0)])
    assert again.position_qty == 0 and again.killswitch_state == "ARMED"
    trade = events(tmp_path, "TRADE_CLOSED")[0]["payload"]
    assert trade["exit_price"] == "5998.00"
    assert verdicts(tmp_path) == {}
    again.close()


def test_a_bot_that_dies_with_an_open_position_is_closed_by_its_venue_stop(tmp_path: Path) -> None:
    """The runner is abandoned (no close, no checkpoint: the process died); the simulated venue goes on with the
    market. The stop at 5998.00 fills when a bar trades through it, at the stop or worse (5997.00: the bar opens
    below it). A bot started again later learns of it from the venue and holds nothing."""
    sim, _, runner, stop = opened(tmp_path)
    runner.events.sync()
    runner._closed = True  # noqa: SLF001 - what a killed process leaves: its lines, no checkpoint, no lock
    runner._release_lock()  # noqa: SLF001
    runner.events.close()
    held = sim.book["MES"]
    executed = []
    for minute, (o, low) in enumerate([(5999.5, 5999.0), (5997.0, 5996.0), (5996.5, 5995.0)], start=3):
        executed += sim.on_bar(bar_at(et(DAY, f"10:{minute:02d}"), o, low=low, close=o))
    [stop_fill] = executed
    assert stop_fill.order_id == stop.client_order_id and stop_fill.qty == -held
    assert stop_fill.price_ticks == 23988 <= stop.stop_ticks  # 5997.00: the gap's open, worse than the stop
    assert sim.book == {} and sim.open_orders() == ()
    back = make_runner(tmp_path, Scripted(), sim)
    drive(back, sim, minute_bars(DAY, "10:06", "10:07", price=5996.0))
    assert back.position_qty == 0 and back.killswitch_state == "ARMED"
    assert [e["payload"]["exit_price"] for e in events(tmp_path, "TRADE_CLOSED")] == ["5997.00"]
    back.close()


def test_a_stop_executed_at_the_venue_whose_fill_report_is_late_is_neither_lost_nor_a_mismatch(tmp_path: Path) -> None:
    """The venue executed the stop and said so (FILLED), but the fill report comes bars later: the venue no
    longer works the stop and holds nothing, yet nothing was lost. Reconciliation waits for the report (the
    position's quiet point) instead of calling the stop missing and the position a mismatch."""
    sim, _, runner, stop = opened(tmp_path)
    sim.faults = FaultPlan(delay_p=1.0, delay_bars=2)
    drive(runner, sim, [bar_at(et(DAY, "10:03"), 5999.0, low=5995.0, close=5996.0)])
    assert sim.book == {} and sim.in_flight() == 1 and runner.position_qty > 0
    drive(runner, sim, minute_bars(DAY, "10:04", "10:06", price=5996.0))
    assert runner.position_qty == 0 and runner.killswitch_state == "ARMED"
    assert events(tmp_path, "PROTECTOR_MISMATCH", "POSITION_MISMATCH", "KILL_SWITCH") == []
    assert [e["payload"]["exit_price"] for e in events(tmp_path, "TRADE_CLOSED")] == ["5998.00"]
    assert verdicts(tmp_path) == {}
    runner.close()


def test_a_late_fill_of_an_order_that_ended_before_a_restart_folds_as_the_restarted_runner_applies_it(
        tmp_path: Path) -> None:
    """The stop's FILLED status is lost in a connection blip and its fill report is late: reconciliation after
    the blip ends the stop (not working at the venue) and trips. A restart keeps no ended order (the checkpoint holds live ones), so the late fill is
    one of an unknown order to the restarted runner; the fold of the log forgets ended orders where the log
    says a run started, and so agrees with the live state."""
    sim, _, runner, stop = opened(tmp_path)
    sim.faults = FaultPlan(delay_p=1.0, delay_bars=2)
    b = bar_at(et(DAY, "10:03"), 5999.0, low=5995.0, close=5996.0)
    sim.on_bar(b)
    assert [e.status for e in sim.drain()] == ["FILLED"]  # a connection blip: the status is lost on its way
    sim.disconnect()
    runner.run_once(b)
    sim.reconnect()
    runner.run_heartbeat(b.end + dt.timedelta(seconds=10))  # back: reconciliation, before the fill report
    assert stop.client_order_id in [e["payload"]["order_id"] for e in events(tmp_path, "ORDER_ENDED")]
    runner.close()
    again = make_runner(tmp_path, Scripted(), sim)
    drive(again, sim, minute_bars(DAY, "10:04", "10:06", price=5996.0))
    late = [e["payload"] for e in events(tmp_path, "FILL") if e["payload"]["order_id"] == stop.client_order_id]
    assert [p["routed"] for p in late] == [False]
    again.events.sync()
    fold = Fold(again.fresh_state())
    fold.apply_all(iter_events(tmp_path / "events.jsonl"))
    assert fold.anomalies == []
    assert fold.state.view() == again.bot_state().view()
    again.close()


@pytest.mark.invariant("once its entry ended, no stop or target is larger than the position it protects",
                       machine="protector")
def test_a_partly_filled_entry_whose_rest_ended_shrinks_its_stop_to_what_filled(tmp_path: Path) -> None:
    """The entry for 3 fills 1 and the venue cancels the rest: the stop (sized for 3) is shrunk to 1 at the
    venue (``ORDER_MODIFY_REQUESTED``, logged before it leaves, folded), so its fill closes the position and
    never sells 2 more into a short. A careful trader never leaves a stop larger than the position."""
    sim, strat = broker(), Scripted()
    runner = make_runner(tmp_path, strat, sim, equity="100000",
                         cfg=config("[sizing]\nmax_contracts = 3\n[sizing.max_risk_per_trade]\ndefault = 1000\n"))
    strat.plan[et(DAY, "10:00")] = long(stop_ticks=8)
    drive(runner, sim, minute_bars(DAY, "09:58", "10:00"))
    [entry] = [o for o in sim.open_orders() if o.purpose == "entry"]
    assert entry.qty == 3
    sim.faults = FaultPlan(partial_p=1.0)
    sim._rng.seed(2)  # noqa: SLF001 - the partial fill's size: 1 of 3
    drive(runner, sim, minute_bars(DAY, "10:01", "10:01"))
    assert runner.position_qty == 1
    sim.faults = FaultPlan()
    sim._cancel_now(entry.client_order_id, reason="cancelled by the exchange")  # noqa: SLF001 - the venue's own
    drive(runner, sim, minute_bars(DAY, "10:02", "10:02"))
    [stop] = [o for o in sim.open_orders() if o.purpose == "protect"]
    assert stop.qty == -1 and runner.protection.working_stop(runner.name, "MES") == stop
    [modified] = events(tmp_path, "ORDER_MODIFY_REQUESTED")
    assert (modified["payload"]["order_id"], modified["payload"]["qty"]) == (stop.client_order_id, -1)
    drive(runner, sim, [bar_at(et(DAY, "10:03"), 5999.0, low=5990.0, close=5991.0)])
    assert sim.book == {} and runner.position_qty == 0 and runner.killswitch_state == "ARMED"
    runner.events.sync()
    fold = Fold(runner.fresh_state())
    fold.apply_all(iter_events(tmp_path / "events.jsonl"))
    assert fold.anomalies == [] and fold.state.view() == runner.bot_state().view()
    assert verdicts(tmp_path) == {}
    runner.close()


@pytest.mark.invariant("once its entry filled, the stop and target keep the signal's distances from the average "
                       "entry fill", machine="protector")
def test_the_stop_and_target_keep_their_distances_from_the_average_entry_fill(tmp_path: Path) -> None:
    """The signal's bar closed at 6000.00 (the stop 8 ticks under it, 5998.00; the target 12 over, 6003.00) but the
    entry filled at 6001.00: once it filled, the stop moves to 5999.00 and the target to 6004.00 at the venue
    (``ORDER_MODIFY_REQUESTED``), 8 and 12 ticks from the fill, as a trader measures a stop."""
    sim, strat = broker(), Scripted()
    runner = make_runner(tmp_path, strat, sim)
    strat.plan[et(DAY, "10:00")] = long(stop_ticks=8, target_ticks=12)
    drive(runner, sim, minute_bars(DAY, "09:58", "10:00"))
    drive(runner, sim, [bar_at(et(DAY, "10:01"), 6001.0, close=6001.0)])
    assert events(tmp_path, "FILL")[0]["payload"]["price"] == "6001.00"
    prices = {o.kind: (o.stop_ticks or o.limit_ticks) for o in sim.open_orders() if o.purpose == "protect"}
    assert prices == {"STOP": 23996, "LIMIT": 24016}  # 5999.00 and 6004.00
    assert [(e["payload"]["kind"], e["payload"]["price"]) for e in events(tmp_path, "ORDER_MODIFY_REQUESTED")] == \
        [("STOP", "5999.00"), ("LIMIT", "6004.00")]
    drive(runner, sim, [bar_at(et(DAY, "10:02"), 6000.0, low=5998.5, close=5999.5)])  # under 5999.00, above 5998.00
    assert runner.position_qty == 0 and sim.book == {}
    assert [e["payload"]["exit_price"] for e in events(tmp_path, "TRADE_CLOSED")] == ["5999.00"]
    runner.events.sync()
    fold = Fold(runner.fresh_state())
    fold.apply_all(iter_events(tmp_path / "events.jsonl"))
    assert fold.anomalies == [] and fold.state.view() == runner.bot_state().view()
    assert verdicts(tmp_path) == {}
    runner.close()
