"""Trading sessions per day: open and close instants from a real exchange calendar.

``ExchangeCalendar`` wraps exchange_calendars (``XNYS`` by default; any of its
names, e.g. ``CMES``), so holidays, early closes and DST are right by
construction. ``FixedHoursCalendar`` gives the same interface for tests and
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
        # whole years (with a week of margin), so nearby ranges share one built calendar
        lo = dt.date((start - dt.timedelta(days=7)).year, 1, 1)
        hi = dt.date((end + dt.timedelta(days=7)).year, 12, 31)
        cal = _exchange_calendar(self.name, lo, hi)
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


def get_calendar(name: str = "XNYS") -> TradingCalendar:
    """The calendar called ``name``: any exchange_calendars name; raises ``CalendarError``."""
    return ExchangeCalendar(name)
