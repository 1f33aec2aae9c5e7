"""Which MES / ES futures contract to trade on a given day: quarterly months and the roll rule.

CME equity index futures (ES, MES and their siblings) list March, June,
September and December contracts (codes H, M, U, Z). A contract's last trading
day is the third Friday of its month; when the NYSE is closed that Friday (the
final settlement needs the index's opening quotation), it is the NYSE session
before it: ESM6 and MESM6 stop trading on Thursday 2026-06-18 because Friday
2026-06-19 is Juneteenth.

Roll rule: trading moves to the next quarterly contract on the roll date,
``roll_days`` calendar days before the contract's third Friday. The default, 8,
is the Thursday of the week before expiry: the "second Thursday before
expiration" convention that CME volume follows. On and after the roll date
the next contract is the front month. Every function here is pure: the answer
depends only on the date passed in (and the holiday calendar).
"""

from __future__ import annotations

import datetime as dt

import attrs

from statebot.core.time.calendar import ExchangeCalendar, TradingCalendar
from statebot.errors import ConfigError

QUARTERLY_MONTHS = (3, 6, 9, 12)
MONTH_CODES = {1: "F", 2: "G", 3: "H", 4: "J", 5: "K", 6: "M", 7: "N", 8: "Q", 9: "U", 10: "V", 11: "X", 12: "Z"}
EQUITY_INDEX_SYMBOLS = frozenset({"ES", "MES", "NQ", "MNQ", "RTY", "M2K", "YM", "MYM"})
"""CME Group equity index futures that follow the quarterly third-Friday schedule."""

ROLL_DAYS_BEFORE_EXPIRY = 8
"""Default roll: the Thursday a week and a day before the third-Friday expiry."""

EXCHANGE = {"ES": "CME", "MES": "CME", "NQ": "CME", "MNQ": "CME", "RTY": "CME", "M2K": "CME", "YM": "CBOT", "MYM": "CBOT"}
"""The exchange name IB uses for each symbol (``Future(symbol, month, exchange=...)``)."""


def third_friday(year: int, month: int) -> dt.date:
    """The third Friday of ``month`` in ``year``."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


@attrs.frozen(kw_only=True)
class FuturesContract:
    """One quarterly equity index future, as statebot names it.

    ``last_trade_date`` is the contract's last trading day (exchange date);
    ``roll_date`` the first session date on which the next contract is traded.
    """

    symbol: str
    year: int
    month: int
    last_trade_date: dt.date
    roll_date: dt.date

    @property
    def month_code(self) -> str:
        """The CME month letter: H, M, U or Z."""
        return MONTH_CODES[self.month]

    @property
    def contract_month(self) -> str:
        """``YYYYMM``, what IB's ``lastTradeDateOrContractMonth`` accepts."""
        return f"{self.year:04d}{self.month:02d}"

    @property
    def local_symbol(self) -> str:
        """IB's local symbol, one-digit year: ``MESZ6``."""
        return f"{self.symbol}{self.month_code}{self.year % 10}"

    @property
    def exchange(self) -> str:
        return EXCHANGE[self.symbol]


def _check_symbol(symbol: str) -> None:
    if symbol not in EQUITY_INDEX_SYMBOLS:
        raise ConfigError(f"futures symbol {symbol!r} is not a quarterly CME equity index future ({', '.join(sorted(EQUITY_INDEX_SYMBOLS))})")


def _check_roll_days(roll_days: int) -> None:
    if isinstance(roll_days, bool) or not isinstance(roll_days, int) or not 0 <= roll_days <= 60:
        raise ConfigError(f"roll_days {roll_days!r} must be a whole number of calendar days from 0 to 60")


def last_trade_date(year: int, month: int, calendar: TradingCalendar | None = None) -> dt.date:
    """The last trading day of the contract of ``month``/``year``.

    The third Friday, or the last ``calendar`` session before it when that
    Friday is not a session. ``calendar`` defaults to XNYS.
    """
    friday = third_friday(year, month)
    sessions = (calendar or ExchangeCalendar("XNYS")).sessions(friday - dt.timedelta(days=10), friday)
    if not sessions:
        raise ConfigError(f"calendar has no session in the ten days up to {friday}; cannot place the {year}-{month:02d} expiry")
    return sessions[-1].date


def quarterly_contract(symbol: str, year: int, month: int, *, roll_days: int = ROLL_DAYS_BEFORE_EXPIRY, calendar: TradingCalendar | None = None) -> FuturesContract:
    """The contract of ``symbol`` for quarterly ``month`` of ``year``; ``ConfigError`` for a bad symbol, month or roll."""
    _check_symbol(symbol)
    _check_roll_days(roll_days)
    if month not in QUARTERLY_MONTHS:
        raise ConfigError(f"contract month {month!r} is not quarterly (3, 6, 9 or 12)")
    return FuturesContract(
        symbol=symbol,
        year=year,
        month=month,
        last_trade_date=last_trade_date(year, month, calendar),
        roll_date=third_friday(year, month) - dt.timedelta(days=roll_days),
    )


def _quarter_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 3) if month == 12 else (year, month + 3)


def front_month(symbol: str, on: dt.date, *, roll_days: int = ROLL_DAYS_BEFORE_EXPIRY, calendar: TradingCalendar | None = None) -> FuturesContract:
    """The contract of ``symbol`` to trade on exchange date ``on``.

    The nearest quarterly contract whose roll date is after ``on``: on its
    roll date and later, the next one. Pass the trading session's date (in
    the exchange's zone), not a UTC date. Raises ``ConfigError`` for an
    unknown symbol or a roll outside 0..60 days.
    """
    _check_symbol(symbol)
    _check_roll_days(roll_days)
    if isinstance(on, dt.datetime) or not isinstance(on, dt.date):
        raise ConfigError(f"front_month needs a session date, not {on!r}")
    year, month = on.year, next(m for m in QUARTERLY_MONTHS if m >= on.month)
    if on >= third_friday(year, month) - dt.timedelta(days=roll_days):
        year, month = _quarter_after(year, month)
    return quarterly_contract(symbol, year, month, roll_days=roll_days, calendar=calendar)
