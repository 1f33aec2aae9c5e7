"""Reconciliation: the positions statebot expects against the broker's.

A difference is never adopted silently: ``reconcile`` returns the mismatches,
``check_positions`` raises ``PositionMismatch`` (the runner logs an event and
trips the kill switch with ``position_mismatch``). The only way to take over a
broker position is ``adopt_broker_positions``, allowed at start-up in OBSERVE
mode.

Reconcile at a quiet point: after ``drain()`` was applied and with no order
working (protective orders aside: they rest at the venue as long as a position
is held), otherwise an execution whose report is still on its way looks like a
mismatch. ``reconcile_protectors`` compares the protective orders themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import attrs

from statebot.core.ports import BrokerAdapter
from statebot.core.positions.book import PositionBook
from statebot.errors import ConfigError, InvalidTransition, PositionMismatch
from statebot.core.fsm.position import FLAT
from statebot.core.orders import PROTECT, OrderRequest

OBSERVE = "OBSERVE"


@attrs.frozen(kw_only=True)
class Mismatch:
    """``symbol``: statebot expects ``expected`` signed contracts, the broker holds ``actual``."""

    symbol: str
    expected: int
    actual: int

    def __str__(self) -> str:
        return f"{self.symbol} expected {self.expected} broker {self.actual}"


def reconcile(expected: Mapping[str, int], actual: Mapping[str, int]) -> tuple[Mismatch, ...]:
    """Every symbol whose signed positions differ (a missing symbol counts as 0), sorted by symbol."""
    out = []
    for symbol in sorted({*expected, *actual}):
        e, a = expected.get(symbol, 0), actual.get(symbol, 0)
        if e != a:
            out.append(Mismatch(symbol=symbol, expected=e, actual=a))
    return tuple(out)


STRAY = "stray"
MISSING = "missing"


@attrs.frozen(kw_only=True)
class ProtectorMismatch:
    """A protective order the venue and the book disagree on: ``stray`` (the venue works it for a position
    the book holds nothing of, with no entry working: cancel it, it could only open a new position) or
    ``missing`` (the book counts on it protecting a held position, the venue no longer works it)."""

    problem: str
    order_id: str
    strategy: str
    symbol: str

    def __str__(self) -> str:
        what = ("works at the venue for a flat position" if self.problem == STRAY
                else "protects a held position in the book but the venue no longer works it")
        return f"protective order {self.order_id} of {self.strategy}/{self.symbol} {what}"


def reconcile_protectors(book: PositionBook, protected: Iterable[str],
                         open_orders: Iterable[OrderRequest]) -> tuple[ProtectorMismatch, ...]:
    """Compare the venue's working protective orders (``open_orders`` of purpose protect) with the book:
    ``protected`` names the protectors the bot counts on (working, not being cancelled). Stray ones
    first, then missing ones, each sorted by order id."""
    venue = {o.client_order_id: o for o in open_orders if o.purpose == PROTECT}
    stray = []
    for oid in sorted(venue):
        o = venue[oid]
        m = book.machine(o.strategy, o.symbol) if o.strategy else None
        if m is None or (m.qty == 0 and not m.working_entries()):
            stray.append(ProtectorMismatch(problem=STRAY, order_id=oid, strategy=o.strategy, symbol=o.symbol))
    missing = []
    for oid in sorted(set(protected) - set(venue)):
        owner = book.owner(oid)
        if owner is not None and owner.qty:
            missing.append(ProtectorMismatch(problem=MISSING, order_id=oid, strategy=owner.strategy, symbol=owner.symbol))
    return (*stray, *missing)


def check_positions(book: PositionBook, adapter: BrokerAdapter) -> None:
    """Raise ``PositionMismatch`` when the book differs from ``adapter.positions()``.

    Raises ``AdapterUnavailable`` when the broker cannot be asked (not a match).
    """
    mismatches = reconcile(book.expected_positions(), adapter.positions())
    if mismatches:
        raise PositionMismatch(mismatches)


@attrs.frozen(kw_only=True)
class Adopted:
    """A broker position taken over at start-up: ``qty`` of ``symbol`` by ``strategy`` at ``price_ticks``."""

    strategy: str
    symbol: str
    qty: int
    price_ticks: int
    at: dt.datetime


def adopt_broker_positions(
    book: PositionBook,
    actual: Mapping[str, int],
    *,
    strategy: str,
    prices_ticks: Mapping[str, int],
    at: dt.datetime,
    mode: str,
) -> tuple[Adopted, ...]:
    """Take over the broker's positions into ``strategy``'s machines (FLAT -> OPEN).

    Only in ``mode == "OBSERVE"`` (start-up, nothing traded yet); any other
    mode raises ``ConfigError``. ``prices_ticks`` gives each symbol's reference
    price (e.g. the last close) as the entry for P&L; a missing one raises
    ``ConfigError``. Machines that already hold a position raise
    ``InvalidTransition``. Every check runs before anything is adopted: when
    one raises, no machine changed. Returns one record per adopted symbol for
    the event log.
    """
    if mode != OBSERVE:
        raise ConfigError(f"broker positions may only be adopted in {OBSERVE} mode, not {mode!r}")
    held = {symbol: actual[symbol] for symbol in sorted(actual) if actual[symbol]}
    # every check first: a refusal must leave the book exactly as it was, never half adopted
    for symbol, qty in held.items():
        if symbol not in prices_ticks:
            raise ConfigError(f"no reference price to adopt {qty} {symbol}")
        m = book.machine(strategy, symbol)
        if m.state != FLAT:
            raise InvalidTransition("position", m.state, "adopt")
    adopted = []
    for symbol, qty in held.items():
        price = prices_ticks[symbol]
        book.machine(strategy, symbol).adopt(qty, price, at)
        adopted.append(Adopted(strategy=strategy, symbol=symbol, qty=qty, price_ticks=price, at=at))
    return tuple(adopted)
