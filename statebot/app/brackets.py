"""Brackets: the protective stop and target of each open position, and the exit order that closes it.

An entry notes its bracket (the signal's stop and target distances, the reference
price the slippage is measured from); the position's fills price it
(``update_bracket``: stop and target prices once the average entry is known). Each
closed bar the runner asks ``hit(key, bar)``: a long whose bar reached its stop
(low <= stop) or its target (high >= target), a short mirrored, is exited with
``exit`` (``ORDER_SUBMITTED`` purpose exit, logged and committed before the order
leaves). The same ``exit`` sends the strategy's own exits (a reversal, a FLAT
signal), so every closing order a strategy asks for passes here. The stop is
checked before the target: a bar that reached both counts as stopped.

Where the venue holds protective orders (``[protection] enabled`` and an adapter that
is a ``BracketVenue``), the entry leaves as a ``BracketOrder``: a GTC stop (and target)
at the signal's distances from the entry's reference price, children of the entry,
one-cancels-other (``send_entry``); once the entry ended they are refitted at the venue
(``refit``: the stop and target at those distances from the average fill, no larger
than the position held). The ``ProtectionDesk`` follows them from the
venue's reports (``on_event``: ``PROTECTOR_TRANSITION`` logged, its commands
executed: a cancel, a re-sent stop, a kill-switch trip), ``hit`` leaves a position
with a working venue stop to the venue, and ``exit`` first cancels the protectors and
sends the closing order only once the venue confirmed (drained at once; a venue that
confirms later gets the exit at a later bar, the stop protecting meanwhile), so a stop
and an exit never both close the same contracts. Elsewhere (a venue without stop
orders, protection off) the stops are held by the runner: a stop is acted on at the
close of the bar that reached it (the fallback).

Built with the runner's position machines (``book``), the venue (``adapter``), the
desk (``protection``) and the runner's journal (``RunnerJournal``: append an event,
log an error, log position transitions, number and log an order, trip the kill
switch, apply the venue's reports); it owns the bracket table the checkpoint and the
fold carry (``by_key``, shared with ``BotState.brackets``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from statebot.app.decision import EXIT_ACTION, HOLD, SKIP, Decision
from statebot.core.engine.fold import Bracket, update_bracket
from statebot.core.engine.protection import (
    CANCEL,
    SEND,
    Changes,
    ProtectionDesk,
    apply_modify,
    modify_payload,
    order_payload,
)
from statebot.core.fsm.killswitch import PROTECTIVE_STOP_LOST
from statebot.core.orders import ENTRY, EXIT, REJECTED, BracketOrder, BrokerEvent, OrderRequest, OrderStatus
from statebot.core.ports import BracketVenue
from statebot.core.positions.book import send_exit
from statebot.errors import AdapterUnavailable, StatebotError
from statebot.journal.log import ORDER_CANCEL_REQUESTED, ORDER_MODIFY_REQUESTED, ORDER_REJECTED, PROTECTOR_TRANSITION

if TYPE_CHECKING:
    from statebot.core.fsm.position import PositionMachine
    from statebot.core.instruments import InstrumentSpec
    from statebot.core.ports import BrokerAdapter
    from statebot.core.positions.book import PositionBook
    from statebot.core.time.clock import Bar
    from statebot.journal.log import EventLog


class RunnerJournal(Protocol):
    """What a bracket needs of the runner's event log (``BotRunner`` provides it)."""

    events: EventLog

    def _log(self, t: dt.datetime, type: str, payload: Mapping[str, Any]) -> None: ...

    def _error(self, t: dt.datetime, stage: str, exc: BaseException) -> None: ...

    def _log_positions(self, t: dt.datetime) -> None: ...

    def _new_id(self) -> str: ...

    def _log_order(self, t: dt.datetime, order: OrderRequest, extra: Mapping[str, Any] | None = None) -> None: ...

    def _trip(self, reason: str, t: dt.datetime, detail: str) -> None: ...

    def _process_adapter(self, t: dt.datetime) -> None: ...


