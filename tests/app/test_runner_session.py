"""The runner and the session: flat at every close (early closes and data outages too), entries only in TRADING."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot import ENTER, FLATTEN, SKIP, SmaCross, replay, verify
from statebot.feeds import SyntheticBars
from statebot.core.time.schedule import TRADING
from tests.runner_helpers import (
    Scripted,
    bar_at,
    broker,
    drive,
    et,
    events,
    long,
    make_runner,
    minute_bars,
)

UTC = dt.UTC


@pytest.mark.invariant("no position is held at a session close, early closes included", machine="runner")
def test_always_in_the_market_strategy_is_flat_at_every_close_of_thanksgiving_week(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, SmaCross(fast=3, slow=8), sim)
    closes = {}
    for b in SyntheticBars(start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 27), seed=3):
        sim.on_bar(b)
        runner.run_once(b)
        s = runner.session.session
        if s is not None and b.end == s.close:
            closes[s.date] = (dict(sim.book), runner.position_qty, runner.killswitch_state)
    runner.close()
    assert sorted(closes) == [dt.date(2026, 11, d) for d in (23, 24, 25, 27)]  # Thanksgiving has no session
    assert all(v == ({}, 0, "ARMED") for v in closes.values()), closes
    flattens = {e["payload"]["session"]: e for e in events(tmp_path, "SESSION_EXIT_FLATTEN")}
    early = flattens["2026-11-27"]
    assert dt.datetime.fromisoformat(early["ts"]) == et("2026-11-27", "12:55")
    assert early["payload"]["late"] is False and early["payload"]["minutes_remaining"] == "5.00"
    assert len(events(tmp_path, "TRADE_CLOSED")) > 4


def test_five_minute_bars_flatten_at_the_1555_bar_and_close_flat(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted(long())
    runner = make_runner(tmp_path, strat, sim)
    t = et("2026-11-24", "15:35")
    out = []
    while t <= et("2026-11-24", "16:00"):
        b = bar_at(t)
        sim.on_bar(b)
        out.append((t, runner.run_once(b)))
        t += dt.timedelta(minutes=5)
    assert out[0][1].action == ENTER
    assert [d.action for tt, d in out if tt == et("2026-11-24", "15:55")] == [FLATTEN]
    assert sim.book == {} and runner.killswitch_state == "ARMED" and runner.session_state == "CLOSED"


def _outage_day(tmp_path: Path, heartbeat: bool):  # type: ignore[no-untyped-def]
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    drive(runner, sim, minute_bars("2026-11-24", "15:40", "15:50"))
    assert runner.position_qty == 3  # 15 USD tier risk / (4 ticks x 1.25)
    # the feed stops at 15:50; the venue trades on
    for b in minute_bars("2026-11-24", "15:51", "16:00"):
        sim.on_bar(b)
        if heartbeat:
            runner.run_heartbeat(b.end + dt.timedelta(seconds=1))
    return runner, sim


@pytest.mark.invariant("a data outage over the close still flattens when heartbeats arrive", machine="session")
def test_heartbeats_flatten_through_a_data_outage_over_the_close(tmp_path: Path) -> None:
    runner, sim = _outage_day(tmp_path, heartbeat=True)
    assert sim.book == {} and runner.position_qty == 0
    assert runner.killswitch_state == "ARMED" and runner.session_state == "CLOSED"
    flatten = events(tmp_path, "SESSION_EXIT_FLATTEN")[0]
    assert flatten["payload"]["late"] is True  # the heartbeat came a second after 15:55
    runner.close()


@pytest.mark.invariant("a position still held when the session closes trips the kill switch", machine="runner")
def test_outage_without_heartbeats_flattens_late_and_trips_the_kill_switch(tmp_path: Path) -> None:
    runner, sim = _outage_day(tmp_path, heartbeat=False)
    assert sim.book == {"MES": 3}
    first = bar_at(et("2026-11-25", "09:31"))
    sim.on_bar(first)
    decision = runner.run_once(first)
    assert decision.action in (FLATTEN, SKIP)
    flatten = events(tmp_path, "SESSION_EXIT_FLATTEN")[0]
    assert flatten["payload"]["late"] is True and flatten["payload"]["positions"] == {"MES": 3}
    trips = events(tmp_path, "KILL_SWITCH")
    assert trips[0]["payload"]["reason"] == "position_held_at_close"
    drive(runner, sim, minute_bars("2026-11-25", "09:32", "09:40"))
    assert sim.book == {} and runner.position_qty == 0
    assert runner.killswitch_state == "TRIPPED"
    assert not events(tmp_path, "ORDER_SUBMITTED") or all(
        e["payload"]["purpose"] != "entry" or e["ts"] < "2026-11-24T21" for e in events(tmp_path, "ORDER_SUBMITTED"))
    runner.close()
    assert replay(tmp_path / "events.jsonl").kill_switch == "TRIPPED"


@pytest.mark.invariant("nothing is entered outside TRADING or after the entry cut-off", machine="runner")
def test_entries_only_in_trading_before_the_cutoff(tmp_path: Path) -> None:
    from tests.runner_helpers import config

    sim = broker()
    strat = Scripted(long())
    runner = make_runner(tmp_path, strat, sim, cfg=config('[calendar]\nentry_cutoff = "30m"\n'))
    bars = list(minute_bars("2026-11-24", "09:00", "16:00"))
    results = []
    for b in bars:
        sim.on_bar(b)
        d = runner.run_once(b)
        results.append((b.end, d))
        if d.action == ENTER:
            # leave again at once so the next bar may enter
            strat.want = None
        elif runner.position_qty == 0 and runner.position_state == "FLAT":
            strat.want = long()
    entries = [t for t, d in results if d.action == ENTER]
    assert entries
    assert all(et("2026-11-24", "09:30") <= t < et("2026-11-24", "15:30") for t in entries)
    skipped = [d.reason for t, d in results if t < et("2026-11-24", "09:30")]
    assert set(skipped) <= {"session", "no_signal"}
    runner.close()


def test_a_bar_at_or_before_the_last_time_is_rejected_and_logged(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(), sim)
    b = bar_at(et("2026-11-24", "10:00"))
    runner.run_once(b)
    again = runner.run_once(b)
    assert again.action == SKIP and again.reason == "bar_rejected"
    rejected = events(tmp_path, "BAR_REJECTED")
    assert rejected[0]["payload"]["reason"] == "not_after_previous"
    runner.close()
    assert verify(tmp_path / "events.jsonl").events == len(events(tmp_path))


def test_a_bar_of_another_symbol_is_rejected(tmp_path: Path) -> None:
    from statebot import Bar

    runner = make_runner(tmp_path, Scripted(), broker())
    b = Bar(symbol="ES", end=et("2026-11-24", "10:00"), open=6000, high=6001, low=5999, close=6000)
    assert runner.run_once(b).reason == "bar_rejected"
    assert events(tmp_path, "BAR_REJECTED")[0]["payload"]["reason"] == "wrong_symbol"
    runner.close()


def test_strategy_sees_the_session_and_its_position(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted(long())
    runner = make_runner(tmp_path, strat, sim)
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:03"))
    ctx = strat.seen[-1]
    assert ctx.session_state == TRADING and ctx.may_enter and ctx.position_qty == 3
    assert ctx.now == et("2026-11-24", "10:03")
    runner.close()


def test_a_strategy_that_raises_is_logged_and_the_loop_goes_on(tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        def on_bar(self, bar, ctx):  # type: ignore[no-untyped-def]
            raise RuntimeError("indicator blew up")

    sim = broker()
    runner = make_runner(tmp_path, Broken(), sim)
    out = drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:02"))
    assert [d.reason for _, d in out] == ["strategy_error"] * 3
    assert events(tmp_path, "RUNNER_ERROR")[0]["payload"]["stage"] == "strategy"
    runner.close()


def test_heartbeat_uses_the_live_clock_wall_time(tmp_path: Path) -> None:
    from freezegun import freeze_time

    from statebot import LiveClock

    runner = make_runner(tmp_path, Scripted(), broker(), clock=LiveClock())
    with freeze_time(dt.datetime(2026, 11, 24, 20, 56, tzinfo=UTC)):
        runner.run_heartbeat()
    assert runner.session_state == "FLATTENING"
    assert runner.now == dt.datetime(2026, 11, 24, 20, 56, tzinfo=UTC)
    runner.close()


def test_an_adapter_that_raises_something_unexpected_trips_the_kill_switch_and_the_loop_goes_on(tmp_path: Path) -> None:
    class Exploding:
        def __init__(self, sim):  # type: ignore[no-untyped-def]
            self.sim = sim

        def drain(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("socket buffer garbled")

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self.sim, name)

    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), Exploding(sim))
    out = drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:02"))
    assert [d.reason for _, d in out] == ["runner_error"] * 3
    assert runner.killswitch_state == "TRIPPED"
    assert events(tmp_path, "KILL_SWITCH")[0]["payload"]["reason"] == "state_untrusted"
    runner.close()
    assert verify(tmp_path / "events.jsonl").events == len(events(tmp_path))


@pytest.mark.invariant("an entry that fills on the bar the session flattens is closed by its own machine: no unowned order, no mismatch", machine="runner")
def test_an_entry_filled_on_the_flatten_bar_is_flattened_by_its_machine_without_a_mismatch(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    day = "2026-11-24"
    strat.plan[et(day, "15:54")] = long(stop_ticks=4)  # sent at 15:54; the venue fills it at the 15:55 bar's open
    bars = [bar_at(et(day, f"15:{m}")) for m in range(50, 56)]
    bars += [bar_at(et(day, "15:56"), 5990.0), bar_at(et(day, "15:57"), 5990.0)]  # runs through the stop
    bars += [bar_at(et(day, f"15:{m}"), 5990.0) for m in (58, 59)] + [bar_at(et(day, "16:00"), 5990.0)]
    out = drive(runner, sim, bars)
    assert [d.action for b, d in out if b.end == et(day, "15:54")] == [ENTER]
    assert not events(tmp_path, "POSITION_MISMATCH")
    assert runner.killswitch_state == "ARMED"
    flatten_orders = [e["payload"] for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"]["purpose"] == "flatten"]
    assert flatten_orders and all(p["strategy"] == strat.name for p in flatten_orders)
    assert sim.book == {} and runner.position_qty == 0
    runner.close()


@pytest.mark.invariant("while the flattener closes positions no strategy exit is sent beside it: the venue is never reversed", machine="runner")
def test_no_stop_exit_beside_the_flattener_when_a_fill_report_arrives_late(tmp_path: Path) -> None:
    from statebot import FaultPlan

    sim = broker(faults=FaultPlan(delay_p=1.0, delay_bars=1))  # every report one bar late, as a slow gateway
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    day = "2026-11-24"
    strat.plan[et(day, "15:54")] = long(stop_ticks=4)
    bars = [bar_at(et(day, f"15:{m}")) for m in range(50, 56)]
    bars += [bar_at(et(day, f"15:{m}"), 5990.0) for m in range(56, 60)] + [bar_at(et(day, "16:00"), 5990.0)]
    venue_seen = []
    for b in bars:
        sim.on_bar(b)
        runner.run_once(b)
        venue_seen.append(sim.positions().get("MES", 0))
    assert min(venue_seen) >= 0, venue_seen  # the long was closed once, never sold through into a short
    assert sim.positions() == {}
    exits = [e["payload"] for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"]["purpose"] == "exit"]
    assert not exits
    runner.close()


@pytest.mark.invariant("the venue's reports of a bar are logged before the session transitions at its end", machine="runner")
def test_the_flattens_fill_is_logged_before_the_close_it_happened_before(tmp_path: Path) -> None:
    """5-minute bars, 5-minute lead: the flatten sent at 15:55 fills at the venue during the bar
    ending 16:00; the log must show that FILL before the session's CLOSED, as it happened."""
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    t = et("2026-11-24", "15:35")
    while t <= et("2026-11-24", "16:00"):
        b = bar_at(t)
        sim.on_bar(b)
        runner.run_once(b)
        t += dt.timedelta(minutes=5)
    runner.close()
    story = [(e["type"], e["payload"].get("to"), e["payload"].get("purpose")) for e in events(tmp_path)
             if e["type"] in ("FILL", "SESSION_TRANSITION", "ORDER_SUBMITTED")]
    closed_at = story.index(("SESSION_TRANSITION", "CLOSED", None))
    flatten_at = story.index(("ORDER_SUBMITTED", None, "flatten"))
    assert ("FILL", None, None) in story[flatten_at:closed_at], story
    assert not [e for e in story[closed_at:] if e[0] == "FILL"], story
    assert runner.killswitch_state == "ARMED"


