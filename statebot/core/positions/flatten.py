"""Flatten that converges, written once on top of ``BrokerAdapter`` for every venue.

``flatten_positions`` is one attempt: cancel working orders, read the venue's
positions, send a closing order (purpose ``flatten``) for each symbol still
held. ``Flattener`` repeats it, one ``step(now)`` per bar or heartbeat, until
the venue reports nothing held and nothing working; it backs off after
failures, trips the kill switch when an attempt fails, and never stops trying.

The venue's positions are the truth here: a symbol is closed by the venue's
net quantity. With a ``PositionBook`` whose machines account for that
quantity exactly, the closing orders are split per strategy machine (so the
machines follow their fills); otherwise one order of the flattener's own
(strategy ``""``) closes the symbol, the machines keep their view, and the
difference shows up in reconciliation, never silently adopted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any

import attrs

from statebot.core.ports import BrokerAdapter
from statebot.core.positions.book import PositionBook
from statebot.core.time.clock import require_aware
from statebot.errors import AdapterUnavailable, ConfigError, StatebotError
from statebot.core.fsm.killswitch import DISCONNECT, FLATTEN_FAILED, Backoff, KillSwitch
from statebot.core.effects import ORDER_CANCEL_REQUESTED, ORDER_ENDED, ORDER_REJECTED, ORDER_SUBMITTED
from statebot.core.orders import FLATTEN, MARKET, OrderRequest

Record = Callable[[str, Mapping[str, Any]], None]
"""A journal: ``record(event_type, payload)`` appends the event before the change it names."""


def _no_record(type: str, payload: Mapping[str, Any]) -> None:
    return None



@attrs.frozen(kw_only=True)
class FlattenAttempt:
    """What one ``flatten_positions`` call did.

    ``flat`` is True only when the venue answered and reported no position and
    no working order in scope. ``holding`` is the venue's positions seen.
    """

    flat: bool
    holding: dict[str, int]
    cancelled: tuple[str, ...] = ()
    submitted: tuple[OrderRequest, ...] = ()
    waiting: tuple[str, ...] = ()


def _closers(symbol: str, venue_qty: int, book: PositionBook | None, new_id: Callable[[], str]) -> list[OrderRequest]:
    orders: list[OrderRequest] = []
    owned = 0
    holders = [m for m in book.machines() if m.symbol == symbol and m.qty] if book is not None else []
    # split per machine only when the machines account for the venue exactly; otherwise a report is
    # still on its way or a position is unknown, and one unowned order is the only safe close
    if sum(m.qty for m in holders) == venue_qty:
        for m in holders:
            orders.append(OrderRequest(client_order_id=new_id(), strategy=m.strategy, symbol=symbol,
                                       qty=-m.qty, kind=MARKET, purpose=FLATTEN))
            owned += m.qty
    rest = -venue_qty + owned
    if rest:
        orders.append(OrderRequest(client_order_id=new_id(), strategy="", symbol=symbol, qty=rest,
                                   kind=MARKET, purpose=FLATTEN))
    return orders


def flatten_positions(
    adapter: BrokerAdapter,
    *,
    new_id: Callable[[], str],
    book: PositionBook | None = None,
    symbols: Collection[str] | None = None,
    skip: Collection[str] = (),
    at: dt.datetime | None = None,
    record: Record = _no_record,
) -> FlattenAttempt:
    """One flatten attempt against any adapter.

    Cancels every working order in scope except closing (flatten) orders that
    still reduce the venue's position; for each
    symbol the venue holds (and not in ``skip``, e.g. a flatten order is still
    working) with no other order still working after the cancel, sends market
    closing orders whose quantities sum to minus the venue's position (split per
    machine only when the book's machines sum to the venue's position). Ids come
    from ``new_id()``. With a ``book``, each machine records its closing order
    first (and the cancels), so its fills route to it; ``at`` is then needed
    for orders the adapter refuses (``ConfigError`` without it).

    ``record`` is the journal: every change to a machine and every order or cancel is
    recorded there first (``ORDER_CANCEL_REQUESTED``, ``ORDER_ENDED``, ``ORDER_SUBMITTED``,
    ``ORDER_REJECTED``), so a fold of the log rebuilds the machines exactly.

    Raises ``AdapterUnavailable`` from the adapter (possibly after part of the
    work was sent; the next attempt starts again from the venue's state).
    """
    if book is not None and at is None:
        raise ConfigError("flatten_positions with a book needs at= (the time of refused orders)")

    def in_scope(symbol: str) -> bool:
        return symbols is None or symbol in symbols

    venue = adapter.positions()
    cancelled = []
    for order in adapter.open_orders():
        if not in_scope(order.symbol):
            continue
        held = venue.get(order.symbol, 0)
        # a closing order stays only while it still closes: once the symbol is flat (or it would
        # add to the position) it could only open a new one
        if order.purpose == FLATTEN and held * order.qty < 0:
            continue
        record(ORDER_CANCEL_REQUESTED, {"order_id": order.client_order_id})
        owner = book.owner(order.client_order_id) if book is not None else None
        if owner is not None:
            owner.request_cancel(order.client_order_id)
        adapter.cancel(order.client_order_id)
        cancelled.append(order.client_order_id)
    holding = {s: q for s, q in adapter.positions().items() if q and in_scope(s)}
    still_working = {o.symbol for o in adapter.open_orders() if in_scope(o.symbol)}
    if not holding and not still_working:
        return FlattenAttempt(flat=True, holding={}, cancelled=tuple(cancelled))
    submitted: list[OrderRequest] = []
    waiting = []
    for symbol in sorted(holding):
        if symbol in skip or symbol in still_working:
            waiting.append(symbol)
            continue
        for order in _closers(symbol, holding[symbol], book, new_id):
            owner = book.machine(order.strategy, symbol) if book is not None and order.strategy else None
            if owner is not None:
                # the venue works no order of this symbol any more: whatever the machine still
                # counts on has ended there (the venue's position already counts its fills)
                for oid in owner.live_orders():
                    record(ORDER_ENDED, {"order_id": oid, "reason": "not working at the venue"})
                    owner.venue_not_working(oid)
                try:
                    owner.check_exit(order)
                except (StatebotError, ValueError):
                    # the machine cannot take this order (its view differs from the venue's): close
                    # the venue's contracts anyway with an unowned order; reconciliation shows the rest
                    order = attrs.evolve(order, strategy="")
                    owner = None
            record(ORDER_SUBMITTED, {"order_id": order.client_order_id, "strategy": order.strategy,
                                     "symbol": order.symbol, "side": "BUY" if order.qty > 0 else "SELL",
                                     "qty": order.qty, "purpose": order.purpose})
            if owner is not None:
                owner.submit_exit(order)
            try:
                adapter.submit(order)
            except AdapterUnavailable:
                if owner is not None and at is not None:
                    record(ORDER_REJECTED, {"order_id": order.client_order_id, "reason": "adapter unavailable",
                                            "filled": 0, "counted": False})
                    owner.submit_failed(order.client_order_id, at, "adapter unavailable")
                raise
            submitted.append(order)
    return FlattenAttempt(flat=False, holding=holding, cancelled=tuple(cancelled), submitted=tuple(submitted),
                          waiting=tuple(waiting))


@attrs.frozen(kw_only=True)
class FlattenStep:
    """One ``Flattener.step``: ``attempted`` is False while backing off.

    ``flat`` is True only when this step's attempt saw the venue flat.
    ``error`` says why the attempt failed; ``unreachable`` is True when it failed
    because the venue did not answer; ``tripped`` is True when this step
    tripped the kill switch; ``next_attempt`` is the earliest next attempt.
    """

    at: dt.datetime
    attempted: bool
    flat: bool
    attempt: FlattenAttempt | None = None
    error: str = ""
    unreachable: bool = False
    tripped: bool = False
    next_attempt: dt.datetime | None = None


class Flattener:
    """Drives flattening to zero; call ``step(now)`` once per bar or heartbeat,
    after the runner applied ``adapter.drain()`` to the book.

    A closing order gets ``resend_after_steps`` steps to fill; after that it is
    cancelled and sent again. Each failure (adapter unavailable, or a symbol
    still held when a new closing order is needed) counts; after a failure the
    next attempt waits ``backoff.delay(failures)``; from ``trip_after_failures``
    failures on the kill switch (if given) is tripped: ``disconnect`` when the
    venue could not be reached, ``flatten_failed`` when closing orders did not
    flatten.
    It reports ``flat`` only from a venue that answered.
    """

    def __init__(
        self,
        adapter: BrokerAdapter,
        *,
        book: PositionBook | None = None,
        killswitch: KillSwitch | None = None,
        symbols: Collection[str] | None = None,
        backoff: Backoff | None = None,
        trip_after_failures: int = 1,
        resend_after_steps: int = 3,
        id_prefix: str = "flatten",
        record: Record = _no_record,
    ) -> None:
        self.adapter = adapter
        self.record = record
        self.book = book
        self.killswitch = killswitch
        self.symbols = None if symbols is None else frozenset(symbols)
        self.backoff = backoff or (killswitch.backoff if killswitch is not None else Backoff())
        self.trip_after_failures = trip_after_failures
        self.resend_after_steps = resend_after_steps
        self.id_prefix = id_prefix
        self._ids = 0
        self._failures = 0
        self._next: dt.datetime | None = None
        self._sent: dict[str, tuple[str, int]] = {}
        self._tried: set[str] = set()
        self._reported: set[str] = set()
        self._steps = 0
        self._flat = False

    @property
    def flat(self) -> bool:
        """True when the last attempt saw the venue flat (False before any attempt)."""
        return self._flat

    @property
    def in_flight(self) -> bool:
        """True while a closing order this flattener sent may still be working at the venue."""
        return bool(self._sent)

    @property
    def failures(self) -> int:
        """Consecutive failed attempts (0 after a flat report)."""
        return self._failures

    def _new_id(self) -> str:
        self._ids += 1
        return f"{self.id_prefix}-{self._ids}"

    def step(self, now: dt.datetime) -> FlattenStep:
        """Make one attempt if due; see the class docstring. Raises nothing but ``ValueError`` for a naive ``now``:
        an attempt that fails (venue unreachable, a machine refusing) is reported and retried."""
        require_aware(now, "now")
        if self._next is not None and now < self._next:
            return FlattenStep(at=now, attempted=False, flat=False, next_attempt=self._next)
        self._steps += 1
        skip: set[str] = set()
        expired: set[str] = set()
        try:
            open_orders = self.adapter.open_orders()
            working = {o.client_order_id for o in open_orders}
            for o in open_orders:
                # a closing order sent by an attempt cut short by a disconnect: track it too
                if o.purpose == FLATTEN and o.client_order_id.startswith(self.id_prefix + "-"):
                    self._sent.setdefault(o.client_order_id, (o.symbol, self._steps))
            for oid, (symbol, sent_step) in list(self._sent.items()):
                if oid not in working:
                    del self._sent[oid]
                    continue
                skip.add(symbol)
                if self._steps - sent_step >= self.resend_after_steps:
                    self.record(ORDER_CANCEL_REQUESTED, {"order_id": oid})
                    owner = self.book.owner(oid) if self.book is not None else None
                    if owner is not None:
                        owner.request_cancel(oid)
                    self.adapter.cancel(oid)
                    del self._sent[oid]
                    expired.add(symbol)
            attempt = flatten_positions(self.adapter, new_id=self._new_id, book=self.book, symbols=self.symbols,
                                        skip=skip, at=now, record=self.record)
        except AdapterUnavailable as exc:
            return self._failed(now, None, f"adapter unavailable: {exc}", DISCONNECT)
        except (StatebotError, ValueError) as exc:
            # a machine refused what the venue's state demands: count it as a failed attempt (the
            # kill switch trips) and keep trying on the backoff schedule; never stop flattening
            return self._failed(now, None, f"{type(exc).__name__}: {exc}")
        self._flat = attempt.flat
        if attempt.flat:
            self._failures = 0
            self._next = None
            self._tried.clear()
            self._reported.clear()
            return FlattenStep(at=now, attempted=True, flat=True, attempt=attempt)
        resent = {o.symbol for o in attempt.submitted} & self._tried
        for order in attempt.submitted:
            self._sent[order.client_order_id] = (order.symbol, self._steps)
            self._tried.add(order.symbol)
        if resent or expired:
            problems = []
            if resent:
                problems.append(f"{', '.join(sorted(resent))} still held after a closing order ended "
                                "(rejected, cancelled or partly filled): closing again")
            if expired:
                problems.append(f"{', '.join(sorted(expired))}: a closing order did not fill within "
                                f"{self.resend_after_steps} steps and was cancelled")
            return self._failed(now, attempt, "; ".join(problems))
        return FlattenStep(at=now, attempted=True, flat=False, attempt=attempt)

    def _failed(self, now: dt.datetime, attempt: FlattenAttempt | None, error: str,
                reason: str = FLATTEN_FAILED) -> FlattenStep:
        self._flat = False
        self._failures += 1
        self._next = now + self.backoff.delay(self._failures)
        tripped = False
        if (self.killswitch is not None and self._failures >= self.trip_after_failures
                and (reason not in self._reported or self.killswitch.allows_entries)):
            # once per reason per flatten episode: retries must not flood the trip record
            self._reported.add(reason)
            tripped = self.killswitch.trip(reason, now, error)
        return FlattenStep(at=now, attempted=True, flat=False, attempt=attempt, error=error, tripped=tripped,
                           unreachable=reason == DISCONNECT, next_attempt=self._next)
