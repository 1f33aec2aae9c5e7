"""The position machine's refusals and anomalies, each named exactly, and the flattener's unowned
close applied to a machine directly (the book's matching of it is in tests/core/positions/).

MES ticks are worth $1.25.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from statebot import ENTERING, FLAT, OPEN, Fill, InvalidTransition, OverFill
from tests.positions_helpers import at, fill, held, machine, order, status



def flattener(qty: int, ticks: int = 20010, minute: int = 5, symbol: str = "MES", commission: str = "0.57") -> Fill:
    return Fill(exec_id=f"U{minute}{qty}", order_id="r1-flatten-1", strategy="", symbol=symbol, qty=qty,
                price_ticks=ticks, commission=Decimal(commission), at=at(minute))


# refusals name the machine, the state and the trigger -----------------------------------------


def test_an_exit_with_nothing_held_is_refused_naming_state_and_trigger() -> None:
    with pytest.raises(InvalidTransition, match=r"^position: trigger 'submit_exit' is not allowed in state FLAT$"):
        machine().check_exit(order(-1, "exit"))


def test_cancel_entry_outside_entering_is_refused_naming_state_and_trigger() -> None:
    m = held(1)
    with pytest.raises(InvalidTransition, match=r"^position: trigger 'cancel_entry' is not allowed in state OPEN$"):
        m.cancel_entry()


def test_unknown_orders_are_named_in_the_key_error() -> None:
    m = machine()
    for ask in (m.order, m.filled, lambda oid: m.submit_failed(oid, at(), "refused")):
        with pytest.raises(KeyError) as raised:
            ask("nope")
        assert raised.value.args == ("nope",)


def test_a_fill_of_another_symbol_is_refused_naming_both() -> None:
    m = held(1)
    o = order(1, symbol="ES")
    with pytest.raises(ValueError, match=r"^fill x\w+ of ES sent to the MES position$"):
        m.on_fill(fill(o, 1))
    assert m.qty == 1


# cancelling ---------------------------------------------------------------------------------


def test_cancelling_a_partly_filled_entry_holds_what_filled_and_stops_it_working() -> None:
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    assert m.cancel_entry() == (entry.client_order_id,)
    assert (m.state, m.qty, m.working_entries(), m.live_orders()) == (OPEN, 1, (), (entry.client_order_id,))
    assert m.on_fill(fill(entry, 1)) is None  # a late fill still counts
    assert (m.state, m.qty) == (OPEN, 2)


def test_cancelling_an_entry_with_nothing_filled_waits_for_the_venue() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    assert m.cancel_entry() == (entry.client_order_id,)
    assert (m.state, m.working_entries(), m.may_enter()) == (ENTERING, (), False)
    m.request_cancel(entry.client_order_id)  # asked already: nothing more
    assert (m.state, m.working_entries()) == (ENTERING, ())


def test_a_cancel_request_for_an_unknown_order_changes_nothing() -> None:
    m = held(1)
    m.request_cancel("never-sent")
    assert (m.state, m.qty, m.live_orders()) == (OPEN, 1, ())


# anomalies are raised with their kind, message, fill and the trade they closed ---------------------


def test_a_closing_fill_that_reverses_the_position_is_raised_as_through_zero() -> None:
    """Long 2; exit A for 2 is listed as no longer working, exit B for 2 replaces it. A's late fill
    of 1 and B's fill of 2 take the position 2 -> 1 -> -1: B is within its size, but it reversed."""
    m = held(2)
    a = order(-2, "exit")
    m.submit_exit(a)
    m.venue_not_working(a.client_order_id)
    b = order(-2, "exit")
    m.submit_exit(b)
    m.on_fill(fill(a, -1, ticks=20004, minute=3))
    assert m.qty == 1
    reversing = fill(b, -2, ticks=20008, minute=4)
    with pytest.raises(OverFill, match=rf"^s1/MES: fill {reversing.exec_id} of -2 reversed position 1 to -1$") as raised:
        m.on_fill(reversing)
    assert raised.value.kind == "through_zero" and raised.value.fill is reversing
    trade = raised.value.closed
    assert trade is not None and (trade.qty, trade.avg_exit_ticks) == (2, Decimal(20006))
    assert m.qty == -1


