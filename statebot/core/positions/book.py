"""The position book: every (strategy, symbol) position machine, and the router to them.

The runner drains the adapter once per bar or heartbeat and hands every event
to ``PositionBook.apply``. Events of orders no machine knows (the flattener's
unowned orders, orders from before a restart, orders that ended before the last
``ENDED_ORDER_MEMORY`` of their machine) are returned as ``unrouted`` for the
event log and applied to no position; their effect on the venue shows up in
reconciliation. A fill of such an order whose execution the machine of its strategy and
symbol has applied already (a snapshot keeps execution ids, not ended orders) is a
duplicate, as it would have been before the restart.

One kind of unrouted fill is accounted all the same: an execution of the
flattener's own closing order (strategy ``""``, an id ending ``flatten-<n>``
as ``Flattener`` makes them; a trade a person made at the venue is not one), sent because the venue held
contracts whose fill report had not reached their machine yet. The book keeps
such executions (``unowned_fills``) until a machine holds the opposite position,
opened at or before the execution and with no order live: then they close that
position (``PositionMachine.close_by_unowned``) and the round trip is a trade
like any other. The same events fold to the same book, so the fold follows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterable, Mapping, ValuesView
from decimal import ROUND_HALF_EVEN

import attrs

from statebot.core.ports import BracketVenue, BrokerAdapter
from statebot.errors import AdapterUnavailable, EntryRefused, OverFill, StatebotError
from statebot.core.instruments import InstrumentSpec, instrument
from statebot.core.fsm.killswitch import KillSwitch
from statebot.core.fsm.position import (
    ENDED_ORDER_MEMORY,
    EXEC_ID_MEMORY,
    FLAT,
    ClosedTrade,
    PositionMachine,
)
from statebot.core.orders import BracketOrder, BrokerEvent, Fill, OrderRequest, OrderStatus

OWNER_CACHE_SIZE = ENDED_ORDER_MEMORY
"""Order ids whose machine the book caches before starting its lookup cache afresh (a miss costs
one ``knows`` per machine)."""

FLATTENER_ORDER_ID = re.compile(r"(?:^|-)flatten-\d+$")
"""The ids ``Flattener`` gives its orders (``<id_prefix>-<n>``, the prefix ending ``flatten``)."""

UNOWNED_FILL_MEMORY = 64
"""Unowned closing executions kept per symbol waiting for the machine they closed; the oldest
beyond it are dropped (they can only close positions opened before them)."""


@attrs.frozen(kw_only=True)
class Applied:
    """What applying a batch of broker events did.

    ``closed``: round trips completed; ``duplicates``: fills already applied
    (same exec_id), ignored; ``unrouted``: events of orders no machine knows;
    ``anomalies``: ``OverFill`` errors raised by machines (each fill was
    applied; the runner must trip the kill switch); ``errors``: (event, error)
    for every other ``StatebotError`` or ``ValueError`` a machine raised for
    one event (that event changed nothing; the rest of the batch was still
    applied; the runner must trip the kill switch).
    """

    closed: tuple[ClosedTrade, ...] = ()
    duplicates: tuple[Fill, ...] = ()
    unrouted: tuple[BrokerEvent, ...] = ()
    anomalies: tuple[OverFill, ...] = ()
    errors: tuple[tuple[BrokerEvent, Exception], ...] = ()


class PositionBook:
    """Position machines keyed by (strategy, symbol), created on first use.

    ``instruments`` adds or overrides specs beyond the built-ins (MES, ES, MNQ, NQ).
    """

    def __init__(self, instruments: Mapping[str, InstrumentSpec] | None = None) -> None:
        self._instruments = dict(instruments or {})
        self._machines: dict[tuple[str, str], PositionMachine] = {}
        self._owner: dict[str, PositionMachine] = {}
        self._unowned: dict[str, list[Fill]] = {}
        self._unowned_seen: set[str] = set()
        self._unowned_order: deque[str] = deque()

    def machine(self, strategy: str, symbol: str) -> PositionMachine:
        """The machine of ``strategy`` in ``symbol`` (raises ``UnknownInstrument`` for an unknown symbol)."""
        key = (strategy, symbol)
        found = self._machines.get(key)
        if found is None:
            found = PositionMachine(strategy, instrument(symbol, self._instruments))
            self._machines[key] = found
        return found

    def restore(self, machine: PositionMachine) -> None:
        """Put a machine rebuilt from a snapshot (``PositionMachine.from_dict``) in the book,
        replacing any machine of the same strategy and symbol."""
        self._machines[(machine.strategy, machine.symbol)] = machine
        self._owner = {oid: m for oid, m in self._owner.items() if m is not machine and (m.strategy, m.symbol) != (machine.strategy, machine.symbol)}

    def forget_ended(self) -> None:
        """Every machine forgets its ended orders, as a restart does (``PositionMachine.forget_ended``)."""
        for m in self._machines.values():
            m.forget_ended()
        self._owner.clear()

    def instrument(self, symbol: str) -> InstrumentSpec:
        """The specification of ``symbol`` this book converts prices with; raises ``UnknownInstrument``."""
        return instrument(symbol, self._instruments)

    def machines(self) -> tuple[PositionMachine, ...]:
        return tuple(self._machines.values())

    def machines_view(self) -> ValuesView[PositionMachine]:
        """``machines()`` as a view of the book, not a copy (walked after every report): the book
        must not gain a machine while it is walked."""
        return self._machines.values()

    def owner(self, order_id: str) -> PositionMachine | None:
        """The machine that knows ``order_id`` (``PositionMachine.knows``: live, or among its
        recently ended orders), or None."""
        found = self._owner.get(order_id)
        if found is not None and found.knows(order_id):
            return found
        cache = self._owner
        for m in self._machines.values():
            if m.knows(order_id):
                if len(cache) >= OWNER_CACHE_SIZE:
                    # a cache, not a record: the machines know their orders; start afresh to stay bounded
                    cache.clear()
                cache[order_id] = m
                return m
        cache.pop(order_id, None)
        return None

    def unowned_fills(self) -> tuple[Fill, ...]:
        """The flattener's closing executions not yet matched to a machine's position, by symbol then time."""
        return tuple(f for symbol in sorted(self._unowned) for f in self._unowned[symbol])

    def unowned_exec_ids(self) -> tuple[str, ...]:
        """Execution ids of the flattener's closing orders already taken (a repeated report is ignored)."""
        return tuple(self._unowned_order)

    def restore_unowned(self, fills: Iterable[Fill], exec_ids: Iterable[str]) -> None:
        """Put back what ``unowned_fills`` and ``unowned_exec_ids`` returned (a checkpoint)."""
        self._unowned = {}
        for f in fills:
            self._unowned.setdefault(f.symbol, []).append(f)
        self._unowned_order = deque()
        self._unowned_seen = set()
        for exec_id in exec_ids:
            self._remember_unowned(exec_id)

    def _remember_unowned(self, exec_id: str) -> None:
        self._unowned_seen.add(exec_id)
        self._unowned_order.append(exec_id)
        while len(self._unowned_order) > EXEC_ID_MEMORY:
            self._unowned_seen.discard(self._unowned_order.popleft())

    def _take_unowned(self, fill: Fill) -> bool:
        """Keep an execution of the flattener's own closing order; False for a repeated report."""
        if fill.exec_id in self._unowned_seen:
            return False
        self._remember_unowned(fill.exec_id)
        kept = self._unowned.setdefault(fill.symbol, [])
        kept.append(fill)
        del kept[:-UNOWNED_FILL_MEMORY]
        return True

    def _match_unowned(self, symbol: str) -> list[ClosedTrade]:
        """Close machines' positions with the unowned executions that closed them at the venue."""
        kept = self._unowned.get(symbol)
        closed: list[ClosedTrade] = []
        i = 0
        while kept and i < len(kept):
            fill = kept[i]
            m = next((m for m in self._machines.values()
                      if m.symbol == symbol and m.qty * fill.qty < 0 and not m.live_orders()
                      and m.opened_at is not None and m.opened_at <= fill.at), None)
            if m is None:
                i += 1
                continue
            take = min(abs(fill.qty), abs(m.qty))
            part, rest = _split(fill, take)
            trade = m.close_by_unowned(part)
            if rest is None:
                del kept[i]
            else:
                kept[i] = rest
            if trade is not None:
                closed.append(trade)
        if not kept:
            self._unowned.pop(symbol, None)
        return closed

    def _seen_by_a_machine(self, fill: Fill) -> bool:
        m = self._machines.get((fill.strategy, fill.symbol))
        return m is not None and m.seen(fill.exec_id)

    def expected_positions(self) -> dict[str, int]:
        """Net signed contracts per symbol over every strategy; symbols at zero left out."""
        net: dict[str, int] = {}
        for (_, symbol), m in self._machines.items():
            if m.qty:
                net[symbol] = net.get(symbol, 0) + m.qty
        return {s: q for s, q in net.items() if q}

    def apply(self, events: Iterable[BrokerEvent]) -> Applied:
        """Route each event, in order, to the machine that owns its order.

        Never raises for a machine's error: an over-fill is collected in
        ``anomalies`` after the machine applied it, any other ``StatebotError``
        or ``ValueError`` in ``errors``, and the next event is applied, so one
        bad report cannot hide the rest.
        """
        closed: list[ClosedTrade] = []
        duplicates: list[Fill] = []
        unrouted: list[BrokerEvent] = []
        anomalies: list[OverFill] = []
        errors: list[tuple[BrokerEvent, Exception]] = []
        for event in events:
            self._route(event, self.owner(event.order_id), closed, duplicates, unrouted, anomalies, errors)
        if not (closed or duplicates or unrouted or anomalies or errors):
            return _APPLIED_QUIETLY  # most reports (a status, a fill that opens) leave nothing to say
        return Applied(closed=tuple(closed), duplicates=tuple(duplicates), unrouted=tuple(unrouted),
                       anomalies=tuple(anomalies), errors=tuple(errors))

    def apply_one(self, event: BrokerEvent) -> tuple[Applied, PositionMachine | None]:
        """``apply((event,))``, and the machine that owns ``event``'s order (None: unrouted), found
        once for both (the runner logs a fill with whether it was routed)."""
        m = self.owner(event.order_id)
        closed: list[ClosedTrade] = []
        duplicates: list[Fill] = []
        unrouted: list[BrokerEvent] = []
        anomalies: list[OverFill] = []
        errors: list[tuple[BrokerEvent, Exception]] = []
        self._route(event, m, closed, duplicates, unrouted, anomalies, errors)
        if not (closed or duplicates or unrouted or anomalies or errors):
            return _APPLIED_QUIETLY, m
        return Applied(closed=tuple(closed), duplicates=tuple(duplicates), unrouted=tuple(unrouted),
                       anomalies=tuple(anomalies), errors=tuple(errors)), m

    def _route(self, event: BrokerEvent, m: PositionMachine | None, closed: list[ClosedTrade], duplicates: list[Fill],
               unrouted: list[BrokerEvent], anomalies: list[OverFill],
               errors: list[tuple[BrokerEvent, Exception]]) -> None:
        """Apply one event to ``m``, the machine that owns its order (None: no machine knows it), adding
        what it did to the lists ``apply`` reports."""
        if m is None:
            if isinstance(event, Fill) and not event.strategy and FLATTENER_ORDER_ID.search(event.order_id):
                if not self._take_unowned(event):
                    duplicates.append(event)
                    return
                closed.extend(self._match_unowned(event.symbol))
            elif isinstance(event, Fill) and self._seen_by_a_machine(event):
                # a repeat of an order no machine remembers (a snapshot keeps execution
                # ids, not ended orders): already applied, so a duplicate, not a stranger
                duplicates.append(event)
                return
            unrouted.append(event)
            return
        try:
            if isinstance(event, OrderStatus):
                m.on_status(event)
            elif m.seen(event.exec_id):
                duplicates.append(event)
            else:
                trade = m.on_fill(event)
                if trade is not None:
                    closed.append(trade)
                if event.symbol in self._unowned:
                    closed.extend(self._match_unowned(event.symbol))
        except OverFill as exc:
            anomalies.append(exc)
            if exc.closed is not None:
                closed.append(exc.closed)  # type: ignore[arg-type]
        except (StatebotError, ValueError) as exc:
            errors.append((event, exc))