def _two_weeks_months_apart(tmp_path: Path, strat: Scripted):  # type: ignore[no-untyped-def]
    sim = broker()
    runner = make_runner(tmp_path, strat, sim)
    # 2026-01-12 to its close; 2026-01-13 until 15:50, when the data stops; then 2026-06-15
    first = [bar_at(et("2026-01-12", hhmm)) for hhmm in ("15:45", "15:50", "15:55", "16:00")]
    first += [bar_at(et("2026-01-13", hhmm)) for hhmm in ("15:45", "15:50")]
    later = [bar_at(et("2026-06-15", hhmm)) for hhmm in ("10:00", "15:55", "16:00")]
    return runner, sim, first, later


@pytest.mark.invariant("whole sessions without data, nothing held or working, are recorded once, not as late flattens",
                       machine="session")
def test_a_gap_of_months_without_data_is_recorded_once_not_as_a_late_flatten_per_session(tmp_path: Path) -> None:
    runner, sim, first, later = _two_weeks_months_apart(tmp_path, Scripted())
    drive(runner, sim, first + later)
    runner.close()
    (gap,) = events(tmp_path, "SESSIONS_WITHOUT_DATA")
    sessions = gap["payload"]["sessions"]
    assert sessions[0] == "2026-01-14" and sessions[-1] == "2026-06-12" and gap["payload"]["count"] == len(sessions) > 100
    late = [e["payload"]["session"] for e in events(tmp_path, "SESSION_EXIT_FLATTEN") if e["payload"]["late"]]
    assert late == ["2026-01-13"]  # the session the data left at 15:50 still flattens (late) and closes
    walked = {e["payload"]["session"] for e in events(tmp_path, "SESSION_TRANSITION")}
    assert walked == {"2026-01-12", "2026-01-13", "2026-06-15"}
    assert runner.killswitch_state == "ARMED"


