"""What the runner does when the venue misbehaves: every fault is an event, the dangerous ones trip the kill switch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from statebot import Fill, verify
from tests.runner_helpers import (
    Scripted,
    broker,
    drive,
    et,
    events,
    long,
    make_runner,
    minute_bars,
)


class Wrapped:
    """A SimBroker seen through a wrapper whose answers a test can bend."""

    def __init__(self, sim, positions=None, extra=None):  # type: ignore[no-untyped-def]
        self.sim, self._positions, self.extra = sim, positions, list(extra or [])

    def positions(self):  # type: ignore[no-untyped-def]
        return dict(self._positions) if self._positions is not None else self.sim.positions()

    def drain(self):  # type: ignore[no-untyped-def]
        out = self.sim.drain() + self.extra
        self.extra = []
        return out

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.sim, name)


@pytest.mark.invariant("a position the broker does not confirm is never adopted: mismatch event and trip", machine="runner")
def test_a_broker_position_that_differs_is_logged_and_trips_the_kill_switch(tmp_path: Path) -> None:
    sim = broker()
    venue = Wrapped(sim, positions={"MES": 5})
    runner = make_runner(tmp_path, Scripted(long()), venue)
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:03"))
    mismatch = events(tmp_path, "POSITION_MISMATCH")[0]["payload"]
    assert mismatch == {"strategy": "", "symbol": "MES", "expected": 3, "broker": 5}
    assert runner.killswitch_state == "TRIPPED"
    assert events(tmp_path, "KILL_SWITCH")[0]["payload"]["reason"] == "position_mismatch"
    runner.close()


@pytest.mark.invariant("consecutive order rejects trip the kill switch at the configured limit", machine="killswitch")
def test_consecutive_rejects_trip_the_kill_switch(tmp_path: Path) -> None:
    sim = broker()
    sim.reject_next(10)
    runner = make_runner(tmp_path, Scripted(long()), sim)
    out = drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:05"))
    rejected = events(tmp_path, "ORDER_REJECTED")
    assert [e["payload"]["counted"] for e in rejected] == [True, False] * 3  # each entry's stop is refused with it
    assert runner.killswitch_state == "TRIPPED"
    assert events(tmp_path, "KILL_SWITCH")[0]["payload"]["reason"] == "consecutive_rejects"
    assert out[-1][1].reason == "kill_switch"
    runner.close()


@pytest.mark.invariant("a fill of an order nobody sent is logged and, once the venue holds it, trips the kill switch",
                       machine="runner")
def test_a_fill_of_an_unknown_order_is_logged_and_reconciliation_trips(tmp_path: Path) -> None:
    sim = broker()
    stray = Fill(exec_id="ghost-1", order_id="not-ours", strategy="scripted", symbol="MES", qty=2, price_ticks=24000,
                 commission=Decimal("2.50"), at=et("2026-11-24", "10:00"))
    venue = Wrapped(sim, positions={"MES": 2}, extra=[stray])
    runner = make_runner(tmp_path, Scripted(), venue)
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:01"))
    assert runner.killswitch_state == "TRIPPED"
    trips = [e["payload"]["reason"] for e in events(tmp_path, "KILL_SWITCH")]
    assert trips[0] == "position_mismatch"
    fill = [e["payload"] for e in events(tmp_path, "FILL") if e["payload"]["exec_id"] == "ghost-1"]
    assert fill and fill[0]["routed"] is False
    runner.close()
    verify(tmp_path / "events.jsonl")


def test_a_disconnected_venue_is_logged_once_and_entries_are_refused_as_rejected(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    sim.on_bar(next(minute_bars("2026-11-24", "09:59", "09:59")))
    sim.disconnect()
    out = [runner.run_once(b) for b in minute_bars("2026-11-24", "10:00", "10:02")]
    assert [d.reason for d in out] == ["adapter_unavailable"] * 3
    assert len([e for e in events(tmp_path, "RUNNER_ERROR") if e["payload"]["stage"] == "drain"]) == 1
    assert runner.position_qty == 0 and runner.position_state == "FLAT"
    sim.reconnect()
    runner.close()


def test_a_stale_heartbeat_changes_nothing(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, Scripted(), broker())
    runner.run_heartbeat(et("2026-11-24", "10:00"))
    assert runner.run_heartbeat(et("2026-11-24", "09:59")).reason == "heartbeat_not_after_previous"
    assert runner.now == et("2026-11-24", "10:00")
    with pytest.raises(Exception, match="naive"):
        runner.run_heartbeat(dt.datetime(2026, 11, 24, 10, 1))
    runner.close()


@pytest.mark.invariant("an over-fill is applied (the venue holds it), logged and trips the kill switch", machine="position")
def test_an_over_fill_of_our_entry_trips_the_kill_switch(tmp_path: Path) -> None:
    sim = broker()
    venue = Wrapped(sim)
    strat = Scripted(long())
    runner = make_runner(tmp_path, strat, venue)
    (_, entry), = drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:00"))
    strat.want = None
    venue.extra = [Fill(exec_id="extra-1", order_id=str(entry.order_id), strategy="scripted", symbol="MES", qty=2,
                        price_ticks=24000, commission=Decimal("2.50"), at=et("2026-11-24", "10:01"))]
    drive(runner, sim, minute_bars("2026-11-24", "10:01", "10:01"))
    assert runner.position_qty == 5  # 3 ordered and filled, 2 more reported: the position follows the venue's word
    assert runner.killswitch_state == "TRIPPED"
    assert events(tmp_path, "KILL_SWITCH")[0]["payload"]["reason"] == "over_fill"
    runner.close()


def test_observe_mode_refusals_are_logged_but_never_trip_the_reject_limit(tmp_path: Path) -> None:
    from statebot.venues.observe import ObserveOnly

    sim = broker()
    observed = ObserveOnly(sim, clock=lambda: et("2026-11-24", "10:00"))
    runner = make_runner(tmp_path, Scripted(long()), observed)
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:09"))
    assert len(events(tmp_path, "ORDER_REJECTED")) == 9  # the 10th refusal arrives with the next drain
    assert runner.killswitch_state == "ARMED" and runner.position_qty == 0 and sim.book == {}
    assert len(observed.intents) == 10
    runner.close()



@pytest.mark.invariant("a venue report a position machine refuses trips the kill switch (state_untrusted)", machine="runner")
def test_a_venue_report_the_machines_refuse_trips_the_kill_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from statebot import Applied, InvalidTransition, OrderStatus

    sim = broker()
    venue = Wrapped(sim)
    runner = make_runner(tmp_path, Scripted(long()), venue)
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:01"))
    assert runner.killswitch_state == "ARMED"
    venue.extra.append(OrderStatus(order_id="late-report", status="CANCELLED", filled=0, remaining=1, at=et("2026-11-24", "10:01")))

    def refusing_apply_one(event):  # type: ignore[no-untyped-def]
        return Applied(errors=((event, InvalidTransition("position", "FLAT", "order_ended")),)), None

    monkeypatch.setattr(runner.book, "apply_one", refusing_apply_one)  # the runner applies one report at a time
    drive(runner, sim, minute_bars("2026-11-24", "10:02", "10:04"))
    assert runner.killswitch_state == "TRIPPED"
    assert [e["payload"]["reason"] for e in events(tmp_path, "KILL_SWITCH")][0] == "state_untrusted"
    assert events(tmp_path, "RUNNER_ERROR")
    runner.close()
    assert verify(tmp_path / "events.jsonl").events > 0
