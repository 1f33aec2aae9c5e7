"""SessionSchedule: the four instants of each session, the state as a function of time, and the
calendar's edges (times before its first session, after its last, ranges asked out of order)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from statebot import CalendarError, ConfigError, FixedHoursCalendar
from statebot.core.time.calendar import Session
from statebot.core.time.schedule import CLOSED, FLATTENING, PRE_OPEN, TRADING, SessionSchedule, SessionTimes
from tests.strategies import NY

UTC = dt.timezone.utc


def et(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=NY)


@attrs.frozen
class Between:
    """Weekday 09:30-16:00 New York sessions, only from ``first`` to ``last``: a calendar that ends."""

    first: dt.date
    last: dt.date
    name: str = "BETWEEN"

    @property
    def tz(self):  # type: ignore[no-untyped-def]
        return NY

    def sessions(self, start: dt.date, end: dt.date) -> tuple[Session, ...]:
        return FixedHoursCalendar().sessions(max(start, self.first), min(end, self.last))


def test_the_instants_of_a_session_with_a_lead_and_a_cut_off() -> None:
    s = SessionSchedule(FixedHoursCalendar(), flatten_lead=dt.timedelta(minutes=10), entry_cutoff=dt.timedelta(minutes=30))
    times = s.session_at(et(24, 12))
    assert times == SessionTimes(date=dt.date(2026, 11, 24), day_start=et(24, 0).astimezone(UTC), open=et(24, 9, 30).astimezone(UTC),
                                 entry_cutoff=et(24, 15, 30).astimezone(UTC), flatten=et(24, 15, 50).astimezone(UTC),
                                 close=et(24, 16).astimezone(UTC))
    assert s.tz == NY
    assert s.flatten_lead == dt.timedelta(minutes=10) and s.entry_cutoff == dt.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("t", "state", "entries"),
    [
        (et(24, 9, 29), PRE_OPEN, False),
        (et(24, 9, 30), TRADING, True),
        (et(24, 15, 29), TRADING, True),
        (et(24, 15, 30), TRADING, False),  # the cut-off: still trading, no new entries
        (et(24, 15, 54), TRADING, False),
        (et(24, 15, 55), FLATTENING, False),
        (et(24, 16, 0), CLOSED, False),
    ],
)
def test_state_and_entries_at_each_instant(t: dt.datetime, state: str, entries: bool) -> None:
    s = SessionSchedule(FixedHoursCalendar(), entry_cutoff=dt.timedelta(minutes=30))
    assert s.state_at(t) == state
    assert s.session_at(t).entries_allowed(t) is entries  # type: ignore[union-attr]


def test_without_a_cut_off_entries_run_until_the_flatten() -> None:
    times = SessionSchedule(FixedHoursCalendar()).session_at(et(24, 12))
    assert times is not None and times.entry_cutoff is None
    assert times.entries_allowed(et(24, 15, 54)) and not times.entries_allowed(et(24, 15, 55))
    assert not times.entries_allowed(et(24, 9, 29))


def test_a_lead_longer_than_the_session_flattens_at_the_open() -> None:
    times = SessionSchedule(FixedHoursCalendar(), flatten_lead=dt.timedelta(hours=8)).session_at(et(24, 12))
    assert times is not None and times.flatten == times.open


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"flatten_lead": None}, "flatten lead must be a duration"),
        ({"flatten_lead": 5}, "flatten lead must be a duration, got 5"),
        ({"flatten_lead": dt.timedelta(minutes=-1)}, "flatten lead must not be negative"),
        ({"entry_cutoff": "10m"}, "entry cut-off must be a duration, got '10m'"),
        ({"entry_cutoff": dt.timedelta(seconds=-1)}, "entry cut-off must not be negative"),
    ],
)
def test_a_bad_lead_or_cut_off_is_refused_naming_it(kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        SessionSchedule(FixedHoursCalendar(), **kwargs)  # type: ignore[arg-type]


def test_weekends_and_times_before_the_first_session_are_closed() -> None:
    s = SessionSchedule(Between(dt.date(2026, 11, 23), dt.date(2026, 12, 31)))
    assert s.session_at(et(20, 12)) is None  # before the calendar's first session
    assert s.state_at(et(20, 12)) == CLOSED
    assert s.state_at(et(28, 12)) == CLOSED  # a Saturday: the day of Friday's session, after its close
    assert s.session_at(et(28, 12)).date == dt.date(2026, 11, 27)  # type: ignore[union-attr]


def test_the_next_session_after_a_time_or_after_a_session() -> None:
    s = SessionSchedule(FixedHoursCalendar())
    friday = s.session_at(et(27, 12))
    assert friday is not None
    assert s.next_after(friday, et(27, 17)).date == dt.date(2026, 11, 30)
    assert s.next_after(None, et(28, 12)).date == dt.date(2026, 11, 30)
    assert s[s.index_at(et(30, 12))].date == dt.date(2026, 11, 30)


def test_asking_an_earlier_time_after_a_later_one_loads_the_earlier_sessions_too() -> None:
    s = SessionSchedule(FixedHoursCalendar())
    assert s.session_at(et(24, 12)).date == dt.date(2026, 11, 24)  # type: ignore[union-attr]
    assert s.session_at(et(2, 12, year=2025, month=6)).date == dt.date(2025, 6, 2)  # type: ignore[union-attr]
    assert s.session_at(et(24, 12)).date == dt.date(2026, 11, 24)  # type: ignore[union-attr]


def test_a_time_years_ahead_loads_as_far_as_needed() -> None:
    s = SessionSchedule(FixedHoursCalendar())
    s.session_at(et(24, 12))
    far = et(3, 12, month=12, year=2029)
    assert s.session_at(far).date == dt.date(2029, 12, 3)  # type: ignore[union-attr]
    assert s.next_after(s.session_at(far), far).date == dt.date(2029, 12, 4)


def test_a_calendar_that_ends_raises_naming_the_calendar_and_the_time() -> None:
    """The schedule needs the session after the one it answers with: past the calendar's end it says so."""
    s = SessionSchedule(Between(dt.date(2026, 1, 1), dt.date(2026, 11, 27)))
    thursday = s.session_at(et(26, 12))
    assert thursday is not None and thursday.date == dt.date(2026, 11, 26)
    friday = s.next_after(thursday, et(26, 12))
    assert friday.date == dt.date(2026, 11, 27)
    with pytest.raises(CalendarError, match=r"calendar BETWEEN has no session after 2026-11-27T17:00:00-05:00"):
        s.next_after(friday, et(27, 17))
    with pytest.raises(CalendarError, match=r"calendar BETWEEN has no session after 2026-11-27T12:00:00-05:00"):
        s.session_at(et(27, 12))


