"""A minimal engine for the protection tests: sends a bracket to a SimBroker, applies the venue's reports to
the book and the desk, executes the desk's commands, and logs what the runner logs, so a fold can be compared."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from statebot import SimBroker
from statebot.core.effects import (
    FILL,
    ORDER_CANCEL_REQUESTED,
    ORDER_CANCELLED,
    ORDER_REJECTED,
    ORDER_SUBMITTED,
    PROTECTOR_TRANSITION,
)
from statebot.core.engine.fold import GENESIS, BotState, Fold
from statebot.core.engine.protection import CANCEL, SEND, TRIP, Changes, ProtectionDesk, order_payload
from statebot.core.fsm.killswitch import KillSwitch
from statebot.core.learning.loop import LearningLoop
from statebot.core.orders import CANCELLED, PROTECT, REJECTED, BracketOrder, Fill, OrderRequest, OrderStatus
from statebot.core.positions.book import PositionBook, send_bracket


@attrs.frozen
class Event:
    seq: int
    ts: dt.datetime
    type: str
    payload: Mapping[str, Any]
    hash: str = GENESIS


class Desk:
    """The book, the desk and the log of one test, against ``sim``."""

    def __init__(self, sim: SimBroker, on_lost: str = "trip") -> None:
        self.sim = sim
        self.state = BotState(book=PositionBook(), killswitch=KillSwitch(max_consecutive_rejects=None),
                              learning=LearningLoop())
        ids = itertools.count(1)
        self.desk = self.state.protection
        self.desk.on_lost = on_lost
        self.desk.new_id = lambda: f"again-{next(ids)}"
        self.book = self.state.book
        self.log: list[Event] = []
        self.trips: list[str] = []

    def record(self, type: str, payload: Mapping[str, Any]) -> None:
        assert self.sim.now is not None
        self.log.append(Event(seq=len(self.log) + 1, ts=self.sim.now, type=type, payload=dict(payload)))

    def submitted(self, order: OrderRequest) -> None:
        extra = order_payload(order, lambda t: t) if order.purpose == PROTECT else {}
        self.record(ORDER_SUBMITTED, {"order_id": order.client_order_id, "strategy": order.strategy,
                                      "symbol": order.symbol, "side": "BUY" if order.qty > 0 else "SELL",
                                      "qty": order.qty, "purpose": order.purpose, **extra})

    def send(self, bracket: BracketOrder) -> None:
        for order in bracket.orders:
            self.submitted(order)
        self.desk.sent(bracket.protectors)
        ks = KillSwitch(max_consecutive_rejects=None)
        assert send_bracket(self.book, self.sim, bracket, at=self.sim.now, killswitch=ks, session_allows=True)  # type: ignore[arg-type]

    def pump(self) -> None:
        for event in self.sim.drain():
            if isinstance(event, Fill):
                self.record(FILL, {"order_id": event.order_id, "exec_id": event.exec_id, "strategy": event.strategy,
                                   "symbol": event.symbol, "side": "BUY" if event.qty > 0 else "SELL", "qty": event.qty,
                                   "price": str(event.price_ticks * self.book.instrument(event.symbol).tick_size),
                                   "commission": str(event.commission), "at": event.at.isoformat(), "routed": True})
            elif event.status in (CANCELLED, REJECTED):
                self.record(ORDER_CANCELLED if event.status == CANCELLED else ORDER_REJECTED,
                            {"order_id": event.order_id, "reason": event.reason, "filled": event.filled,
                             "counted": False})
            self.book.apply((event,))
            self.execute(self.desk.on_event(event))

    def execute(self, changes: Changes) -> None:
        for t in changes.transitions:
            self.record(PROTECTOR_TRANSITION, t.payload())
        for c in changes.commands:
            if c.kind == CANCEL:
                self.record(ORDER_CANCEL_REQUESTED, {"order_id": c.order_id})
                owner = self.book.owner(c.order_id)
                if owner is not None:
                    owner.request_cancel(c.order_id)
                self.sim.cancel(c.order_id)
            elif c.kind == SEND:
                assert c.order is not None
                self.submitted(c.order)
                self.sim.submit(c.order)
            else:
                assert c.kind == TRIP
                self.trips.append(c.reason)

    def fold(self) -> BotState:
        state = BotState(book=PositionBook(), killswitch=KillSwitch(max_consecutive_rejects=None),
                         learning=LearningLoop())
        fold = Fold(state)
        for i, e in enumerate(self.log, start=1):
            fold.apply(e, i)
        assert fold.anomalies == [], fold.anomalies
        return state


def desk_only(book: PositionBook | None = None, on_lost: str = "trip") -> ProtectionDesk:
    ids = itertools.count(1)
    return ProtectionDesk(book or PositionBook(), on_lost=on_lost, new_id=lambda: f"again-{next(ids)}")




class Rig:
    """A book and its desk moved by hand-made venue reports, no venue in between: bracket ``e1`` of s1/MES
    (entry ``qty``, stop 10 ticks away from 20000, target 20 ticks the other way) recorded as the runner
    records it. ``report`` applies an event to the book, then to the desk, and returns the desk's changes."""

    def __init__(self, qty: int = 1, *, on_lost: str = "trip", target: bool = True,
                 new_id: Callable[[], str] | None | str = "again") -> None:
        self.book = PositionBook()
        ids = itertools.count(1)
        make = (lambda: f"again-{next(ids)}") if new_id == "again" else new_id
        self.desk = ProtectionDesk(self.book, on_lost=on_lost, new_id=make)  # type: ignore[arg-type]
        self.orders: dict[str, OrderRequest] = {}
        self._execs = itertools.count(1)
        self.bracket = self.send("e1", qty, target=target)

    def send(self, oid: str, qty: int, *, target: bool = True, strategy: str = "s1", symbol: str = "MES",
             kind: str = "MARKET") -> BracketOrder:
        side = 1 if qty > 0 else -1
        entry = OrderRequest(client_order_id=oid, strategy=strategy, symbol=symbol, qty=qty, kind=kind,
                             limit_ticks=20000 if kind == "LIMIT" else None)
        b = BracketOrder.around(entry, stop_ticks=20000 - 10 * side, target_ticks=20000 + 20 * side if target else None)
        m = self.book.machine(strategy, symbol)
        m.submit_entry(b.entry)
        m.submit_protectors(b.protectors)
        self.desk.sent(b.protectors)
        for order in b.orders:
            self.orders[order.client_order_id] = order
        return b

    def report(self, event: Fill | OrderStatus) -> Changes:
        self.book.apply((event,))
        return self.desk.on_event(event)

    def status(self, oid: str, name: str, filled: int = 0, reason: str = "") -> Changes:
        return self.report(OrderStatus(order_id=oid, status=name, filled=filled, remaining=0, at=T0, reason=reason))

    def fill(self, oid: str, qty: int, ticks: int = 20000) -> Changes:
        o = self.orders[oid]
        return self.report(Fill(exec_id=f"x{next(self._execs)}", order_id=oid, strategy=o.strategy, symbol=o.symbol,
                                qty=qty, price_ticks=ticks, commission=Decimal("0.5"), at=T0))

    def opened(self) -> Rig:
        """The entry filled in full, both protectors acknowledged."""
        self.fill("e1", self.bracket.entry.qty)
        for order in self.bracket.protectors:
            self.status(order.client_order_id, "ACCEPTED")
        return self


T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


__all__ = ["T0", "Desk", "Event", "OrderStatus", "Rig", "desk_only"]