@pytest.mark.invariant("a position held across a gap of whole sessions still gets its late flatten and the trip",
                       machine="session")
def test_a_position_held_across_a_gap_of_months_still_flattens_late_and_trips(tmp_path: Path) -> None:
    strat = Scripted()
    runner, sim, first, later = _two_weeks_months_apart(tmp_path, strat)
    strat.plan[first[-1].end] = long()
    drive(runner, sim, first)
    drive(runner, sim, [bar_at(et("2026-01-13", "15:52"))])  # the venue fills the entry; the data then stops
    assert runner.position_qty > 0
    drive(runner, sim, later)
    runner.close()
    flattens = {e["payload"]["session"]: e["payload"] for e in events(tmp_path, "SESSION_EXIT_FLATTEN")}
    assert flattens["2026-01-13"]["late"] is True
    assert not events(tmp_path, "SESSIONS_WITHOUT_DATA")  # held: every session is walked, none passed over
    trips = [e["payload"]["reason"] for e in events(tmp_path, "KILL_SWITCH") if e["payload"]["to"] == "TRIPPED"]
    assert trips[0] == "position_held_at_close"


def test_contracts_only_the_venue_holds_keep_every_session_of_a_gap_walked(tmp_path: Path) -> None:
    """The machines hold nothing but the venue does (bought by hand after the close, its report
    never reached the runner): the gap's sessions are not passed over, so their flattens close it."""
    from statebot.core.orders import OrderRequest

    runner, sim, first, later = _two_weeks_months_apart(tmp_path, Scripted())
    drive(runner, sim, first[:4])  # 2026-01-12 to its close
    sim.submit(OrderRequest(client_order_id="by-hand-1", strategy="", symbol="MES", qty=1))
    after_close = bar_at(et("2026-01-12", "16:05"))
    sim.on_bar(after_close)
    sim.drain()
    runner.run_once(after_close)
    assert sim.positions() == {"MES": 1} and runner.position_qty == 0
    drive(runner, sim, later[:1])
    runner.close()
    assert not events(tmp_path, "SESSIONS_WITHOUT_DATA")
    assert [e for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"]["purpose"] == "flatten"]
