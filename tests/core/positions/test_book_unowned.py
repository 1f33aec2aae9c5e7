"""The book's accounting of the flattener's own (unowned) closing executions, its checkpoint,
and its bookkeeping of machines and order owners.

Figures in integer ticks and cents; MES ticks are worth $1.25.
"""

from __future__ import annotations

from decimal import Decimal

from statebot import Fill, OverFill, PositionBook
from statebot.core.fsm.position import PositionMachine
from statebot.core.positions.book import OWNER_CACHE_SIZE, UNOWNED_FILL_MEMORY
from tests.positions_helpers import at, fill, order


def held(book: PositionBook, strategy: str, qty: int, ticks: int, minute: int = 1) -> PositionMachine:
    m = book.machine(strategy, "MES")
    entry = order(qty, strategy=strategy)
    m.submit_entry(entry)
    book.apply([fill(entry, qty, ticks=ticks, minute=minute)])
    return m


def unowned(qty: int, ticks: int, commission: str, exec_id: str, minute: int = 5, oid: str = "r1-flatten-1") -> Fill:
    return Fill(exec_id=exec_id, order_id=oid, strategy="", symbol="MES", qty=qty, price_ticks=ticks,
                commission=Decimal(commission), at=at(minute))


def test_one_unowned_close_of_two_machines_splits_the_contracts_and_the_commission() -> None:
    """a long 1 @ 20000, b long 2 @ 20004; the flattener sold 3 @ 20010 for 1.00.

    a: 10 ticks x 1 x 1.25 = 12.50, commission 0.57 entry + 1.00 x 1/3 = 0.33 (half-even) = 0.90;
    b: 6 ticks x 2 x 1.25 = 15.00, commission 0.57 entry + the rest, 0.67 (nothing lost to rounding) = 1.24.
    """
    book = PositionBook()
    a, b = held(book, "a", 1, 20000), held(book, "b", 2, 20004)
    applied = book.apply([unowned(-3, 20010, "1.00", "U1")])
    assert [(t.strategy, t.qty, t.gross_pnl, t.commission, t.avg_exit_ticks) for t in applied.closed] == [
        ("a", 1, Decimal("12.50"), Decimal("0.90"), Decimal(20010)),
        ("b", 2, Decimal("15.00"), Decimal("1.24"), Decimal(20010)),
    ]
    assert sum(t.commission for t in applied.closed) == Decimal("0.57") * 2 + Decimal("1.00")
    assert (a.qty, b.qty, a.state, b.state) == (0, 0, "FLAT", "FLAT")
    assert applied.unrouted == (unowned(-3, 20010, "1.00", "U1"),)
    assert book.unowned_fills() == ()


def test_an_unowned_close_reported_before_the_fill_it_closed_waits_for_that_fill() -> None:
    """The venue closed long 2 at 20006 before the entry's fill report reached the book."""
    book = PositionBook()
    m = book.machine("a", "MES")
    entry = order(2, strategy="a")
    m.submit_entry(entry)
    early = book.apply([unowned(-2, 20006, "1.14", "U1", minute=5)])
    assert early.closed == () and book.unowned_fills() == (unowned(-2, 20006, "1.14", "U1", minute=5),)
    late = book.apply([fill(entry, 2, ticks=20000, minute=3, commission="1.14")])
    assert [(t.qty, t.gross_pnl, t.commission, t.fills) for t in late.closed] == [(2, Decimal("15.00"), Decimal("2.28"), 2)]
    assert (m.qty, m.state, book.unowned_fills()) == (0, "FLAT", ())


def test_an_unowned_close_older_than_the_position_does_not_close_it() -> None:
    book = PositionBook()
    book.apply([unowned(-1, 20010, "0.57", "U1", minute=0)])
    m = held(book, "a", 1, 20000, minute=2)
    assert m.qty == 1 and len(book.unowned_fills()) == 1


def test_part_of_an_unowned_close_stays_kept_for_a_later_position() -> None:
    """Sold 3 at the venue; only 1 was held when it was reported: 2 wait, with 2/3 of the commission."""
    book = PositionBook()
    held(book, "a", 1, 20000)
    applied = book.apply([unowned(-3, 20010, "1.71", "U1")])
    assert [(t.qty, t.commission) for t in applied.closed] == [(1, Decimal("0.57") + Decimal("0.57"))]
    (rest,) = book.unowned_fills()
    assert (rest.qty, rest.commission, rest.exec_id) == (-2, Decimal("1.14"), "U1")


