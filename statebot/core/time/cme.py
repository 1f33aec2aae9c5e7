"""CME Globex equity index futures hours (ES, MES, NQ, MNQ, RTY, M2K, YM, MYM), without network or pandas.

A session's date is the day it closes. It opens at 17:00 Chicago time the
calendar day before (Sunday evening for Monday) and closes at the 16:00 CT
daily halt, or earlier on CME's holiday schedule:

* no session: New Year's Day (a Sunday one is observed on Monday; a Saturday
  one is not observed), Christmas (Saturday -> Friday, Sunday -> Monday), and
  Good Friday except in years when the US jobs report was released on it;
* 08:15 CT: Good Friday in those jobs-report years (2021, 2023);
* 12:00 CT: Martin Luther King Jr. Day, Presidents' Day, Memorial Day,
  Juneteenth (from 2022; nearest weekday), Independence Day (nearest weekday),
  Labor Day, Thanksgiving;
* 12:15 CT: the day after Thanksgiving, Christmas Eve (a weekday that is not
  Christmas observed), and July 3 when July 4 falls Tuesday to Friday.

Source: CME Group's holiday calendar (cmegroup.com/tools-information/holiday-calendar.html),
as encoded in pandas_market_calendars' ``CME Globex Equity`` calendar, which the
tests compare against session by session over 2020-2030. The one deliberate
difference: pandas_market_calendars assumes an 08:15 CT Good Friday session
every year from 2023; CME opens equity futures on Good Friday only when the jobs
report falls on it, so here a Good Friday without one has no session (the safe
error: a half session not traded, never a session traded while the market is
shut). Check CME's notice each spring and add the year to ``GOOD_FRIDAY_JOBS_REPORT``.

Rules are kept from 2016 on; an earlier date raises ``CalendarError`` (CME's
holiday closes were 10:30 CT before 2015).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import attrs

from statebot.core.time.calendar import Session
from statebot.errors import CalendarError

CME_GLOBEX_EQUITY = "CME_GLOBEX_EQUITY"
"""The calendar's name for ``get_calendar`` and configuration."""
CHICAGO = ZoneInfo("America/Chicago")
FIRST_YEAR = 2016

DAILY_OPEN = dt.time(17, 0)
"""The Globex open, on the calendar day before the session's date."""
DAILY_CLOSE = dt.time(16, 0)
"""The daily halt: equity index futures stop 16:00-17:00 CT."""
HOLIDAY_CLOSE = dt.time(12, 0)
EVE_CLOSE = dt.time(12, 15)
JOBS_REPORT_CLOSE = dt.time(8, 15)

GOOD_FRIDAY_JOBS_REPORT = frozenset({2021, 2023})
"""Years whose Good Friday had a US employment report, so CME equity futures traded until 08:15 CT."""


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The ``n``-th ``weekday`` (Monday = 0) of the month; ``n = -1`` is the last."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _nearest_weekday(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def easter(year: int) -> dt.date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 19 * l) // 433
    month = (h + l - 7 * m + 90) // 25
    return dt.date(year, month, (h + l - 7 * m + 33 * month + 19) % 32)


def _closed_days(year: int) -> set[dt.date]:
    days = {_nearest_weekday(dt.date(year, 12, 25))}
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() != 5:
        days.add(_nearest_weekday(new_year))
    if year not in GOOD_FRIDAY_JOBS_REPORT:
        days.add(easter(year) - dt.timedelta(days=2))
    return days


def _early_closes(year: int) -> dict[dt.date, dt.time]:
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    july4 = dt.date(year, 7, 4)
    closes = {
        _nth_weekday(year, 1, 0, 3): HOLIDAY_CLOSE,
        _nth_weekday(year, 2, 0, 3): HOLIDAY_CLOSE,
        _nth_weekday(year, 5, 0, -1): HOLIDAY_CLOSE,
        _nearest_weekday(july4): HOLIDAY_CLOSE,
        _nth_weekday(year, 9, 0, 1): HOLIDAY_CLOSE,
        thanksgiving: HOLIDAY_CLOSE,
        thanksgiving + dt.timedelta(days=1): EVE_CLOSE,
    }
    if year >= 2022:
        closes[_nearest_weekday(dt.date(year, 6, 19))] = HOLIDAY_CLOSE
    if july4.weekday() in (1, 2, 3, 4):
        closes[july4 - dt.timedelta(days=1)] = EVE_CLOSE
    eve = dt.date(year, 12, 24)
    if eve.weekday() < 5:
        closes.setdefault(eve, EVE_CLOSE)
    if year in GOOD_FRIDAY_JOBS_REPORT:
        closes[easter(year) - dt.timedelta(days=2)] = JOBS_REPORT_CLOSE
    return closes


@attrs.frozen
class CMEGlobexEquityCalendar:
    """CME Globex equity index futures sessions: 17:00 CT the day before to 16:00 CT, CME holidays.

    Satisfies ``TradingCalendar``. Raises ``CalendarError`` for dates before 2016.
    """

    name: str = CME_GLOBEX_EQUITY

    @property
    def tz(self) -> ZoneInfo:
        return CHICAGO

    def sessions(self, start: dt.date, end: dt.date) -> tuple[Session, ...]:
        if end < start:
            return ()
        if start.year < FIRST_YEAR:
            raise CalendarError(f"calendar {self.name} keeps CME's holiday rules from {FIRST_YEAR} on, not {start}")
        closed: set[dt.date] = set()
        early: dict[dt.date, dt.time] = {}
        for year in range(start.year, end.year + 1):
            closed |= _closed_days(year)
            early.update(_early_closes(year))
        out = []
        day = start
        while day <= end:
            if day.weekday() < 5 and day not in closed:
                opened = dt.datetime.combine(day - dt.timedelta(days=1), DAILY_OPEN, tzinfo=CHICAGO)
                closes = dt.datetime.combine(day, early.get(day, DAILY_CLOSE), tzinfo=CHICAGO)
                out.append(Session(day, opened, closes))
            day += dt.timedelta(days=1)
        return tuple(out)

