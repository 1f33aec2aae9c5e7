"""Closing orders never stack or reverse silently; every derived outcome has a row; stale reports are ignored."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from statebot import (
    ENTERING,
    EXITING,
    FLAT,
    OPEN,
    POSITION_SPEC,
    InvalidTransition,
    OverFill,
    PositionBook,
)
from statebot.core.fsm.position import (
    ENDED_ORDER_MEMORY,
    EXEC_ID_MEMORY,
    UNREACHABLE_OUTCOMES,
)
from tests.positions_helpers import fill, machine, order, status


def _open(qty: int = 1):  # type: ignore[no-untyped-def]
    m = machine()
    entry = order(qty)
    m.submit_entry(entry)
    m.on_fill(fill(entry, qty))
    m.on_status(status(entry, "FILLED", qty))
    return m


@pytest.mark.invariant("a closing order being cancelled still counts until the venue confirms: closing orders never "
                       "stack past the position", machine="position")
def test_a_new_closing_order_is_refused_while_a_cancelled_exit_is_unconfirmed() -> None:
    m = _open()
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    m.request_cancel(exit_.client_order_id)
    with pytest.raises(ValueError, match="already working"):
        m.submit_exit(order(-1, "flatten"))
    assert m.live_orders() == (exit_.client_order_id,)


def test_a_closing_order_may_be_sent_once_the_venue_confirmed_the_cancel() -> None:
    m = _open()
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    m.request_cancel(exit_.client_order_id)
    m.on_status(status(exit_, "CANCELLED", 0))
    m.submit_exit(order(-1, "flatten"))
    assert m.state == EXITING


@pytest.mark.invariant("a closing order's fill that starts from zero or moves away from zero is applied and raised",
                       machine="position")
def test_a_closing_fill_from_flat_is_raised_as_an_over_fill_not_a_silent_reversal() -> None:
    m = _open()
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    m.request_cancel(exit_.client_order_id)
    m.on_status(status(exit_, "CANCELLED", 0))
    flatten = order(-1, "flatten")
    m.submit_exit(flatten)
    m.on_fill(fill(exit_, -1))  # the venue filled the cancelled exit after all
    assert m.qty == 0
    with pytest.raises(OverFill) as raised:
        m.on_fill(fill(flatten, -1))
    assert raised.value.kind == "over_fill"
    assert (m.qty, m.state) == (-1, OPEN)


def test_a_closing_fill_adding_to_the_position_is_an_over_fill() -> None:
    m = _open()
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    with pytest.raises(OverFill) as raised:
        m.on_fill(fill(exit_, 1))
    assert raised.value.kind == "over_fill" and m.qty == 2


@pytest.mark.invariant("every outcome of the position's derivation from every state is a table row or documented "
                       "unreachable", machine="position")
@pytest.mark.parametrize("trigger", ["fill", "order_ended", "anomalous_fill"])
def test_every_state_and_outcome_is_covered_by_a_row_or_documented_unreachable(trigger: str) -> None:
    rows = {(r.trigger, s, r.dest) for r in POSITION_SPEC.transitions for s in r.source}
    for source, dest in itertools.product(POSITION_SPEC.states, repeat=2):
        if trigger == "order_ended" and source == dest:
            continue  # nothing changed: no transition is fired
        key = (trigger, source, dest)
        assert (key in rows) != (key in UNREACHABLE_OUTCOMES), key


def test_cancelling_a_flatten_after_an_earlier_exit_closed_the_position_lands_flat() -> None:
    m = _open()
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    m.request_cancel(exit_.client_order_id)
    m.on_status(status(exit_, "CANCELLED", 0))
    flatten = order(-1, "flatten")
    m.submit_exit(flatten)
    m.on_fill(fill(exit_, -1))
    m.on_status(status(exit_, "FILLED", 1))
    assert (m.state, m.qty) == (EXITING, 0)
    m.request_cancel(flatten.client_order_id)
    assert (m.state, m.may_enter()) == (FLAT, False)  # the flatten may still fill until the venue confirms
    m.on_status(status(flatten, "CANCELLED", 0))
    assert (m.state, m.may_enter()) == (FLAT, True)


def test_an_exit_ending_with_nothing_held_and_an_unconfirmed_entry_cancel_waits_in_entering() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)  # the entry's rest is being cancelled
    m.on_fill(fill(exit_, -1))
    m.on_status(status(exit_, "FILLED", 1))
    assert m.state == ENTERING and m.qty == 0


def test_a_status_the_table_refuses_changes_nothing() -> None:
    m = _open()
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    live = m.live_orders()
    m._state = FLAT  # a machine whose state disagrees with its orders (cannot happen through the API)
    with pytest.raises(InvalidTransition):
        m.on_status(status(exit_, "CANCELLED", 0))  # FLAT -> OPEN by a status is unreachable
    assert m.live_orders() == live and m.state == FLAT


@pytest.mark.invariant("a non-terminal status after a terminal one never revives the order", machine="position")
def test_a_stale_status_after_cancelled_does_not_revive_the_entry() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_status(status(entry, "CANCELLED", 0))
    m.on_status(status(entry, "ACCEPTED", 0))
    assert (m.state, m.live_orders(), m.may_enter()) == (FLAT, (), True)


def test_a_lower_filled_count_never_lowers_what_the_venue_reported() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.on_status(status(entry, "CANCELLED", 1))
    m.on_status(status(entry, "CANCELLED", 0))
    assert m.live_orders() == (entry.client_order_id,)  # one fill is still on its way


def test_many_round_trips_keep_only_live_orders_and_a_bounded_exec_id_memory() -> None:
    m = machine()
    for _ in range(EXEC_ID_MEMORY // 2 + 10):
        entry, exit_ = order(1), order(-1, "exit")
        m.submit_entry(entry)
        m.on_fill(fill(entry, 1))
        m.on_status(status(entry, "FILLED", 1))
        m.submit_exit(exit_)
        m.on_fill(fill(exit_, -1))
        m.on_status(status(exit_, "FILLED", 1))
    assert m.live_orders() == () and len(m._live) == 0
    assert len(m._exec_ids) == EXEC_ID_MEMORY and len(m._exec_order) == EXEC_ID_MEMORY
    assert len(m._ended) == ENDED_ORDER_MEMORY


def test_a_forgotten_repeat_of_an_ended_order_is_raised_not_silent() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    first = fill(entry, 1)
    m.on_fill(first)
    m.on_status(status(entry, "FILLED", 1))
    m._exec_ids.clear()  # as if EXEC_ID_MEMORY later executions pushed it out
    with pytest.raises(OverFill):
        m.on_fill(first)


def test_a_book_keeps_its_owner_lookup_for_ended_orders() -> None:
    book = PositionBook()
    m = book.machine("s1", "MES")
    entry = order(1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    m.on_status(status(entry, "FILLED", 1))
    assert book.owner(entry.client_order_id) is m


def test_a_reversing_fill_splits_its_commission_pro_rata_between_the_two_trips() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1, commission="1.25"))
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    with pytest.raises(OverFill) as raised:
        m.on_fill(fill(exit_, -3, commission="3.75"))
    first = raised.value.closed
    assert first is not None and first.commission == Decimal("2.50")
    closer = order(2, "exit")
    m.submit_exit(closer)
    second = m.on_fill(fill(closer, 2, commission="2.50"))
    assert second is not None and second.commission == Decimal("5.00")
    assert first.commission + second.commission == Decimal("7.50")


def _round_trips(m, n: int) -> list:  # type: ignore[no-untyped-def]
    """``n`` filled entries and exits of one contract; returns the orders, oldest first."""
    orders = []
    for _ in range(n):
        entry, exit_ = order(1), order(-1, "exit")
        m.submit_entry(entry)
        m.on_fill(fill(entry, 1))
        m.on_status(status(entry, "FILLED", 1))
        m.submit_exit(exit_)
        m.on_fill(fill(exit_, -1))
        m.on_status(status(exit_, "FILLED", 1))
        orders += [entry, exit_]
    return orders


def _oldest_remembered(m) -> tuple:  # type: ignore[no-untyped-def]
    """(the entry of the oldest round trip still remembered, the fill it had)."""
    entry = order(1)
    m.submit_entry(entry)
    first = fill(entry, 1)
    m.on_fill(first)
    m.on_status(status(entry, "FILLED", 1))
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    m.on_fill(fill(exit_, -1))
    m.on_status(status(exit_, "FILLED", 1))
    _round_trips(m, (ENDED_ORDER_MEMORY - 2) // 2)
    assert m.knows(entry.client_order_id)
    return entry, first


@pytest.mark.invariant("a non-terminal status after a terminal one never revives the order", machine="position")
def test_a_late_status_of_the_oldest_remembered_order_still_does_not_revive_it() -> None:
    m = machine()
    entry, _ = _oldest_remembered(m)
    m.on_status(status(entry, "ACCEPTED", 0))
    assert (m.state, m.live_orders(), m.may_enter()) == (FLAT, (), True)


@pytest.mark.invariant("a duplicate execution report (same exec_id) is applied once", machine="position")
def test_a_repeated_fill_of_the_oldest_remembered_order_is_recognised() -> None:
    m = machine()
    _, first = _oldest_remembered(m)
    assert m.seen(first.exec_id)
    assert m.on_fill(first) is None and m.qty == 0


@pytest.mark.invariant("an over-fill is applied to the position and raised, never absorbed", machine="position")
def test_a_new_fill_of_the_oldest_remembered_order_is_raised_as_an_over_fill() -> None:
    m = machine()
    entry, _ = _oldest_remembered(m)
    with pytest.raises(OverFill) as raised:
        m.on_fill(fill(entry, 1))
    assert raised.value.kind == "over_fill" and m.qty == 1


def test_an_order_past_the_ended_memory_is_forgotten() -> None:
    m = machine()
    (oldest, *_) = _round_trips(m, ENDED_ORDER_MEMORY // 2 + 1)
    assert not m.knows(oldest.client_order_id)
    with pytest.raises(KeyError):
        m.order(oldest.client_order_id)


@pytest.mark.invariant("a report of an order past the ended-order memory is never applied silently",
                       machine="position")
def test_a_late_status_of_a_forgotten_order_changes_nothing() -> None:
    m = machine()
    (oldest, *_) = _round_trips(m, ENDED_ORDER_MEMORY // 2 + 1)
    m.on_status(status(oldest, "ACCEPTED", 0))
    assert (m.state, m.live_orders(), m.may_enter()) == (FLAT, (), True)


@pytest.mark.invariant("a report of an order past the ended-order memory is never applied silently",
                       machine="position")
def test_a_fill_of_a_forgotten_order_sent_to_the_machine_is_raised_as_an_unknown_order() -> None:
    m = machine()
    (oldest, *_) = _round_trips(m, ENDED_ORDER_MEMORY // 2 + 1)
    with pytest.raises(OverFill) as raised:
        m.on_fill(fill(oldest, 1))
    assert raised.value.kind == "unknown_order" and m.qty == 1


@pytest.mark.invariant("a report of an order past the ended-order memory is never applied silently",
                       machine="position")
def test_a_book_returns_reports_of_a_forgotten_order_unrouted_and_applies_none() -> None:
    book = PositionBook()
    m = book.machine("s1", "MES")
    (oldest, *_) = _round_trips(m, 2)
    assert book.owner(oldest.client_order_id) is m  # cached while remembered
    _round_trips(m, ENDED_ORDER_MEMORY // 2)
    late = [fill(oldest, 1), status(oldest, "ACCEPTED", 0)]
    applied = book.apply(late)
    assert applied.unrouted == tuple(late) and applied.anomalies == () and m.qty == 0
    assert book.owner(oldest.client_order_id) is None


def test_a_books_owner_lookup_stays_bounded_over_many_orders() -> None:
    from statebot.core.positions.book import OWNER_CACHE_SIZE

    book = PositionBook()
    machines = [book.machine(f"s{i}", "MES") for i in range(3)]
    for _ in range(OWNER_CACHE_SIZE // 2):
        for m in machines:
            entry = order(1, strategy=m.strategy)
            m.submit_entry(entry)
            book.apply([status(entry, "REJECTED")])
    assert 0 < len(book._owner) <= OWNER_CACHE_SIZE
