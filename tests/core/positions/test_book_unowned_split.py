"""How the book shares one flattener execution (an unowned close) among the positions it closed:
each part keeps the execution's side, the commission is shared by contracts (rounded half-even
to the cent, the rest taking exactly what is left), and only a position the execution can have
closed is closed by it.

Figures in integer ticks and cents; MES ticks are worth $1.25, every entry fill costs 0.57.
"""

from __future__ import annotations

from decimal import Decimal

from statebot import Fill, PositionBook
from statebot.core.fsm.position import PositionMachine
from tests.positions_helpers import at, fill, order


def held(book: PositionBook, strategy: str, qty: int, ticks: int = 20000, minute: int = 1) -> PositionMachine:
    m = book.machine(strategy, "MES")
    entry = order(qty, strategy=strategy)
    m.submit_entry(entry)
    book.apply([fill(entry, qty, ticks=ticks, minute=minute)])
    return m


def unowned(qty: int, exec_id: str, commission: str = "0", ticks: int = 20010, minute: int = 5) -> Fill:
    return Fill(exec_id=exec_id, order_id="r1-flatten-1", strategy="", symbol="MES", qty=qty, price_ticks=ticks,
                commission=Decimal(commission), at=at(minute))


def test_a_sale_split_across_two_longs_closes_each_with_its_contracts_and_its_share() -> None:
    """a long 2, b long 3, both at 20000; the flattener sold 5 at 20010 for 2.85 (0.57 a contract).

    a: 10 ticks x 2 x 1.25 = 25.00, commission 0.57 + 2/5 of 2.85 = 1.14 -> 1.71;
    b: 10 ticks x 3 x 1.25 = 37.50, commission 0.57 + the rest, 1.71 -> 2.28.
    """
    book = PositionBook()
    a, b = held(book, "a", 2), held(book, "b", 3)
    applied = book.apply([unowned(-5, "U1", "2.85")])
    assert [(t.strategy, t.qty, t.gross_pnl, t.commission) for t in applied.closed] == [
        ("a", 2, Decimal("25.00"), Decimal("1.71")),
        ("b", 3, Decimal("37.50"), Decimal("2.28")),
    ]
    assert (a.qty, b.qty, book.unowned_fills()) == (0, 0, ())


def test_a_purchase_split_across_two_shorts_closes_each_with_its_contracts() -> None:
    """a short 2, b short 1, both at 20010; the flattener bought 3 at 20000 for 1.71."""
    book = PositionBook()
    a, b = held(book, "a", -2, ticks=20010), held(book, "b", -1, ticks=20010)
    applied = book.apply([unowned(3, "U1", "1.71", ticks=20000)])
    assert [(t.strategy, t.qty, t.gross_pnl, t.commission) for t in applied.closed] == [
        ("a", -2, Decimal("25.00"), Decimal("1.71")),
        ("b", -1, Decimal("12.50"), Decimal("1.14")),
    ]
    assert (a.qty, b.qty) == (0, 0)


def test_the_part_of_a_sale_left_waiting_keeps_the_sale_s_side_and_the_rest_of_the_commission() -> None:
    """Long 2; the flattener sold 5: 3 wait for a later long, selling, with 3/5 of 1.00 = 0.60."""
    book = PositionBook()
    held(book, "a", 2)
    applied = book.apply([unowned(-5, "U1", "1.00")])
    assert [(t.qty, t.commission) for t in applied.closed] == [(2, Decimal("0.57") + Decimal("0.40"))]
    (rest,) = book.unowned_fills()
    assert (rest.qty, rest.commission, rest.price_ticks, rest.at) == (-3, Decimal("0.60"), 20010, at(5))
    assert type(rest.qty) is int


def test_a_shared_commission_is_rounded_half_even_to_the_cent_and_nothing_is_lost() -> None:
    """Long 1; sold 2 for 0.05: half is 0.025, 0.02 to the trade (half-even), 0.03 waits.
    Sold 2 for 0.15: half is 0.075, 0.08 to the trade, 0.07 waits."""
    for commission, taken, left in (("0.05", "0.02", "0.03"), ("0.15", "0.08", "0.07")):
        book = PositionBook()
        held(book, "a", 1)
        applied = book.apply([unowned(-2, "U1", commission)])
        assert [t.commission - Decimal("0.57") for t in applied.closed] == [Decimal(taken)]
        assert [f.commission for f in book.unowned_fills()] == [Decimal(left)]
        assert str(book.unowned_fills()[0].commission) == left


def test_an_unowned_close_in_the_held_direction_closes_nothing() -> None:
    book = PositionBook()
    m = held(book, "a", 1)
    applied = book.apply([unowned(1, "U1")])
    assert applied.closed == () and m.qty == 1 and len(book.unowned_fills()) == 1


def test_a_flat_position_with_nothing_live_is_not_closed() -> None:
    book = PositionBook()
    m = book.machine("a", "MES")
    applied = book.apply([unowned(-1, "U1")])
    assert applied.closed == () and (m.qty, m.state) == (0, "FLAT") and len(book.unowned_fills()) == 1


def test_a_position_with_a_live_order_is_not_closed_by_an_unowned_close() -> None:
    """Its own exit is working: the venue's report of that exit, not the flattener's, closes it."""
    book = PositionBook()
    m = held(book, "a", 1)
    m.submit_exit(order(-1, "exit", strategy="a"))
    applied = book.apply([unowned(-1, "U1")])
    assert applied.closed == () and m.qty == 1 and len(book.unowned_fills()) == 1


def test_a_position_opened_at_the_execution_s_instant_is_closed_by_it() -> None:
    book = PositionBook()
    m = held(book, "a", 1, minute=5)
    applied = book.apply([unowned(-1, "U1", minute=5)])
    assert [t.qty for t in applied.closed] == [1] and m.qty == 0


def test_an_older_waiting_close_does_not_stop_the_newer_ones_from_closing_a_position() -> None:
    """Kept, in report order: old, new, old, new (old: before the position opened at minute 3)."""
    book = PositionBook()
    book.apply([unowned(-1, "O1", minute=0), unowned(-1, "N1", minute=5),
                unowned(-1, "O2", minute=1), unowned(-1, "N2", minute=6)])
    m = book.machine("a", "MES")
    entry = order(2, strategy="a")
    m.submit_entry(entry)
    applied = book.apply([fill(entry, 2, minute=3)])
    assert [t.qty for t in applied.closed] == [2] and m.qty == 0
    assert [f.exec_id for f in book.unowned_fills()] == ["O1", "O2"]


def test_a_close_that_ends_partly_used_keeps_closing_positions_from_the_same_execution() -> None:
    """Sold 3 while a (long 1) was held; b (long 2) opens later: the same execution closes it."""
    book = PositionBook()
    held(book, "a", 1)
    book.apply([unowned(-3, "U1", "0.03")])
    b = held(book, "b", 2, minute=2)
    assert b.qty == 0 and book.unowned_fills() == ()
