"""Trading sessions per day: open and close instants from a real exchange calendar.

``ExchangeCalendar`` wraps exchange_calendars (``XNYS`` by default; any of its
names), so holidays, early closes and DST are right by construction.
``CMEGlobexEquityCalendar`` (``statebot.core.time.cme``, name
``CME_GLOBEX_EQUITY``) has CME equity index futures hours: 17:00 CT the day
before to the 16:00 CT halt. exchange_calendars' ``CMES`` is one "most
conservative" calendar for all of CME: it closes at 17:00 CT, inside the equity
halt, so a flatten keyed to it cannot fill; use it only for products that really
trade until 17:00 CT. ``MarketCalendar`` wraps pandas_market_calendars when it is
installed. ``FixedHoursCalendar`` gives the same interface for tests and
simple use: weekdays with fixed local open and close and an optional holiday
list.

Every ``Session`` carries aware UTC instants. Calendars are asked for whole
date ranges; per-bar code never calls into pandas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from statebot.errors import CalendarError

UTC = dt.timezone.utc


def _aware_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise CalendarError(f"session instant {value!r} is naive; calendars need aware datetimes")
    return value.astimezone(UTC)


@attrs.frozen(order=True)
class Session:
    """One trading session: its exchange date and its open and close in UTC.

    ``open < close`` always holds. Lunch breaks (exchanges that have them) are
    not modelled: the session runs from open to close.
    """

    date: dt.date
    open: dt.datetime = attrs.field(converter=_aware_utc)
    close: dt.datetime = attrs.field(converter=_aware_utc)

    def __attrs_post_init__(self) -> None:
        if not self.open < self.close:
            raise CalendarError(f"session {self.date}: open {self.open} is not before close {self.close}")


@runtime_checkable
class TradingCalendar(Protocol):
    """What the session machine needs from a calendar."""

    @property
    def name(self) -> str: ...

    @property
    def tz(self) -> ZoneInfo:
        """The exchange's time zone, used to show times and to find a day's start."""
        ...

    def sessions(self, start: dt.date, end: dt.date) -> tuple[Session, ...]:
        """Sessions whose date lies in ``[start, end]`` (both inclusive), in order."""
        ...


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises ``CalendarError`` naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {name!r} (use an IANA name such as America/New_York)") from exc


@lru_cache(maxsize=32)
def _exchange_calendar(name: str, start: dt.date, end: dt.date):  # type: ignore[no-untyped-def]
    import exchange_calendars as xcals  # type: ignore[import-untyped]  # the package ships no type hints

    try:
        return xcals.get_calendar(name, start=start.isoformat(), end=end.isoformat())
    except xcals.errors.InvalidCalendarName:
        raise CalendarError(
            f"unknown calendar {name!r}; valid names come from "
            "exchange_calendars.get_calendar_names(), e.g. XNYS, XNAS, CMES"
        ) from None
    except ValueError as exc:
        raise CalendarError(f"calendar {name!r} cannot cover {start}..{end}: {exc}") from None


@attrs.frozen
class ExchangeCalendar:
    """Sessions from exchange_calendars' calendar ``name`` (e.g. ``XNYS``, ``CMES``).

    Raises ``CalendarError`` for an unknown name (the message says how to list
    valid ones) and for a range the calendar cannot build. The underlying
    calendar is built for the requested range only (exchange_calendars would
    otherwise stop one year ahead).
    """

    name: str = "XNYS"

    def __attrs_post_init__(self) -> None:
        if self.name not in _calendar_names():
            raise CalendarError(
                f"unknown calendar {self.name!r}; valid names come from "
                "exchange_calendars.get_calendar_names(), e.g. XNYS, XNAS, CMES"
            )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(str(_exchange_calendar(self.name, dt.date(2000, 1, 1), dt.date(2000, 12, 31)).tz))

    def sessions(self, start: dt.date, end: dt.date) -> tuple[Session, ...]:
        if end < start:
            return ()
        return _exchange_sessions(self.name, start, end)


@lru_cache(maxsize=64)
def _exchange_sessions(name: str, start: dt.date, end: dt.date) -> tuple[Session, ...]:
    """``ExchangeCalendar(name).sessions(start, end)``, kept: every runner start reads the same
    year of sessions, and reading it from pandas costs tens of milliseconds (the tuple is immutable)."""
    # whole years (with a week of margin), so nearby ranges share one built calendar
    lo = dt.date((start - dt.timedelta(days=7)).year, 1, 1)
    hi = dt.date((end + dt.timedelta(days=7)).year, 12, 31)
    cal = _exchange_calendar(name, lo, hi)
    sched = cal.schedule.loc[start.isoformat() : end.isoformat()]
    out = []
    for label, opened, closed in zip(sched.index, sched["open"], sched["close"]):
        out.append(Session(label.date(), opened.to_pydatetime(), closed.to_pydatetime()))
    return tuple(out)


@lru_cache(maxsize=1)
def _calendar_names() -> frozenset[str]:
    import exchange_calendars as xcals  # type: ignore[import-untyped]  # the package ships no type hints

    return frozenset(xcals.get_calendar_names(include_aliases=True))


def _time(value: dt.time | str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError):
        raise CalendarError(f"invalid time of day {value!r} (use HH:MM)") from None


def _dates(values: Iterable[dt.date | str]) -> frozenset[dt.date]:
    out = set()
    for v in values:
        if isinstance(v, dt.date):
            out.add(v)
        else:
            try:
                out.add(dt.date.fromisoformat(v))
            except (TypeError, ValueError):
                raise CalendarError(f"invalid holiday {v!r} (use YYYY-MM-DD)") from None
    return frozenset(out)


@attrs.frozen(kw_only=True)
class FixedHoursCalendar:
    """Weekday sessions with a fixed local open and close in zone ``tz_name``.

    ``open`` and ``close`` are local wall times (``"09:30"``, ``"16:00"``);
    ``holidays`` are dates without a session; ``weekdays`` uses Monday = 0.
    DST is handled by the zone: 09:30 New York is 14:30 UTC in winter and
    13:30 UTC in summer.
    """

    open: dt.time = attrs.field(default=dt.time(9, 30), converter=_time)
    close: dt.time = attrs.field(default=dt.time(16, 0), converter=_time)
    tz_name: str = "America/New_York"
    holidays: frozenset[dt.date] = attrs.field(default=frozenset(), converter=_dates)
    weekdays: frozenset[int] = attrs.field(default=frozenset(range(5)), converter=frozenset)
    name: str = "FIXED"

    def __attrs_post_init__(self) -> None:
        zone(self.tz_name)
        if not self.open < self.close:
            raise CalendarError(f"fixed hours: open {self.open} must be before close {self.close}")
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise CalendarError(f"fixed hours: weekdays {sorted(self.weekdays)} must be within 0..6 (Monday = 0)")

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.tz_name)

    def sessions(self, start: dt.date, end: dt.date) -> tuple[Session, ...]:
        tz = self.tz
        out = []
        day = start
        while day <= end:
            if day.weekday() in self.weekdays and day not in self.holidays:
                opened = dt.datetime.combine(day, self.open, tzinfo=tz)
                closed = dt.datetime.combine(day, self.close, tzinfo=tz)
                out.append(Session(day, opened, closed))
            day += dt.timedelta(days=1)
        return tuple(out)


@lru_cache(maxsize=8)
def _market_calendar(name: str, start: dt.date, end: dt.date):  # type: ignore[no-untyped-def]
    import pandas_market_calendars as mcal  # type: ignore[import-untyped]  # optional; ships no type hints

    return mcal.get_calendar(name).schedule(start_date=start.isoformat(), end_date=end.isoformat())


@attrs.frozen
class MarketCalendar:
    """Sessions from pandas_market_calendars' calendar ``name`` (e.g. ``CMEGlobex_Energy``).

    pandas_market_calendars is optional (``pip install pandas_market_calendars``);
    ``get_calendar`` offers it only when installed. Breaks within a session are
    not modelled: the session runs from its open to its close.
    """

    name: str

    @property
    def tz(self) -> ZoneInfo:
        import pandas_market_calendars as mcal

        return ZoneInfo(str(mcal.get_calendar(self.name).tz))

    def sessions(self, start: dt.date, end: dt.date) -> tuple[Session, ...]:
        if end < start:
            return ()
        sched = _market_calendar(self.name, dt.date(start.year, 1, 1), dt.date(end.year, 12, 31))
        sched = sched.loc[start.isoformat() : end.isoformat()]
        return tuple(
            Session(label.date(), opened.to_pydatetime(), closed.to_pydatetime())
            for label, opened, closed in zip(sched.index, sched["market_open"], sched["market_close"])
        )


def _market_calendar_names() -> frozenset[str]:
    try:
        import pandas_market_calendars as mcal
    except ImportError:
        return frozenset()
    return frozenset(mcal.get_calendar_names())


CALENDAR_NAMES_HINT = (
    "use CME_GLOBEX_EQUITY (built in), an exchange_calendars name (exchange_calendars.get_calendar_names(), "
    "e.g. XNYS, CMES) or, with pandas_market_calendars installed, one of its names"
)


def get_calendar(name: str = "XNYS") -> TradingCalendar:
    """The calendar called ``name``, looked up in this order: ``CME_GLOBEX_EQUITY`` (built in: CME
    equity index futures hours), exchange_calendars' names, then pandas_market_calendars' names
    when that package is installed. Raises ``CalendarError`` naming ``name`` and where names come from.
    """
    from statebot.core.time.cme import CME_GLOBEX_EQUITY, CMEGlobexEquityCalendar

    if name == CME_GLOBEX_EQUITY:
        return CMEGlobexEquityCalendar()
    if name in _calendar_names():
        return ExchangeCalendar(name)
    if name in _market_calendar_names():
        return MarketCalendar(name)
    raise CalendarError(f"unknown calendar {name!r}; {CALENDAR_NAMES_HINT}")
