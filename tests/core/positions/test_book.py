"""The position book: routing venue events, and the one gate entries go through."""

from __future__ import annotations

import pytest

from statebot import (
    ENTERING,
    FLAT,
    OPEN,
    EntryRefused,
    FaultPlan,
    KillSwitch,
    PositionBook,
    SimBroker,
    send_entry,
    send_exit,
)
from tests.positions_helpers import T0, at, bar, fill, order, status


def test_events_route_to_the_machine_that_recorded_the_order() -> None:
    book = PositionBook()
    a, b = book.machine("a", "MES"), book.machine("b", "MES")
    oa, ob = order(1, strategy="a"), order(-2, strategy="b")
    a.submit_entry(oa)
    b.submit_entry(ob)
    book.apply([fill(oa, 1), status(ob, "REJECTED")])
    assert (a.state, a.qty, b.state) == (OPEN, 1, FLAT)


def test_duplicates_and_unknown_orders_are_reported_not_applied_twice() -> None:
    book = PositionBook()
    m = book.machine("a", "MES")
    o = order(1, strategy="a")
    m.submit_entry(o)
    f = fill(o, 1, exec_id="E1")
    stranger = status(order(1, oid="elsewhere"), "ACCEPTED")
    applied = book.apply([f, f, stranger])
    assert m.qty == 1
    assert applied.duplicates == (f,) and applied.unrouted == (stranger,)


def test_a_repeated_fill_of_an_order_that_ended_before_a_restart_is_a_duplicate() -> None:
    """A snapshot keeps a machine's execution ids, not its ended orders: a venue repeating a fill
    of such an order after a restart must be recognised by its execution id, not logged again."""
    from statebot.core.fsm.position import PositionMachine

    book = PositionBook()
    m = book.machine("a", "MES")
    o = order(1, strategy="a")
    m.submit_entry(o)
    f = fill(o, 1, exec_id="E1")
    book.apply([f])
    restarted = PositionBook()
    restarted.restore(PositionMachine.from_dict(m.to_dict(), m.instrument))
    applied = restarted.apply([f])
    assert applied.duplicates == (f,) and applied.unrouted == ()
    assert restarted.machine("a", "MES").qty == 1


def test_over_fills_are_collected_after_being_applied() -> None:
    book = PositionBook()
    m = book.machine("a", "MES")
    o = order(1, strategy="a")
    m.submit_entry(o)
    applied = book.apply([fill(o, 3)])
    assert m.qty == 3 and [e.kind for e in applied.anomalies] == ["over_fill"]


@pytest.mark.invariant("no entry order is submitted while the kill switch is TRIPPED", machine="killswitch")
def test_send_entry_refuses_while_the_kill_switch_is_tripped_and_sends_nothing() -> None:
    book, sim, ks = PositionBook(), SimBroker(start=T0), KillSwitch()
    ks.trip("manual", at())
    with pytest.raises(EntryRefused, match="TRIPPED"):
        send_entry(book, sim, order(1), at=at(), killswitch=ks, session_allows=True)
    assert sim.open_orders() == () and book.machine("s1", "MES").state == FLAT


@pytest.mark.invariant("no entry order is submitted for a position that may not enter", machine="position")
def test_send_entry_refuses_a_second_entry_and_outside_the_session() -> None:
    book, sim = PositionBook(), SimBroker(start=T0)
    assert send_entry(book, sim, order(1), at=at(), killswitch=KillSwitch(), session_allows=True)
    with pytest.raises(EntryRefused, match="ENTERING"):
        send_entry(book, sim, order(1), at=at(), killswitch=KillSwitch(), session_allows=True)
    with pytest.raises(EntryRefused, match="session"):
        send_entry(book, sim, order(1, strategy="s2"), at=at(), killswitch=KillSwitch(), session_allows=False)
    assert len(sim.open_orders()) == 1


def test_send_entry_on_a_disconnected_venue_leaves_the_position_flat() -> None:
    book, sim = PositionBook(), SimBroker(start=T0)
    sim.disconnect()
    assert send_entry(book, sim, order(1), at=at(), killswitch=KillSwitch(), session_allows=True) is False
    assert book.machine("s1", "MES").state == FLAT and book.machine("s1", "MES").may_enter()


def test_send_exit_cancels_the_rest_of_a_partly_filled_entry() -> None:
    book = PositionBook()
    sim = SimBroker(start=T0, faults=FaultPlan(partial_p=1.0), seed=3)
    entry = order(4)
    send_entry(book, sim, entry, at=at(), killswitch=KillSwitch(), session_allows=True)
    sim.on_bar(bar(1))
    book.apply(sim.drain())
    m = book.machine("s1", "MES")
    assert m.state == ENTERING and 0 < m.qty < 4
    send_exit(book, sim, order(-m.qty, "exit"), at=at(1))
    assert [o.purpose for o in sim.open_orders()] == ["exit"]
    sim.on_bar(bar(2))
    book.apply(sim.drain())
    assert (m.state == FLAT) == (m.qty == 0)
    assert sim.book.get("MES", 0) == m.qty


def test_late_fill_reported_after_the_cancel_confirmation_is_applied() -> None:
    book = PositionBook()
    sim = SimBroker(start=T0, faults=FaultPlan(partial_p=1.0, delay_p=1.0, delay_bars=2), seed=5)
    entry = order(3)
    send_entry(book, sim, entry, at=at(), killswitch=KillSwitch(), session_allows=True)
    sim.on_bar(bar(1))  # part executes; its report is delayed
    sim.cancel(entry.client_order_id)
    m = book.machine("s1", "MES")
    m.cancel_entry()
    book.apply(sim.drain())  # PARTIALLY_FILLED and CANCELLED, no fill yet
    assert m.qty == 0 and m.state == ENTERING and not m.may_enter()
    sim.on_bar(bar(2))
    sim.on_bar(bar(3))
    book.apply(sim.drain())
    assert m.qty == sim.book["MES"] > 0 and m.state == OPEN


@pytest.mark.invariant("one bad report in a batch never stops the rest of the batch from being applied",
                       machine="position")
def test_an_error_on_one_event_is_recorded_and_the_rest_of_the_batch_is_applied() -> None:
    book = PositionBook()
    s1 = book.machine("s1", "MES")
    s2 = book.machine("s2", "MES")
    e1, e2 = order(1), order(2, strategy="s2")
    s1.submit_entry(e1)
    s2.submit_entry(e2)
    s1._state = "OPEN"  # a machine whose state disagrees with its orders: its next status is refused
    applied = book.apply([status(e1, "CANCELLED"), fill(e2, 2), status(e2, "FILLED", 2)])
    assert [type(err).__name__ for _, err in applied.errors] == ["InvalidTransition"]
    assert applied.errors[0][0].order_id == e1.client_order_id
    assert s2.qty == 2 and book.expected_positions() == {"MES": 2}


def test_send_entry_has_no_open_gate_by_default() -> None:
    book, sim = PositionBook(), SimBroker(start=T0)
    with pytest.raises(TypeError):
        send_entry(book, sim, order(1), at=at())  # type: ignore[call-arg]
    assert sim.open_orders() == ()
