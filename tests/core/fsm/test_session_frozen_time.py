"""The session state at the instants that matter, read through a LiveClock under freezegun.

Each case freezes wall time at an aware instant (freezegun's tz_offset is a fixed
offset and wrong across DST, so it is never used) and runs once per process
time zone: nothing may depend on the machine's local time.
"""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from statebot import CLOSED, FLATTENING, PRE_OPEN, TRADING, LiveClock, SessionMachine
from tests.strategies import NY

US = dt.timedelta(microseconds=1)

# Guarantees these tests prove, word for word as SESSION_SPEC.invariants declares them
# (collected into docs/invariants.md by `python -m statebot diagrams`).
TIME = pytest.mark.invariant(
    'the state always equals the function of clock time: PRE_OPEN before the open, TRADING until close minus the flatten lead, FLATTENING until the close, CLOSED after it and on days without a session',
    machine="session",
)
ZONES = pytest.mark.invariant(
    'nothing depends on the process time zone or on the zone the times arrive in',
    machine="session",
)
HOLIDAYS = pytest.mark.invariant(
    'holidays stay CLOSED and an early close flattens before its own close',
    machine="session",
)
ONE_FLATTEN = pytest.mark.invariant(
    'exactly one flatten per session whose open was reached, once its flatten instant has passed',
    machine="session",
)


def et(month: int, day: int, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, micro, tzinfo=NY)


REGULAR_CLOSE = [
    (et(11, 24, 15, 54, 59, 999999), TRADING),
    (et(11, 24, 15, 55), FLATTENING),
    (et(11, 24, 15, 59, 59), FLATTENING),
    (et(11, 24, 16, 0), CLOSED),
]
EARLY_CLOSE = [  # 2026-11-27 closes at 13:00 ET
    (et(11, 27, 12, 54, 59, 999999), TRADING),
    (et(11, 27, 12, 55), FLATTENING),
    (et(11, 27, 12, 59, 59), FLATTENING),
    (et(11, 27, 13, 0), CLOSED),
]
# both DST switch weeks of 2026: spring forward 03-08, fall back 11-01
DST_WEEKS = [
    (et(3, 6, 15, 54, 59, 999999), TRADING),
    (et(3, 6, 15, 55), FLATTENING),
    (et(3, 6, 16, 0), CLOSED),
    (et(3, 9, 9, 29, 59), PRE_OPEN),
    (et(3, 9, 9, 30), TRADING),
    (et(3, 9, 15, 54, 59, 999999), TRADING),
    (et(3, 9, 15, 55), FLATTENING),
    (et(3, 9, 16, 0), CLOSED),
    (et(10, 30, 15, 55), FLATTENING),
    (et(11, 2, 15, 54, 59, 999999), TRADING),
    (et(11, 2, 15, 55), FLATTENING),
    (et(11, 2, 15, 59, 59), FLATTENING),
    (et(11, 2, 16, 0), CLOSED),
]
THANKSGIVING = [(et(11, 26, h, m), CLOSED) for h, m in ((0, 1), (9, 30), (12, 0), (15, 55), (16, 0))]

ALL_CASES = REGULAR_CLOSE + EARLY_CLOSE + DST_WEEKS + THANKSGIVING


def heartbeat_at(clock: LiveClock, instant: dt.datetime) -> None:
    with freeze_time(instant):
        clock.heartbeat()


@pytest.mark.parametrize(("instant", "expected"), ALL_CASES, ids=[f"{i.isoformat()}-{s}" for i, s in ALL_CASES])
@TIME
@ZONES
@HOLIDAYS
def test_live_clock_heartbeat_puts_a_fresh_machine_in_the_right_state(process_tz: str, instant: dt.datetime, expected: str) -> None:
    machine = SessionMachine()
    heartbeat_at(LiveClock(machine), instant)
    assert machine.state == expected


@pytest.mark.parametrize(
    "cases", [REGULAR_CLOSE, EARLY_CLOSE, DST_WEEKS, THANKSGIVING], ids=["regular", "early-close", "dst-weeks", "thanksgiving"]
)
@TIME
@ZONES
@HOLIDAYS
def test_one_machine_stepping_through_the_instants_matches_each(process_tz: str, cases: list) -> None:
    machine = SessionMachine()
    clock = LiveClock(machine)
    for instant, expected in cases:
        heartbeat_at(clock, instant)
        assert machine.state == expected, instant


@ONE_FLATTEN
@ZONES
def test_heartbeats_alone_flatten_a_session_whose_bars_stopped(process_tz: str) -> None:
    """A data outage before the close: no bar after 15:40, heartbeats every second."""
    machine = SessionMachine()
    clock = LiveClock(machine)
    flattened: list[dt.datetime] = []
    machine.subscribe(lambda e: flattened.append(e.at) if e.dest == FLATTENING else None)
    heartbeat_at(clock, et(11, 24, 15, 40))
    t = et(11, 24, 15, 54, 58)
    while t < et(11, 24, 16, 0, 1):
        heartbeat_at(clock, t)
        t += dt.timedelta(seconds=1)
    assert flattened == [et(11, 24, 15, 55)]
    assert machine.state == CLOSED


def test_thanksgiving_has_no_session_in_the_schedule() -> None:
    machine = SessionMachine()
    assert machine.schedule.between(dt.date(2026, 11, 26), dt.date(2026, 11, 26)) == ()
