"""The book's gates for a bracket and an exit, the instruments a book is given, and ``apply_one``:
one report applied as ``apply`` applies it, with the machine that owns its order."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from statebot import (
    BracketOrder,
    BrokerEvent,
    EntryRefused,
    InstrumentSpec,
    KillSwitch,
    PositionBook,
    SimBroker,
    send_entry,
    send_exit,
)
from statebot.core.orders import OrderRequest
from statebot.core.positions.book import Applied, send_bracket
from tests.positions_helpers import T0, at, fill, order, status


def bracket(strategy: str = "s1") -> BracketOrder:
    return BracketOrder.around(order(1, strategy=strategy), stop_ticks=19990, target_ticks=20020)


def test_a_bracket_is_recorded_with_its_protectors_and_handed_to_the_venue_as_one() -> None:
    book, sim = PositionBook(), SimBroker(start=T0)
    b = bracket()
    assert send_bracket(book, sim, b, at=at(), killswitch=KillSwitch(), session_allows=True) is True
    m = book.machine("s1", "MES")
    assert (m.state, sorted(m.live_orders())) == ("ENTERING", sorted(o.client_order_id for o in b.orders))
    assert [o.client_order_id for o in sim.open_orders()][:1] == [b.entry.client_order_id]
    assert all(book.owner(o.client_order_id) is m for o in b.orders)


def test_a_bracket_to_an_unreachable_venue_is_recorded_as_refused_order_by_order() -> None:
    book, sim = PositionBook(), SimBroker(start=T0)
    sim.disconnect()
    assert send_bracket(book, sim, bracket(), at=at(), killswitch=KillSwitch(), session_allows=True) is False
    m = book.machine("s1", "MES")
    assert (m.state, m.live_orders(), m.may_enter()) == ("FLAT", (), True)
    sim.reconnect()
    assert sim.open_orders() == ()


@pytest.mark.parametrize("why, tripped, session_allows", [("TRIPPED", True, True), ("session", False, False)])
def test_a_bracket_goes_through_the_entry_gate(why: str, tripped: bool, session_allows: bool) -> None:
    book, sim, ks = PositionBook(), SimBroker(start=T0), KillSwitch()
    if tripped:
        ks.trip("manual", at())
    with pytest.raises(EntryRefused, match=why):
        send_bracket(book, sim, bracket(), at=at(), killswitch=ks, session_allows=session_allows)
    assert sim.open_orders() == () and book.machine("s1", "MES").live_orders() == ()


def test_a_bracket_is_refused_while_the_position_is_not_flat() -> None:
    book, sim = PositionBook(), SimBroker(start=T0)
    assert send_bracket(book, sim, bracket(), at=at(), killswitch=KillSwitch(), session_allows=True)
    with pytest.raises(EntryRefused, match="ENTERING"):
        send_bracket(book, sim, bracket(), at=at(), killswitch=KillSwitch(), session_allows=True)
    assert len(book.machine("s1", "MES").live_orders()) == 3


def test_an_entry_is_refused_while_a_flat_position_still_has_a_live_order() -> None:
    """The stop closed the position; the target's cancel is not confirmed yet: FLAT, one order live."""
    book, sim = PositionBook(), SimBroker(start=T0)
    b = bracket()
    m = book.machine("s1", "MES")
    m.submit_entry(b.entry)
    m.submit_protectors(b.protectors)
    book.apply([fill(b.entry, 1, minute=1), fill(b.stop, -1, ticks=19990, minute=2)])
    assert m.state == "FLAT" and m.live_orders() == (b.target.client_order_id,)  # type: ignore[union-attr]
    with pytest.raises(EntryRefused, match="live orders"):
        send_entry(book, sim, order(1), at=at(3), killswitch=KillSwitch(), session_allows=True)
    assert sim.open_orders() == ()


def test_an_exit_to_an_unreachable_venue_is_recorded_as_refused() -> None:
    book, sim = PositionBook(), SimBroker(start=T0)
    m = book.machine("s1", "MES")
    entry = order(2)
    m.submit_entry(entry)
    book.apply([fill(entry, 2)])
    sim.disconnect()
    exit_ = order(-2, "exit")
    assert send_exit(book, sim, exit_, at=at(2)) is False
    assert (m.state, m.qty, m.live_orders()) == ("OPEN", 2, ())


