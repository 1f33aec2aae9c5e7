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


_BINARY_TICKS: dict[Decimal, float] = {}


def _binary_tick(tick_size: Decimal) -> float:
    """``tick_size`` as a float when it is 1/2^k or a whole power of two (0.25, 0.5, 1: exact in
    binary floating point), else 0.0."""
    per_tick = _BINARY_TICKS.get(tick_size)
    if per_tick is None:
        num, den = tick_size.as_integer_ratio()
        binary = den & (den - 1) == 0 and num & (num - 1) == 0
        per_tick = _BINARY_TICKS[tick_size] = float(tick_size) if binary else 0.0
    return per_tick


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


CASH_CLOSE = "cash_close"
"""Flatten before the cash market's close (XNYS 16:00 ET for the US equity index contracts):
sessions come from the config's ``[calendar]`` (XNYS by default); a day without a cash session is
not traded even when the futures are open."""
FUTURES_CLOSE = "futures_close"
"""Flatten before the contract's own daily close (CME equity index futures: the 16:00 CT halt):
sessions come from the contract's ``calendar``."""
FLATTEN_BEFORE = (CASH_CLOSE, FUTURES_CLOSE)

MONTH_CODES = "FGHJKMNQUVXZ"
"""CME month letters, January to December."""


def _flatten_before(value: str) -> str:
    if value not in FLATTEN_BEFORE:
        raise ConfigError(f"flatten_before {value!r} must be one of {', '.join(FLATTEN_BEFORE)}")
    return value


def normalized_roll_months(value: str) -> str:
    """``value``'s CME month letters, upper case, in calendar order; ``ConfigError`` when not month letters."""
    text = value.strip().upper()
    if not text or any(c not in MONTH_CODES for c in text) or len(set(text)) != len(text):
        raise ConfigError(f"roll_months {value!r} must be distinct CME month letters ({MONTH_CODES}), e.g. HMUZ")
    return "".join(sorted(text, key=MONTH_CODES.index))


