"""The protection desk: every protective order held at the venue, driven by the venue's reports.

A bracket's stop and target (``BracketOrder``) are recorded here as they leave
(``sent``), one ``ProtectorMachine`` each, and moved by the same reports the
position book applies, always after the book applied them (so whether a
protector is still ``needed`` reads the position the report left):

- an acknowledgement: PENDING -> WORKING;
- a fill: -> TRIGGERED, and the table asks to cancel its OCA siblings (the
  venue does it too; a cancel of an order that already ended is harmless, and
  a venue that forgets it must not leave the sibling to open a new position);
- a cancel or reject: what the bot asked for (CANCELLING -> CANCELLED; a cancel
  sent through the position machine, as the flattener sends them, counts as
  asked: the desk notes it first), the
  bracket working as designed (nothing left to protect), or a loss while the
  position is open (or its entry may still fill): the table asks to
  ``restore_protection``.

Restoring protection follows ``[protection] on_lost``: ``trip`` asks the
engine to trip the kill switch (whose flatten cancels the rest and closes the
position at market); ``resend`` sends a new GTC stop at the lost one's price
for what is held, in the same OCA group, once per bracket (a second loss
trips). With nothing held yet (the entry still working) a lost stop cancels
the entry instead: nothing is entered without its stop.

The desk never talks to the venue. Every method returns ``Changes``: the
protector transitions for the event log (``PROTECTOR_TRANSITION``) and the
``Command`` objects (cancel, send, trip) the engine executes. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import attrs

from statebot.core.fsm.effects import Effect
from statebot.core.fsm.protector import CANCELLING, LIVE_STATES, PENDING, WORKING, ProtectorMachine
from statebot.core.fsm.table import Route
from statebot.core.orders import (
    ACCEPTED,
    CANCELLED,
    GTC,
    PARTIALLY_FILLED,
    PROTECT,
    REJECTED,
    STOP,
    BrokerEvent,
    Fill,
    OrderRequest,
    OrderStatus,
)
from statebot.core.positions.book import PositionBook

TRIP = "trip"
RESEND = "resend"
ON_LOST = (TRIP, RESEND)
"""What a lost stop (cancelled or rejected unasked while its position is open) does."""

CANCEL = "cancel"
SEND = "send"
COMMAND_KINDS = (CANCEL, SEND, TRIP)



@attrs.frozen(kw_only=True)
class Command:
    """What the engine must do for the desk: ``cancel`` ``order_id``, ``send`` ``order`` (a protective
    stop sent again, already recorded on its position machine), or ``trip`` the kill switch (reason
    ``protective_stop_lost``); ``reason`` says why, for the event log."""

    kind: str = attrs.field(validator=attrs.validators.in_(COMMAND_KINDS))
    reason: str
    order_id: str = ""
    order: OrderRequest | None = None


@attrs.frozen(kw_only=True)
class ProtectorChange:
    """One protector's change of state, as ``PROTECTOR_TRANSITION`` logs it (``needed``: the guard's input)."""

    order_id: str
    strategy: str
    symbol: str
    trigger: str
    source: str
    dest: str
    needed: bool | None = None
    filled: int | None = None

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"order_id": self.order_id, "strategy": self.strategy, "symbol": self.symbol,
                               "trigger": self.trigger, "from": self.source, "to": self.dest}
        if self.needed is not None:
            out["needed"] = self.needed
        if self.filled is not None:
            out["filled"] = self.filled
        return out


@attrs.frozen(kw_only=True)
class Changes:
    """What one call did: protector ``transitions`` to log, ``commands`` to execute, in order."""

    transitions: tuple[ProtectorChange, ...] = ()
    commands: tuple[Command, ...] = ()


@attrs.define
class _Held:
    order: OrderRequest
    machine: ProtectorMachine
    reported_filled: int = 0  # what the venue's statuses say executed (a fill report may come later)


class ProtectionDesk:
    """The protectors of every position in ``book``; ``on_lost`` is ``trip`` or ``resend``.

    ``new_id`` gives client order ids for re-sent stops (without it a lost stop trips whatever
    ``on_lost`` says). Both may be set after construction (a restored state's desk gets the
    runner's). Feed every venue report to ``on_event`` after the book applied it.
    """

    EFFECT_EXECUTORS: ClassVar[Mapping[str, Mapping[Effect, str]]] = {
        "protector": {Effect.CANCEL_OCA_SIBLINGS: "_cancel_siblings", Effect.RESTORE_PROTECTION: "_restore"},
    }

    def __init__(self, book: PositionBook, *, on_lost: str = TRIP, new_id: Callable[[], str] | None = None) -> None:
        if on_lost not in ON_LOST:
            raise ValueError(f"on_lost {on_lost!r} must be one of {', '.join(ON_LOST)}")
        self.book = book
        self.on_lost = on_lost
        self.new_id = new_id
        self._held: dict[str, _Held] = {}
        self._resent: set[str] = set()  # OCA groups whose stop was sent again once

    # queries ------------------------------------------------------------------

    def protectors(self, strategy: str | None = None, symbol: str | None = None) -> tuple[tuple[OrderRequest, ProtectorMachine], ...]:
        """Every protector the desk knows (of ``strategy``/``symbol`` when given), oldest first."""
        return tuple((h.order, h.machine) for h in self._held.values()
                     if (strategy is None or h.order.strategy == strategy) and (symbol is None or h.order.symbol == symbol))

    def working_stop(self, strategy: str, symbol: str) -> OrderRequest | None:
        """The stop protecting ``strategy``/``symbol`` now (held at the venue, not being cancelled), or None."""
        for h in reversed(self._held.values()):
            o = h.order
            if o.strategy == strategy and o.symbol == symbol and o.kind == STOP and h.machine.working:
                return o
        return None

    def live_ids(self, strategy: str | None = None, symbol: str | None = None) -> tuple[str, ...]:
        """Ids of the protectors the venue may still execute."""
        return tuple(o.client_order_id for o, m in self.protectors(strategy, symbol) if m.live)

    def fills_in_flight(self) -> bool:
        """True while the venue reported a protector executed (its status counts more filled) whose fill
        report has not arrived yet: the venue no longer works it and its position already moved, so a
        comparison with the venue must wait for the report (a fault plan's delayed fill, IB's execution
        after its status). What a status said is not logged: a restarted desk counts only the fills."""
        return any(h.reported_filled > h.machine.filled for h in self._held.values())

    def order(self, order_id: str) -> OrderRequest:
        """The protector ``order_id`` as last sent; ``KeyError`` for one the desk does not hold."""
        return self._held[order_id].order

    def knows(self, order_id: str) -> bool:
        """True for a protector of a bracket some member of which is still live (ended brackets are forgotten)."""
        return order_id in self._held

    # commands -----------------------------------------------------------------

    def sent(self, orders: Iterable[OrderRequest]) -> None:
        """Record protective orders as they leave (a bracket's children, a re-sent stop): PENDING each."""
        for order in orders:
            if order.purpose != PROTECT:
                raise ValueError(f"order {order.client_order_id} has purpose {order.purpose!r}, not protect")
            if order.client_order_id in self._held:
                raise ValueError(f"protector id {order.client_order_id!r} was already used")
            self._held[order.client_order_id] = _Held(order, ProtectorMachine(order.client_order_id, order.qty))

    def cancel(self, strategy: str, symbol: str, reason: str) -> Changes:
        """Ask to cancel every protector of ``strategy``/``symbol`` still working (before an exit, a flatten,
        or once flat): CANCELLING each, and a ``cancel`` command each."""
        transitions, commands = [], []
        for order, m in self.protectors(strategy, symbol):
            route = m.cancel_asked()
            if route is not None:
                transitions.append(self._transition(order, route))
                commands.append(Command(kind=CANCEL, order_id=order.client_order_id, reason=reason))
        return Changes(transitions=tuple(transitions), commands=tuple(commands))

    def refit(self, strategy: str, symbol: str, qty: int, stop_ticks: int | None = None,
              target_ticks: int | None = None) -> tuple[OrderRequest, ...]:
        """The new terms of ``strategy``/``symbol``'s protectors that must change to fit a position of ``qty``
        (signed) whose entry ended: each working protector that executed nothing and is larger than the
        position, shrunk to it; with ``stop_ticks``/``target_ticks``, the stop/target also moved to that
        price. Changes nothing (``modified`` records what is sent)."""
        out: list[OrderRequest] = []
        for order, m in self.protectors(strategy, symbol):
            if not m.working or m.filled or not qty or order.qty * qty >= 0:
                continue
            size = -qty if abs(order.qty) > abs(qty) else order.qty
            if order.kind == STOP:
                price = order.stop_ticks if stop_ticks is None else stop_ticks
                if size == order.qty and price == order.stop_ticks:
                    continue  # already these terms (most entries fill at their reference price)
                new = attrs.evolve(order, qty=size, stop_ticks=price)
            else:
                price = order.limit_ticks if target_ticks is None else target_ticks
                if size == order.qty and price == order.limit_ticks:
                    continue
                new = attrs.evolve(order, qty=size, limit_ticks=price)
            if new != order:
                out.append(new)
        return tuple(out)

    def modified(self, order: OrderRequest) -> None:
        """Record new terms of a protector (same id) as they are sent; ``KeyError`` for one the desk does not hold."""
        held = self._held[order.client_order_id]
        held.order = order
        held.machine.qty = order.qty

    def strays(self) -> Changes:
        """Cancel every protector still working for a position the book holds nothing of, with no entry live:
        it protects nothing and could only open a new position (reconciliation runs this)."""
        transitions: list[ProtectorChange] = []
        commands: list[Command] = []
        for order, m in self.protectors():
            if m.working and not self._needed(order):
                route = m.cancel_asked()
                if route is not None:
                    transitions.append(self._transition(order, route))
                    commands.append(Command(kind=CANCEL, order_id=order.client_order_id,
                                            reason="stray protector: its position is flat"))
        return Changes(transitions=tuple(transitions), commands=tuple(commands))

    # events -------------------------------------------------------------------

    def on_event(self, event: BrokerEvent) -> Changes:
        """Move the protector ``event`` is about (after the book applied it); other orders' events change nothing."""
        held = self._held.get(event.order_id)
        if held is None:
            return Changes()
        m = held.machine
        if isinstance(event, Fill):
            return self._after(held, m.executed(abs(event.qty)))
        held.reported_filled = max(held.reported_filled, event.filled)
        if event.status in (ACCEPTED, PARTIALLY_FILLED):
            route = m.accepted()
            return Changes() if route is None else self._after(held, route)
        if event.status == CANCELLED:
            asked = Changes()
            if self._asked_elsewhere(held):
                # the cancel went out through the position machine (the flattener's, a global cancel): it was asked
                route = m.cancel_asked()
                if route is not None:
                    asked = Changes(transitions=(self._transition(held.order, route),))
            needed = self._needed(held.order)
            route = m.ended(needed=needed)
            if route is None:
                return asked
            after = self._after(held, route, needed)
            return Changes(transitions=(*asked.transitions, *after.transitions), commands=after.commands)
        if event.status == REJECTED:
            needed = self._needed(held.order)
            route = m.rejected(needed=needed)
            return Changes() if route is None else self._after(held, route, needed)
        return Changes()

    def missing(self, order_id: str, at: Any) -> Changes:
        """Reconciliation found that the venue no longer works ``order_id`` although the desk counts on it:
        the same as the venue reporting it cancelled (the position machine must be told first)."""
        held = self._held.get(order_id)
        if held is None:
            return Changes()
        filled = held.machine.filled
        return self.on_event(OrderStatus(order_id=order_id, status=CANCELLED, filled=filled,
                                         remaining=max(abs(held.order.qty) - filled, 0), at=at,
                                         reason="no longer working at the venue"))

    # fold and checkpoint ---------------------------------------------------------

    def replay(self, payload: Mapping[str, Any]) -> str | None:
        """Fire a logged ``PROTECTOR_TRANSITION`` on the folded machine; a disagreement, worded, or None."""
        oid = str(payload["order_id"])
        held = self._held.get(oid)
        if held is None:
            return f"protector {oid}: logged {payload['from']} -> {payload['to']} but no such protector was sent"
        m = held.machine
        if m.state != payload["from"]:
            return f"protector {oid}: logged from {payload['from']} but the folded machine is {m.state}"
        data = {"needed": payload["needed"]} if "needed" in payload else {}
        trigger = str(payload["trigger"])
        if not m.may_fire(trigger):
            return f"protector {oid}: {trigger} is not allowed from {m.state}"
        route = m.fire(trigger, **data)
        if trigger == "executed":
            m.filled = int(payload.get("filled", abs(m.qty)))
        if route is None or route.dest != payload["to"]:
            return f"protector {oid}: logged {payload['from']} -> {payload['to']} but the table gives {m.state}"
        self._prune(held.order)
        return None

    def to_dict(self) -> list[dict[str, Any]]:
        """Every protector the desk still holds, as JSON-ready data (a checkpoint's ``protectors``)."""
        return [{**h.machine.to_dict(), "order": _order_dict(h.order), "resent": h.order.oca_group in self._resent}
                for h in self._held.values()]

    def restore(self, data: Iterable[Mapping[str, Any]]) -> None:
        """Put back what ``to_dict`` returned."""
        for d in data:
            order = _order_from(d["order"])
            self._held[order.client_order_id] = _Held(order, ProtectorMachine.from_dict(d))
            if d.get("resent") and order.oca_group:
                self._resent.add(order.oca_group)

    # effects named by the table ----------------------------------------------------

    def _after(self, held: _Held, route: Route, needed: bool | None = None) -> Changes:
        filled = held.machine.filled if route.trigger == "executed" else None
        transitions = [self._transition(held.order, route, needed, filled)]
        commands: list[Command] = []
        for effect in route.effects:
            executor = getattr(self, self.EFFECT_EXECUTORS["protector"][effect])
            more = executor(held)
            transitions.extend(more.transitions)
            commands.extend(more.commands)
        if not held.machine.live:  # a live protector keeps its bracket (``_prune`` would find it)
            self._prune(held.order)
        return Changes(transitions=tuple(transitions), commands=tuple(commands))

    def _prune(self, order: OrderRequest) -> None:
        """Forget a bracket's protectors once none of them is live (late reports of them change nothing more)."""
        group = order.oca_group or order.client_order_id
        members = [oid for oid, h in self._held.items() if (h.order.oca_group or oid) == group]
        if any(self._held[oid].machine.live for oid in members):
            return
        for oid in members:
            del self._held[oid]
        self._resent.discard(group)

    def _cancel_siblings(self, held: _Held) -> Changes:
        group = held.order.oca_group
        transitions, commands = [], []
        for other in self._held.values():
            if other is held or group is None or other.order.oca_group != group:
                continue
            route = other.machine.cancel_asked()
            if route is not None:
                transitions.append(self._transition(other.order, route))
                commands.append(Command(kind=CANCEL, order_id=other.order.client_order_id,
                                        reason=f"one-cancels-other: {held.order.client_order_id} executed"))
        return Changes(transitions=tuple(transitions), commands=tuple(commands))

    def _restore(self, held: _Held) -> Changes:
        order = held.order
        reason = f"protective {order.kind.lower()} {order.client_order_id} of {order.strategy}/{order.symbol} lost"
        if order.kind != STOP:
            return Changes()  # a lost target leaves the stop protecting: nothing to restore
        m = self.book.machine(order.strategy, order.symbol)
        group = order.oca_group or order.client_order_id
        if self.on_lost == TRIP or group in self._resent or self.new_id is None:
            return Changes(commands=(Command(kind=TRIP, reason=reason),))
        if not m.qty:
            # the entry may still fill and would be naked: do not enter without a stop
            return Changes(commands=tuple(Command(kind=CANCEL, order_id=oid, reason=f"{reason}: entry not sent unprotected")
                                          for oid in m.working_entries()))
        self._resent.add(group)
        again = OrderRequest(client_order_id=self.new_id(), strategy=order.strategy, symbol=order.symbol, qty=-m.qty,
                             kind=STOP, purpose=PROTECT, stop_ticks=order.stop_ticks, tif=GTC, oca_group=group)
        try:
            m.submit_protectors((again,))
        except ValueError as exc:
            return Changes(commands=(Command(kind=TRIP, reason=f"{reason}; not sent again: {exc}"),))
        self.sent((again,))
        return Changes(commands=(Command(kind=SEND, order=again, reason=f"{reason}: sent again"),))

    # internals ----------------------------------------------------------------

    def _asked_elsewhere(self, held: _Held) -> bool:
        order = held.order
        return held.machine.state in (PENDING, WORKING) and self.book.machine(order.strategy, order.symbol).cancel_requested(
            order.client_order_id)

    def _needed(self, order: OrderRequest) -> bool:
        """Whether ``order`` still protects something: its position holds contracts or its entry may fill, and no
        sibling of its OCA group executed (the venue cancelled it for that sibling, whose fill may come later)."""
        group = order.oca_group
        if group is not None and any(h.order.oca_group == group and h.order is not order
                                     and (h.reported_filled or h.machine.filled) for h in self._held.values()):
            return False
        m = self.book.machine(order.strategy, order.symbol)
        return m.qty != 0 or bool(m.working_entries())

    @staticmethod
    def _transition(order: OrderRequest, route: Route, needed: bool | None = None,
                    filled: int | None = None) -> ProtectorChange:
        return ProtectorChange(order_id=order.client_order_id, strategy=order.strategy, symbol=order.symbol,
                               trigger=route.trigger, source=route.source, dest=route.dest, needed=needed, filled=filled)


def _order_dict(o: OrderRequest) -> dict[str, Any]:
    return {"client_order_id": o.client_order_id, "strategy": o.strategy, "symbol": o.symbol, "qty": o.qty,
            "kind": o.kind, "limit_ticks": o.limit_ticks, "stop_ticks": o.stop_ticks, "tif": o.tif,
            "parent_id": o.parent_id, "oca_group": o.oca_group}


def _order_from(d: Mapping[str, Any]) -> OrderRequest:
    return OrderRequest(client_order_id=str(d["client_order_id"]), strategy=str(d["strategy"]), symbol=str(d["symbol"]),
                        qty=int(d["qty"]), kind=str(d["kind"]), purpose=PROTECT, limit_ticks=d["limit_ticks"],
                        stop_ticks=d["stop_ticks"], tif=str(d["tif"]), parent_id=d["parent_id"], oca_group=d["oca_group"])


def modify_payload(order: OrderRequest, instrument_price: Callable[[int], Any], reason: str) -> dict[str, Any]:
    """The ``ORDER_MODIFY_REQUESTED`` payload of a protector's new terms."""
    ticks = order.stop_ticks if order.kind == STOP else order.limit_ticks
    assert ticks is not None
    return {"order_id": order.client_order_id, "strategy": order.strategy, "symbol": order.symbol, "qty": order.qty,
            "kind": order.kind, "price_ticks": ticks, "price": str(instrument_price(ticks)), "reason": reason}


def apply_modify(book: PositionBook, desk: ProtectionDesk, order_id: str, qty: int, price_ticks: int, *,
                 positions: bool = True) -> OrderRequest:
    """Record a logged modification (``ORDER_MODIFY_REQUESTED``) of protector ``order_id``: its new size and price
    on the desk and (``positions``) on its position machine; the new order is returned. The runner and the
    fold both call it, so they agree. Raises ``KeyError``/``ValueError`` for a protector not held or terms
    that do not fit."""
    old = desk.order(order_id)
    if old.kind == STOP:
        new = attrs.evolve(old, qty=qty, stop_ticks=price_ticks)
    else:
        new = attrs.evolve(old, qty=qty, limit_ticks=price_ticks)
    if positions:
        book.machine(new.strategy, new.symbol).modify_protector(new)
    desk.modified(new)
    return new


def order_payload(order: OrderRequest, instrument_price: Callable[[int], Any]) -> dict[str, Any]:
    """The ``ORDER_SUBMITTED`` extras of a protective order: kind, price, time in force, parent, OCA group."""
    ticks = order.stop_ticks if order.kind == STOP else order.limit_ticks
    assert ticks is not None
    return {"kind": order.kind, "price_ticks": ticks, "price": str(instrument_price(ticks)), "tif": order.tif,
            "parent_id": order.parent_id, "oca_group": order.oca_group}


__all__ = ["CANCELLING", "Changes", "Command", "LIVE_STATES", "ON_LOST", "ProtectionDesk", "ProtectorChange", "RESEND",
           "TRIP", "apply_modify", "modify_payload"]
