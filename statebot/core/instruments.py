"""Instruments: where prices become integer ticks and ticks become money.

Inside statebot a price is an ``int`` number of ticks (price / tick_size) and
money is ``Decimal``. ``InstrumentSpec`` is the only place that converts:
``to_ticks`` on the way in (data, broker fills), ``from_ticks`` on the way out
(orders to a venue that wants prices), ``pnl`` for money.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

import attrs

from statebot.errors import ConfigError, OffTickPrice, UnknownInstrument
from statebot.core.money import to_money

TICK_TOLERANCE = Decimal("0.000001")
"""How far (as a fraction of one tick) a price may sit from the grid and still
count as on it in strict mode: absorbs binary float noise such as
``5000.2500000001``, never a real off-grid price."""


def _positive(value: object, what: str) -> Decimal:
    result = to_money(value, what)
    if result <= 0:
        raise ConfigError(f"{what} {value!r} must be positive")
    return result


def _tick_size(value: object) -> Decimal:
    return _positive(value, "tick_size")


def _tick_value(value: object) -> Decimal:
    return _positive(value, "tick_value")


def _multiplier(value: object) -> Decimal:
    return _positive(value, "multiplier")


def _as_decimal(price: object) -> Decimal:
    if isinstance(price, bool) or not isinstance(price, (int, float, Decimal)):
        raise OffTickPrice(f"price {price!r} is not a number")
    if isinstance(price, float):
        if not math.isfinite(price):
            raise OffTickPrice(f"price {price!r} must be finite")
        # repr gives the shortest decimal that round-trips: 5000.25, not 5000.25000000000…
        return Decimal(repr(price))
    result = Decimal(price)
    if not result.is_finite():
        raise OffTickPrice(f"price {price!r} must be finite")
    return result


@attrs.frozen(kw_only=True)
class InstrumentSpec:
    """A futures contract's economics.

    ``tick_size`` is the minimum price step (index points), ``tick_value`` what
    one tick is worth per contract in ``currency``, ``multiplier`` the money per
    point (tick_value / tick_size for the built-ins). All Decimal, positive;
    floats are refused at construction.
    """

    symbol: str
    tick_size: Decimal = attrs.field(converter=_tick_size)
    tick_value: Decimal = attrs.field(converter=_tick_value)
    multiplier: Decimal = attrs.field(converter=_multiplier)
    currency: str = "USD"
    nonpositive_prices: bool = False
    """True for a contract whose price may be zero or negative (a spread, some energy futures);
    otherwise a price that is not above zero once in ticks is refused."""

    def to_ticks(self, price: float | Decimal, *, strict: bool = False) -> int:
        """``price`` as an integer number of ticks.

        Default: rounds to the nearest tick (halves away from zero), so data
        with float noise lands on the grid. ``strict=True`` (use it for broker
        fills and configuration) raises ``OffTickPrice`` when the price lies
        more than ``TICK_TOLERANCE`` of a tick away from the grid. Non-numeric
        or non-finite prices always raise ``OffTickPrice``, and so does a price
        of 0 ticks or fewer (0.01 on MES) unless ``nonpositive_prices``.
        """
        exact = _as_decimal(price) / self.tick_size
        ticks = exact.to_integral_value(rounding=ROUND_HALF_UP)
        if strict and abs(exact - ticks) > TICK_TOLERANCE:
            raise OffTickPrice(
                f"{self.symbol} price {price!r} is not a multiple of the tick size {self.tick_size}"
            )
        if ticks <= 0 and not self.nonpositive_prices:
            # 0.01 on MES would become 0 ticks: every P&L and slippage figure from it would be nonsense
            raise OffTickPrice(f"{self.symbol} price {price!r} is {int(ticks)} ticks of {self.tick_size}; "
                               f"{self.symbol} prices are positive")
        return int(ticks)

    def from_ticks(self, ticks: int) -> Decimal:
        """The price of ``ticks`` ticks, as a Decimal (exact)."""
        if isinstance(ticks, bool) or not isinstance(ticks, int):
            raise ConfigError(f"ticks {ticks!r} must be an integer")
        return ticks * self.tick_size

    def pnl(self, entry_ticks: int | Decimal, exit_ticks: int | Decimal, qty: int) -> Decimal:
        """Gross P&L in ``currency``: (exit - entry) ticks x tick_value x qty.

        ``qty`` is signed (long > 0, short < 0), so a short gains when the exit
        is below the entry. Commission is not included.
        """
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise ConfigError(f"qty {qty!r} must be a signed integer number of contracts")
        return (Decimal(exit_ticks) - Decimal(entry_ticks)) * self.tick_value * qty


BUILTIN_INSTRUMENTS: Mapping[str, InstrumentSpec] = MappingProxyType(
    {
        "MES": InstrumentSpec(symbol="MES", tick_size="0.25", tick_value="1.25", multiplier="5"),
        "ES": InstrumentSpec(symbol="ES", tick_size="0.25", tick_value="12.50", multiplier="50"),
        "MNQ": InstrumentSpec(symbol="MNQ", tick_size="0.25", tick_value="0.50", multiplier="2"),
        "NQ": InstrumentSpec(symbol="NQ", tick_size="0.25", tick_value="5.00", multiplier="20"),
    }
)
"""CME equity index futures (USD): Micro E-mini S&P 500, E-mini S&P 500,
Micro E-mini Nasdaq-100, E-mini Nasdaq-100."""


def instrument(symbol: str, extra: Mapping[str, InstrumentSpec] | None = None) -> InstrumentSpec:
    """The spec for ``symbol`` from ``extra`` (if given) or the built-ins.

    Raises ``UnknownInstrument`` (a ``ConfigError``) naming the symbol and the
    known ones.
    """
    if extra is not None and symbol in extra:
        return extra[symbol]
    spec = BUILTIN_INSTRUMENTS.get(symbol)
    if spec is None:
        known = sorted({*BUILTIN_INSTRUMENTS, *(extra or {})})
        raise UnknownInstrument(f"unknown instrument {symbol!r}; known: {', '.join(known)}")
    return spec