def test_a_book_converts_with_the_instruments_it_is_given() -> None:
    """A micro Dow (1 point ticks worth $0.50) the built-ins do not know."""
    mym = InstrumentSpec(symbol="MYM", tick_size=Decimal(1), tick_value=Decimal("0.50"), multiplier=Decimal("0.50"))
    book = PositionBook({"MYM": mym})
    assert book.instrument("MYM") is mym and book.machine("a", "MYM").instrument is mym
    m = book.machine("a", "MYM")
    entry, exit_ = order(1, strategy="a", symbol="MYM"), order(-1, "exit", strategy="a", symbol="MYM")
    m.submit_entry(entry)
    book.apply([fill(entry, 1, ticks=40000)])
    m.submit_exit(exit_)
    (trade,) = book.apply([fill(exit_, -1, ticks=40010, minute=2)]).closed
    assert trade.gross_pnl == Decimal("5.00")


# apply_one: each kind of report, on twin books, against apply

def _opening() -> tuple[PositionBook, BrokerEvent]:
    book = PositionBook()
    e = order(1, oid="e1")
    book.machine("s1", "MES").submit_entry(e)
    return book, fill(e, 1, exec_id="X1")


def _closing() -> tuple[PositionBook, BrokerEvent]:
    book, opening = _opening()
    book.apply([opening])
    x = order(-1, "exit", oid="x1")
    book.machine("s1", "MES").submit_exit(x)
    return book, fill(x, -1, ticks=20004, exec_id="X2", minute=2)


def _duplicate() -> tuple[PositionBook, BrokerEvent]:
    book, opening = _opening()
    book.apply([opening])
    return book, opening


def _unrouted() -> tuple[PositionBook, BrokerEvent]:
    return PositionBook(), status(order(1, oid="elsewhere"), "ACCEPTED")


def _over_fill() -> tuple[PositionBook, BrokerEvent]:
    book, _ = _opening()
    return book, fill(OrderRequest(client_order_id="e1", strategy="s1", symbol="MES", qty=1), 3, exec_id="X1")


def _refused() -> tuple[PositionBook, BrokerEvent]:
    book, _ = _opening()
    book.machine("s1", "MES")._state = "OPEN"  # its state disagrees with its orders: a status is refused
    return book, status(order(1, oid="e1"), "CANCELLED")


def _counts(applied: Applied) -> tuple[int, int, int, int, int]:
    return (len(applied.closed), len(applied.duplicates), len(applied.unrouted), len(applied.anomalies),
            len(applied.errors))


@pytest.mark.parametrize("scenario, counts", [
    (_opening, (0, 0, 0, 0, 0)),
    (_closing, (1, 0, 0, 0, 0)),
    (_duplicate, (0, 1, 0, 0, 0)),
    (_unrouted, (0, 0, 1, 0, 0)),
    (_over_fill, (0, 0, 0, 1, 0)),
    (_refused, (0, 0, 0, 0, 1)),
])
def test_apply_one_reports_what_apply_reports_and_the_owning_machine(
        scenario: Callable[[], tuple[PositionBook, BrokerEvent]], counts: tuple[int, ...]) -> None:
    book, event = scenario()
    twin, same = scenario()
    applied, m = book.apply_one(event)
    assert _counts(applied) == _counts(twin.apply([same])) == counts
    assert all(isinstance(part, tuple) for part in
               (applied.closed, applied.duplicates, applied.unrouted, applied.anomalies, applied.errors))
    assert m is (None if scenario is _unrouted else book.machine("s1", "MES"))
    assert [t.gross_pnl for t in applied.closed] == ([Decimal("5.00")] if scenario is _closing else [])
    assert applied.unrouted == ((event,) if scenario is _unrouted else ())
    assert applied.duplicates == ((event,) if scenario is _duplicate else ())
    assert [e for e, _ in applied.errors] == ([event] if scenario is _refused else [])
    assert [type(a).__name__ for a in applied.anomalies] == (["OverFill"] if scenario is _over_fill else [])


def test_the_owner_cache_never_holds_more_than_its_size() -> None:
    from statebot.core.positions.book import OWNER_CACHE_SIZE

    book = PositionBook()
    sizes = []
    for n in range(OWNER_CACHE_SIZE + 2):
        m = book.machine(f"s{n}", "MES")
        o = order(1, strategy=m.strategy)
        m.submit_entry(o)
        assert book.owner(o.client_order_id) is m
        sizes.append(len(book._owner))
    assert max(sizes) == OWNER_CACHE_SIZE
