"""The protection desk: protectors moved by the venue's reports, OCA siblings cancelled, a lost stop
restored as configured, stray protectors found, and the protectors' state the fold of the log."""

from __future__ import annotations

import pytest

from statebot import FaultPlan, OrderRequest, SimBroker
from statebot.core.engine.fold import BotState
from statebot.core.engine.protection import CANCEL, SEND, TRIP
from statebot.core.fsm.killswitch import KillSwitch
from statebot.core.learning.loop import LearningLoop
from statebot.core.positions.book import PositionBook
from statebot.core.fsm.protector import CANCELLED, CANCELLING, TRIGGERED, WORKING
from statebot.core.orders import BracketOrder
from statebot.core.positions.reconcile import MISSING, STRAY, reconcile_protectors
from statebot.store.checkpoint import checkpoint_state, restore_checkpoint
from tests.core.engine.protection_helpers import Desk
from tests.positions_helpers import T0
from tests.positions_helpers import bar as _bar


def bar(i: int, *, o: float, h: float, low: float):  # type: ignore[no-untyped-def]
    return _bar(i, o=o, h=h, low=low, c=o)


def bracket(oid: str = "e1", target: bool = True) -> BracketOrder:
    entry = OrderRequest(client_order_id=oid, strategy="s1", symbol="MES", qty=1)
    return BracketOrder.around(entry, stop_ticks=19990, target_ticks=20020 if target else None)


def opened(on_lost: str = "trip", target: bool = True, **sim_kw: object) -> Desk:
    d = Desk(SimBroker(start=T0, **sim_kw), on_lost=on_lost)  # type: ignore[arg-type]
    d.send(bracket(target=target))
    d.pump()
    d.sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))  # the entry fills; nothing else is reached
    d.pump()
    return d


def states(d: Desk) -> dict[str, str]:
    return {o.client_order_id: m.state for o, m in d.desk.protectors()}


def test_the_venue_acknowledges_the_protectors_and_they_protect_the_open_position() -> None:
    d = opened()
    assert states(d) == {"e1-stop": WORKING, "e1-target": WORKING}
    assert d.book.machine("s1", "MES").qty == 1
    assert d.desk.working_stop("s1", "MES") is not None and d.desk.working_stop("s1", "MES").client_order_id == "e1-stop"  # type: ignore[union-attr]


def test_the_stop_executing_closes_the_position_and_the_bracket_is_forgotten() -> None:
    d = opened()
    d.sim.on_bar(bar(2, o=4999.0, h=4999.5, low=4997.0))
    d.pump()
    assert d.book.machine("s1", "MES").qty == 0 and d.trips == []
    assert d.desk.protectors() == ()  # the stop executed, the target was cancelled (OCA): nothing is live
    transitions = [(e.payload["order_id"], e.payload["to"]) for e in d.log if e.type == "PROTECTOR_TRANSITION"]
    assert ("e1-stop", TRIGGERED) in transitions and ("e1-target", CANCELLING) in transitions
    assert ("e1-target", CANCELLED) in transitions


def test_a_stop_cancelled_unasked_while_open_trips_by_default() -> None:
    d = opened()
    d.sim._cancel_now("e1-stop", reason="cancelled by the exchange")  # noqa: SLF001 - a venue's own cancel
    d.pump()
    assert len(d.trips) == 1 and "e1-stop" in d.trips[0] and "lost" in d.trips[0]


def test_a_stop_lost_while_open_is_sent_again_when_configured() -> None:
    d = opened(on_lost="resend")
    d.sim._cancel_now("e1-stop", reason="cancelled by the exchange")  # noqa: SLF001
    d.pump()
    assert d.trips == []
    sent = [e.payload for e in d.log if e.type == "ORDER_SUBMITTED" and e.payload["order_id"] == "again-1"]
    assert sent and sent[0]["price_ticks"] == 19990 and sent[0]["tif"] == "GTC" and sent[0]["oca_group"] == "oca-e1"
    d.pump()
    assert d.desk.working_stop("s1", "MES") is not None
    d.sim._cancel_now("again-1", reason="cancelled by the exchange")  # noqa: SLF001 - lost a second time: trip
    d.pump()
    assert len(d.trips) == 1


def test_a_stop_refused_with_its_entry_still_working_cancels_the_entry_when_resending() -> None:
    d = Desk(SimBroker(start=T0), on_lost="resend")
    b = BracketOrder.around(OrderRequest(client_order_id="e1", strategy="s1", symbol="MES", qty=1, kind="LIMIT",
                                         limit_ticks=19900), stop_ticks=19890)
    d.send(b)
    d.pump()
    d.sim._cancel_now("e1-stop", reason="cancelled by the exchange")  # noqa: SLF001
    d.pump()
    assert [e.payload["order_id"] for e in d.log if e.type == "ORDER_CANCEL_REQUESTED"] == ["e1"]


def test_a_target_lost_leaves_the_stop_protecting() -> None:
    d = opened()
    d.sim._cancel_now("e1-target", reason="cancelled by the exchange")  # noqa: SLF001
    d.pump()
    assert d.trips == [] and d.desk.working_stop("s1", "MES") is not None