def test_sessions_between_two_dates_inclusive() -> None:
    s = SessionSchedule(FixedHoursCalendar())
    got = s.between(dt.date(2026, 11, 26), dt.date(2026, 11, 30))
    assert [t.date for t in got] == [dt.date(2026, 11, 26), dt.date(2026, 11, 27), dt.date(2026, 11, 30)]
    assert s.between(dt.date(2026, 11, 30), dt.date(2026, 11, 26)) == ()
    loaded = SessionSchedule(FixedHoursCalendar())
    loaded.session_at(et(24, 12))  # loads a year ahead: a range inside is answered from what is loaded
    assert [t.date for t in loaded.between(dt.date(2026, 12, 1), dt.date(2026, 12, 1))] == [dt.date(2026, 12, 1)]
    assert [t.date for t in s.between(dt.date(2020, 3, 2), dt.date(2020, 3, 2))] == [dt.date(2020, 3, 2)]


def test_day_start_is_never_before_the_previous_close() -> None:
    """A session opening the evening before (as CME's do) starts its day at that open, but never
    before the previous session's close."""

    @attrs.frozen
    class Overnight:
        name: str = "OVERNIGHT"

        @property
        def tz(self):  # type: ignore[no-untyped-def]
            return NY

        def sessions(self, start: dt.date, end: dt.date) -> tuple[Session, ...]:
            out = []
            day = start
            while day <= end:
                if day.weekday() < 5:
                    opened = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(18), tzinfo=NY)
                    out.append(Session(day, opened, dt.datetime.combine(day, dt.time(18, 30), tzinfo=NY)))
                day += dt.timedelta(days=1)
            return tuple(out)

    s = SessionSchedule(Overnight())
    wednesday = s.session_at(et(25, 12))
    assert wednesday is not None and wednesday.date == dt.date(2026, 11, 25)
    assert wednesday.open == et(24, 18).astimezone(UTC)
    assert wednesday.day_start == et(24, 18, 30).astimezone(UTC)  # Tuesday's close, after Wednesday's open
    monday = s.session_at(et(23, 12))
    assert monday is not None and monday.day_start == et(22, 18).astimezone(UTC)  # Sunday 18:00: nothing before it
