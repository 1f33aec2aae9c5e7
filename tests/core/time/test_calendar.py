"""Calendars: real exchange sessions and a fixed-hours calendar for tests."""

from __future__ import annotations

import datetime as dt

import pytest

from statebot import CalendarError, ExchangeCalendar, FixedHoursCalendar, get_calendar
from tests.strategies import NY, UTC

THANKSGIVING_WEEK = (dt.date(2026, 11, 23), dt.date(2026, 11, 27))


def test_xnys_has_no_session_on_thanksgiving_2026() -> None:
    dates = [s.date for s in ExchangeCalendar("XNYS").sessions(*THANKSGIVING_WEEK)]
    assert dt.date(2026, 11, 26) not in dates
    assert dates == [dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 27)]


def test_xnys_closes_at_1300_et_the_day_after_thanksgiving() -> None:
    (friday,) = ExchangeCalendar("XNYS").sessions(dt.date(2026, 11, 27), dt.date(2026, 11, 27))
    assert friday.close.astimezone(NY).time() == dt.time(13, 0)
    assert friday.open.astimezone(NY).time() == dt.time(9, 30)


@pytest.mark.parametrize(
    ("day", "open_utc"),
    [
        (dt.date(2026, 3, 6), dt.time(14, 30)),   # before spring-forward (EST)
        (dt.date(2026, 3, 9), dt.time(13, 30)),   # after (EDT)
        (dt.date(2026, 10, 30), dt.time(13, 30)),  # before fall-back (EDT)
        (dt.date(2026, 11, 2), dt.time(14, 30)),   # after (EST)
    ],
)
def test_xnys_open_follows_dst_in_utc_and_stays_0930_local(day: dt.date, open_utc: dt.time) -> None:
    (s,) = ExchangeCalendar("XNYS").sessions(day, day)
    assert s.open.time() == open_utc
    assert s.open.astimezone(NY).time() == dt.time(9, 30)
    assert s.open.tzinfo == UTC


def test_any_exchange_calendars_name_is_accepted() -> None:
    cmes = get_calendar("CMES")
    sessions = cmes.sessions(dt.date(2026, 11, 23), dt.date(2026, 11, 24))
    assert len(sessions) == 2
    assert sessions[0].open < sessions[0].close


def test_unknown_calendar_name_says_how_to_list_valid_names() -> None:
    with pytest.raises(CalendarError, match=r"unknown calendar 'NOPE'.*get_calendar_names"):
        ExchangeCalendar("NOPE")


def test_sessions_beyond_exchange_calendars_default_horizon_are_available() -> None:
    far = dt.date.today() + dt.timedelta(days=800)
    assert ExchangeCalendar("XNYS").sessions(far, far + dt.timedelta(days=7))


def test_fixed_hours_calendar_skips_weekends_and_holidays() -> None:
    cal = FixedHoursCalendar(open="09:30", close="16:00", tz_name="America/New_York", holidays=["2026-11-26"])
    dates = [s.date for s in cal.sessions(dt.date(2026, 11, 23), dt.date(2026, 11, 29))]
    assert dates == [dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 27)]


def test_fixed_hours_calendar_applies_dst_through_its_zone() -> None:
    cal = FixedHoursCalendar()
    (winter,) = cal.sessions(dt.date(2026, 3, 6), dt.date(2026, 3, 6))
    (summer,) = cal.sessions(dt.date(2026, 3, 9), dt.date(2026, 3, 9))
    assert winter.close.time() == dt.time(21, 0)
    assert summer.close.time() == dt.time(20, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"open": "16:00", "close": "09:30"}, "must be before close"),
        ({"open": "9h"}, "invalid time of day"),
        ({"tz_name": "Mars/Olympus"}, "unknown time zone"),
        ({"holidays": ["2026-02-30"]}, "invalid holiday"),
        ({"weekdays": {7}}, "weekdays"),
    ],
)
def test_fixed_hours_calendar_rejects_bad_settings_with_a_named_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        FixedHoursCalendar(**kwargs)
