"""The position lifecycle of one (strategy, symbol): FLAT -> ENTERING -> OPEN -> EXITING -> FLAT.

The state follows from what the venue reported, by one rule applied after
every event:

- EXITING: an exit (or flatten) order is live and not being cancelled
  (contracts may already be zero: a late report is still on its way);
- ENTERING: an entry order is live and not being cancelled, or nothing is held
  and a cancelled entry is still unconfirmed (a fill may still come);
- OPEN: contracts are held and no order above is working;
- FLAT: nothing is held and nothing above is working.

An order is *live* until its fills reach its quantity, or the venue reported
it ended (FILLED, CANCELLED, REJECTED) and every fill that report counted has
arrived. Positions change
only by fills, each applied once (keyed by ``exec_id``), also after a cancel
or in any state: brokers fill orders they already confirmed cancelled. Fills
beyond an order's quantity, fills that reverse the position, fills of a
closing (exit/flatten) order that start from zero or move the position away
from zero, and fills of unknown orders are applied (the venue holds the
contracts) and then raised as ``OverFill``; the runner trips the kill switch
and flattens.

A closing order being cancelled still counts against what may be closed until
the venue confirms the cancel (or lists it no longer working), so closing
orders never stack past the position.

Protective orders (purpose ``protect``: a bracket's GTC stop and target, one
cancels the other) rest at the venue beside the position and do not make it
EXITING: an OPEN position with its stop working is OPEN. Their fills close the
position like an exit's (a fill that opens one is an over-fill). While one is
live (working, or being cancelled until the venue confirms) it counts against
what may be closed, the largest of an OCA group once: an exit or flatten order
can be sent only once the protectors' cancels are confirmed, so a stop and an
exit never both close the same contracts, and no stop outlives the position to
open a new one. A new entry waits until no protector of the last one is live.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from statebot.errors import EntryRefused, InvalidTransition, OverFill
from statebot.core.instruments import InstrumentSpec
from statebot.core.fsm.table import MachineSpec, TableMachine, Transition
from statebot.core.orders import (
    CANCELLED,
    ENTRY,
    FILLED,
    PROTECT,
    REJECTED,
    SUBMITTED,
    TERMINAL_STATUSES,
    Fill,
    OrderRequest,
    OrderStatus,
)

SNAPSHOT_EXEC_IDS = 1000
"""How many of the latest applied exec ids a snapshot keeps (to refuse a fill reported again)."""

FLAT = "FLAT"
ENTERING = "ENTERING"
OPEN = "OPEN"
EXITING = "EXITING"

POSITION_SPEC = MachineSpec(
    name="position",
    states=(FLAT, ENTERING, OPEN, EXITING),
    initial=FLAT,
    description=(
        "One strategy's position in one symbol. Quantities are signed; positions change only by "
        "fills, each execution applied once, also after a cancel. Over-fills are applied and raised."
    ),
    invariants=(
        'a broker position the machines do not expect is reported, never adopted',
        "a machine's position the venue does not hold is written off only by a person, with a note, while tripped",
        'a closing order being cancelled still counts until the venue confirms: closing orders never stack past the position',
        "a closing order's fill that starts from zero or moves away from zero is applied and raised",
        'a duplicate execution report (same exec_id) is applied once',
        "a round trip closed by the flattener's unowned order is a trade of the machine that held it",
        'a fill repeated by IB, or replayed after a reconnect, reaches the position machines once',
        'a non-terminal status after a terminal one never revives the order',
        'a report of an order past the ended-order memory is never applied silently',
        'an entry rejected or cancelled with nothing filled returns to FLAT',
        'an execution correction replaces the fill it corrects instead of adding to it',
        'an execution repeated by IB (same execId) is applied once',
        'an exit that fills after its cancel was asked never wedges the machine or the flattener',
        'an invalid trigger raises InvalidTransition naming state and trigger',
        'an open position and its live orders survive a restart',
        'an over-fill is applied (the venue holds it), logged and trips the kill switch',
        'an over-fill is applied to the position and raised, never absorbed',
        "every outcome of the position's derivation from every state is a table row or documented unreachable",
        'fills arriving after a cancel are applied, never dropped',
        "in OBSERVE mode no order, cancel or global cancel reaches the venue's socket",
        'no entry order is submitted for a position that may not enter',
        'one bad report in a batch never stops the rest of the batch from being applied',
        "position qty is the sum of unique fills; FLAT holds nothing; the venue's book equals the machines' when reports are in; no entry is sent for a position that may not enter",
    ),
    transitions=(
        Transition(trigger="submit_entry", source=FLAT, dest=ENTERING,
                   why="an entry order is sent; only from FLAT with no order of this position still live"),
        Transition(trigger="fill", source=ENTERING, dest=ENTERING, guard="lands_entering",
                   why="part of the entry filled; the rest still works; the position is what filled"),
        Transition(trigger="fill", source=ENTERING, dest=FLAT, guard="lands_flat",
                   why="the entry's last fill brought a position left by an anomaly back to zero"),
        Transition(trigger="fill", source=ENTERING, dest=OPEN, guard="lands_open",
                   why="the entry filled in full, or part filled while its rest is being cancelled"),
        Transition(trigger="order_ended", source=ENTERING, dest=FLAT, guard="lands_flat",
                   why="the entry was rejected or cancelled with nothing filled"),
        Transition(trigger="order_ended", source=ENTERING, dest=OPEN, guard="lands_open",
                   why="the entry ended after a partial fill: hold what filled"),
        Transition(trigger="cancel_entry", source=ENTERING, dest=OPEN, guard="lands_open",
                   why="the rest of a partly filled entry is being cancelled: hold what filled, late fills still count"),
        Transition(trigger="cancel_entry", source=ENTERING, dest=ENTERING, guard="lands_entering",
                   why="cancel asked with nothing filled: wait for the venue's confirmation (a fill may still come)"),
        Transition(trigger="submit_exit", source=OPEN, dest=EXITING,
                   why="an exit or flatten order for the held contracts is sent"),
        Transition(trigger="submit_exit", source=ENTERING, dest=EXITING, guard="holding",
                   why="exit during a partly filled entry: the entry's rest is cancelled, the filled part exits"),
        Transition(trigger="submit_exit", source=EXITING, dest=EXITING,
                   why="another exit or flatten order (e.g. the flatten replacing a cancelled exit); never past what is held"),
        Transition(trigger="fill", source=EXITING, dest=EXITING, guard="lands_exiting",
                   why="part of the exit filled; the rest still works"),
        Transition(trigger="fill", source=EXITING, dest=FLAT, guard="lands_flat",
                   why="the exit filled: the round trip is closed (on_fill returns the ClosedTrade)"),
        Transition(trigger="fill", source=EXITING, dest=ENTERING, guard="lands_entering",
                   why="the exit closed what was held while a cancelled entry is unconfirmed: wait for it"),
        Transition(trigger="fill", source=EXITING, dest=OPEN, guard="lands_open",
                   why="the exit order is done but contracts remain (a late entry fill): exit again"),
        Transition(trigger="order_ended", source=EXITING, dest=OPEN, guard="lands_open",
                   why="the exit was rejected or cancelled: contracts remain, exit again"),
        Transition(trigger="order_ended", source=(FLAT, OPEN), dest=ENTERING, guard="lands_entering",
                   why="a later terminal report of an ended entry counts a fill not yet received: wait for it"),
        Transition(trigger="order_ended", source=(FLAT, ENTERING, OPEN), dest=EXITING, guard="lands_exiting",
                   why="a later terminal report of an ended exit counts a fill not yet received: wait for it"),
        Transition(trigger="order_ended", source=EXITING, dest=FLAT, guard="lands_flat",
                   why="a closing order ended after another closing order already closed the position"),
        Transition(trigger="order_ended", source=EXITING, dest=ENTERING, guard="lands_entering",
                   why="the exit ended with nothing held while a cancelled entry is unconfirmed: wait for it"),
        Transition(trigger="fill", source=OPEN, dest=OPEN, guard="lands_open",
                   why="a late fill of an order that already ended changes the position: apply it"),
        Transition(trigger="fill", source=OPEN, dest=FLAT, guard="lands_flat",
                   why="a late exit fill closed the position"),
        Transition(trigger="fill", source=OPEN, dest=ENTERING, guard="lands_entering",
                   why="a late exit fill closed what was held while a cancelled entry is unconfirmed: wait for it"),
        Transition(trigger="fill", source=FLAT, dest=OPEN, guard="lands_open",
                   why="a late entry fill after the entry ended: the contracts are held, never ignored"),
        Transition(trigger="anomalous_fill", source=(FLAT, ENTERING, OPEN, EXITING), dest=FLAT, guard="lands_flat",
                   why="an over-fill or unknown order's fill is applied, then raised as OverFill"),
        Transition(trigger="anomalous_fill", source=(FLAT, ENTERING, OPEN, EXITING), dest=ENTERING, guard="lands_entering",
                   why="an over-fill or unknown order's fill is applied, then raised as OverFill"),
        Transition(trigger="anomalous_fill", source=(FLAT, ENTERING, OPEN, EXITING), dest=OPEN, guard="lands_open",
                   why="an over-fill or unknown order's fill is applied, then raised as OverFill"),
        Transition(trigger="anomalous_fill", source=(FLAT, ENTERING, OPEN, EXITING), dest=EXITING, guard="lands_exiting",
                   why="an over-fill or unknown order's fill is applied, then raised as OverFill"),
        Transition(trigger="unowned_close", source=OPEN, dest=FLAT, guard="lands_flat",
                   why="the flattener's unowned order closed contracts this machine learned of only afterwards "
                       "(a late report): the round trip is closed at that order's price"),
        Transition(trigger="unowned_close", source=OPEN, dest=OPEN, guard="lands_open",
                   why="the flattener's unowned order closed part of the contracts this machine learned of afterwards"),
        Transition(trigger="protect", source=ENTERING, dest=ENTERING,
                   why="the entry's protective stop (and target) are sent with it as a bracket; resting at the venue "
                       "they do not make the position EXITING"),
        Transition(trigger="protect", source=OPEN, dest=OPEN,
                   why="a protective stop is sent again for the held contracts (the one before it was lost)"),
        Transition(trigger="adopt", source=FLAT, dest=OPEN,
                   why="start-up in OBSERVE mode: the broker's position is adopted explicitly, never silently"),
        Transition(trigger="write_off", source=(ENTERING, OPEN, EXITING), dest=FLAT,
                   why="a person accepts, with a note, that the venue holds none of it: written off, no order sent"),
    ),
)


UNREACHABLE_OUTCOMES: dict[tuple[str, str, str], str] = {
    ("order_ended", FLAT, OPEN): "a status never changes the quantity: FLAT holds nothing, OPEN holds something",
    ("order_ended", OPEN, FLAT): "a status never changes the quantity: OPEN holds something, FLAT holds nothing",
    ("fill", FLAT, FLAT): "a fill from FLAT (nothing held) leaves a non-zero quantity",
    ("fill", FLAT, ENTERING): "FLAT has no live entry (a waiting one with nothing held is ENTERING) and fills end orders",
    ("fill", FLAT, EXITING): "fills only end orders; an exit working after the fill was working before it (EXITING)",
    ("fill", ENTERING, EXITING): "fills only end orders; an exit working after the fill was working before it (EXITING)",
    ("fill", OPEN, EXITING): "fills only end orders; an exit working after the fill was working before it (EXITING)",
}
"""(trigger, source, outcome) pairs of the derivation no row covers, each with the reason it cannot
happen. Should a fill land on one anyway it is applied and raised as ``OverFill("unexpected_fill")``;
a status landing on one raises ``InvalidTransition`` and changes nothing."""

_ROUTES = frozenset((row.trigger, src, row.dest) for row in POSITION_SPEC.transitions for src in row.source)

EXEC_ID_MEMORY = 1_000
"""How many of its most recent execution ids a position machine remembers to recognise repeated
reports (as many as a snapshot keeps). A repeat older than that is applied again; against an order
that already ended it shows as an over-fill (raised), so it is never silent. Four times
``ENDED_ORDER_MEMORY``: a repeated fill of a remembered order is almost always recognised."""

ENDED_ORDER_MEMORY = 256
"""How many of its most recently ended orders a position machine remembers, to recognise their late
or repeated reports (a stale status, a fill after a cancel, an over-fill). Older ones are forgotten,
so memory stays flat over a long run: a report about a forgotten order is one of an unknown order
(``knows`` is False): ``PositionBook.apply`` returns it as ``unrouted`` and applies it to no
position (the venue's position then differs and reconciliation reports the mismatch); sent to the
machine directly, a status is ignored and a fill is applied and raised as ``OverFill``."""


@attrs.frozen(kw_only=True)
class ClosedTrade:
    """One round trip: from a flat position back to flat.

    ``qty`` is every contract entered during the trip, signed (long > 0); ``avg_entry_ticks`` and
    ``avg_exit_ticks`` are quantity-weighted averages (Decimal ticks);
    ``commission`` is the sum over every fill of the trip (a fill that closes
    this trip and opens the next pays each its share by contracts); ``gross_pnl`` is
    exact ((exit - entry) ticks x tick_value x qty); ``net_pnl`` subtracts the
    commission. Times are the first entry fill's and the last exit fill's.
    """

    strategy: str
    symbol: str
    qty: int
    entry_time: dt.datetime
    exit_time: dt.datetime
    avg_entry_ticks: Decimal
    avg_exit_ticks: Decimal
    commission: Decimal
    gross_pnl: Decimal
    fills: int

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.commission


@attrs.define
class _Tracked:
    order: OrderRequest
    filled: int = 0
    status: str = SUBMITTED
    reported_filled: int = 0
    cancel_requested: bool = False

    @property
    def live(self) -> bool:
        if self.filled >= abs(self.order.qty):
            return False
        return self.status not in (FILLED, CANCELLED, REJECTED) or self.filled < self.reported_filled

    @property
    def is_entry(self) -> bool:
        return self.order.purpose == ENTRY

    @property
    def is_protector(self) -> bool:
        return self.order.purpose == PROTECT

    @property
    def may_still_fill(self) -> int:
        """Contracts the venue may still fill: up to the order's size while working, only the
        fills a terminal report counted once it ended."""
        if not self.live:
            return 0
        cap = self.reported_filled if self.status in TERMINAL_STATUSES else abs(self.order.qty)
        return max(cap - self.filled, 0)


@attrs.define
class _Trip:
    direction: int
    opened_at: dt.datetime
    open_qty: int = 0
    open_notional: int = 0
    close_qty: int = 0
    close_notional: int = 0
    commission: Decimal = Decimal(0)
    fills: int = 0


class PositionMachine(TableMachine):
    """The position of ``strategy`` in ``instrument``, driven by order events.

    Call ``submit_entry``/``submit_exit`` BEFORE handing the order to the
    adapter (a fill may arrive at once); if the adapter raises, report it with
    ``submit_failed``. Feed every ``OrderStatus`` to ``on_status`` and every
    ``Fill`` to ``on_fill``. Triggers the table does not allow raise
    ``InvalidTransition`` naming state and trigger, and change nothing.
    """

    SPEC = POSITION_SPEC

    def __init__(self, strategy: str, instrument: InstrumentSpec) -> None:
        super().__init__()
        self.strategy = strategy
        self.instrument = instrument
        self._qty = 0
        # orders the venue may still fill; small, so per-event cost stays flat over a long run
        self._live: dict[str, _Tracked] = {}
        # the last ENDED_ORDER_MEMORY orders that ended, oldest first: kept to route and check
        # late reports (a lookup, never a scan)
        self._ended: dict[str, _Tracked] = {}
        self._exec_ids: set[str] = set()
        self._exec_order: deque[str] = deque()
        self._trip: _Trip | None = None
        self._dest = FLAT

    # queries ------------------------------------------------------------------

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    @property
    def qty(self) -> int:
        """Signed contracts held: the sum of every unique fill applied."""
        return self._qty

    @property
    def avg_entry_ticks(self) -> Decimal | None:
        """Quantity-weighted entry price (Decimal ticks) of the open trip, None when flat."""
        trip = self._trip
        if trip is None or trip.open_qty == 0:
            return None
        return Decimal(trip.open_notional) / trip.open_qty

    def may_enter(self) -> bool:
        """True when an entry may be sent: FLAT and no order of this position is live."""
        return self._state == FLAT and not self._live

    def knows(self, order_id: str) -> bool:
        """True for a live order and for one of the last ``ENDED_ORDER_MEMORY`` that ended."""
        return order_id in self._live or order_id in self._ended

    def seen(self, exec_id: str) -> bool:
        """True when the execution ``exec_id`` was applied (among the last ``EXEC_ID_MEMORY``)."""
        return exec_id in self._exec_ids

    def seen_any(self) -> bool:
        """True once an execution was applied (its id is remembered against duplicates)."""
        return bool(self._exec_order)

    def live_orders(self) -> tuple[str, ...]:
        """Client order ids the venue may still fill (including ones being cancelled)."""
        return tuple(self._live)

    def live_protectors(self) -> tuple[str, ...]:
        """Protective orders the venue may still fill (including ones being cancelled)."""
        return tuple(oid for oid, t in self._live.items() if t.is_protector)

    def working_protectors(self) -> tuple[str, ...]:
        """Live protective orders not yet asked to cancel."""
        return tuple(oid for oid, t in self._live.items() if t.is_protector and not t.cancel_requested)

    def cancel_requested(self, order_id: str) -> bool:
        """True when a cancel was asked for ``order_id`` (live or among the recently ended); False for an unknown one."""
        tracked = self._tracked(order_id)
        return tracked is not None and tracked.cancel_requested

    def working_entries(self) -> tuple[str, ...]:
        """Live entry orders not yet asked to cancel."""
        return tuple(oid for oid, t in self._live.items() if t.is_entry and not t.cancel_requested)

    def filled(self, order_id: str) -> int:
        """Contracts of ``order_id`` filled so far; raises ``KeyError`` for an unknown order."""
        tracked = self._tracked(order_id)
        if tracked is None:
            raise KeyError(order_id)
        return tracked.filled

    def order(self, order_id: str) -> OrderRequest:
        """The order recorded as ``order_id``; raises ``KeyError`` for an unknown one."""
        tracked = self._tracked(order_id)
        if tracked is None:
            raise KeyError(order_id)
        return tracked.order

    # commands -----------------------------------------------------------------

    def submit_entry(self, order: OrderRequest) -> None:
        """Record an entry order about to be sent. FLAT -> ENTERING.

        Raises ``InvalidTransition`` outside FLAT, ``EntryRefused`` when an
        order of this position is still live, ``ValueError`` for an order of
        another strategy/symbol or purpose.
        """
        self._check_order(order, entry=True)
        if self._state != FLAT:
            raise InvalidTransition(self.SPEC.name, self.state, "submit_entry")
        if self.live_orders():
            raise EntryRefused(f"{self.strategy}/{self.symbol}: an order is still live: {', '.join(self.live_orders())}")
        self._register(order)
        self.fire("submit_entry")

    def submit_exit(self, order: OrderRequest) -> tuple[str, ...]:
        """Record an exit or flatten order about to be sent; return entry orders to cancel.

        The order must close at most what is held, counting closing orders
        still live, also those being cancelled until the venue confirms the
        cancel (so closing orders never stack past zero).
        From ENTERING (with contracts held) the working entry is marked for
        cancelling: send ``adapter.cancel`` for each returned id. Raises
        ``InvalidTransition`` in FLAT or when nothing is held, ``ValueError`` for
        a quantity that would reverse the position.
        """
        self.check_exit(order)
        to_cancel = self.working_entries()
        self._register(order)
        for oid in to_cancel:
            self._live[oid].cancel_requested = True
        self._transition("submit_exit", self._derive())
        return to_cancel

    def submit_protectors(self, orders: tuple[OrderRequest, ...]) -> None:
        """Record protective orders about to be sent (a bracket's stop and target with its entry,
        or a stop sent again for held contracts). ENTERING and OPEN stay as they are.

        Raises ``InvalidTransition`` outside ENTERING and OPEN, ``ValueError`` for an order
        that is not protective, of another position, or that would close more than the
        position can hold (the entry's size, or what is held).
        """
        if self._state not in (ENTERING, OPEN):
            raise InvalidTransition(self.SPEC.name, self.state, "protect")
        entries = sum(abs(t.order.qty) for t in self._live.values() if t.is_entry)
        for order in orders:
            self._check_order(order, entry=False)
            if order.purpose != PROTECT:
                raise ValueError(f"order {order.client_order_id} has purpose {order.purpose!r}, not protect")
            side = self._qty if self._qty else -order.qty
            if order.qty * side > 0 or abs(order.qty) > max(abs(self._qty), entries):
                raise ValueError(f"{self.strategy}/{self.symbol}: protective order {order.client_order_id} for "
                                 f"{order.qty} does not close position {self._qty} (entries working: {entries})")
        for order in orders:
            self._register(order)
        self.fire("protect")

    def modify_protector(self, order: OrderRequest) -> None:
        """Record new terms (quantity, price) of a live protective order, same id, about to be sent to the
        venue. Raises ``ValueError`` for an order not live and protective here, one that would close
        more than the position can hold, or one smaller than what it already executed."""
        tracked = self._live.get(order.client_order_id)
        if tracked is None or not tracked.is_protector or order.purpose != PROTECT:
            raise ValueError(f"{self.strategy}/{self.symbol}: {order.client_order_id} is not a live protective order")
        entries = sum(abs(t.order.qty) for t in self._live.values() if t.is_entry)
        if order.qty * tracked.order.qty <= 0 or abs(order.qty) > max(abs(self._qty), entries) \
                or abs(order.qty) < tracked.filled:
            raise ValueError(f"{self.strategy}/{self.symbol}: protective order {order.client_order_id} for {order.qty} "
                             f"does not fit position {self._qty} (filled {tracked.filled}, entries working: {entries})")
        tracked.order = order

    def entry_live(self) -> bool:
        """True while an entry order of this position may still fill."""
        return any(t.is_entry for t in self._live.values())

    def check_exit(self, order: OrderRequest) -> None:
        """Raise what ``submit_exit(order)`` would raise for a bad order; change nothing."""
        self._check_order(order, entry=False)
        if order.purpose == PROTECT:
            raise ValueError(f"order {order.client_order_id} is protective: send it with submit_protectors")
        held = self._qty
        if held == 0:
            raise InvalidTransition(self.SPEC.name, self.state, "submit_exit")
        # a closing order being cancelled may still fill until the venue confirms: count it; of the
        # protectors (one cancels the other) the largest once
        pending = sum(t.may_still_fill for t in self._live.values() if not t.is_entry and not t.is_protector)
        pending += max((t.may_still_fill for t in self._live.values() if t.is_protector), default=0)
        if order.qty * held > 0 or abs(order.qty) + pending > abs(held):
            raise ValueError(f"{self.strategy}/{self.symbol}: exit qty {order.qty} with {pending} already "
                             f"working does not close position {held}")

    def cancel_entry(self) -> tuple[str, ...]:
        """Mark the working entry for cancelling; return the order ids to send ``cancel`` for.

        With part filled the state becomes OPEN at once (late fills still
        count); with nothing filled it stays ENTERING until the venue confirms.
        Raises ``InvalidTransition`` outside ENTERING.
        """
        if self._state != ENTERING:
            raise InvalidTransition(self.SPEC.name, self.state, "cancel_entry")
        ids = self.working_entries()
        changes = {oid: attrs.evolve(self._live[oid], cancel_requested=True) for oid in ids}
        dest = self._derive(changes)
        self._check("cancel_entry", dest)
        self._store(changes)
        self._transition("cancel_entry", dest)
        return ids

    def request_cancel(self, order_id: str) -> None:
        """Note that ``cancel`` was sent for ``order_id`` (any purpose); the state follows.

        A closing order being cancelled still counts as live (it may fill) until the venue
        confirms. Raises ``InvalidTransition`` (changing nothing) only for an outcome the table
        lacks, which ``UNREACHABLE_OUTCOMES`` says cannot happen.
        """
        tracked = self._live.get(order_id)
        if tracked is None or tracked.cancel_requested:
            return
        if tracked.is_entry and self._state == ENTERING:
            self.cancel_entry()
            return
        self._change("order_ended", {order_id: attrs.evolve(tracked, cancel_requested=True)})

    def forget_ended(self) -> None:
        """Forget the orders that ended, as a restart does (a checkpoint keeps live orders only): a
        later report of one is then one of an unknown order. The fold calls it where the log says a
        run started, the runner when it restores, so the two agree on what a late report finds; the
        execution ids stay, so a repeated fill is still a duplicate."""
        self._ended.clear()

    def venue_not_working(self, order_id: str) -> None:
        """The venue lists ``order_id`` as no longer working (e.g. its open orders): treat it as
        ended with the fills received so far.

        For the flattener, which sizes closing orders by the venue's own position. A fill of it
        that still arrives is applied, and raised as ``OverFill`` if it moves the position away
        from zero. Changes nothing for an order that is not live.
        """
        tracked = self._live.get(order_id)
        if tracked is None:
            return
        self._change("order_ended", {order_id: attrs.evolve(tracked, status=CANCELLED, reported_filled=tracked.filled,
                                                            cancel_requested=True)})

    def submit_failed(self, order_id: str, at: dt.datetime, reason: str) -> None:
        """The adapter refused the order (e.g. ``AdapterUnavailable``): same as a REJECTED status."""
        tracked = self._tracked(order_id)
        if tracked is None:
            raise KeyError(order_id)
        self.on_status(OrderStatus(order_id=order_id, status=REJECTED, filled=tracked.filled,
                                   remaining=abs(tracked.order.qty) - tracked.filled, at=at, reason=reason))

    def adopt(self, qty: int, price_ticks: int, at: dt.datetime) -> None:
        """OBSERVE-mode start-up only: hold ``qty`` contracts the broker reports. FLAT -> OPEN."""
        if self._state != FLAT or qty == 0:
            raise InvalidTransition(self.SPEC.name, self.state, "adopt")
        self._start_trip(qty, price_ticks, at)
        self._qty = qty
        self._dest = OPEN
        self.fire("adopt")

    @property
    def opened_at(self) -> dt.datetime | None:
        """When the open round trip's first fill executed at the venue (None when flat)."""
        return self._trip.opened_at if self._trip is not None and self._qty else None

    def close_by_unowned(self, fill: Fill) -> ClosedTrade | None:
        """Apply an execution of the flattener's own (unowned) closing order to this position:
        the flattener closed contracts at the venue whose fill report reached this machine only
        afterwards. Only for a position with no live order, opened at or before ``fill.at``,
        that ``fill`` reduces without crossing zero (``InvalidTransition`` otherwise, nothing
        changed). OPEN -> FLAT (returns the closed round trip) or OPEN (part closed, None).
        The execution id is the flattener's, not this machine's: it is not remembered here."""
        opened = self.opened_at
        if (self._live or opened is None or opened > fill.at or fill.qty * self._qty >= 0
                or abs(fill.qty) > abs(self._qty) or fill.symbol != self.symbol):
            raise InvalidTransition(self.SPEC.name, self.state, "unowned_close")
        closed = self._apply(fill)
        self._transition("unowned_close", self._derive())
        return closed

    def write_off(self) -> int:
        """A person's decision after a reconciliation mismatch: the venue holds none of this
        position, so its quantity is written off (ENTERING / OPEN / EXITING -> FLAT) and no
        order is sent. Only while no order of this machine is live, and only for a non-zero
        quantity (``InvalidTransition`` otherwise, nothing changed). Returns the quantity
        written off. The open trip is dropped: no execution closed it, so no trade is
        recorded; the venue's own fills say what it cost."""
        if self._live or self._qty == 0 or self._state == FLAT:
            raise InvalidTransition(self.SPEC.name, self.state, "write_off")
        qty = self._qty
        self._qty = 0
        self._trip = None
        self._dest = FLAT
        self.fire("write_off")
        return qty

    # events -------------------------------------------------------------------

    def on_status(self, status: OrderStatus) -> None:
        """Apply an order status report. Unknown order ids are ignored (they are not ours, or
        ended before the last ``ENDED_ORDER_MEMORY``).

        A non-terminal status after a terminal one is stale (venues deliver out of order) and
        ignored; the filled count reported never goes down. Raises ``InvalidTransition``
        (changing nothing) only for an outcome the table lacks.
        """
        if status.status not in (CANCELLED, REJECTED):
            # accepted, partly filled or filled: the fills carry the quantities, and a working
            # order stays working until they or a cancel/reject end it; so only the two reports
            # the event log records change a machine, and the log folds to the same machine
            return
        tracked = self._tracked(status.order_id)
        if tracked is None:
            return
        if tracked.status in TERMINAL_STATUSES and not status.terminal:
            return
        self._change("order_ended", {status.order_id: attrs.evolve(
            tracked, status=status.status, reported_filled=max(tracked.reported_filled, status.filled))})

    def on_fill(self, fill: Fill) -> ClosedTrade | None:
        """Apply ``fill`` once; return the round trip it closed, if any.

        A repeated ``exec_id`` changes nothing and returns None. Raises
        ``OverFill`` (after applying) for an over-fill, a reversal through zero
        or an unknown order; its ``closed`` holds a trip the fill closed.
        """
        if fill.exec_id in self._exec_ids:
            return None
        if fill.symbol != self.symbol:
            raise ValueError(f"fill {fill.exec_id} of {fill.symbol} sent to the {self.symbol} position")
        self._remember(fill.exec_id)
        anomaly: tuple[str, str] | None = None
        tracked = self._tracked(fill.order_id)
        if tracked is None:
            anomaly = ("unknown_order", f"fill {fill.exec_id} of unknown order {fill.order_id!r}: {fill.qty} applied")
        else:
            tracked.filled += abs(fill.qty)
            if fill.qty * tracked.order.qty < 0 or tracked.filled > abs(tracked.order.qty):
                anomaly = ("over_fill", (f"order {fill.order_id} for {tracked.order.qty} filled {tracked.filled} "
                                         f"with fill {fill.exec_id} of {fill.qty}"))
        before = self._qty
        closed = self._apply(fill)
        if before != 0 and self._qty * before < 0 and anomaly is None:
            anomaly = ("through_zero", f"fill {fill.exec_id} of {fill.qty} reversed position {before} to {self._qty}")
        if anomaly is None and tracked is not None and not tracked.is_entry and fill.qty * before >= 0:
            # a closing order can only close: from zero, or away from zero, it opens a position nobody asked for
            anomaly = ("over_fill", (f"closing order {fill.order_id} fill {fill.exec_id} of {fill.qty} moved "
                                     f"position {before} to {self._qty}, away from zero"))
        if tracked is not None:
            self._store({fill.order_id: tracked})
        dest = self._derive()
        if anomaly is None and ("fill", self._state, dest) not in _ROUTES:
            anomaly = ("unexpected_fill", f"fill {fill.exec_id} of {fill.qty} took {self.state} to {dest}: no row allows it")
        self._transition("anomalous_fill" if anomaly else "fill", dest)
        if anomaly is not None:
            raise OverFill(anomaly[0], f"{self.strategy}/{self.symbol}: {anomaly[1]}", fill=fill, closed=closed)
        return closed

    # snapshot -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state for a restart: quantity, live orders, the open trip and the
        applied exec ids (money and times as strings)."""
        trip = self._trip
        return {
            "strategy": self.strategy, "symbol": self.symbol, "state": self.state, "qty": self._qty,
            "orders": [_tracked_dict(t) for t in self._live.values()],
            "exec_ids": list(self._exec_order)[-SNAPSHOT_EXEC_IDS:],
            "trip": None if trip is None else {
                "direction": trip.direction, "opened_at": trip.opened_at.isoformat(), "open_qty": trip.open_qty,
                "open_notional": trip.open_notional, "close_qty": trip.close_qty, "close_notional": trip.close_notional,
                "commission": str(trip.commission), "fills": trip.fills,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], instrument: InstrumentSpec) -> PositionMachine:
        """The machine ``to_dict`` described (only its live orders are kept).

        Raises ``ValueError`` when the data are malformed or inconsistent: a state
        that does not follow from the quantity and the live orders.
        """
        try:
            m = cls(str(data["strategy"]), instrument)
            for entry in data["orders"]:
                o = entry["order"]
                order = OrderRequest(client_order_id=o["client_order_id"], strategy=m.strategy, symbol=m.symbol,
                                     qty=o["qty"], kind=o["kind"], purpose=o["purpose"],
                                     limit_ticks=o["limit_ticks"], stop_ticks=o["stop_ticks"],
                                     tif=o.get("tif", "DAY"), parent_id=o.get("parent_id"), oca_group=o.get("oca_group"))
                m._store({order.client_order_id: _Tracked(
                    order, filled=int(entry["filled"]), status=str(entry["status"]),
                    reported_filled=int(entry["reported_filled"]), cancel_requested=bool(entry["cancel_requested"]))})
            for exec_id in data["exec_ids"]:
                m._remember(str(exec_id))
            m._qty = int(data["qty"])
            t = data["trip"]
            if t is not None:
                m._trip = _Trip(direction=int(t["direction"]), opened_at=dt.datetime.fromisoformat(t["opened_at"]),
                                open_qty=int(t["open_qty"]), open_notional=int(t["open_notional"]),
                                close_qty=int(t["close_qty"]), close_notional=int(t["close_notional"]),
                                commission=Decimal(t["commission"]), fills=int(t["fills"]))
            state = str(data["state"])
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise ValueError(f"position snapshot {data!r} is malformed: {exc!r}") from None
        if state not in POSITION_SPEC.states or m._derive() != state or (m._qty != 0) != (m._trip is not None):
            raise ValueError(f"position snapshot of {m.strategy}/{m.symbol}: state {state} does not follow from "
                             f"qty {m._qty} and its live orders")
        m._dest = state
        m._state = state
        return m

    # internals ----------------------------------------------------------------

    def _check_order(self, order: OrderRequest, *, entry: bool) -> None:
        if order.symbol != self.symbol or order.strategy != self.strategy:
            raise ValueError(f"order {order.client_order_id} is for {order.strategy}/{order.symbol}, "
                             f"not {self.strategy}/{self.symbol}")
        if (order.purpose == ENTRY) != entry:
            raise ValueError(f"order {order.client_order_id} has purpose {order.purpose!r}")
        if self.knows(order.client_order_id):
            raise ValueError(f"order id {order.client_order_id!r} was already used")

    def _register(self, order: OrderRequest) -> None:
        self._live[order.client_order_id] = _Tracked(order)

    def _tracked(self, order_id: str) -> _Tracked | None:
        found = self._live.get(order_id)
        return found if found is not None else self._ended.get(order_id)

    def _store(self, changes: dict[str, _Tracked]) -> None:
        """Put each changed order where its liveness says (live or ended); an order that ends
        again moves to the newest end of the ended memory, and the oldest beyond it are forgotten."""
        ended = self._ended
        for oid, tracked in changes.items():
            if tracked.live:
                ended.pop(oid, None)
                self._live[oid] = tracked
            else:
                self._live.pop(oid, None)
                ended.pop(oid, None)
                ended[oid] = tracked
                if len(ended) > ENDED_ORDER_MEMORY:
                    del ended[next(iter(ended))]

    def _remember(self, exec_id: str) -> None:
        self._exec_ids.add(exec_id)
        self._exec_order.append(exec_id)
        while len(self._exec_order) > EXEC_ID_MEMORY:
            self._exec_ids.discard(self._exec_order.popleft())

    def _change(self, trigger: str, changes: dict[str, _Tracked]) -> None:
        """Check the outcome of ``changes`` against the table first; apply them only if allowed."""
        dest = self._derive(changes)
        self._check(trigger, dest)
        self._store(changes)
        self._transition(trigger, dest)

    def _check(self, trigger: str, dest: str) -> None:
        state = self._state
        if trigger == "order_ended" and dest == state:
            return
        if (trigger, state, dest) not in _ROUTES:
            raise InvalidTransition(self.SPEC.name, f"{state} (to {dest})", trigger)

    def _derive(self, changes: dict[str, _Tracked] | None = None) -> str:
        """The state the rule in the module docstring gives, with ``changes`` applied (not stored)."""
        orders: list[_Tracked] = list(self._live.values())
        if changes:
            orders = [t for oid, t in self._live.items() if oid not in changes]
            orders.extend(changes.values())
        entering = waiting = False
        for t in orders:
            if not t.live or t.is_protector:
                continue
            if not t.is_entry:
                if not t.cancel_requested:
                    return EXITING
            elif t.cancel_requested:
                waiting = True
            else:
                entering = True
        if entering or (waiting and self._qty == 0):
            return ENTERING
        return OPEN if self._qty else FLAT

    def _transition(self, trigger: str, dest: str) -> None:
        self._dest = dest
        if trigger == "order_ended" and dest == self._state:
            return
        if self.fire(trigger) is None:
            raise InvalidTransition(self.SPEC.name, f"{self.state} (to {self._dest})", trigger)

    def _start_trip(self, qty: int, ticks: int, at: dt.datetime) -> None:
        self._trip = _Trip(direction=1 if qty > 0 else -1, opened_at=at,
                           open_qty=abs(qty), open_notional=abs(qty) * ticks)

    def _apply(self, fill: Fill) -> ClosedTrade | None:
        q, ticks = fill.qty, fill.price_ticks
        trip = self._trip
        closed = None
        if self._qty == 0 or trip is None:
            self._start_trip(q, ticks, fill.at)
            trip = self._trip
        elif q * trip.direction > 0:
            trip.open_qty += abs(q)
            trip.open_notional += abs(q) * ticks
        else:
            closing = min(abs(q), abs(self._qty))
            rest = abs(q) - closing
            # a fill that closes and reverses pays its commission pro rata: the closing part to this
            # trip, the rest (exactly what remains, so nothing is lost to rounding) to the new one
            closing_commission = fill.commission
            if rest:
                closing_commission = (fill.commission * closing / abs(q)).quantize(
                    fill.commission, rounding=ROUND_HALF_EVEN)
            trip.close_qty += closing
            trip.close_notional += closing * ticks
            trip.commission += closing_commission
            trip.fills += 1
            self._qty += trip.direction * -closing
            if self._qty == 0:
                closed = self._close(trip, fill.at)
                self._trip = None
                if rest:
                    self._start_trip(-trip.direction * rest, ticks, fill.at)
                    self._qty = -trip.direction * rest
                    assert self._trip is not None
                    self._trip.commission = fill.commission - closing_commission
                    self._trip.fills = 1
            return closed
        assert trip is not None
        trip.commission += fill.commission
        trip.fills += 1
        self._qty += q
        return closed

    def _close(self, trip: _Trip, at: dt.datetime) -> ClosedTrade:
        tick_value = self.instrument.tick_value
        gross = trip.direction * (trip.close_notional - trip.open_notional) * tick_value
        return ClosedTrade(
            strategy=self.strategy, symbol=self.symbol, qty=trip.direction * trip.open_qty,
            entry_time=trip.opened_at, exit_time=at,
            avg_entry_ticks=Decimal(trip.open_notional) / trip.open_qty,
            avg_exit_ticks=Decimal(trip.close_notional) / trip.close_qty,
            commission=trip.commission, gross_pnl=gross, fills=trip.fills,
        )

    # guards and actions named by the table ---------------------------------------

    def _guard_holding(self, data: Mapping[str, Any]) -> bool:
        return self._qty != 0

    def _guard_lands_flat(self, data: Mapping[str, Any]) -> bool:
        return self._dest == FLAT

    def _guard_lands_entering(self, data: Mapping[str, Any]) -> bool:
        return self._dest == ENTERING

    def _guard_lands_open(self, data: Mapping[str, Any]) -> bool:
        return self._dest == OPEN

    def _guard_lands_exiting(self, data: Mapping[str, Any]) -> bool:
        return self._dest == EXITING


def _tracked_dict(t: _Tracked) -> dict[str, Any]:
    """One tracked order as ``to_dict`` writes it."""
    o = t.order
    return {"order": {"client_order_id": o.client_order_id, "qty": o.qty, "kind": o.kind, "purpose": o.purpose,
                      "limit_ticks": o.limit_ticks, "stop_ticks": o.stop_ticks,
                      **({"tif": o.tif, "parent_id": o.parent_id, "oca_group": o.oca_group} if t.is_protector else {})},
            "filled": t.filled, "status": t.status, "reported_filled": t.reported_filled,
            "cancel_requested": t.cancel_requested}
