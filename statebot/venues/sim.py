"""SimBroker: the embedded venue, deterministic for a seed, with fault injection.

Fill rules (prices in integer ticks of the bar's instrument):

- An order submitted after bar k works from bar k + 1 + ``latency_bars``.
- MARKET fills at that bar's open, moved against the order by the slippage model.
- LIMIT buys fill when the bar's low reaches the limit, at the better of open and
  limit (sells: high, mirror image); no slippage.
- STOP buys trigger when the high reaches the stop and fill at the worse of open
  and stop plus slippage (sells mirror).
- Commission per contract per side from a ``CommissionModel``, on every fill.

Brackets (``submit_bracket``: an entry, a GTC protective stop and an optional
GTC target, one-cancels-other), by conservative rules:

- The children wait for their entry and never close more than it filled:
  each may execute at most what the entry filled minus what the bracket's
  protectors already executed. An entry that ends with nothing filled
  (cancelled, rejected) takes its children with it (CANCELLED).
- A protective stop triggers when the bar trades through it and fills at the
  stop or worse: at the open when the bar opens beyond it (a gap), plus the
  slippage of a market order, with a market order's commission.
- A protective target (a LIMIT) fills at the better of open and limit, as a
  limit order, but never in the bar its entry filled in: the path of that bar
  after the entry is unknown, so only the worse outcome (the stop) is assumed
  possible there.
- When one bar reaches both the stop and the target, the stop is assumed to
  have been reached first (the worse outcome), unless ``both_reached`` is
  ``"target"``.
- One-cancels-other: a protector that executed in full cancels its siblings
  (CANCELLED, reason names it); a partial execution reduces what they may
  execute. So a bracket never executes more than its entry filled.
- ``modify`` replaces a working order's size and prices (the runner shrinks a
  bracket's stop and target to what a partly filled entry filled, once the
  entry ended).
- GTC and DAY orders alike work until filled or cancelled (the simulated
  venue has no session end).

Faults (``FaultPlan``), by probability (drawn from the broker's own
``random.Random(seed)``, never the global one) or by schedule: rejected
submissions, partial fills (the rest works on), disconnect windows (every
adapter call raises ``AdapterUnavailable``; orders already working still fill),
delayed fill reports, duplicated fill reports, cancels that take effect
bars later (a cancel is a request: the order may fill meanwhile) and stale
statuses delivered after a terminal one (venues report out of order). The
venue's position book (``book``) changes when a fill executes, whatever
happens to its report. A bracket child's fill is never reported before a
delayed fill of its entry (the order the venue filled them in).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections.abc import Iterable, Mapping
from decimal import ROUND_FLOOR, Decimal

import attrs

from statebot.core.time.clock import Bar, require_aware
from statebot.core.costs import CommissionModel, FixedCommission
from statebot.errors import AdapterUnavailable, ConfigError, UnknownInstrument
from statebot.core.instruments import InstrumentSpec, instrument
from statebot.core.orders import (
    ACCEPTED,
    CANCELLED,
    FILLED,
    LIMIT,
    MARKET,
    STOP,
    PARTIALLY_FILLED,
    REJECTED,
    BracketOrder,
    BrokerEvent,
    Fill,
    OrderRequest,
    OrderStatus,
)


@attrs.frozen
class FixedSlippage:
    """Every MARKET and STOP fill is ``ticks`` ticks worse than its reference price."""

    ticks: int = attrs.field(default=0, validator=attrs.validators.ge(0))

    def adverse_ticks(self, bar_range_ticks: int, rng: random.Random) -> int:
        return self.ticks


@attrs.frozen(kw_only=True)
class RangeSlippage:
    """Volatility-based: ``fraction`` of the bar's high-low range (ticks, rounded down),
    plus ``min_ticks`` (the spread), plus a uniform 0..``jitter_ticks`` draw."""

    fraction: Decimal = attrs.field(default=Decimal("0.1"), converter=Decimal)
    min_ticks: int = attrs.field(default=1, validator=attrs.validators.ge(0))
    jitter_ticks: int = attrs.field(default=0, validator=attrs.validators.ge(0))

    def adverse_ticks(self, bar_range_ticks: int, rng: random.Random) -> int:
        base = int((self.fraction * bar_range_ticks).to_integral_value(rounding=ROUND_FLOOR))
        jitter = rng.randint(0, self.jitter_ticks) if self.jitter_ticks else 0
        return self.min_ticks + base + jitter


def _probability(instance: object, attribute: attrs.Attribute, value: float) -> None:  # type: ignore[type-arg]
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{attribute.name} {value!r} must be a probability in [0, 1]")


def _windows(value: Iterable[tuple[dt.datetime, dt.datetime]]) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class FaultPlan:
    """What goes wrong at the simulated venue, and when.

    Probabilities are per submission (``reject_p``), per fill (``partial_p``,
    ``delay_p``, ``duplicate_p``) or per bar (``disconnect_p``, lasting
    ``disconnect_bars`` bars). Schedules: ``reject_submissions`` holds the
    1-based numbers of submissions to reject; ``disconnect_windows`` holds
    [start, end) venue times (aware) during which every call fails.
    ``cancel_latency_bars``: a cancel takes effect that many bars later, after
    that bar's fills (0: at once); the order stays in ``open_orders`` meanwhile.
    ``stale_status_p``: per terminal status, the probability that a stale
    ACCEPTED report of the same order follows it.
    """

    reject_p: float = attrs.field(default=0.0, validator=_probability)
    partial_p: float = attrs.field(default=0.0, validator=_probability)
    delay_p: float = attrs.field(default=0.0, validator=_probability)
    delay_bars: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    duplicate_p: float = attrs.field(default=0.0, validator=_probability)
    disconnect_p: float = attrs.field(default=0.0, validator=_probability)
    disconnect_bars: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    reject_submissions: frozenset[int] = attrs.field(default=frozenset(), converter=frozenset)
    disconnect_windows: tuple[tuple[dt.datetime, dt.datetime], ...] = attrs.field(default=(), converter=_windows)
    cancel_latency_bars: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    stale_status_p: float = attrs.field(default=0.0, validator=_probability)

    def __attrs_post_init__(self) -> None:
        for start, end in self.disconnect_windows:
            require_aware(start, "disconnect window start")
            require_aware(end, "disconnect window end")
            if end <= start:
                raise ConfigError(f"disconnect window {start.isoformat()}..{end.isoformat()} must end after it starts")


BOTH_REACHED = ("stop", "target")
"""Which protector a bar that reaches both is assumed to have reached first: ``stop`` (the worse outcome,
the default) or ``target``."""


# The venue's own reports, built without the validators of ``OrderStatus`` and ``Fill``: every value is
# one this venue made or checked already (the id of an order it accepted, whose ``OrderRequest`` was
# validated; its counts, non-negative ints; a non-zero signed quantity; integer ticks; its venue time, a
# validated bar's aware end or the aware ``start``; a finite non-negative Decimal commission, else the
# validating constructor is used). A venue that reads reports from outside (IBKR) validates each one.
_new = object.__new__
_set_status_id, _set_status, _set_filled, _set_remaining, _set_status_at, _set_reason = (
    vars(OrderStatus)[name].__set__ for name in ("order_id", "status", "filled", "remaining", "at", "reason"))
_set_exec_id, _set_order_id, _set_strategy, _set_symbol, _set_qty, _set_price, _set_commission, _set_fill_at = (
    vars(Fill)[name].__set__
    for name in ("exec_id", "order_id", "strategy", "symbol", "qty", "price_ticks", "commission", "at"))


def _status(order_id: str, status: str, filled: int, remaining: int, at: dt.datetime, reason: str = "") -> OrderStatus:
    report = _new(OrderStatus)
    _set_status_id(report, order_id)
    _set_status(report, status)
    _set_filled(report, filled)
    _set_remaining(report, remaining)
    _set_status_at(report, at)
    _set_reason(report, reason)
    return report


def _fill(exec_id: str, order_id: str, strategy: str, symbol: str, qty: int, price_ticks: int, commission: Decimal,
          at: dt.datetime) -> Fill:
    fill = _new(Fill)
    _set_exec_id(fill, exec_id)
    _set_order_id(fill, order_id)
    _set_strategy(fill, strategy)
    _set_symbol(fill, symbol)
    _set_qty(fill, qty)
    _set_price(fill, price_ticks)
    _set_commission(fill, commission)
    _set_fill_at(fill, at)
    return fill


@attrs.define
class _Bracket:
    """What the venue tracks of one bracket: its entry's fill, its children's executions, and the bar count
    (of the symbol) in which the entry first filled."""

    entry: str
    children: tuple[str, ...]
    entry_filled: int = 0
    executed: int = 0
    entry_fill_bar: int | None = None
    entry_done: bool = False


@attrs.define
class _Working:
    order: OrderRequest
    works_from: int
    filled: int = 0
    bracket: _Bracket | None = None

    @property
    def remaining(self) -> int:
        return abs(self.order.qty) - self.filled


@attrs.frozen
class _Band:
    """The prices a bar of one symbol must reach for a working order to fill: a sell stop or a buy limit
    fills only when the bar's low reaches its price, a buy stop or a sell limit only when its high does, a
    market order on any bar. A bar whose low is above ``low_price`` and whose high is below ``high_price``
    fills nothing, and is not worked (the same fills, reports and draws of the seeded generator as working
    it: an order that does not fill draws nothing). Each bound is a full tick inside the trigger nearest
    to the bar (whichever way ``to_ticks`` rounds the bar's price, it lands short of the trigger); orders
    not yet due and bracket children with nothing to close count too: a band is never narrower than the
    fill rules."""

    low_price: float
    high_price: float


@functools.lru_cache(maxsize=64)
def _exact_float(tick_size: Decimal) -> float:
    """``tick_size`` as a float when a float holds it exactly and multiples of it too (1/2^k or a power of
    two: 0.25, 0.5, 1), else 0.0."""
    num, den = tick_size.as_integer_ratio()
    return float(tick_size) if den & (den - 1) == 0 and num & (num - 1) == 0 else 0.0


_EVERY_BAR = _Band(low_price=math.inf, high_price=-math.inf)
"""The band of a symbol whose orders must be worked on every bar (a market order working, or a tick size
a float does not hold exactly)."""

_DAWN = dt.datetime.min.replace(tzinfo=dt.UTC)
"""Before every venue time: the first bar re-reads the disconnect windows."""

ID_MEMORY = dt.timedelta(days=3)
"""Default venue time a used client order id stays refused: longer than a trading day, a weekend included."""


class SimBroker:
    """A simulated venue implementing ``BrokerAdapter``; feed it every bar with ``on_bar``.

    Deterministic: the same seed, plan and sequence of calls give the same
    events. ``start`` is the venue time before the first bar (events need a
    time); afterwards venue time is the last bar's end.

    Client order ids: a submission reusing the id of an order still working,
    or of any submission (accepted or rejected) made less than ``id_memory``
    of venue time earlier, is rejected as a duplicate. FIX asks an id to be
    unique within a trading day; the default (``ID_MEMORY``, three days) spans
    a trading day and a weekend. An id older than that, of an order no longer
    working, is accepted again: the venue forgets it, so a run's memory does
    not grow with the number of orders.

    Reports wait in the broker until ``drain`` takes them (delayed ones until
    their bar); nothing is kept after that. A bar with no order working, no
    delayed report and no pending cancel costs a few comparisons.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        commission: CommissionModel | None = None,
        slippage: FixedSlippage | RangeSlippage | None = None,
        latency_bars: int = 0,
        faults: FaultPlan | None = None,
        instruments: Mapping[str, InstrumentSpec] | None = None,
        start: dt.datetime | None = None,
        id_memory: dt.timedelta = ID_MEMORY,
        both_reached: str = "stop",
    ) -> None:
        if both_reached not in BOTH_REACHED:
            raise ConfigError(f"both_reached {both_reached!r} must be one of {', '.join(BOTH_REACHED)}")
        self.both_reached = both_reached
        if latency_bars < 0:
            raise ConfigError(f"latency_bars {latency_bars} must be >= 0")
        if id_memory <= dt.timedelta(0):
            raise ConfigError(f"id_memory {id_memory} must be positive")
        self._rng = random.Random(seed)
        self.commission: CommissionModel = commission or FixedCommission()
        self.slippage = slippage or FixedSlippage(0)
        self.latency_bars = latency_bars
        self.id_memory = id_memory
        self._instruments = dict(instruments or {})
        self._now = require_aware(start, "start") if start is not None else None
        self._bars: dict[str, int] = {}
        self._bar_count = 0
        self._working: dict[str, _Working] = {}
        # per symbol, the ticks a bar's low and high must reach for any working order to fill
        # (``_bands``), recomputed after ``_working`` changed: a bar inside them works nothing
        self._bands: dict[str, _Band] = {}
        self._bands_of: int = -1
        # id -> venue time of its submission, oldest first: what duplicates are checked against
        self._recent_ids: dict[str, dt.datetime] = {}
        self._book: dict[str, int] = {}
        self._events: list[BrokerEvent] = []
        self._delayed: list[tuple[int, BrokerEvent]] = []
        self._submissions = 0
        self._execs = 0
        self._month_volume = 0
        self._month: tuple[int, int] | None = None
        self._manual_down = False
        self._down_until_bar = 0
        self._reject_next = 0
        self._cancels: list[tuple[int, str]] = []
        self._connected = True
        self._next_window_change: dt.datetime | None = None
        self.faults = faults or FaultPlan()

    # test and scenario controls ----------------------------------------------

    @property
    def book(self) -> dict[str, int]:
        """The venue's positions (the truth), readable even while disconnected."""
        return {s: q for s, q in self._book.items() if q}

    @property
    def now(self) -> dt.datetime | None:
        return self._now

    def working(self, purpose: str | None = None) -> tuple[OrderRequest, ...]:
        """The orders the venue works now (of ``purpose`` when given), oldest first: the venue's own view,
        answered during a disconnect too (``open_orders`` is the adapter call, refused then)."""
        return tuple(w.order for w in self._working.values() if purpose is None or w.order.purpose == purpose)

    def cancel_unasked(self, order_id: str, reason: str = "cancelled by the venue") -> bool:
        """The venue cancels a working order on its own (an exchange's risk check, a reset): CANCELLED is
        reported with ``reason``, as for a cancel asked for; an entry takes its bracket's children with it.
        False when ``order_id`` was not working. A fault for tests (the test kit's
        ``venue_cancels_a_protector``); runs during a disconnect too."""
        if order_id not in self._working:
            return False
        self._cancel_now(order_id, reason=reason)
        return True

    def in_flight(self) -> int:
        """Reports (delayed fills) executed but not yet deliverable by ``drain``."""
        return len(self._delayed)

    def disconnect(self) -> None:
        """Start a disconnect that lasts until ``reconnect``."""
        self._manual_down = True
        self._refresh_connection()

    def reconnect(self) -> None:
        self._manual_down = False
        self._refresh_connection()

    def reject_next(self, n: int) -> None:
        """Reject the next ``n`` submissions that reach the venue."""
        self._reject_next += n

    @property
    def faults(self) -> FaultPlan:
        """The fault plan; replacing it takes effect at once (also on ``connected``)."""
        return self._faults

    @faults.setter
    def faults(self, plan: FaultPlan) -> None:
        self._faults = plan
        self._refresh_connection()

    @property
    def connected(self) -> bool:
        """False during ``disconnect``, a random disconnect or a scheduled window (at venue time)."""
        return self._connected

    def _refresh_connection(self) -> None:
        """Recompute ``connected``, and the venue time at which a disconnect window next opens
        or closes (None: never), so that ``on_bar`` looks again only then."""
        now = self._now
        windows = self._faults.disconnect_windows
        in_window = False
        upcoming: dt.datetime | None = _DAWN if now is None and windows else None
        if now is not None:
            for start, end in windows:
                in_window = in_window or start <= now < end
                for edge in (start, end):
                    if edge > now and (upcoming is None or edge < upcoming):
                        upcoming = edge
        self._next_window_change = upcoming
        self._connected = not (self._manual_down or self._bar_count < self._down_until_bar or in_window)

    # BrokerAdapter --------------------------------------------------------------

    def submit_bracket(self, bracket: BracketOrder) -> None:
        """Accept ``bracket``: its entry works as any order; its stop and target wait for the entry's fills
        (the rules in the module docstring). A refused entry refuses its children (REJECTED each)."""
        self._require_connected("submit_bracket")
        entry = bracket.entry
        self.submit(entry)
        working = self._working.get(entry.client_order_id)
        if working is None or working.order is not entry:
            for child in bracket.protectors:
                self._events.append(OrderStatus(order_id=child.client_order_id, status=REJECTED, filled=0,
                                                remaining=abs(child.qty), at=self._time(),
                                                reason=f"its entry {entry.client_order_id} was refused"))
            return
        group = _Bracket(entry=entry.client_order_id, children=tuple(c.client_order_id for c in bracket.protectors))
        working.bracket = group
        for child in bracket.protectors:
            self.submit(child)
            placed = self._working.get(child.client_order_id)
            if placed is not None and placed.order is child:
                placed.bracket = group

    def submit(self, order: OrderRequest) -> None:
        self._require_connected("submit")
        at = self._time()  # before any change: a refused call must not burn the id or count
        self._submissions += 1
        n = self._submissions
        oid = order.client_order_id
        reason = ""
        recent = self._recent_ids
        self._forget_ids_before(at - self.id_memory)
        if oid in self._working or oid in recent:
            reason = f"duplicate client_order_id {oid!r}"
        else:
            recent[oid] = at
            try:
                instrument(order.symbol, self._instruments)
            except UnknownInstrument as exc:
                reason = str(exc)
        if not reason and self._reject_next > 0:
            self._reject_next -= 1
            reason = "simulated reject (scheduled)"
        elif not reason and n in self._faults.reject_submissions:
            reason = f"simulated reject (submission {n})"
        elif not reason and self._faults.reject_p and self._rng.random() < self._faults.reject_p:
            reason = "simulated reject (random)"
        if reason:
            self._events.append(OrderStatus(order_id=oid, status=REJECTED, filled=0, remaining=abs(order.qty),
                                            at=at, reason=reason))
            return
        works_from = self._bars.get(order.symbol, 0) + 1 + self.latency_bars
        self._working[oid] = _Working(order, works_from)
        self._bands_of = -1
        self._events.append(_status(oid, ACCEPTED, 0, abs(order.qty), at))

    def modify(self, order: OrderRequest) -> None:
        """Give a working order ``order``'s size and prices (same client order id), from the next bar on; an
        order no longer working is left alone. A size below what it already executed is refused
        (REJECTED is not reported for a modification: the order works on with its old terms)."""
        self._require_connected("modify")
        working = self._working.get(order.client_order_id)
        if working is None or abs(order.qty) < working.filled or order.side != working.order.side:
            return
        working.order = order
        self._bands_of = -1  # its trigger moved: the quiet-bar band is computed again

    def _forget_ids_before(self, cutoff: dt.datetime) -> None:
        recent = self._recent_ids
        while recent:
            oldest = next(iter(recent))
            if recent[oldest] >= cutoff:
                return
            del recent[oldest]

    def cancel(self, order_id: str) -> None:
        self._require_connected("cancel")
        if self._faults.cancel_latency_bars:
            if order_id in self._working:
                self._cancels.append((self._bar_count + self._faults.cancel_latency_bars, order_id))
            return
        self._cancel_now(order_id)

    def _cancel_now(self, order_id: str, reason: str = "cancelled on request") -> None:
        working = self._working.pop(order_id, None)
        if working is not None:
            self._bands_of = -1
            self._report_terminal(_status(order_id, CANCELLED, working.filled, working.remaining, self._time(), reason))
            group = working.bracket
            if group is not None and group.entry == order_id:
                self._entry_ended(group)

    def _entry_ended(self, group: _Bracket) -> None:
        """The entry of ``group`` will fill no more: with nothing filled its children go too."""
        group.entry_done = True
        if group.entry_filled == 0:
            for child in group.children:
                self._cancel_now(child, reason=f"its entry {group.entry} ended unfilled")
        elif group.executed >= group.entry_filled:
            for child in group.children:
                self._cancel_now(child, reason=f"its entry {group.entry}'s {group.entry_filled} filled are closed")

    def _report_terminal(self, status: OrderStatus) -> None:
        self._events.append(status)
        if self._faults.stale_status_p and self._rng.random() < self._faults.stale_status_p:
            self._events.append(attrs.evolve(status, status=ACCEPTED, filled=0,
                                             remaining=status.filled + status.remaining, reason=""))

    def cancel_all(self, symbol: str | None = None) -> None:
        self._require_connected("cancel_all")
        for oid, working in list(self._working.items()):
            if symbol is None or working.order.symbol == symbol:
                self.cancel(oid)

    def positions(self) -> dict[str, int]:
        self._require_connected("positions")
        return self.book

    def open_orders(self) -> tuple[OrderRequest, ...]:
        self._require_connected("open_orders")
        return tuple(w.order for w in self._working.values())

    def drain(self) -> list[BrokerEvent]:
        if not self._connected:  # _require_connected, inline: drain runs on every bar
            self._require_connected("drain")
        events, self._events = self._events, []
        return events

    # the venue ------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> tuple[Fill, ...]:
        """Advance venue time to ``bar.end`` and work every order of ``bar.symbol``.

        Returns the executions (each once, whatever the fault plan does to
        their reports). Runs during disconnects: the venue does not stop.
        """
        now = self._now = bar.end
        bar_count = self._bar_count = self._bar_count + 1
        count = self._bars[bar.symbol] = self._bars.get(bar.symbol, 0) + 1
        upcoming = self._next_window_change
        if bar_count == self._down_until_bar or (upcoming is not None and now >= upcoming):
            self._refresh_connection()
        faults = self._faults
        if faults.disconnect_p and self._connected and self._rng.random() < faults.disconnect_p:
            self._down_until_bar = bar_count + faults.disconnect_bars
            self._connected = False
        if self._delayed:
            self._release_delayed()
        executed: tuple[Fill, ...] = ()
        if self._working:
            executed = self._work(bar, count)
        if self._cancels:
            # cancels asked earlier land now, after this bar's fills
            landing = [oid for release, oid in self._cancels if release <= bar_count]
            self._cancels = [(release, oid) for release, oid in self._cancels if release > bar_count]
            for oid in landing:
                self._cancel_now(oid)
        return executed

    def _release_delayed(self) -> None:
        still = []
        for release, event in self._delayed:
            if release <= self._bar_count:
                self._events.append(event)
            else:
                still.append((release, event))
        self._delayed = still

    def _work(self, bar: Bar, count: int) -> tuple[Fill, ...]:
        if self._bands_of != len(self._working):
            self._bands = self._trigger_bands()
            self._bands_of = len(self._working)
        band = self._bands.get(bar.symbol)
        if band is None:
            return ()  # nothing works in this symbol
        if band.low_price < bar.low and bar.high < band.high_price:
            return ()  # the bar reached no stop and no limit, and no market order works
        due = [(oid, w) for oid, w in self._working.items() if w.order.symbol == bar.symbol and w.works_from <= count]
        if not due:
            return ()
        executed = []
        spec = instrument(bar.symbol, self._instruments)
        o, h, lo = spec.to_ticks(bar.open), spec.to_ticks(bar.high), spec.to_ticks(bar.low)
        reached: dict[int, tuple[str, _Working, int]] = {}  # a bracket's protector reached first in this bar
        for oid, working in due:
            group = working.bracket
            if group is not None and group.entry != oid:
                if oid not in self._working or self._may_execute(working, group) <= 0:
                    continue
                if working.order.kind == LIMIT and group.entry_fill_bar == count:
                    continue  # the entry's own bar: only the worse outcome (the stop) is assumed possible
                price = self._fill_price(working.order, o, h, lo)
                if price is not None:
                    first = reached.get(id(group))
                    if first is None or self._reached_first(working.order) and not self._reached_first(first[1].order):
                        reached[id(group)] = (oid, working, price)
                continue
            price = self._fill_price(working.order, o, h, lo)
            if price is not None:
                executed.append(self._execute(oid, working, price))
        for oid, working, price in reached.values():
            executed.append(self._execute(oid, working, price))
        return tuple(executed)

    def _trigger_bands(self) -> dict[str, _Band]:
        """Per symbol with a working order, the prices a bar must reach for any of them to fill (``_Band``)."""
        triggers: dict[str, tuple[float, float]] = {}
        for working in self._working.values():
            order = working.order
            low, high = triggers.get(order.symbol, (-math.inf, math.inf))
            if order.kind == MARKET:
                low = math.inf
            else:
                price = order.stop_ticks if order.kind == STOP else order.limit_ticks
                assert price is not None
                if (order.kind == STOP) == (order.side < 0):
                    low = max(low, price)
                else:
                    high = min(high, price)
            triggers[order.symbol] = (low, high)
        bands = {}
        for symbol, (low, high) in triggers.items():
            try:
                per_tick = _exact_float(instrument(symbol, self._instruments).tick_size)
            except UnknownInstrument:
                per_tick = 0.0
            if not per_tick or low == math.inf:
                bands[symbol] = _EVERY_BAR
            else:
                # a full tick inside each trigger: a price past it lands past the trigger whichever way
                # ``to_ticks`` rounds it; and a low of at least one tick is a positive price
                bands[symbol] = _Band(low_price=(max(low, 0) + 1) * per_tick, high_price=(high - 1) * per_tick)
        return bands

    def _reached_first(self, order: OrderRequest) -> bool:
        """Of a bracket's stop and target both reached in one bar, whether ``order`` is assumed first."""
        return (order.kind == STOP) == (self.both_reached == "stop")

    @staticmethod
    def _may_execute(working: _Working, group: _Bracket) -> int:
        """What a bracket child may execute now: what its entry filled, less what its bracket executed."""
        return min(working.remaining, group.entry_filled - group.executed)

    def _fill_price(self, order: OrderRequest, o: int, h: int, lo: int) -> int | None:
        side = order.side
        if order.kind == MARKET:
            return o + side * self.slippage.adverse_ticks(h - lo, self._rng)
        if order.kind == LIMIT:
            limit = order.limit_ticks
            assert limit is not None
            if side > 0:
                return min(o, limit) if lo <= limit else None
            return max(o, limit) if h >= limit else None
        stop = order.stop_ticks
        assert stop is not None
        if side > 0:
            return max(o, stop) + self.slippage.adverse_ticks(h - lo, self._rng) if h >= stop else None
        return min(o, stop) - self.slippage.adverse_ticks(h - lo, self._rng) if lo <= stop else None

    def _execute(self, oid: str, working: _Working, price: int) -> Fill:
        order, faults, rng = working.order, self._faults, self._rng
        group = working.bracket
        child = group is not None and group.entry != oid
        qty = self._may_execute(working, group) if child and group is not None else working.remaining
        if qty > 1 and faults.partial_p and rng.random() < faults.partial_p:
            qty = rng.randint(1, qty - 1)
        working.filled += qty
        self._book[order.symbol] = self._book.get(order.symbol, 0) + order.side * qty
        self._execs += 1
        at = self._time()
        month = (at.year, at.month)
        if month != self._month:
            # commission tiers count the volume of the calendar month of the fill
            self._month, self._month_volume = month, 0
        commission = self.commission.per_side(order.symbol, qty, month_volume=self._month_volume)
        if commission.__class__ is Decimal and commission.is_finite() and commission >= 0:
            fill = _fill(f"sim-{self._execs}", oid, order.strategy, order.symbol, order.side * qty, price, commission, at)
        else:  # a commission model's odd value: the validating constructor converts it or names it
            fill = Fill(exec_id=f"sim-{self._execs}", order_id=oid, strategy=order.strategy, symbol=order.symbol,
                        qty=order.side * qty, price_ticks=price, at=at, commission=commission)
        self._month_volume += qty
        done = working.remaining == 0
        if done:
            del self._working[oid]
            self._bands_of = -1
        report = _status(oid, FILLED if done else PARTIALLY_FILLED, working.filled, working.remaining, at)
        if done:
            self._report_terminal(report)
        else:
            self._events.append(report)
        copies = 2 if faults.duplicate_p and rng.random() < faults.duplicate_p else 1
        # a bracket child's fill is never reported before a delayed fill of its entry: the venue filled them in
        # that order, and a report that reversed it would show a stop closing a position not yet opened
        after_entry = max((release for release, e in self._delayed
                           if child and group is not None and isinstance(e, Fill) and e.order_id == group.entry),
                          default=None)
        for _ in range(copies):
            if faults.delay_p and rng.random() < faults.delay_p:
                self._delayed.append((max(self._bar_count + faults.delay_bars, after_entry or 0), fill))
            elif after_entry is not None:
                self._delayed.append((after_entry, fill))
            else:
                self._events.append(fill)
        if group is not None:
            self._bracket_executed(group, oid, qty, done, count=self._bars.get(order.symbol, 0))
        return fill

    def _bracket_executed(self, group: _Bracket, oid: str, qty: int, done: bool, count: int) -> None:
        if oid == group.entry:
            group.entry_filled += qty
            if group.entry_fill_bar is None:
                group.entry_fill_bar = count
            if done:
                group.entry_done = True
            return
        group.executed += qty
        if done:
            for sibling in group.children:
                if sibling != oid:
                    self._cancel_now(sibling, reason=f"one-cancels-other: {oid} executed")
        elif group.entry_done and group.executed >= group.entry_filled:
            for child in group.children:
                self._cancel_now(child, reason=f"its entry {group.entry}'s {group.entry_filled} filled are closed")

    def _time(self) -> dt.datetime:
        if self._now is None:
            raise ConfigError("SimBroker has no venue time yet: pass start= or feed a bar first")
        return self._now

    def _require_connected(self, call: str) -> None:
        if not self._connected:
            raise AdapterUnavailable(f"simulated venue is disconnected; {call} not done")