def _roll_days(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 60:
        raise ConfigError(f"roll_days {value!r} must be a whole number of calendar days from 0 to 60")
    return value


def _fee(value: object) -> Decimal | None:
    if value is None:
        return None
    result = to_money(value, "fee_per_side")
    if result < 0:
        raise ConfigError(f"fee_per_side {value!r} must not be negative")
    return result


@attrs.frozen(kw_only=True)
class InstrumentSpec:
    """A futures contract: its economics, where it trades, and which close a bot flattens before.

    ``tick_size`` is the minimum price step (index points), ``tick_value`` what
    one tick is worth per contract in ``currency``, ``multiplier`` the money per
    point; ``tick_value == tick_size x multiplier`` is checked. All Decimal,
    positive; floats are refused at construction (``ConfigError`` naming the field).

    ``calendar`` names the contract's own trading calendar (any name
    ``get_calendar`` knows); ``flatten_before`` is ``CASH_CLOSE`` or
    ``FUTURES_CLOSE``. ``roll_months`` (CME letters) and ``roll_days`` (calendar
    days before expiry) are the roll rule; ``ib_symbol`` and ``ib_trading_class``
    are the Interactive Brokers contract fields when they differ from
    ``symbol``. ``fee_per_side`` (None: the configured commission model) is a
    fixed fee per contract per side.
    """

    symbol: str
    tick_size: Decimal = attrs.field(converter=_tick_size)
    tick_value: Decimal = attrs.field(converter=_tick_value)
    multiplier: Decimal = attrs.field(converter=_multiplier)
    currency: str = "USD"
    exchange: str = "CME"
    calendar: str = "CME_GLOBEX_EQUITY"
    flatten_before: str = attrs.field(default=CASH_CLOSE, converter=_flatten_before)
    roll_months: str = attrs.field(default="HMUZ", converter=normalized_roll_months)
    roll_days: int = attrs.field(default=8, converter=_roll_days)
    ib_symbol: str = ""
    ib_trading_class: str = ""
    fee_per_side: Decimal | None = attrs.field(default=None, converter=_fee)

    nonpositive_prices: bool = False
    """True for a contract whose price may be zero or negative (a spread, some energy futures);
    otherwise a price that is not above zero once in ticks is refused."""

    def __attrs_post_init__(self) -> None:
        product = self.tick_size * self.multiplier
        if product != self.tick_value:
            raise ConfigError(
                f"tick_value {self.tick_value} is not tick_size x multiplier = {self.tick_size} x {self.multiplier} = {product}"
            )

    def describe(self) -> str:
        """The specification in a few lines, as ``statebot config check`` prints it."""
        fee = "the [commission] model" if self.fee_per_side is None else f"{self.fee_per_side:f} {self.currency} per contract per side"
        return "\n".join([
            f"{self.symbol} on {self.exchange} ({self.currency}): tick {self.tick_size:f} = {self.tick_value:f} {self.currency}, "
            f"multiplier {self.multiplier:f}",
            f"  calendar {self.calendar}, flatten before the {self.flatten_before.replace('_', ' ')}",
            f"  roll: {self.roll_months} contracts, {self.roll_days} days before expiry; "
            f"IB symbol {self.ib_symbol or self.symbol}" + (f", trading class {self.ib_trading_class}" if self.ib_trading_class else ""),
            f"  fees: {fee}",
        ])

    def to_ticks(self, price: float | Decimal, *, strict: bool = False) -> int:
        """``price`` as an integer number of ticks.

        Default: rounds to the nearest tick (halves away from zero), so data
        with float noise lands on the grid. ``strict=True`` (use it for broker
        fills and configuration) raises ``OffTickPrice`` when the price lies
        more than ``TICK_TOLERANCE`` of a tick away from the grid. Non-numeric
        or non-finite prices always raise ``OffTickPrice``, and so does a price
        of 0 ticks or fewer (0.01 on MES) unless ``nonpositive_prices``.
        """
        if not strict and price.__class__ is float and (per_tick := _binary_tick(self.tick_size)) and math.isfinite(price):
            # a tick of 1/2^k divides a float exactly, and a halfway quotient comes only from a
            # price that is itself exact: the same ticks as the Decimal path, without Decimals.
            # q's distance from its whole part is exact too; q + 0.5 is not (0.49999999999999994
            # + 0.5 is 1.0 in floats)
            q = price / per_tick
            size = -q if q < 0 else q
            whole = int(size)
            if size - whole >= 0.5:
                whole += 1
            if q < 0:
                whole = -whole
            if whole > 0 or self.nonpositive_prices:
                return whole
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


def _equity_index(symbol: str, exchange: str, tick_size: str, multiplier: str, tick_value: str) -> InstrumentSpec:
    return InstrumentSpec(symbol=symbol, exchange=exchange, tick_size=tick_size, tick_value=tick_value,
                          multiplier=multiplier, calendar="CME_GLOBEX_EQUITY", flatten_before=CASH_CLOSE)


# Contract specifications from CME Group's product pages (cmegroup.com/markets/equities/...,
# "Contract Specs": contract unit, minimum price fluctuation), all quarterly H M U Z, USD:
#   ES  E-mini S&P 500            $50 x index,    0.25 pt = $12.50   (CME)
#   MES Micro E-mini S&P 500      $5 x index,     0.25 pt = $1.25    (CME)
#   NQ  E-mini Nasdaq-100         $20 x index,    0.25 pt = $5.00    (CME)
#   MNQ Micro E-mini Nasdaq-100   $2 x index,     0.25 pt = $0.50    (CME)
#   RTY E-mini Russell 2000       $50 x index,    0.10 pt = $5.00    (CME)
#   M2K Micro E-mini Russell 2000 $5 x index,     0.10 pt = $0.50    (CME)
#   YM  E-mini Dow ($5)           $5 x index,     1.00 pt = $5.00    (CBOT)
#   MYM Micro E-mini Dow          $0.50 x index,  1.00 pt = $0.50    (CBOT)
# InstrumentSpec checks tick_value = tick_size x multiplier for each.
BUILTIN_INSTRUMENTS: Mapping[str, InstrumentSpec] = MappingProxyType(
    {
        "MES": _equity_index("MES", "CME", "0.25", "5", "1.25"),
        "ES": _equity_index("ES", "CME", "0.25", "50", "12.50"),
        "MNQ": _equity_index("MNQ", "CME", "0.25", "2", "0.50"),
        "NQ": _equity_index("NQ", "CME", "0.25", "20", "5.00"),
        "M2K": _equity_index("M2K", "CME", "0.10", "5", "0.50"),
        "RTY": _equity_index("RTY", "CME", "0.10", "50", "5.00"),
        "MYM": _equity_index("MYM", "CBOT", "1", "0.50", "0.50"),
        "YM": _equity_index("YM", "CBOT", "1", "5", "5.00"),
    }
)
"""CME Group equity index futures (USD), e-mini and micro: S&P 500, Nasdaq-100, Russell 2000, Dow.
They flatten before the cash close (XNYS 16:00 ET) by default: the seed's rule."""


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
