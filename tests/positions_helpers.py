"""Small builders for order, status and fill values used by the position tests."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from statebot import Bar, Fill, OrderRequest, OrderStatus, PositionBook, PositionMachine, SimBroker, instrument

T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
_ids = itertools.count(1)


def at(minutes: int = 0) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def machine(strategy: str = "s1", symbol: str = "MES") -> PositionMachine:
    return PositionMachine(strategy, instrument(symbol))


def order(qty: int, purpose: str = "entry", oid: str | None = None, strategy: str = "s1", symbol: str = "MES") -> OrderRequest:
    return OrderRequest(client_order_id=oid or f"o{next(_ids)}", strategy=strategy, symbol=symbol, qty=qty,
                        purpose=purpose)


def fill(o: OrderRequest, qty: int, ticks: int = 20000, exec_id: str | None = None, minute: int = 1,
         commission: str = "0.57") -> Fill:
    return Fill(exec_id=exec_id or f"x{next(_ids)}", order_id=o.client_order_id, strategy=o.strategy,
                symbol=o.symbol, qty=qty, price_ticks=ticks, commission=Decimal(commission), at=at(minute))


def held(qty: int, ticks: int = 20000, minute: int = 1) -> PositionMachine:
    """A position machine of s1/MES whose market entry of ``qty`` (signed) filled in full at ``ticks``."""
    m = machine()
    entry = order(qty)
    m.submit_entry(entry)
    m.on_fill(fill(entry, qty, ticks=ticks, minute=minute))
    return m


def status(o: OrderRequest, name: str, filled: int = 0, minute: int = 1, reason: str = "") -> OrderStatus:
    return OrderStatus(order_id=o.client_order_id, status=name, filled=filled, remaining=abs(o.qty) - filled,
                       at=at(minute), reason=reason)


def bar(i: int, o: float = 5000.0, h: float = 5002.0, low: float = 4998.0, c: float = 5001.0, symbol: str = "MES") -> Bar:
    """The bar ending ``i`` minutes after T0."""
    return Bar(symbol=symbol, end=T0 + dt.timedelta(minutes=i), open=o, high=h, low=low, close=c)


def entered(qty: int) -> tuple[SimBroker, PositionBook, PositionMachine]:
    """A book whose s1/MES entry for ``qty`` filled at a simulated venue on its first bar."""
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1))
    book = PositionBook()
    m = book.machine("s1", "MES")
    entry = order(qty)
    m.submit_entry(entry)
    sim.submit(entry)
    sim.on_bar(bar(0))
    book.apply(sim.drain())
    return sim, book, m
