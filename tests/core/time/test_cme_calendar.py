"""CME Globex equity index futures hours: the built-in calendar, checked against an independent one."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from statebot import CalendarError, get_calendar
from statebot.core.time.cme import GOOD_FRIDAY_JOBS_REPORT, CMEGlobexEquityCalendar, easter

CT = ZoneInfo("America/Chicago")
CME = CMEGlobexEquityCalendar()

GOOD_FRIDAYS_PMC_OPENS = {
    dt.date(2024, 3, 29), dt.date(2025, 4, 18), dt.date(2026, 4, 3), dt.date(2027, 3, 26),
    dt.date(2028, 4, 14), dt.date(2029, 3, 30), dt.date(2030, 4, 19),
}
"""The documented differences: pandas_market_calendars gives every Good Friday from 2023 an 08:15 CT
session; CME opens equity futures on Good Friday only when the US jobs report falls on it, and
none of these days had one. Here they have no session (see statebot/core/time/cme.py)."""


def ct(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CT)


def test_every_session_from_2020_to_2030_matches_pandas_market_calendars_cme_globex_equity() -> None:
    mcal = pytest.importorskip("pandas_market_calendars")
    ref = mcal.get_calendar("CME Globex Equity").schedule(start_date="2020-01-01", end_date="2030-12-31")
    theirs = {label.date(): (o.to_pydatetime(), c.to_pydatetime())
              for label, o, c in zip(ref.index, ref["market_open"], ref["market_close"])}
    ours = {s.date: (s.open, s.close) for s in CME.sessions(dt.date(2020, 1, 1), dt.date(2030, 12, 31))}
    differ = {day for day in ours.keys() | theirs.keys() if ours.get(day) != theirs.get(day)}
    assert differ == GOOD_FRIDAYS_PMC_OPENS
    assert len(theirs) == 2848 and len(ours) == 2848 - len(GOOD_FRIDAYS_PMC_OPENS)


def test_a_session_opens_1700_ct_the_evening_before_and_closes_at_the_1600_ct_halt() -> None:
    (tuesday,) = CME.sessions(dt.date(2026, 11, 24), dt.date(2026, 11, 24))
    assert tuesday.open == ct(dt.date(2026, 11, 23), 17)
    assert tuesday.close == ct(dt.date(2026, 11, 24), 16)


def test_monday_session_opens_sunday_evening() -> None:
    (monday,) = CME.sessions(dt.date(2026, 11, 23), dt.date(2026, 11, 23))
    assert monday.open == ct(dt.date(2026, 11, 22), 17)


def test_thanksgiving_halts_at_1200_ct_and_the_day_after_at_1215_ct() -> None:
    thursday, friday = CME.sessions(dt.date(2026, 11, 26), dt.date(2026, 11, 27))
    assert thursday.close == ct(dt.date(2026, 11, 26), 12)
    assert friday.open == ct(dt.date(2026, 11, 26), 17)
    assert friday.close == ct(dt.date(2026, 11, 27), 12, 15)


def test_christmas_and_new_years_day_have_no_session() -> None:
    dates = [s.date for s in CME.sessions(dt.date(2026, 12, 24), dt.date(2027, 1, 4))]
    assert dates == [dt.date(2026, 12, 24), dt.date(2026, 12, 28), dt.date(2026, 12, 29), dt.date(2026, 12, 30),
                     dt.date(2026, 12, 31), dt.date(2027, 1, 4)]


def test_good_friday_trades_until_0815_ct_only_in_a_jobs_report_year() -> None:
    assert 2023 in GOOD_FRIDAY_JOBS_REPORT and 2025 not in GOOD_FRIDAY_JOBS_REPORT
    (gf_2023,) = CME.sessions(easter(2023) - dt.timedelta(days=2), easter(2023) - dt.timedelta(days=2))
    assert gf_2023.close == ct(dt.date(2023, 4, 7), 8, 15)
    assert CME.sessions(dt.date(2025, 4, 18), dt.date(2025, 4, 18)) == ()


@pytest.mark.parametrize(("year", "sunday"), [(2024, dt.date(2024, 3, 31)), (2026, dt.date(2026, 4, 5)),
                                               (2027, dt.date(2027, 3, 28)), (2038, dt.date(2038, 4, 25))])
def test_easter_sunday(year: int, sunday: dt.date) -> None:
    assert easter(year) == sunday


def test_dates_before_the_kept_rules_are_refused() -> None:
    with pytest.raises(CalendarError, match="from 2016"):
        CME.sessions(dt.date(2015, 12, 1), dt.date(2016, 1, 5))


def test_get_calendar_knows_the_built_in_cme_calendar_by_name() -> None:
    assert isinstance(get_calendar("CME_GLOBEX_EQUITY"), CMEGlobexEquityCalendar)
    assert get_calendar("CME_GLOBEX_EQUITY").tz == CT


def test_get_calendar_offers_pandas_market_calendars_names() -> None:
    pytest.importorskip("pandas_market_calendars")
    cal = get_calendar("CMEGlobex_Energy")
    (s,) = cal.sessions(dt.date(2026, 11, 24), dt.date(2026, 11, 24))
    assert s.open.astimezone(CT) == ct(dt.date(2026, 11, 23), 17)
    assert cal.tz == CT


def test_an_unknown_calendar_names_the_libraries_its_names_come_from() -> None:
    with pytest.raises(CalendarError, match=r"unknown calendar 'NOPE'.*CME_GLOBEX_EQUITY.*exchange_calendars.*pandas_market_calendars"):
        get_calendar("NOPE")


def test_importing_the_cme_calendar_loads_no_pandas() -> None:
    import subprocess
    import sys

    code = ("import sys, datetime as d; from statebot.core.time.cme import CMEGlobexEquityCalendar as C; "
            "C().sessions(d.date(2026,1,1), d.date(2026,12,31)); print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
