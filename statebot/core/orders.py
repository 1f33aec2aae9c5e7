"""Orders, order status updates and fills: the values that cross the broker edge.

Quantities are signed contracts (buy > 0, sell < 0); prices are integer ticks
(convert with ``InstrumentSpec.to_ticks`` at the adapter); commission is
Decimal; times are timezone-aware. An order is known everywhere by its
``client_order_id``, which the caller chooses and keeps unique.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from statebot.core.time.clock import require_aware
from statebot.errors import ConfigError
from statebot.core.money import non_negative_money

MARKET = "MARKET"
LIMIT = "LIMIT"
STOP = "STOP"
ORDER_KINDS = (MARKET, LIMIT, STOP)

ENTRY = "entry"
EXIT = "exit"
FLATTEN = "flatten"
PROTECT = "protect"
PURPOSES = (ENTRY, EXIT, FLATTEN, PROTECT)
CLOSING_PURPOSES = frozenset({EXIT, FLATTEN, PROTECT})
"""Orders that may only reduce a position (a fill that opens one is an over-fill)."""

DAY = "DAY"
GTC = "GTC"
TIMES_IN_FORCE = (DAY, GTC)
"""DAY orders end at the venue's close; GTC (good-till-cancelled) ones work until filled or cancelled:
protective orders are GTC, so a stop outlives the bot that sent it."""

SUBMITTED = "SUBMITTED"
ACCEPTED = "ACCEPTED"
PARTIALLY_FILLED = "PARTIALLY_FILLED"
FILLED = "FILLED"
CANCELLED = "CANCELLED"
REJECTED = "REJECTED"
ORDER_STATUSES = (SUBMITTED, ACCEPTED, PARTIALLY_FILLED, FILLED, CANCELLED, REJECTED)
TERMINAL_STATUSES = frozenset({FILLED, CANCELLED, REJECTED})
"""After one of these the venue will not fill more (late fills still happen:
apply them)."""


# Validators run for every order, status and fill a venue reports (about eight objects a round
# trip): each first accepts the common exact type in a comparison or two, then checks as always.


def _signed_qty(instance: object, attribute: attrs.Attribute, value: object) -> None:  # type: ignore[type-arg]
    if value.__class__ is int and value != 0:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ConfigError(f"{attribute.name} {value!r} must be a non-zero signed integer (buy > 0, sell < 0)")


def _count(instance: object, attribute: attrs.Attribute, value: object) -> None:  # type: ignore[type-arg]
    if value.__class__ is int and value >= 0:  # type: ignore[operator]
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{attribute.name} {value!r} must be an integer >= 0")


def _ticks_or_none(instance: object, attribute: attrs.Attribute, value: object) -> None:  # type: ignore[type-arg]
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{attribute.name} {value!r} must be an integer number of ticks")


def _non_empty(instance: object, attribute: attrs.Attribute, value: object) -> None:  # type: ignore[type-arg]
    if value.__class__ is str and value:
        return
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{attribute.name} {value!r} must be a non-empty string")


def _aware(instance: object, attribute: attrs.Attribute, value: dt.datetime) -> None:  # type: ignore[type-arg]
    if value.__class__ is dt.datetime and value.tzinfo is not None and value.utcoffset() is not None:
        return
    require_aware(value, attribute.name)


def _exactly(kind: type, check: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    """``check`` (an attrs validator), skipped for a value of exactly ``kind``; ``check`` must accept every such value."""
    def validate(instance: Any, attribute: Any, value: Any) -> None:
        if value.__class__ is not kind:
            check(instance, attribute, value)
    return validate


def _one_of(options: tuple[str, ...]) -> Callable[[Any, Any, Any], None]:
    """``attrs.validators.in_(options)``, its error included, called only for a value that is not
    exactly one of the (str) ``options``."""
    check = attrs.validators.in_(options)

    def validate(instance: Any, attribute: Any, value: Any) -> None:
        if value.__class__ is not str or value not in options:
            check(instance, attribute, value)
    return validate


def _commission(value: object) -> Decimal:
    """``non_negative_money(value, "commission")``: a finite, non-negative Decimal is kept as it is."""
    if value.__class__ is Decimal and value.is_finite() and value >= 0:  # type: ignore[attr-defined,operator]
        return value  # type: ignore[return-value]
    return non_negative_money(value, "commission")


@attrs.frozen(kw_only=True)
class OrderRequest:
    """What a strategy asks a venue to do.

    ``qty`` is signed (buy > 0, sell < 0). ``kind`` is MARKET, LIMIT (needs
    ``limit_ticks``) or STOP (needs ``stop_ticks``, the trigger price in ticks);
    a price field the kind does not use is refused.
    ``purpose`` is ``entry``, ``exit``, ``flatten`` or ``protect`` (a protective
    stop or target held at the venue: STOP or LIMIT, never MARKET). ``tif`` is
    ``DAY`` or ``GTC``; ``parent_id`` names the entry a bracket child waits for
    (the venue activates it once the entry fills); ``oca_group`` names the
    one-cancels-other group the order belongs to (a fill of one reduces, and in
    full cancels, the others). Invalid combinations raise ``ConfigError`` at
    construction.
    """

    client_order_id: str = attrs.field(validator=_non_empty)
    strategy: str = attrs.field(validator=_exactly(str, attrs.validators.instance_of(str)))
    symbol: str = attrs.field(validator=_non_empty)
    qty: int = attrs.field(validator=_signed_qty)
    kind: str = attrs.field(default=MARKET, validator=_one_of(ORDER_KINDS))
    purpose: str = attrs.field(default=ENTRY, validator=_one_of(PURPOSES))
    limit_ticks: int | None = attrs.field(default=None, validator=_ticks_or_none)
    stop_ticks: int | None = attrs.field(default=None, validator=_ticks_or_none)
    tif: str = attrs.field(default=DAY, validator=attrs.validators.in_(TIMES_IN_FORCE))
    parent_id: str | None = attrs.field(default=None, validator=attrs.validators.optional(_non_empty))
    oca_group: str | None = attrs.field(default=None, validator=attrs.validators.optional(_non_empty))

    def __attrs_post_init__(self) -> None:
        if self.purpose == PROTECT and self.kind == MARKET:
            raise ConfigError(f"protective order {self.client_order_id!r} must be a STOP or a LIMIT, not MARKET")
        if self.parent_id is not None and self.purpose != PROTECT:
            raise ConfigError(f"order {self.client_order_id!r} has a parent; only protective orders do")
        if self.kind == LIMIT and self.limit_ticks is None:
            raise ConfigError(f"LIMIT order {self.client_order_id!r} needs limit_ticks")
        if self.kind == STOP and self.stop_ticks is None:
            raise ConfigError(f"STOP order {self.client_order_id!r} needs stop_ticks")
        if self.kind == MARKET and (self.limit_ticks is not None or self.stop_ticks is not None):
            raise ConfigError(f"MARKET order {self.client_order_id!r} takes no limit or stop price")
        if self.kind == LIMIT and self.stop_ticks is not None:
            raise ConfigError(f"LIMIT order {self.client_order_id!r} takes no stop_ticks (stop-limit is not supported)")
        if self.kind == STOP and self.limit_ticks is not None:
            raise ConfigError(f"STOP order {self.client_order_id!r} takes no limit_ticks (stop-limit is not supported; "
                              f"it would be filled as a stop-market)")

    @property
    def side(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return 1 if self.qty > 0 else -1


@attrs.frozen(kw_only=True)
class OrderStatus:
    """A venue's report on one order.

    ``filled`` and ``remaining`` are unsigned contract counts of the order so
    far. ``status`` is one of ``ORDER_STATUSES``; ``reason`` says why for
    REJECTED and CANCELLED. A status is not a fill: positions change only by
    ``Fill`` events (a FILLED status may arrive before its fills).
    """

    order_id: str = attrs.field(validator=_non_empty)
    status: str = attrs.field(validator=_one_of(ORDER_STATUSES))
    filled: int = attrs.field(validator=_count)
    remaining: int = attrs.field(validator=_count)
    at: dt.datetime = attrs.field(validator=_aware)
    reason: str = ""

    @property
    def terminal(self) -> bool:
        """True for FILLED, CANCELLED and REJECTED."""
        return self.status in TERMINAL_STATUSES


@attrs.frozen(kw_only=True)
class Fill:
    """One execution: ``qty`` contracts (signed) of ``order_id`` at ``price_ticks``.

    ``exec_id`` is the venue's execution id; a report repeated with the same
    ``exec_id`` is the same execution and is applied once. ``commission`` is
    this execution's cost (Decimal, >= 0, in the instrument's currency).
    """

    exec_id: str = attrs.field(validator=_non_empty)
    order_id: str = attrs.field(validator=_non_empty)
    strategy: str = attrs.field(validator=_exactly(str, attrs.validators.instance_of(str)))
    symbol: str = attrs.field(validator=_non_empty)
    qty: int = attrs.field(validator=_signed_qty)
    price_ticks: int = attrs.field(validator=_exactly(int, attrs.validators.instance_of(int)))
    commission: Decimal = attrs.field(converter=_commission)
    at: dt.datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class BracketOrder:
    """An entry linked to its protective orders, sent together: ``stop`` (a STOP) and an optional
    ``target`` (a LIMIT), both purpose ``protect``, good-till-cancelled, children of the entry
    (``parent_id``) and one-cancels-other with each other (``oca_group``), each closing exactly
    what the entry opens. The stop lies on the losing side of the entry's price and the target
    on the winning side of the stop (checked here: a stop above a long's target could never
    protect). The venue activates the children once the entry fills (for no more than filled)
    and cancels them when the entry ends unfilled.
    """

    entry: OrderRequest
    stop: OrderRequest
    target: OrderRequest | None = None

    def __attrs_post_init__(self) -> None:
        e, children = self.entry, self.protectors
        if e.purpose != ENTRY or e.parent_id is not None:
            raise ConfigError(f"bracket entry {e.client_order_id!r} must be an entry order without a parent")
        if self.stop.kind != STOP or (self.target is not None and self.target.kind != LIMIT):
            raise ConfigError(f"bracket {e.client_order_id!r}: the stop must be a STOP and the target a LIMIT")
        ids = {e.client_order_id}
        for child in children:
            if (child.purpose != PROTECT or child.parent_id != e.client_order_id or child.qty != -e.qty
                    or child.symbol != e.symbol or child.strategy != e.strategy or child.tif != GTC):
                raise ConfigError(f"bracket {e.client_order_id!r}: child {child.client_order_id!r} must be a GTC "
                                  f"protective order of {e.strategy}/{e.symbol} for {-e.qty}, parent {e.client_order_id!r}")
            if child.oca_group is None or child.oca_group != self.stop.oca_group:
                raise ConfigError(f"bracket {e.client_order_id!r}: the stop and target must share one OCA group")
            if child.client_order_id in ids:
                raise ConfigError(f"bracket {e.client_order_id!r}: order id {child.client_order_id!r} is used twice")
            ids.add(child.client_order_id)
        if self.target is not None:
            assert self.stop.stop_ticks is not None and self.target.limit_ticks is not None
            if (self.target.limit_ticks - self.stop.stop_ticks) * e.side <= 0:
                raise ConfigError(f"bracket {e.client_order_id!r}: the target {self.target.limit_ticks} must lie on the "
                                  f"winning side of the stop {self.stop.stop_ticks}")

    @property
    def protectors(self) -> tuple[OrderRequest, ...]:
        """The stop, then the target if any."""
        return (self.stop,) if self.target is None else (self.stop, self.target)

    @property
    def orders(self) -> tuple[OrderRequest, ...]:
        """The entry, then its protectors: the order they are placed in (the last one transmits)."""
        return (self.entry, *self.protectors)

    @classmethod
    def around(cls, entry: OrderRequest, *, stop_ticks: int, target_ticks: int | None = None) -> BracketOrder:
        """The bracket of ``entry`` with its stop at ``stop_ticks`` and target at ``target_ticks`` (prices in
        ticks); the children's ids are the entry's with ``-stop`` / ``-target``, the OCA group ``oca-<entry id>``."""
        def child(suffix: str, kind: str, stop: int | None, limit: int | None) -> OrderRequest:
            return OrderRequest(client_order_id=f"{entry.client_order_id}-{suffix}", strategy=entry.strategy,
                                symbol=entry.symbol, qty=-entry.qty, kind=kind, purpose=PROTECT, stop_ticks=stop,
                                limit_ticks=limit, tif=GTC, parent_id=entry.client_order_id,
                                oca_group=f"oca-{entry.client_order_id}")

        stop = child("stop", STOP, stop_ticks, None)
        target = None if target_ticks is None else child("target", LIMIT, None, target_ticks)
        return cls(entry=entry, stop=stop, target=target)


BrokerEvent = OrderStatus | Fill
"""What ``BrokerAdapter.drain()`` returns, in the order the venue reported it."""
