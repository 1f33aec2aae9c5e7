"""The book's batches and gates: a duplicate never ends a batch, a closing fill reports its trade,
an exit whose cancel cannot reach the venue is recorded as refused, the unowned ids stay bounded."""

from __future__ import annotations

from decimal import Decimal

from statebot import FaultPlan, Fill, KillSwitch, PositionBook, SimBroker, send_entry, send_exit
from statebot.core.fsm.position import EXEC_ID_MEMORY
from tests.positions_helpers import T0, at, bar, fill, order


def unowned(exec_id: str, qty: int = -1) -> Fill:
    return Fill(exec_id=exec_id, order_id="r1-flatten-1", strategy="", symbol="MES", qty=qty, price_ticks=20010,
                commission=Decimal("0.57"), at=at(5))


def test_a_duplicate_in_a_batch_does_not_stop_the_events_after_it() -> None:
    book = PositionBook()
    m = book.machine("s1", "MES")
    first, second = order(1), order(1, strategy="s2")
    m.submit_entry(first)
    book.machine("s2", "MES").submit_entry(second)
    repeated = fill(first, 1, exec_id="E1")
    book.apply([repeated])
    applied = book.apply([unowned("U1"), unowned("U1"), repeated, fill(second, 1, exec_id="E2")])
    assert applied.duplicates == (unowned("U1"), repeated)
    assert book.machine("s2", "MES").qty == 1


def test_a_fill_that_closes_a_position_reports_the_closed_trade() -> None:
    book = PositionBook()
    m = book.machine("s1", "MES")
    entry, exit_ = order(1), order(-1, "exit")
    m.submit_entry(entry)
    book.apply([fill(entry, 1, ticks=20000, exec_id="E1")])
    m.submit_exit(exit_)
    applied = book.apply([fill(exit_, -1, ticks=20008, exec_id="E2", minute=2)])
    assert [(t.strategy, t.qty, t.gross_pnl) for t in applied.closed] == [("s1", 1, Decimal("10.00"))]


def test_an_exit_whose_cancel_cannot_reach_the_venue_is_refused_and_not_sent() -> None:
    book = PositionBook()
    sim = SimBroker(start=T0, faults=FaultPlan(partial_p=1.0), seed=3)
    send_entry(book, sim, order(4), at=at(), killswitch=KillSwitch(), session_allows=True)
    sim.on_bar(bar(1))
    book.apply(sim.drain())
    m = book.machine("s1", "MES")
    held = m.qty
    sim.disconnect()
    exit_ = order(-held, "exit")
    assert send_exit(book, sim, exit_, at=at(1)) is False
    assert exit_.client_order_id not in m.live_orders()
    sim.reconnect()
    assert m.qty == held and [o.purpose for o in sim.open_orders()] == ["entry"]


def test_the_unowned_execution_ids_kept_are_the_latest_ones_up_to_the_memory() -> None:
    book = PositionBook()
    book.apply([unowned(f"U{n}", qty=-1) for n in range(EXEC_ID_MEMORY + 1)])
    kept = book.unowned_exec_ids()
    assert len(kept) == EXEC_ID_MEMORY and kept[0] == "U1" and kept[-1] == f"U{EXEC_ID_MEMORY}"
    assert book.apply([unowned("U0")]).duplicates == ()
