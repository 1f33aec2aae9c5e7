"""CME Globex equity hours through a LiveClock under freezegun: the 16:00 CT halt, sessions that
span midnight, the Sunday-evening open, both DST switches, and Thanksgiving's early halts.

Each case freezes wall time at an aware instant (never freezegun's fixed ``tz_offset``, which is
wrong across DST) and runs once per process time zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from statebot import CLOSED, FLATTENING, PRE_OPEN, TRADING, LiveClock, SessionMachine
from statebot.core.time.cme import CMEGlobexEquityCalendar

CT = ZoneInfo("America/Chicago")


def ct(month: int, day: int, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, micro, tzinfo=CT)


DAILY_HALT = [  # Tuesday 2026-11-24's session: Monday 17:00 CT .. Tuesday 16:00 CT
    (ct(11, 23, 16, 59, 59), CLOSED),  # Monday's session ended at 16:00; the halt
    (ct(11, 23, 17, 0), TRADING),
    (ct(11, 23, 23, 59, 59), TRADING),
    (ct(11, 24, 0, 0), TRADING),  # midnight inside the session
    (ct(11, 24, 15, 54, 59, 999999), TRADING),
    (ct(11, 24, 15, 55), FLATTENING),
    (ct(11, 24, 15, 59, 59), FLATTENING),
    (ct(11, 24, 16, 0), CLOSED),
    (ct(11, 24, 16, 30), CLOSED),
]
SUNDAY_OPEN = [  # Friday 2026-11-20 closes 16:00 CT; Monday's session opens Sunday 17:00 CT
    (ct(11, 20, 16, 0), CLOSED),
    (ct(11, 21, 12, 0), CLOSED),
    (ct(11, 22, 16, 59, 59), CLOSED),
    (ct(11, 22, 17, 0), TRADING),
    (ct(11, 23, 9, 0), TRADING),
]
DST_SWITCHES = [
    # spring forward Sunday 2026-03-08 02:00 CST -> 03:00 CDT; the evening open is CDT
    (ct(3, 6, 15, 55), FLATTENING),
    (ct(3, 6, 16, 0), CLOSED),
    (ct(3, 8, 3, 30), CLOSED),
    (ct(3, 8, 16, 59, 59), CLOSED),
    (ct(3, 8, 17, 0), TRADING),
    (ct(3, 9, 15, 54, 59, 999999), TRADING),
    (ct(3, 9, 15, 55), FLATTENING),
    (ct(3, 9, 16, 0), CLOSED),
    # fall back Sunday 2026-11-01 02:00 CDT -> 01:00 CST; the evening open is CST
    (ct(10, 30, 15, 55), FLATTENING),
    (ct(10, 30, 16, 0), CLOSED),
    (ct(11, 1, 1, 30), CLOSED),
    (ct(11, 1, 16, 59, 59), CLOSED),
    (ct(11, 1, 17, 0), TRADING),
    (ct(11, 2, 15, 55), FLATTENING),
    (ct(11, 2, 16, 0), CLOSED),
]
THANKSGIVING = [  # Thursday halts 12:00 CT, reopens 17:00 CT; Friday halts 12:15 CT
    (ct(11, 26, 11, 54, 59), TRADING),
    (ct(11, 26, 11, 55), FLATTENING),
    (ct(11, 26, 12, 0), CLOSED),
    (ct(11, 26, 16, 59), CLOSED),
    (ct(11, 26, 17, 0), TRADING),
    (ct(11, 27, 12, 9, 59), TRADING),
    (ct(11, 27, 12, 10), FLATTENING),
    (ct(11, 27, 12, 15), CLOSED),
]
ALL_CASES = DAILY_HALT + SUNDAY_OPEN + DST_SWITCHES + THANKSGIVING


def machine() -> SessionMachine:
    return SessionMachine(CMEGlobexEquityCalendar())


def heartbeat_at(clock: LiveClock, instant: dt.datetime) -> None:
    with freeze_time(instant):
        clock.heartbeat()


@pytest.mark.parametrize(("instant", "expected"), ALL_CASES, ids=[f"{i.isoformat()}-{s}" for i, s in ALL_CASES])
def test_a_fresh_machine_reads_the_cme_state_from_frozen_wall_time(process_tz: str, instant: dt.datetime, expected: str) -> None:
    m = machine()
    heartbeat_at(LiveClock(m), instant)
    assert m.state == expected


@pytest.mark.parametrize("cases", [DAILY_HALT, SUNDAY_OPEN, DST_SWITCHES, THANKSGIVING],
                         ids=["daily-halt", "sunday-open", "dst-switches", "thanksgiving"])
def test_one_machine_stepping_through_cme_instants_matches_each(process_tz: str, cases: list) -> None:
    m = machine()
    clock = LiveClock(m)
    for instant, expected in cases:
        heartbeat_at(clock, instant)
        assert m.state == expected, instant


def test_the_session_spanning_midnight_belongs_to_the_day_it_closes() -> None:
    m = machine()
    heartbeat_at(LiveClock(m), ct(11, 23, 22, 0))
    assert m.session is not None and m.session.date == dt.date(2026, 11, 24)


def test_the_halt_walks_close_then_the_next_sessions_open_in_order() -> None:
    m = machine()
    clock = LiveClock(m)
    heartbeat_at(clock, ct(11, 23, 15, 56))
    fired: list[tuple[str, dt.date]] = []
    m.subscribe(lambda e: fired.append((e.dest, e.session)))
    heartbeat_at(clock, ct(11, 23, 17, 0))
    assert fired == [(CLOSED, dt.date(2026, 11, 23)), (PRE_OPEN, dt.date(2026, 11, 24)), (TRADING, dt.date(2026, 11, 24))]


def test_a_weekend_gap_flattens_fridays_session_late_once_and_opens_monday_sunday_evening() -> None:
    m = machine()
    clock = LiveClock(m)
    heartbeat_at(clock, ct(11, 20, 15, 0))
    fired: list[tuple[str, dt.date, bool]] = []
    m.subscribe(lambda e: fired.append((e.dest, e.session, e.late)))
    heartbeat_at(clock, ct(11, 22, 17, 30))
    assert fired == [(FLATTENING, dt.date(2026, 11, 20), True), (CLOSED, dt.date(2026, 11, 20), True),
                     (PRE_OPEN, dt.date(2026, 11, 23), True), (TRADING, dt.date(2026, 11, 23), True)]