def test_an_entry_cancelled_unfilled_ends_its_protectors_quietly() -> None:
    d = Desk(SimBroker(start=T0))
    b = BracketOrder.around(OrderRequest(client_order_id="e1", strategy="s1", symbol="MES", qty=1, kind="LIMIT",
                                         limit_ticks=19900), stop_ticks=19890)
    d.send(b)
    d.pump()
    d.sim.cancel("e1")
    d.pump()
    assert d.trips == [] and d.desk.protectors() == ()


def test_cancelling_a_positions_protectors_asks_the_venue_for_each() -> None:
    d = opened()
    changes = d.desk.cancel("s1", "MES", "session flatten")
    assert [c.kind for c in changes.commands] == [CANCEL, CANCEL]
    assert {t.dest for t in changes.transitions} == {CANCELLING}
    assert d.desk.cancel("s1", "MES", "again").commands == ()  # asked once


@pytest.mark.invariant("reconciliation compares working protective orders; one held for a position the book thinks flat is cancelled",
                       machine="protector")
def test_reconciliation_finds_stray_and_missing_protectors() -> None:
    d = opened()
    assert reconcile_protectors(d.book, d.desk.live_ids(), d.sim.open_orders()) == ()
    # the book thinks flat (a person wrote the position off), the venue still works the bracket: stray
    m = d.book.machine("s1", "MES")
    for oid in m.live_protectors():
        m.venue_not_working(oid)
    m.write_off()
    found = reconcile_protectors(d.book, (), d.sim.open_orders())
    assert [(f.problem, f.order_id) for f in found] == [(STRAY, "e1-stop"), (STRAY, "e1-target")]
    changes = d.desk.strays()
    assert sorted(c.order_id for c in changes.commands) == ["e1-stop", "e1-target"]
    d.execute(changes)
    d.pump()
    assert d.sim.open_orders() == ()
    # a stop the book counts on that the venue no longer works: missing
    d2 = opened()
    d2.sim._working.pop("e1-stop")  # noqa: SLF001 - gone at the venue without a report
    found = reconcile_protectors(d2.book, d2.desk.live_ids(), d2.sim.open_orders())
    assert [(f.problem, f.order_id) for f in found] == [(MISSING, "e1-stop")]


@pytest.mark.invariant("a protector's state is the fold of the event log", machine="protector")
@pytest.mark.parametrize("path", [
    [(4999.0, 4999.5, 4997.0)],  # the stop
    [(5002.0, 5006.0, 5001.0)],  # the target
    [(5000.0, 5000.5, 4999.5), (5000.0, 5000.5, 4999.5)],  # nothing yet: both working
])
def test_the_protectors_fold_from_the_log_and_survive_a_checkpoint(path: list[tuple[float, float, float]]) -> None:
    d = opened(faults=FaultPlan(stale_status_p=0.5), seed=2)
    for i, (o, h, low) in enumerate(path, start=2):
        d.sim.on_bar(bar(i, o=o, h=h, low=low))
        d.pump()
    folded = d.fold()
    assert folded.view()["protectors"] == d.state.view()["protectors"]
    assert folded.view()["positions"] == d.state.view()["positions"]
    snap = checkpoint_state(folded, clock=T0)
    again = BotState(book=PositionBook(), killswitch=KillSwitch(max_consecutive_rejects=None), learning=LearningLoop())
    restore_checkpoint(again, snap, {})
    assert again.view()["protectors"] == d.state.view()["protectors"]


def test_a_transition_the_log_contradicts_is_an_anomaly() -> None:
    d = opened()
    d.log.append(type(d.log[0])(seq=99, ts=d.log[-1].ts, type="PROTECTOR_TRANSITION",
                                payload={"order_id": "e1-stop", "strategy": "s1", "symbol": "MES",
                                         "trigger": "accepted", "from": "PENDING", "to": "WORKING"}))
    with pytest.raises(AssertionError, match="folded machine is WORKING"):
        d.fold()


def test_a_resent_stop_is_sent_as_a_send_command() -> None:
    d = opened(on_lost="resend")
    d.sim._cancel_now("e1-stop", reason="x")  # noqa: SLF001
    events = d.sim.drain()
    d.book.apply(events)
    changes = d.desk.on_event(events[0])
    assert [c.kind for c in changes.commands] == [SEND]
    assert TRIP not in [c.kind for c in changes.commands]


def test_a_cancel_the_flattener_sent_through_the_position_machine_counts_as_asked() -> None:
    d = opened()
    m = d.book.machine("s1", "MES")
    for oid in m.live_protectors():
        m.request_cancel(oid)  # as flatten_positions does, beside the desk
        d.sim.cancel(oid)
    d.pump()
    assert d.trips == [] and d.desk.protectors() == ()
    triggers = [(e.payload["order_id"], e.payload["trigger"]) for e in d.log if e.type == "PROTECTOR_TRANSITION"]
    assert ("e1-stop", "cancel_asked") in triggers and ("e1-stop", "ended") in triggers
    d.fold()
