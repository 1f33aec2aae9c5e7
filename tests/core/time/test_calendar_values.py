"""A session's own checks, and a calendar asked for an empty range or a range it cannot build."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from statebot.core.time.calendar import ExchangeCalendar, Session, _exchange_calendar
from statebot.errors import CalendarError

UTC = dt.timezone.utc


def test_a_session_keeps_its_instants_in_utc() -> None:
    ny = dt.timezone(dt.timedelta(hours=-5))
    s = Session(dt.date(2026, 11, 24), dt.datetime(2026, 11, 24, 9, 30, tzinfo=ny), dt.datetime(2026, 11, 24, 16, tzinfo=ny))
    assert (s.open, s.close) == (dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC), dt.datetime(2026, 11, 24, 21, tzinfo=UTC))
    assert s.open.tzinfo is UTC and s.close.tzinfo is UTC


@pytest.mark.parametrize("which", ["open", "close"])
def test_a_session_refuses_a_naive_instant(which: str) -> None:
    instants = {"open": dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC), "close": dt.datetime(2026, 11, 24, 21, tzinfo=UTC)}
    instants[which] = instants[which].replace(tzinfo=None)
    with pytest.raises(CalendarError, match="^" + re.escape(f"session instant {instants[which]!r} is naive; calendars need aware datetimes") + "$"):
        Session(dt.date(2026, 11, 24), **instants)


@pytest.mark.parametrize("close_hour", [14, 13])
def test_a_session_must_open_before_it_closes(close_hour: int) -> None:
    at = dt.datetime(2026, 11, 24, 14, tzinfo=UTC)
    with pytest.raises(CalendarError, match=r"^session 2026-11-24: open 2026-11-24 14:00:00\+00:00 is not before close "):
        Session(dt.date(2026, 11, 24), at, at.replace(hour=close_hour))


def test_an_exchange_calendar_asked_for_a_range_ending_before_it_starts_has_no_sessions() -> None:
    assert ExchangeCalendar("XNYS").sessions(dt.date(2026, 11, 25), dt.date(2026, 11, 24)) == ()
    assert len(ExchangeCalendar("XNYS").sessions(dt.date(2026, 11, 24), dt.date(2026, 11, 24))) == 1


def test_the_underlying_calendar_refuses_an_unknown_name_with_the_way_to_list_names() -> None:
    with pytest.raises(CalendarError, match=r"^unknown calendar 'NOPE'; valid names come from exchange_calendars.get_calendar_names\(\), e.g. XNYS, XNAS, CMES$"):
        _exchange_calendar("NOPE", dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def test_a_range_the_calendar_cannot_build_is_one_line_naming_it() -> None:
    with pytest.raises(CalendarError, match=r"^calendar 'XNYS' cannot cover 2300-01-01\.\.2300-12-31: Out of bounds"):
        _exchange_calendar("XNYS", dt.date(2300, 1, 1), dt.date(2300, 12, 31))