def test_an_over_fill_is_raised_with_its_fill() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    extra = fill(entry, 1)
    with pytest.raises(OverFill, match=rf"^s1/MES: order {entry.client_order_id} for 1 filled 2 with fill {extra.exec_id} of 1$") as raised:
        m.on_fill(extra)
    assert (raised.value.kind, raised.value.fill, raised.value.closed) == ("over_fill", extra, None)
    assert m.qty == 2


def test_a_fill_against_the_order_s_direction_is_an_over_fill() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    with pytest.raises(OverFill) as raised:
        m.on_fill(fill(entry, -1))
    assert raised.value.kind == "over_fill" and m.qty == 0


# the flattener's unowned close ------------------------------------------------------------------


def test_an_unowned_close_of_the_whole_position_closes_the_trade_at_its_price() -> None:
    """Long 2 at 20000 (0.57), the flattener sold 2 at 20010 (1.14): gross 10 x 2 x 1.25 = 25.00."""
    m = held(2)
    trade = m.close_by_unowned(flattener(-2, commission="1.14"))
    assert trade is not None
    assert (trade.strategy, trade.symbol, trade.qty, trade.gross_pnl, trade.commission, trade.fills) == (
        "s1", "MES", 2, Decimal("25.00"), Decimal("1.71"), 2)
    assert (trade.entry_time, trade.exit_time) == (at(1), at(5))
    assert (m.state, m.qty, m.seen("U5-2")) == (FLAT, 0, False)


def test_an_unowned_close_of_part_keeps_the_rest_open() -> None:
    m = held(3)
    assert m.close_by_unowned(flattener(-1)) is None
    assert (m.state, m.qty) == (OPEN, 2)


def test_an_unowned_close_at_the_instant_the_position_opened_is_accepted() -> None:
    m = held(1, minute=5)
    assert m.close_by_unowned(flattener(-1, minute=5)) is not None


@pytest.mark.parametrize(
    ("why", "position", "unowned"),
    [
        ("it executed before the position opened", 1, flattener(-1, minute=0)),
        ("it adds to the position", 2, flattener(1)),
        ("it is larger than the position", 2, flattener(-3)),
        ("it is of another symbol", 1, flattener(-1, symbol="ES")),
        ("nothing is held", 0, flattener(-1)),
    ],
)
def test_an_unowned_close_that_cannot_have_closed_this_position_is_refused(why: str, position: int, unowned: Fill) -> None:
    m = held(position, minute=1) if position else machine()
    with pytest.raises(InvalidTransition, match=r"^position: trigger 'unowned_close' is not allowed in state (OPEN|FLAT)$"):
        m.close_by_unowned(unowned)
    assert m.qty == position, why


def test_an_unowned_close_is_refused_while_an_order_of_the_position_is_live() -> None:
    m = held(2)
    m.submit_exit(order(-1, "exit"))
    with pytest.raises(InvalidTransition, match="'unowned_close' is not allowed in state EXITING"):
        m.close_by_unowned(flattener(-1))
    assert m.qty == 2


# terminal reports ---------------------------------------------------------------------------------


def test_a_second_terminal_report_counting_more_fills_waits_for_them() -> None:
    """Entry for 3: a fill of 1, CANCELLED saying 1 filled (ended), then CANCELLED again saying 2:
    the filled count never goes down, so the order waits for the second fill."""
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    m.request_cancel(entry.client_order_id)
    m.on_status(status(entry, "CANCELLED", filled=1))
    assert (m.state, m.live_orders()) == (OPEN, ())
    m.on_status(status(entry, "CANCELLED", filled=2))
    assert m.live_orders() == (entry.client_order_id,)
    m.on_status(status(entry, "CANCELLED", filled=1))  # a lower count never lowers it
    assert m.live_orders() == (entry.client_order_id,)
    assert m.on_fill(fill(entry, 1)) is None
    assert (m.state, m.qty, m.live_orders()) == (OPEN, 2, ())