_APPLIED_QUIETLY = Applied()
"""What ``apply`` returns when every event was applied with nothing to report (``Applied`` is frozen: one serves all)."""


def _split(fill: Fill, qty: int) -> tuple[Fill, Fill | None]:
    """``fill`` cut into ``qty`` contracts and the rest (None when nothing is left); the
    commission is shared by contracts, the rest taking exactly what remains."""
    size = abs(fill.qty)
    if qty >= size:
        return fill, None
    sign = 1 if fill.qty > 0 else -1
    commission = (fill.commission * qty / size).quantize(fill.commission, rounding=ROUND_HALF_EVEN)
    part = attrs.evolve(fill, qty=sign * qty, commission=commission)
    return part, attrs.evolve(fill, qty=sign * (size - qty), commission=fill.commission - commission)


def send_entry(
    book: PositionBook,
    adapter: BrokerAdapter,
    order: OrderRequest,
    *,
    at: dt.datetime,
    killswitch: KillSwitch,
    session_allows: bool,
) -> bool:
    """The one gate entries go through: check, record, send.

    ``killswitch`` and ``session_allows`` are required: the gate is never open
    by default. Raises ``EntryRefused`` (nothing sent) when the
    session forbids entries, the kill switch is TRIPPED, or the position is not
    FLAT with nothing live.
    Returns False when the adapter was unavailable (the machine recorded the
    order as rejected), True when the order was handed to the venue.
    """
    m = _entry_gate(book, order, at=at, killswitch=killswitch, session_allows=session_allows)
    m.submit_entry(order)
    return _send(m, adapter, order, at)