class Brackets:
    """The brackets of the open positions (``by_key``: (strategy, symbol) -> ``Bracket``)."""

    __slots__ = ("by_key", "book", "adapter", "instrument", "journal", "protection", "venue_held")

    def __init__(self, by_key: dict[tuple[str, str], Bracket], *, book: PositionBook, adapter: BrokerAdapter,
                 instrument: InstrumentSpec, journal: RunnerJournal, protection: ProtectionDesk,
                 venue_held: bool) -> None:
        self.by_key = by_key
        self.book = book
        self.adapter = adapter
        self.instrument = instrument
        self.journal = journal
        self.protection = protection
        self.venue_held = venue_held

    # venue-held protective orders -------------------------------------------------

    def bracket_of(self, order: OrderRequest, bracket: Bracket) -> BracketOrder | None:
        """The venue bracket of the entry ``order`` (its stop and target at ``bracket``'s distances from the
        entry's reference price), or None when the venue holds no protective orders here."""
        if not self.venue_held or bracket.entry_ref_ticks is None:
            return None
        ref, side = bracket.entry_ref_ticks, bracket.side
        return BracketOrder.around(order, stop_ticks=ref - side * bracket.stop_ticks,
                                   target_ticks=None if bracket.target_ticks is None else ref + side * bracket.target_ticks)

    def fitted_prices(self, m: PositionMachine) -> tuple[int | None, int | None]:
        """(stop, target) in ticks at the bracket's distances from ``m``'s average entry fill, each rounded to a
        whole tick toward the entry (the risk taken is never more than the signal's stop distance; the target
        is never further than asked); None for a price the bracket does not set (no bracket, no fill, no
        target)."""
        b = self.by_key.get((m.strategy, m.symbol))
        avg = m.avg_entry_ticks
        if b is None or avg is None:
            return None, None
        side = b.side
        stop_at, target_at = avg - side * b.stop_ticks, None if b.target_ticks is None else avg + side * b.target_ticks
        stop = math.ceil(stop_at) if side > 0 else math.floor(stop_at)
        target = None if target_at is None else (math.floor(target_at) if side > 0 else math.ceil(target_at))
        return stop, target

    def log_protectors(self, t: dt.datetime, bracket: BracketOrder) -> None:
        """``ORDER_SUBMITTED`` purpose protect for each of the bracket's protectors (after its entry's), and
        the desk's record of them: written before the bracket leaves."""
        for order in bracket.protectors:
            self.journal._log_order(t, order, order_payload(order, self.instrument.from_ticks))
        self.protection.sent(bracket.protectors)

    def on_event(self, event: BrokerEvent, t: dt.datetime) -> None:
        """A venue report the book applied: the protector it is about moves; its commands are executed. A
        report that ended an entry (its last fill, or the cancel of its rest) refits its protectors to the
        position it left (``refit``)."""
        if self.protection.knows(event.order_id):
            self.execute(self.protection.on_event(event), t)
            return
        if self.venue_held:
            m = self.book.owner(event.order_id)
            if m is not None and m.qty and m.order(event.order_id).purpose == ENTRY and not m.entry_live() \
                    and m.live_protectors():
                self.refit(m, t)

    def refit(self, m: PositionMachine, t: dt.datetime) -> None:
        """The entry of ``m`` ended: its working protectors are refitted at the venue to the position it left.
        Each larger than the position is shrunk to it (a partly filled entry whose rest ended leaves a stop
        and target sized for the whole entry, which would over-fill and open a position the other way), and
        the stop and target move to the bracket's distances from the average entry fill (``fitted_prices``),
        as a trader measures them, instead of from the signal bar's close. Each change is logged
        (``ORDER_MODIFY_REQUESTED``) and recorded before it leaves."""
        journal = self.journal
        stop, target = self.fitted_prices(m)
        for order in self.protection.refit(m.strategy, m.symbol, m.qty, stop, target):
            ticks = order.stop_ticks if order.stop_ticks is not None else order.limit_ticks
            assert ticks is not None
            journal._log(t, ORDER_MODIFY_REQUESTED, modify_payload(order, self.instrument.from_ticks,
                                                                   f"its entry ended: {m.qty} held at "
                                                                   f"{m.avg_entry_ticks} ticks on average"))
            apply_modify(self.book, self.protection, order.client_order_id, order.qty, ticks)
            journal.events.commit()
            adapter = self.adapter
            assert isinstance(adapter, BracketVenue)
            try:
                adapter.modify(order)
            except (AdapterUnavailable, StatebotError) as exc:
                journal._error(t, "modify_protector", exc)

    def execute(self, changes: Changes, t: dt.datetime) -> None:
        """Log the desk's transitions, then execute its commands: each logged before it leaves."""
        journal = self.journal
        for change in changes.transitions:
            journal._log(t, PROTECTOR_TRANSITION, change.payload())
        for command in changes.commands:
            if command.kind == CANCEL:
                journal._log(t, ORDER_CANCEL_REQUESTED, {"order_id": command.order_id, "reason": command.reason})
                owner = self.book.owner(command.order_id)
                if owner is not None:
                    owner.request_cancel(command.order_id)
                journal.events.commit()
                try:
                    self.adapter.cancel(command.order_id)
                except (AdapterUnavailable, StatebotError) as exc:
                    journal._error(t, "cancel_protector", exc)
            elif command.kind == SEND:
                order = command.order
                assert order is not None
                journal._log_order(t, order, {**order_payload(order, self.instrument.from_ticks), "reason": command.reason})
                journal.events.commit()
                try:
                    self.adapter.submit(order)
                except (AdapterUnavailable, StatebotError) as exc:
                    journal._error(t, "protector", exc)
                    self.book.machine(order.strategy, order.symbol).submit_failed(order.client_order_id, t, str(exc))
                    journal._log(t, ORDER_REJECTED, {"order_id": order.client_order_id, "reason": "adapter unavailable",
                                                     "filled": 0, "counted": False})
                    self.execute(self.protection.on_event(_refused(order, t)), t)
            else:
                journal._trip(PROTECTIVE_STOP_LOST, t, command.reason)
        if changes.commands:
            journal._log_positions(t)

    def cancel_protectors(self, m: PositionMachine, t: dt.datetime, reason: str) -> bool:
        """Ask the venue to cancel ``m``'s working protectors, then apply its reports at once; True when none
        of them is live any more (an exit may go)."""
        changes = self.protection.cancel(m.strategy, m.symbol, reason)
        if changes.commands:
            self.execute(changes, t)
            self.journal._process_adapter(t)
        return not m.live_protectors()

    def open(self, key: tuple[str, str], bracket: Bracket) -> None:
        """An entry is about to leave: its bracket, priced once it fills."""
        self.by_key[key] = bracket

    def pop(self, key: tuple[str, str]) -> Bracket | None:
        """The position closed or was written off: its bracket is done (returned, if any)."""
        return self.by_key.pop(key, None)

    def update(self, m: PositionMachine) -> None:
        """A fill of ``m``: the stop and target prices follow its average entry."""
        update_bracket(self.by_key.get((m.strategy, m.symbol)), m)

    def note_exit_refs(self, bar: Bar | None) -> None:
        """A flatten starts: the last bar's close is the reference its exits' slippage is measured from."""
        if bar is None:
            return
        ref = self.instrument.to_ticks(bar.close)
        for bracket in self.by_key.values():
            if bracket.exit_ref_ticks is None:
                bracket.exit_ref_ticks = ref

    def hit(self, key: tuple[str, str], bar: Bar) -> str | None:
        """``"stop"`` or ``"target"`` when the closed ``bar`` reached the bracket of ``key``, else None."""
        b = self.by_key.get(key)
        if b is None:
            return None
        stop, target = b.stop_price, b.target_price
        if stop is None:
            return None
        # the bar's prices first: most held bars reach neither, and the desk's answer (a pure lookup)
        # matters only for one that does
        if b.side > 0:
            hit = "stop" if bar.low <= stop else "target" if target is not None and bar.high >= target else None
        else:
            hit = "stop" if bar.high >= stop else "target" if target is not None and bar.low <= target else None
        if hit is not None and self.venue_held and self.protection.working_stop(*key) is not None:
            return None  # the venue holds the stop: it acts intrabar, not at this bar's close
        return hit

    def exit(self, m: PositionMachine, bar: Bar, t: dt.datetime, reason: str) -> Decision:
        """Close ``m``'s whole position with one exit order at ``t`` (``reason``: stop, target,
        reversal, strategy_flat): logged and committed before it leaves; an order the venue
        could not take is ``ORDER_REJECTED`` (not counted) and a SKIP."""
        journal = self.journal
        if m.live_protectors() and not self.cancel_protectors(m, t, f"exit ({reason})"):
            # the stop still protects until the venue confirms its cancel: the exit waits for it
            return Decision(action=HOLD, reason="cancelling_protectors", detail=reason)
        if not m.qty:
            return Decision(action=HOLD, reason="closed_by_protector", detail=reason)
        order = OrderRequest(client_order_id=journal._new_id(), strategy=m.strategy, symbol=m.symbol, qty=-m.qty,
                             purpose=EXIT)
        bracket = self.by_key.get((m.strategy, m.symbol))
        ref = self.instrument.to_ticks(bar.close)
        if bracket is not None:
            bracket.exit_ref_ticks = ref
        try:
            m.check_exit(order)
        except (StatebotError, ValueError) as exc:
            journal._error(t, "exit", exc)
            return Decision(action=HOLD, reason="exit_refused", detail=str(exc))
        journal._log_order(t, order, {"ref_ticks": ref})
        journal.events.commit()
        try:
            sent = send_exit(self.book, self.adapter, order, at=t)
        except (StatebotError, ValueError) as exc:
            journal._error(t, "exit", exc)
            sent = False
        journal._log_positions(t)
        if not sent:
            journal._log(t, ORDER_REJECTED, {"order_id": order.client_order_id, "reason": "adapter unavailable",
                                             "filled": 0, "counted": False})
            return Decision(action=SKIP, reason="adapter_unavailable", order_id=order.client_order_id, qty=order.qty)
        return Decision(action=EXIT_ACTION, reason=reason, order_id=order.client_order_id, qty=order.qty)


def _refused(order: OrderRequest, t: dt.datetime) -> OrderStatus:
    return OrderStatus(order_id=order.client_order_id, status=REJECTED, filled=0, remaining=abs(order.qty), at=t,
                       reason="adapter unavailable")
