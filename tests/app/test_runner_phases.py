"""The runner's phases are declared machines whose tables act: the flatten coordinator, the venue
connection, and the effects every table declares, each executed by the engine or the machine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot import BotRunner
from statebot.core.fsm import (
    FlattenCoordinator,
    KillSwitch,
    ProtectorMachine,
    PositionMachine,
    SessionMachine,
    TableMachine,
    ThrottleMachine,
    VenueConnection,
    all_specs,
)
from statebot.core.fsm.connection import CONNECTED, DISCONNECTED, RESYNCING
from statebot.core.orders import REJECTED, OrderRequest, OrderStatus
from statebot.core.engine.protection import ProtectionDesk
from tests.app.test_runner_faults import Wrapped
from tests.app.test_runner_live_controls import Flaky
from tests.runner_helpers import Scripted, broker, config, drive, et, events, long, make_runner, minute_bars, short

MACHINES: dict[str, type[TableMachine]] = {
    "session": SessionMachine, "position": PositionMachine, "throttle": ThrottleMachine, "killswitch": KillSwitch,
    "flatten": FlattenCoordinator, "venue_connection": VenueConnection, "protector": ProtectorMachine,
}
ENGINES: tuple[type, ...] = (BotRunner, ProtectionDesk)
"""Who executes the effects the machines do not: the runner, and the protection desk (protective orders)."""


# the tables act ----------------------------------------------------------------------------


def test_every_declared_effect_has_exactly_one_executor() -> None:
    assert set(MACHINES) == {spec.name for spec in all_specs()}
    for spec in all_specs():
        own = set(MACHINES[spec.name].OWN_EFFECTS)
        executors = [(engine, set(engine.EFFECT_EXECUTORS.get(spec.name, {}))) for engine in ENGINES]
        for effect in spec.actions:
            count = (effect in own) + sum(effect in effects for _, effects in executors)
            assert count == 1, f"{spec.name}: {effect} needs exactly one executor"
        for engine, effects in executors:
            assert effects <= set(spec.actions), f"{spec.name}: {engine.__name__} executes effects its table never asks for"
            for name in engine.EFFECT_EXECUTORS.get(spec.name, {}).values():
                assert callable(getattr(engine, name, None)), f"{engine.__name__} lacks {name}"


def test_the_session_flatten_cancels_a_working_entry_order(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    drive(runner, sim, minute_bars("2026-11-24", "15:54", "15:54"))
    [entry] = [o for o in sim.open_orders() if o.purpose == "entry"]  # with its protective stop, a bracket
    runner.run_once(next(minute_bars("2026-11-24", "15:55", "15:55")))  # the venue has not filled it yet
    assert sim.open_orders() == ()
    runner.run_once(next(minute_bars("2026-11-24", "15:56", "15:56")))
    cancelled = [e["payload"]["order_id"] for e in events(tmp_path, "ORDER_CANCELLED")]
    assert cancelled[0] == entry.client_order_id  # and its stop with it
    assert cancelled[1:] == [f"{entry.client_order_id}-stop"]
    runner.close()


def test_a_kill_switch_trip_cancels_a_working_entry(tmp_path: Path) -> None:
    sim = broker()
    stray = OrderStatus(order_id="not-ours", status=REJECTED, filled=0, remaining=1, at=et("2026-11-24", "10:01"),
                        reason="test")
    venue = Wrapped(sim)
    runner = make_runner(tmp_path, Scripted(long()), venue, cfg=config("[kill_switch]\nmax_consecutive_rejects = 1\n"))
    drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:00"))
    [entry] = [o for o in sim.open_orders() if o.purpose == "entry"]  # with its protective stop, a bracket
    venue.extra = [stray]
    runner.run_once(next(minute_bars("2026-11-24", "10:01", "10:01")))  # the reject trips the switch
    assert runner.killswitch_state == "TRIPPED"
    assert sim.open_orders() == ()
    runner.run_once(next(minute_bars("2026-11-24", "10:02", "10:02")))
    assert [e["payload"]["order_id"] for e in events(tmp_path, "ORDER_CANCELLED")] == [
        entry.client_order_id, f"{entry.client_order_id}-stop"]
    runner.close()


# the flatten coordinator -------------------------------------------------------------------------


@pytest.mark.invariant("no entry and no strategy exit is sent while FLATTENING", machine="flatten")
def test_while_flattening_the_strategy_neither_enters_nor_exits(tmp_path: Path) -> None:
    sim = broker()
    strategy = Scripted(long())
    runner = make_runner(tmp_path, strategy, sim)
    drive(runner, sim, minute_bars("2026-11-24", "15:50", "15:54"))
    assert runner.position_qty > 0
    strategy.want = short()  # a reversal asked on every bar of the flatten
    seq = events(tmp_path)[-1]["seq"]
    out = drive(runner, sim, minute_bars("2026-11-24", "15:55", "15:59"))
    sent = [e["payload"]["purpose"] for e in events(tmp_path, "ORDER_SUBMITTED") if e["seq"] > seq]
    assert sent == ["flatten"]
    assert {d.action for _, d in out} <= {"FLATTEN", "HOLD", "SKIP"}
    runner.close()


def test_the_flatten_stays_under_way_while_the_venue_cannot_say_it_is_flat(tmp_path: Path) -> None:
    sim = broker()
    venue = Flaky(sim)
    runner = make_runner(tmp_path, Scripted(long()), venue)
    drive(runner, sim, minute_bars("2026-11-24", "15:50", "15:54"))
    venue.down = True
    for minute in range(55, 60):
        runner.run_heartbeat(et("2026-11-24", f"15:{minute}"))
        assert runner.flattening
    venue.down = False
    drive(runner, sim, minute_bars("2026-11-24", "16:00", "16:03"))
    assert runner.position_qty == 0 and sim.positions().get("MES", 0) == 0
    assert not runner.flattening
    runner.close()


# the venue connection ----------------------------------------------------------------------------


class Resyncing(Flaky):
    """A Flaky venue that, once back, reports a working order of someone else's for a while, so the
    reconciliation must wait."""

    def __init__(self, sim):  # type: ignore[no-untyped-def]
        super().__init__(sim)
        self.busy = False

    def open_orders(self):  # type: ignore[no-untyped-def]
        self._check()
        if self.busy:
            return (OrderRequest(client_order_id="theirs", strategy="other", symbol="MES", qty=1, kind="LIMIT",
                                 limit_ticks=1),)
        return self.sim.open_orders()


@pytest.mark.invariant("no entry is sent unless the venue connection is CONNECTED", machine="venue_connection")
@pytest.mark.invariant("RESYNCING becomes CONNECTED only through a reconciliation of the venue's positions",
                       machine="venue_connection")
def test_entries_wait_for_the_reconciliation_after_a_reconnect(tmp_path: Path) -> None:
    sim = broker()
    venue = Resyncing(sim)
    runner = make_runner(tmp_path, Scripted(long()), venue)
    venue.down = True
    out = drive(runner, sim, minute_bars("2026-11-24", "10:00", "10:01"))
    assert runner.connection.state == DISCONNECTED
    assert [d.reason for _, d in out] == ["adapter_unavailable"] * 2
    venue.down, venue.busy = False, True
    out = drive(runner, sim, minute_bars("2026-11-24", "10:02", "10:04"))
    assert runner.connection.state == RESYNCING  # the reconciliation waits for the venue's working order
    assert [d.reason for _, d in out] == ["reconciling"] * 3
    assert not events(tmp_path, "ORDER_SUBMITTED")
    venue.busy = False
    out = drive(runner, sim, minute_bars("2026-11-24", "10:05", "10:05"))
    assert runner.connection.state == CONNECTED
    assert out[0][1].action == "ENTER"
    runner.close()


@pytest.mark.invariant("a disconnect while flat with nothing working does not trip the kill switch",
                       machine="venue_connection")
def test_a_disconnect_through_the_flatten_while_flat_does_not_trip_the_kill_switch(tmp_path: Path) -> None:
    sim = broker()
    venue = Flaky(sim)
    runner = make_runner(tmp_path, Scripted(), venue)
    drive(runner, sim, minute_bars("2026-11-24", "15:40", "15:50"))
    venue.down = True
    for minute in range(51, 60):
        runner.run_heartbeat(et("2026-11-24", f"15:{minute}"))
    runner.run_heartbeat(et("2026-11-24", "16:00") + dt.timedelta(seconds=1))
    assert runner.session_state == "CLOSED"
    assert runner.killswitch_state == "ARMED" and events(tmp_path, "KILL_SWITCH") == []
    venue.down = False
    runner.run_heartbeat(et("2026-11-24", "16:02"))
    runner.run_heartbeat(et("2026-11-24", "16:03"))
    assert runner.connection.state == CONNECTED and not runner.flattening
    assert runner.killswitch_state == "ARMED"
    runner.close()


@pytest.mark.invariant("an outage logs each change of the connection once, not an error per bar", machine="venue_connection")
@pytest.mark.parametrize("holding", [False, True], ids=["flat", "holding"])
def test_an_outage_through_the_flatten_logs_each_connection_change_once(tmp_path: Path, holding: bool) -> None:
    sim = broker()
    venue = Flaky(sim)
    runner = make_runner(tmp_path, Scripted(long() if holding else None), venue)
    drive(runner, sim, minute_bars("2026-11-24", "15:40", "15:50"))
    assert (runner.position_qty != 0) is holding
    venue.down = True
    for minute in range(51, 60):
        runner.run_heartbeat(et("2026-11-24", f"15:{minute}"))
    venue.down = False
    drive(runner, sim, minute_bars("2026-11-24", "16:00", "16:02"))
    assert [e["payload"]["connected"] for e in events(tmp_path, "VENUE_CONNECTION")] == [False, True]
    assert len(events(tmp_path, "RUNNER_ERROR")) == 1
    trips = [e["payload"]["reason"] for e in events(tmp_path, "KILL_SWITCH")]
    # a position held while the venue is unreachable through the flatten still trips it, once
    assert trips == (["disconnect", "position_held_at_close"] if holding else [])
    runner.close()
