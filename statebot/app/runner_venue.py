"""Venue sync: the venue's reports applied to the machines, its connection, reconciliation.

Steps 3 and 4 of a bar (``statebot.app.runner``'s docstring): ``_process_adapter``
drains the adapter and applies each report to the ``PositionBook`` (``ORDER_REJECTED``,
``ORDER_CANCELLED``, ``FILL``, ``POSITION_TRANSITION``; a closed round trip goes on to
trade accounting); a call the venue cannot answer moves the ``venue_connection``
machine (CONNECTED -> DISCONNECTED, logged once), the first answer after it to
RESYNCING, and ``_reconcile`` at a quiet point compares the machines with the venue
(a difference is ``POSITION_MISMATCH`` and a trip) and ends the resync.

A mixin of ``BotRunner``: it works on the runner's own attributes (declared below),
so the per-bar path pays no extra call for being kept apart.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from statebot.app.runner_base import RunnerBase
from statebot.core.fsm.killswitch import OVER_FILL, STATE_UNTRUSTED
from statebot.core.fsm.killswitch import POSITION_MISMATCH as MISMATCH_REASON
from statebot.core.instruments import instrument
from statebot.core.orders import CANCELLED, PROTECT, REJECTED, Fill, OrderRequest, OrderStatus
from statebot.core.positions.reconcile import MISSING, reconcile, reconcile_protectors
from statebot.core.time.schedule import TRADING
from statebot.errors import AdapterUnavailable, PositionMismatch, StatebotError
from statebot.journal.log import (
    FILL,
    ORDER_CANCEL_REQUESTED,
    ORDER_CANCELLED,
    ORDER_ENDED,
    ORDER_REJECTED,
    POSITION_MISMATCH,
    PROTECTOR_MISMATCH,
    RUNNER_ERROR,
    VENUE_CONNECTION,
)
from statebot.venues.observe import OBSERVED_REASON

log = logging.getLogger("statebot.runner")


class VenueSync(RunnerBase):
    """The venue's side of ``BotRunner``: reports, connection, reconciliation."""


    def _process_adapter(self, t: dt.datetime) -> None:
        try:
            events = self.adapter.drain()
        except AdapterUnavailable as exc:
            self._venue_lost(t, "drain", f"{type(exc).__name__}: {exc}", str(exc))
            return
        if not self.connection.reachable:
            self._venue_back(t)
        if not events:
            return
        self._reconcile_due = True
        for event in events:
            self._apply(event, t)
        if not self.flatten_coordinator.flattening and (not self.killswitch.allows_entries or self.session.state != TRADING) \
                and self.book.expected_positions():
            # a late fill left a position where none may be held: flatten it too
            self.flatten_coordinator.start()

    def _venue_lost(self, t: dt.datetime, stage: str, error: str, detail: str) -> None:
        """The venue did not answer: logged when the connection changes, not on every bar it stays down."""
        if self.connection.lost() is not None:
            log.warning("runner %s: %s", stage, error)
            self._log(t, RUNNER_ERROR, {"stage": stage, "error": error})
            self._log(t, VENUE_CONNECTION, {"connected": False, "detail": detail})

    def _venue_back(self, t: dt.datetime) -> None:
        # back: no entry until the venue's positions were compared with the machines'
        route = self.connection.back()
        assert route is not None
        self._log(t, VENUE_CONNECTION, {"connected": True, "detail": "reachable again; reconciling before entries"})
        executors = self.EFFECT_EXECUTORS["venue_connection"]
        for effect in route.effects:
            getattr(self, executors[effect])(t)

    def _reconcile_soon(self, t: dt.datetime) -> None:
        self._reconcile_due = True

    def _venue_idle(self) -> bool:
        """True when the venue answers that it holds nothing and works nothing."""
        try:
            return not any(self.adapter.positions().values()) and not self.adapter.open_orders()
        except (AdapterUnavailable, StatebotError):
            return False

    def _apply(self, event: OrderStatus | Fill, t: dt.datetime) -> None:
        ks = self.killswitch
        if isinstance(event, OrderStatus):
            if event.status == REJECTED:
                # OBSERVE mode refuses every order by design; a protector's refusal has its own rule (the
                # protection desk trips or re-sends) and a bracket's children share their entry's refusal
                counted = event.reason != OBSERVED_REASON and not self.brackets.protection.knows(event.order_id)
                self._log(t, ORDER_REJECTED, {"order_id": event.order_id, "reason": event.reason, "filled": event.filled,
                                              "counted": counted})
                if counted:
                    ks.record_reject(t, f"order {event.order_id} rejected: {event.reason}")
                    self._sync_killswitch(t)
            elif event.status == CANCELLED:
                self._log(t, ORDER_CANCELLED, {"order_id": event.order_id, "reason": event.reason, "filled": event.filled})
        try:
            applied, m = self.book.apply_one(event)
        except (StatebotError, ValueError) as exc:
            self._error(t, "apply", exc)
            self._trip(STATE_UNTRUSTED, t, f"a venue report could not be applied: {exc}")
            self._log_positions(t)
            return
        if applied.errors:  # the book reports a machine's refusal instead of raising it
            for _, refused in applied.errors:
                self._error(t, "apply", refused)
                # the machines may no longer match the venue: no entries until a person looks
                self._trip(STATE_UNTRUSTED, t, f"a venue report was refused: {refused}")
            self._log_positions(t)
            return
        if isinstance(event, Fill) and not applied.duplicates:
            # the machine that took it, as the book found it (the order's owner before and after
            # the fill is the same: an order that ends stays known among its machine's ended orders)
            self._log(t, FILL, {
                "order_id": event.order_id, "exec_id": event.exec_id, "strategy": event.strategy, "symbol": event.symbol,
                "side": "BUY" if event.qty > 0 else "SELL", "qty": event.qty,
                "price": self._price(event.symbol, event.price_ticks), "commission": event.commission,
                "routed": m is not None, "at": event.at,
            })
            ks.record_accept()  # an execution ends the reject streak (the fold reads it from the FILL)
            if m is not None:
                self.brackets.update(m)
        self._log_positions(t)
        for anomaly in applied.anomalies:
            self._trip(OVER_FILL, t, str(anomaly))
        for trade in applied.closed:
            self._trade_closed(trade, t)
        self.brackets.on_event(event, t)

    def _price(self, symbol: str, ticks: int) -> Decimal:
        return instrument(symbol, self._instruments).from_ticks(ticks)

    def _reconcile(self, t: dt.datetime) -> None:
        for m in self.book.machines():
            # protective orders rest at the venue as long as a position is held: not a reason to wait
            if len(m.live_orders()) > len(m.live_protectors()):
                return
        if self.brackets.protection.fills_in_flight():
            return  # a protector the venue executed: its fill is on its way, the venue already counts it
        try:
            venue = self.adapter.positions()
            open_orders = self.adapter.open_orders()
            if any(o.purpose != PROTECT for o in open_orders):
                return
        except AdapterUnavailable:
            return
        self._reconcile_due = False
        self.connection.reconciled()
        self._reconcile_protectors(t, open_orders)
        mismatches = reconcile(self.book.expected_positions(), venue)
        if not mismatches:
            return
        for mm in mismatches:
            self._log(t, POSITION_MISMATCH, {"strategy": "", "symbol": mm.symbol, "expected": mm.expected, "broker": mm.actual})
        error = PositionMismatch(mismatches)
        log.error("%s", error)
        self._trip(MISMATCH_REASON, t, str(error))

    def _reconcile_protectors(self, t: dt.datetime, open_orders: tuple[OrderRequest, ...]) -> None:
        """Compare the venue's working protective orders with the book: a stray one (held for a position the book
        thinks flat) is reported and cancelled, a missing one (the book counts on it, the venue no longer works
        it) is reported and treated as lost."""
        desk = self.brackets.protection
        counted_on = tuple(o.client_order_id for o, p in desk.protectors() if p.working)
        for mm in reconcile_protectors(self.book, counted_on, open_orders):
            self._log(t, PROTECTOR_MISMATCH, {"order_id": mm.order_id, "strategy": mm.strategy, "symbol": mm.symbol,
                                              "problem": mm.problem, "detail": str(mm)})
            log.error("%s", mm)
            if mm.problem == MISSING:
                owner = self.book.owner(mm.order_id)
                if owner is not None and mm.order_id in owner.live_orders():
                    self._log(t, ORDER_ENDED, {"order_id": mm.order_id, "reason": "not working at the venue"})
                    owner.venue_not_working(mm.order_id)
                self.brackets.execute(desk.missing(mm.order_id, t), t)
            elif desk.knows(mm.order_id):
                self.brackets.execute(desk.cancel(mm.strategy, mm.symbol, "stray protector: its position is flat"), t)
            else:
                self._log(t, ORDER_CANCEL_REQUESTED, {"order_id": mm.order_id, "reason": "stray protector: unknown"})
                self.events.commit()
                try:
                    self.adapter.cancel(mm.order_id)
                except (AdapterUnavailable, StatebotError) as exc:
                    self._error(t, "cancel_protector", exc)
