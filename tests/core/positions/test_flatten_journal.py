"""What one flatten attempt journals and returns: each cancel, ended order, closing order and refusal, exactly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from statebot import AdapterUnavailable, ConfigError, OrderRequest, PositionBook, SimBroker, flatten_positions
from tests.positions_helpers import T0, bar, entered, order


class Journal:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, type: str, payload: Any) -> None:
        self.events.append((str(type), dict(payload)))


class SubmitDown:
    """A venue that answers reads and cancels but cannot take a new order."""

    def __init__(self, sim: SimBroker) -> None:
        self.sim = sim

    def submit(self, order: OrderRequest) -> None:
        raise AdapterUnavailable("gateway down")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sim, name)


def long_two() -> tuple[SimBroker, PositionBook]:
    sim, book, _ = entered(2)
    return sim, book


def test_an_attempt_journals_the_cancel_the_ended_exit_and_the_closing_order_with_their_fields() -> None:
    sim, book = long_two()
    entry = order(1, strategy="s2", oid="entry-s2")
    book.machine("s2", "MES").submit_entry(entry)
    sim.submit(entry)
    book.machine("s1", "MES").submit_exit(order(-2, "exit", oid="stale-exit"))  # the venue never got it
    journal = Journal()
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__, book=book, at=T0, record=journal)
    assert journal.events == [
        ("ORDER_CANCEL_REQUESTED", {"order_id": "entry-s2"}),
        ("ORDER_ENDED", {"order_id": "stale-exit", "reason": "not working at the venue"}),
        ("ORDER_SUBMITTED", {"order_id": "f1", "strategy": "s1", "symbol": "MES", "side": "SELL", "qty": -2,
                             "purpose": "flatten"}),
    ]
    assert attempt.flat is False and attempt.holding == {"MES": 2}
    assert attempt.cancelled == ("entry-s2",) and attempt.waiting == ()
    assert [(o.client_order_id, o.strategy, o.qty) for o in attempt.submitted] == [("f1", "s1", -2)]
    assert book.machine("s1", "MES").live_orders() == ("f1",)


def test_a_short_is_closed_by_a_buy_journalled_as_the_flatteners_own_order() -> None:
    sim = SimBroker(start=T0)
    sim.submit(order(-3, strategy="outsider"))
    sim.on_bar(bar(1))
    journal = Journal()
    flatten_positions(sim, new_id=iter(["f1"]).__next__, record=journal)
    assert journal.events == [
        ("ORDER_SUBMITTED", {"order_id": "f1", "strategy": "", "symbol": "MES", "side": "BUY", "qty": 3,
                             "purpose": "flatten"}),
    ]


def test_a_closing_order_the_adapter_cannot_send_is_journalled_as_rejected_and_ends_at_the_machine() -> None:
    sim, book = long_two()
    journal = Journal()
    with pytest.raises(AdapterUnavailable):
        flatten_positions(SubmitDown(sim), new_id=iter(["f1"]).__next__, book=book, at=T0, record=journal)
    assert journal.events[-1] == ("ORDER_REJECTED", {"order_id": "f1", "reason": "adapter unavailable",
                                                     "filled": 0, "counted": False})
    m = book.machine("s1", "MES")
    assert m.live_orders() == () and m.qty == 2


def test_a_symbol_with_a_working_order_after_the_cancels_waits_and_the_others_are_closed() -> None:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1))
    for symbol in ("MES", "MNQ"):
        sim.submit(order(1, strategy="outsider", symbol=symbol))
    sim.on_bar(bar(0))
    sim.on_bar(bar(0, symbol="MNQ"))
    attempt = flatten_positions(sim, new_id=iter(["f1", "f2"]).__next__, skip={"MES"})
    assert attempt.waiting == ("MES",)
    assert [(o.symbol, o.qty) for o in attempt.submitted] == [("MNQ", -1)]


def test_an_attempt_outside_its_symbols_touches_nothing() -> None:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1))
    sim.submit(order(1, strategy="outsider"))
    sim.on_bar(bar(0))
    sim.submit(order(1, strategy="outsider", oid="working"))
    journal = Journal()
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__, symbols={"MNQ"}, record=journal)
    assert attempt.flat and attempt.holding == {} and attempt.cancelled == () and journal.events == []
    assert [o.client_order_id for o in sim.open_orders()] == ["working"]


def test_only_the_symbols_in_scope_are_cancelled_and_closed_whatever_the_venue_lists_first() -> None:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1))
    for symbol in ("MNQ", "MES"):
        sim.submit(order(1, strategy="outsider", symbol=symbol))
        sim.on_bar(bar(0, symbol=symbol))
    sim.submit(order(1, strategy="outsider", symbol="MNQ", oid="mnq-working"))
    sim.submit(order(1, strategy="outsider", oid="mes-working"))
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__, symbols={"MES"})
    assert attempt.cancelled == ("mes-working",) and attempt.holding == {"MES": 1}
    assert [(o.symbol, o.qty) for o in attempt.submitted] == [("MES", -1)]
    assert [o.client_order_id for o in sim.open_orders() if o.symbol == "MNQ"] == ["mnq-working"]


def test_a_closing_order_that_still_reduces_the_position_is_kept_and_the_entry_behind_it_cancelled() -> None:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1), latency_bars=5)
    sim.submit(order(2, strategy="outsider"))
    for i in range(7):
        sim.on_bar(bar(i))
    sim.submit(order(-2, "flatten", oid="closing", strategy=""))
    sim.submit(order(1, strategy="outsider", oid="entry"))
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__)
    assert attempt.cancelled == ("entry",)
    assert [o.client_order_id for o in sim.open_orders()] == ["closing"]
    assert attempt.waiting == ("MES",) and attempt.submitted == ()


def test_a_cancelled_entry_is_marked_at_its_machine_as_being_cancelled() -> None:
    sim, book = long_two()
    entry = order(1, strategy="s2", oid="entry-s2")
    m = book.machine("s2", "MES")
    m.submit_entry(entry)
    sim.submit(entry)
    assert not m.cancel_requested("entry-s2")
    flatten_positions(sim, new_id=iter(["f1"]).__next__, book=book, at=T0)
    assert m.cancel_requested("entry-s2")


def test_an_unowned_close_with_a_book_creates_no_machine_for_the_flattener() -> None:
    sim, book = long_two()
    sim.submit(order(1, strategy="outsider"))
    sim.on_bar(bar(1))
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__, book=book, at=T0)
    assert [(o.strategy, o.qty) for o in attempt.submitted] == [("", -3)]
    assert [m.strategy for m in book.machines()] == ["s1"]


def test_a_machine_refusing_its_closing_order_leaves_the_venues_contracts_to_an_unowned_order() -> None:
    sim, book = long_two()
    m = book.machine("s1", "MES")

    def refuse(order: OrderRequest) -> None:
        raise ValueError("refused")

    m.check_exit = refuse  # type: ignore[method-assign]
    journal = Journal()
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__, book=book, at=T0, record=journal)
    assert [(o.client_order_id, o.strategy, o.qty) for o in attempt.submitted] == [("f1", "", -2)]
    assert journal.events[-1][1]["strategy"] == "" and m.live_orders() == ()


def test_an_unowned_closing_order_the_adapter_cannot_send_raises_and_journals_no_rejection() -> None:
    sim = SimBroker(start=T0)
    sim.submit(order(-3, strategy="outsider"))
    sim.on_bar(bar(1))
    journal = Journal()
    with pytest.raises(AdapterUnavailable):
        flatten_positions(SubmitDown(sim), new_id=iter(["f1"]).__next__, book=PositionBook(), at=T0, record=journal)
    assert [t for t, _ in journal.events] == ["ORDER_SUBMITTED"]


def test_a_one_lot_short_is_closed_by_a_buy() -> None:
    sim = SimBroker(start=T0)
    sim.submit(order(-1, strategy="outsider"))
    sim.on_bar(bar(1))
    journal = Journal()
    flatten_positions(sim, new_id=iter(["f1"]).__next__, record=journal)
    assert [(p["side"], p["qty"]) for _, p in journal.events] == [("BUY", 1)]


def test_a_symbol_in_scope_whose_closing_order_still_works_waits() -> None:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1), latency_bars=5)
    sim.submit(order(2, strategy="outsider"))
    for i in range(7):
        sim.on_bar(bar(i))
    sim.submit(order(-2, "flatten", oid="closing", strategy=""))
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__, symbols={"MES"})
    assert attempt.waiting == ("MES",) and attempt.submitted == () and attempt.cancelled == ()


def test_without_the_time_a_book_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError, match=r"^flatten_positions with a book needs at= \(the time of refused orders\)$"):
        flatten_positions(SimBroker(start=T0), new_id=iter(["f"]).__next__, book=PositionBook())