def test_a_repeated_unowned_report_is_a_duplicate_and_a_person_s_trade_is_not_taken() -> None:
    book = PositionBook()
    first = book.apply([unowned(-1, 20010, "0.57", "U1")])
    again = book.apply([unowned(-1, 20010, "0.57", "U1")])
    assert first.duplicates == () and again.duplicates == (unowned(-1, 20010, "0.57", "U1"),) and again.unrouted == ()
    by_hand = book.apply([unowned(-1, 20010, "0.57", "U2", oid="tws-123"),
                          Fill(exec_id="U3", order_id="r1-flatten-2", strategy="s", symbol="MES", qty=-1, price_ticks=1,
                               commission=Decimal(0), at=at(5))])
    assert len(by_hand.unrouted) == 2 and book.unowned_exec_ids() == ("U1",)


def test_only_the_latest_unowned_closes_per_symbol_are_kept() -> None:
    book = PositionBook()
    book.apply([unowned(-1, 20000 + n, "0", f"U{n}") for n in range(UNOWNED_FILL_MEMORY + 2)])
    kept = book.unowned_fills()
    assert [f.exec_id for f in kept] == [f"U{n}" for n in range(2, UNOWNED_FILL_MEMORY + 2)]


def test_the_unowned_closes_survive_a_checkpoint() -> None:
    book = PositionBook()
    book.apply([unowned(-2, 20010, "1.14", "U1"), unowned(1, 19990, "0.57", "U2")])
    again = PositionBook()
    again.restore_unowned(book.unowned_fills(), book.unowned_exec_ids())
    assert again.unowned_fills() == book.unowned_fills() and again.unowned_exec_ids() == ("U1", "U2")
    assert again.apply([unowned(-2, 20010, "1.14", "U1")]).duplicates != ()
    m = held(again, "a", 2, 20000)
    assert m.qty == 0 and [f.exec_id for f in again.unowned_fills()] == ["U2"]


def test_a_fill_that_closes_and_raises_still_reports_the_trade_it_closed() -> None:
    """Long 1, an exit for 1 filled for 2: the trade is closed and the over-fill raised."""
    book = PositionBook()
    m = held(book, "a", 1, 20000)
    exit_ = order(-1, "exit", strategy="a")
    m.submit_exit(exit_)
    applied = book.apply([fill(exit_, -2, ticks=20002)])
    assert [t.qty for t in applied.closed] == [1]
    assert [type(a) for a in applied.anomalies] == [OverFill] and m.qty == -1


def test_restoring_a_machine_replaces_it_and_its_order_routes() -> None:
    book = PositionBook()
    old = held(book, "a", 1, 20000)
    exit_ = order(-1, "exit", strategy="a")
    old.submit_exit(exit_)
    assert book.owner(exit_.client_order_id) is old
    again = PositionMachine.from_dict(old.to_dict(), book.instrument("MES"))
    book.restore(again)
    assert book.machine("a", "MES") is again and book.owner(exit_.client_order_id) is again
    assert book.machines() == (again,)


def test_the_owner_cache_stays_bounded_and_still_finds_every_owner() -> None:
    book = PositionBook()
    machines = [book.machine(f"s{n}", "MES") for n in range(OWNER_CACHE_SIZE + 5)]
    orders = []
    for m in machines:
        o = order(1, strategy=m.strategy)
        m.submit_entry(o)
        orders.append(o)
    assert all(book.owner(o.client_order_id) is m for o, m in zip(orders, machines))
    assert book.owner("nobody") is None
    assert len(book._owner) <= OWNER_CACHE_SIZE


def test_expected_positions_net_every_strategy_and_leave_zero_out() -> None:
    book = PositionBook()
    held(book, "a", 2, 20000)
    held(book, "b", -2, 20000)
    es = book.machine("a", "ES")
    entry = order(-1, strategy="a", symbol="ES")
    es.submit_entry(entry)
    book.apply([fill(entry, -1)])
    assert book.expected_positions() == {"ES": -1}
