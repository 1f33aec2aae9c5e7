"""What a live loop asks of the runner: flatten on demand before a shutdown, and the disconnect policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot import verify
from statebot.errors import AdapterUnavailable
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


def test_flatten_now_closes_the_position_and_logs_why(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:02"))
    assert runner.position_qty > 0
    runner.flatten_now("shutdown", et("2026-11-24", "10:02") + dt.timedelta(seconds=30))
    assert runner.flattening
    drive(runner, sim, minute_bars("2026-11-24", "10:03", "10:06"))
    assert runner.position_qty == 0 and not runner.flattening
    [flatten] = events(tmp_path, "SESSION_EXIT_FLATTEN")
    assert flatten["payload"]["reason"] == "shutdown"
    runner.close()
    verify(tmp_path / "events.jsonl")


def test_after_flatten_now_no_entry_is_sent(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    runner.flatten_now("shutdown", et("2026-11-24", "10:00"))
    out = drive(runner, sim, minute_bars("2026-11-24", "10:01", "10:03"))
    assert [d.reason for _, d in out] == ["stopping"] * 3
    assert not [e for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"]["purpose"] == "entry"]
    runner.close()


class Flaky:
    """A SimBroker whose drain and positions can be cut off, and whose positions a test can bend on return."""

    def __init__(self, sim):  # type: ignore[no-untyped-def]
        self.sim, self.down, self.extra_position = sim, False, 0

    def _check(self) -> None:
        if self.down:
            raise AdapterUnavailable("link down (test)")

    def drain(self):  # type: ignore[no-untyped-def]
        self._check()
        return self.sim.drain()

    def positions(self):  # type: ignore[no-untyped-def]
        self._check()
        held = dict(self.sim.positions())
        if self.extra_position:
            held["MES"] = held.get("MES", 0) + self.extra_position
        return held

    def submit(self, order):  # type: ignore[no-untyped-def]
        self._check()
        return self.sim.submit(order)

    def submit_bracket(self, bracket):  # type: ignore[no-untyped-def]
        self._check()
        return self.sim.submit_bracket(bracket)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.sim, name)


@pytest.mark.invariant("while the venue is unreachable no entry is sent; the loss and the return are logged once each",
                       machine="runner")
def test_no_entry_while_the_venue_is_unreachable(tmp_path: Path) -> None:
    sim = broker()
    venue = Flaky(sim)
    runner = make_runner(tmp_path, Scripted(long()), venue)
    venue.down = True
    out = drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:02"))
    assert [d.reason for _, d in out] == ["adapter_unavailable"] * 3
    assert events(tmp_path, "ORDER_SUBMITTED") == []
    assert [e["payload"]["connected"] for e in events(tmp_path, "VENUE_CONNECTION")] == [False]
    runner.close()


@pytest.mark.invariant("after a reconnect the venue's positions are reconciled before any new entry", machine="runner")
def test_after_a_reconnect_positions_are_reconciled_before_the_next_entry(tmp_path: Path) -> None:
    sim = broker()
    venue = Flaky(sim)
    runner = make_runner(tmp_path, Scripted(long()), venue)
    venue.down = True
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:01"))
    venue.down = False
    out = drive(runner, sim, minute_bars("2026-11-24", "10:02", "10:02"))
    types = [e["type"] for e in events(tmp_path)]
    assert types.index("VENUE_CONNECTION", types.index("VENUE_CONNECTION") + 1) < types.index("ORDER_SUBMITTED")
    assert out[0][1].action == "ENTER"
    runner.close()


@pytest.mark.invariant("a position the bot did not expect, found after a reconnect, trips the kill switch and is not traded on",
                       machine="killswitch")
def test_an_unexpected_position_after_a_reconnect_trips_the_kill_switch(tmp_path: Path) -> None:
    sim = broker()
    venue = Flaky(sim)
    runner = make_runner(tmp_path, Scripted(long()), venue)
    venue.down = True
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:01"))
    venue.down, venue.extra_position = False, 2
    out = drive(runner, sim, minute_bars("2026-11-24", "10:02", "10:02"))
    assert runner.killswitch_state == "TRIPPED"
    assert events(tmp_path, "KILL_SWITCH")[0]["payload"]["reason"] == "position_mismatch"
    assert out[0][1].reason == "kill_switch"
    assert not [e for e in events(tmp_path, "ORDER_SUBMITTED") if e["payload"]["purpose"] == "entry"]
    runner.close()


@pytest.mark.invariant("a venue unreachable through the flatten until the close trips the kill switch (position held at close)",
                       machine="killswitch")
def test_a_disconnect_through_the_flatten_to_the_close_trips_the_kill_switch(tmp_path: Path) -> None:
    sim = broker()
    venue = Flaky(sim)
    runner = make_runner(tmp_path, Scripted(long()), venue)
    drive(runner, sim, minute_bars("2026-11-24", "15:50", "15:52"))
    assert runner.position_qty > 0
    venue.down = True
    for minute in range(53, 60):
        runner.run_heartbeat(et("2026-11-24", f"15:{minute}"))
    runner.run_heartbeat(et("2026-11-24", "16:00") + dt.timedelta(seconds=1))
    reasons = [e["payload"]["reason"] for e in events(tmp_path, "KILL_SWITCH")]
    assert "position_held_at_close" in reasons
    assert runner.killswitch_state == "TRIPPED" and runner.session_state == "CLOSED"
    runner.close()