def send_bracket(
    book: PositionBook,
    adapter: BracketVenue,
    bracket: BracketOrder,
    *,
    at: dt.datetime,
    killswitch: KillSwitch,
    session_allows: bool,
) -> bool:
    """An entry and its protective orders through the same gate as ``send_entry``: check, record
    the entry and its protectors on the position machine, send them as one bracket.

    Raises ``EntryRefused`` as ``send_entry`` does (nothing recorded, nothing sent). Returns False
    when the adapter was unavailable (every order of the bracket recorded as rejected), True when
    the bracket was handed to the venue.
    """
    m = _entry_gate(book, bracket.entry, at=at, killswitch=killswitch, session_allows=session_allows)
    m.submit_entry(bracket.entry)
    m.submit_protectors(bracket.protectors)
    try:
        adapter.submit_bracket(bracket)
    except AdapterUnavailable as exc:
        for order in bracket.orders:
            m.submit_failed(order.client_order_id, at, f"adapter unavailable: {exc}")
        return False
    return True


def _entry_gate(book: PositionBook, order: OrderRequest, *, at: dt.datetime, killswitch: KillSwitch,
                session_allows: bool) -> PositionMachine:
    m = book.machine(order.strategy, order.symbol)
    if not session_allows:
        raise EntryRefused(f"entry {order.client_order_id} refused: the session does not allow entries at {at.isoformat()}")
    if not killswitch.allows_entries:
        raise EntryRefused(f"entry {order.client_order_id} refused: the kill switch is TRIPPED")
    if m.state != FLAT or not m.may_enter():
        raise EntryRefused(f"entry {order.client_order_id} refused: {m.strategy}/{m.symbol} is {m.state} "
                           f"with live orders {list(m.live_orders())}")
    return m


def send_exit(book: PositionBook, adapter: BrokerAdapter, order: OrderRequest, *, at: dt.datetime) -> bool:
    """Record and send an exit; cancel the rest of a partly filled entry first.

    Returns False when the adapter was unavailable (the machine then either
    never saw the exit, or recorded it as rejected). Raises ``InvalidTransition`` or
    ``ValueError`` from ``PositionMachine.submit_exit``.
    """
    m = book.machine(order.strategy, order.symbol)
    # recorded first (the entries it replaces marked for cancelling), then sent: what the
    # machine holds is what the log's ORDER_SUBMITTED says, whatever the venue answers
    to_cancel = m.submit_exit(order)
    try:
        for oid in to_cancel:
            adapter.cancel(oid)
    except AdapterUnavailable as exc:
        m.submit_failed(order.client_order_id, at, f"adapter unavailable: {exc}")
        return False
    return _send(m, adapter, order, at)


def _send(m: PositionMachine, adapter: BrokerAdapter, order: OrderRequest, at: dt.datetime) -> bool:
    try:
        adapter.submit(order)
    except AdapterUnavailable as exc:
        m.submit_failed(order.client_order_id, at, f"adapter unavailable: {exc}")
        return False
    return True
