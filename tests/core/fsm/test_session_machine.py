"""The session lifecycle: order of states, gaps, late flattens, entry rules."""

from __future__ import annotations

import datetime as dt

import pytest

from statebot import (
    CLOSED,
    FLATTENING,
    PRE_OPEN,
    SESSION_SPEC,
    TRADING,
    BarRejected,
    FixedHoursCalendar,
    InvalidTransition,
    SessionMachine,
    SessionTransition,
)
from tests.strategies import NY

# Guarantees these tests prove, word for word as SESSION_SPEC.invariants declares them
# (collected into docs/invariants.md by `python -m statebot diagrams`).
FIVE_MINUTE_BARS = pytest.mark.invariant(
    "five-minute bars flatten at the 15:55 bar end (the seed's minutes-to-close check never fired)",
    machine="session",
)
ONE_FLATTEN = pytest.mark.invariant(
    'exactly one flatten per session whose open was reached, once its flatten instant has passed',
    machine="session",
)
LATE_FLATTEN = pytest.mark.invariant(
    'a jump in time over the flatten instant still fires the flatten, marked late',
    machine="session",
)
NEVER_SKIPPED = pytest.mark.invariant(
    'states are visited in cycle order and never skipped, even across a gap of hours or days',
    machine="session",
)
HOLIDAYS = pytest.mark.invariant(
    'holidays stay CLOSED and an early close flattens before its own close',
    machine="session",
)
ENTRIES = pytest.mark.invariant(
    'new entries are allowed only in TRADING, at a time the machine has reached, before the entry cut-off',
    machine="session",
)
STALE = pytest.mark.invariant(
    'a stale or repeated time is rejected and changes nothing',
    machine="session",
)
ZONES = pytest.mark.invariant(
    'nothing depends on the process time zone or on the zone the times arrive in',
    machine="session",
)
REFUSED = pytest.mark.invariant(
    'a trigger the table does not allow, or one not yet due, raises or refuses and changes nothing',
    machine="session",
)


def et(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=NY)


def bar_ends(start: dt.datetime, end: dt.datetime, step: dt.timedelta) -> list[dt.datetime]:
    out, t = [], start
    while t <= end:
        out.append(t)
        t += step
    return out


def run(machine: SessionMachine, times: list[dt.datetime]) -> list[SessionTransition]:
    fired: list[SessionTransition] = []
    for t in times:
        fired.extend(machine.advance(t))
    return fired


def test_the_table_is_the_documented_cycle() -> None:
    assert SESSION_SPEC.states == (PRE_OPEN, TRADING, FLATTENING, CLOSED)
    assert [(r.source[0], r.dest) for r in SESSION_SPEC.transitions] == [
        (CLOSED, PRE_OPEN), (PRE_OPEN, TRADING), (TRADING, FLATTENING), (FLATTENING, CLOSED)
    ]


@FIVE_MINUTE_BARS
@ONE_FLATTEN
def test_five_minute_bars_flatten_at_the_1555_bar_end() -> None:
    m = SessionMachine()
    fired = run(m, bar_ends(et(24, 9, 35), et(24, 16, 0), dt.timedelta(minutes=5)))
    flat = [e for e in fired if e.dest == FLATTENING]
    assert len(flat) == 1
    assert flat[0].at == et(24, 15, 55) and not flat[0].late


@ONE_FLATTEN
def test_one_minute_bars_flatten_at_1555_not_1556() -> None:
    m = SessionMachine()
    fired = run(m, bar_ends(et(24, 9, 31), et(24, 16, 0), dt.timedelta(minutes=1)))
    (flat,) = [e for e in fired if e.dest == FLATTENING]
    assert flat.at == et(24, 15, 55)
    assert flat.actions == ("cancel_entry_orders", "flatten_all_positions")


@LATE_FLATTEN
@NEVER_SKIPPED
def test_a_gap_over_the_close_still_flattens_and_says_it_was_late() -> None:
    m = SessionMachine()
    m.advance(et(24, 15, 50))
    fired = m.advance(et(24, 16, 5))
    assert [(e.source, e.dest) for e in fired] == [(TRADING, FLATTENING), (FLATTENING, CLOSED)]
    assert all(e.late for e in fired)
    assert fired[0].due == et(24, 15, 55) and fired[0].minutes_late == 10
    assert fired[1].actions == ("check_flat_at_close",)


@NEVER_SKIPPED
def test_a_gap_of_days_walks_every_missed_session_in_order() -> None:
    m = SessionMachine()
    m.advance(et(24, 15, 50))
    fired = m.advance(et(30, 10, 0))
    sessions = [e.session for e in fired if e.dest == FLATTENING]
    assert sessions == [dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 27)]
    assert m.state == TRADING and m.session is not None and m.session.date == dt.date(2026, 11, 30)


@HOLIDAYS
def test_thanksgiving_stays_closed_all_day() -> None:
    m = SessionMachine()
    m.advance(et(25, 17, 0))
    for hour in range(0, 24):
        assert m.advance(et(26, hour, 1)) == ()
        assert m.state == CLOSED


@HOLIDAYS
def test_early_close_flattens_at_1255_and_closes_at_1300() -> None:
    m = SessionMachine()
    m.advance(et(27, 12, 54))
    assert m.state == TRADING
    assert [e.dest for e in m.advance(et(27, 12, 55))] == [FLATTENING]
    assert [e.dest for e in m.advance(et(27, 13, 0))] == [CLOSED]


def test_starting_after_the_close_does_not_replay_the_session() -> None:
    m = SessionMachine()
    assert m.advance(et(24, 20, 0)) == ()
    assert m.state == CLOSED


@LATE_FLATTEN
def test_starting_during_flattening_fires_a_late_flatten() -> None:
    m = SessionMachine()
    fired = m.advance(et(24, 15, 57))
    assert [e.dest for e in fired] == [PRE_OPEN, TRADING, FLATTENING]
    assert fired[-1].late


@ENTRIES
def test_starting_before_the_open_is_pre_open() -> None:
    m = SessionMachine()
    assert [e.dest for e in m.advance(et(24, 8, 0))] == [PRE_OPEN]
    assert not m.may_enter(et(24, 8, 0))


@ENTRIES
def test_entries_only_in_trading_and_before_the_cutoff() -> None:
    m = SessionMachine(entry_cutoff=dt.timedelta(minutes=15))
    m.advance(et(24, 15, 44))
    assert m.may_enter(et(24, 15, 44))
    m.advance(et(24, 15, 45))
    assert m.state == TRADING and not m.may_enter(et(24, 15, 45))
    m.advance(et(24, 15, 56))
    assert not m.may_enter(et(24, 15, 56))


@ENTRIES
def test_may_enter_refuses_a_time_the_machine_has_not_reached() -> None:
    m = SessionMachine()
    m.advance(et(24, 15, 50))
    assert not m.may_enter(et(24, 15, 56))
    assert not m.may_enter(et(24, 15, 49))


@STALE
def test_a_repeated_or_earlier_time_is_rejected_and_changes_nothing() -> None:
    m = SessionMachine()
    m.advance(et(24, 15, 54))
    for t in (et(24, 15, 54), et(24, 15, 0), et(24, 20, 54).astimezone(dt.timezone.utc) - dt.timedelta(hours=5)):
        with pytest.raises(BarRejected):
            m.advance(t)
    assert m.state == TRADING and m.time == et(24, 15, 54)


@NEVER_SKIPPED
def test_subscribers_see_every_transition_in_order() -> None:
    seen: list[str] = []
    m = SessionMachine()
    m.subscribe(lambda e: seen.append(e.dest))
    m.advance(et(24, 8, 0))
    m.advance(et(24, 16, 30))
    assert seen == [PRE_OPEN, TRADING, FLATTENING, CLOSED]


@REFUSED
def test_a_trigger_the_table_does_not_allow_raises_naming_state_and_trigger() -> None:
    m = SessionMachine()
    m.advance(et(24, 20, 0))
    with pytest.raises(InvalidTransition, match=r"session: trigger 'flatten' is not allowed in state CLOSED"):
        m.fire("flatten", at=et(24, 20, 1), due=et(24, 20, 1))
    assert m.state == CLOSED


@REFUSED
@pytest.mark.parametrize(
    ("now", "state", "trigger", "due"),
    [
        (et(23, 20, 0), CLOSED, "start_day", et(24, 0, 0)),
        (et(24, 8, 0), PRE_OPEN, "open", et(24, 9, 30)),
        (et(24, 10, 0), TRADING, "flatten", et(24, 15, 55)),
        (et(24, 15, 57), FLATTENING, "close", et(24, 16, 0)),
    ],
)
def test_no_transition_fires_before_it_is_due(now: dt.datetime, state: str, trigger: str, due: dt.datetime) -> None:
    """Each row's guard, asked directly a second before its due instant, refuses and changes nothing."""
    m = SessionMachine()
    m.advance(now)
    assert m.state == state
    assert m.fire(trigger, at=due - dt.timedelta(seconds=1), due=due) is None
    assert m.state == state
    assert m.fire(trigger, at=due, due=due) is not None


def test_flatten_lead_is_configurable() -> None:
    m = SessionMachine(flatten_lead=dt.timedelta(minutes=15))
    m.advance(et(24, 15, 44))
    assert [e.dest for e in m.advance(et(24, 15, 45))] == [FLATTENING]


def test_fixed_hours_calendar_drives_the_same_machine() -> None:
    m = SessionMachine(FixedHoursCalendar(open="10:00", close="11:00", tz_name="Europe/London"))
    london = dt.timezone(dt.timedelta(0))
    m.advance(dt.datetime(2026, 11, 24, 10, 54, tzinfo=london))
    assert m.state == TRADING
    m.advance(dt.datetime(2026, 11, 24, 10, 55, tzinfo=london))
    assert m.state == FLATTENING


def test_cme_session_opens_the_evening_before_its_date() -> None:
    from statebot import ExchangeCalendar
    from zoneinfo import ZoneInfo

    ct = ZoneInfo("America/Chicago")
    m = SessionMachine(ExchangeCalendar("CMES"))
    m.advance(dt.datetime(2026, 11, 23, 16, 56, tzinfo=ct))
    assert m.state == FLATTENING and m.session is not None and m.session.date == dt.date(2026, 11, 23)
    fired = m.advance(dt.datetime(2026, 11, 23, 17, 0, tzinfo=ct))
    assert [e.dest for e in fired] == [CLOSED, PRE_OPEN, TRADING]
    assert [e.session for e in fired] == [dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 24)]


@ZONES
def test_a_later_time_in_the_fall_back_hour_given_in_new_york_time_is_accepted() -> None:
    """01:00 EST (fold=1) comes an hour after 01:00 EDT; one ZoneInfo compares them by wall clock."""
    m = SessionMachine()
    m.advance(dt.datetime(2026, 11, 1, 1, 3, 59, tzinfo=NY))
    later = dt.datetime(2026, 11, 1, 1, 0, tzinfo=NY, fold=1)
    assert m.advance(later) == ()
    assert m.time == later.astimezone(dt.timezone.utc)
    with pytest.raises(BarRejected):
        m.advance(dt.datetime(2026, 11, 1, 1, 30, tzinfo=NY))  # EDT, fold=0: before the last time


def test_a_missing_or_negative_flatten_lead_is_a_config_error() -> None:
    from statebot import ConfigError

    with pytest.raises(ConfigError, match="flatten lead"):
        SessionMachine(flatten_lead=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must not be negative"):
        SessionMachine(flatten_lead=dt.timedelta(minutes=-1))


def test_a_stale_time_is_rejected_as_not_after_previous_naming_both_times() -> None:
    m = SessionMachine()
    m.advance(et(24, 15, 54))
    with pytest.raises(BarRejected) as rejected:
        m.advance(et(24, 15, 0))
    assert rejected.value.reason == "not_after_previous"
    assert str(rejected.value) == "time 2026-11-24T20:00:00+00:00 is not after the last seen 2026-11-24T20:54:00+00:00"


@pytest.mark.parametrize("placed", [False, True])
def test_a_naive_time_is_rejected_not_read_as_local_time(placed: bool) -> None:
    m = SessionMachine()
    if placed:
        m.advance(et(24, 15, 0))
    with pytest.raises(BarRejected) as rejected:
        m.advance(dt.datetime(2026, 11, 24, 15, 30))
    assert rejected.value.reason == "naive_datetime"
    assert m.time == (et(24, 15, 0) if placed else None)


def test_a_machine_that_has_no_time_yet_knows_no_session_no_next_change_and_skipped_nothing() -> None:
    m = SessionMachine()
    assert (m.state, m.time, m.session, m.next_change, m.skipped) == (CLOSED, None, None, None, ())


def test_starting_after_the_close_the_session_is_that_day_s_and_the_next_change_the_next_day_s_start() -> None:
    m = SessionMachine()
    m.advance(et(24, 20, 0))
    assert m.session is not None and m.session.date == dt.date(2026, 11, 24)
    assert m.next_change == m.schedule.next_after(m.session, et(24, 20, 0)).day_start
    assert m.next_change is not None and m.next_change.date() == dt.date(2026, 11, 25)


def test_each_transition_names_its_trigger_source_destination_session_and_due_instant() -> None:
    m = SessionMachine()
    fired = m.advance(et(24, 8, 0)) + m.advance(et(24, 16, 30))
    assert [(e.trigger, e.source, e.dest) for e in fired] == [
        ("start_day", CLOSED, PRE_OPEN), ("open", PRE_OPEN, TRADING),
        ("flatten", TRADING, FLATTENING), ("close", FLATTENING, CLOSED)]
    assert {e.session for e in fired} == {dt.date(2026, 11, 24)}
    assert [e.due.astimezone(NY).time() for e in fired[1:]] == [dt.time(9, 30), dt.time(15, 55), dt.time(16, 0)]


def test_the_accepted_time_and_each_transition_s_time_are_in_utc_whatever_the_process_zone(process_tz: str) -> None:
    m = SessionMachine()
    fired = m.advance(et(24, 9, 45))
    assert m.time is not None and m.time.tzinfo is dt.timezone.utc and m.time == et(24, 9, 45)
    assert [e.at.tzinfo for e in fired] == [dt.timezone.utc, dt.timezone.utc]


def test_a_machine_given_a_session_schedule_runs_on_that_schedule() -> None:
    from statebot.core.time.schedule import SessionSchedule

    schedule = SessionSchedule(FixedHoursCalendar(), flatten_lead=dt.timedelta(minutes=10))
    m = SessionMachine(schedule)
    assert m.schedule is schedule
    m.advance(et(24, 15, 49))
    assert [e.dest for e in m.advance(et(24, 15, 50))] == [FLATTENING]


def test_placed_after_more_than_a_week_without_sessions_the_machine_waits_for_the_next_one() -> None:
    """Nothing loaded around the first time (every day of the week before it a holiday): the
    machine stays CLOSED and walks the first session after that time when it comes."""
    closed = frozenset(dt.date(2026, 11, 24) - dt.timedelta(days=n) for n in range(10))
    m = SessionMachine(FixedHoursCalendar(holidays=closed))
    assert m.advance(et(24, 12, 0)) == () and m.state == CLOSED and m.session is None
    assert m.next_change is not None and m.next_change.astimezone(NY) == et(25, 0, 0)
    fired = m.advance(et(25, 10, 0))
    assert [(e.dest, e.session) for e in fired] == [(PRE_OPEN, dt.date(2026, 11, 25)), (TRADING, dt.date(2026, 11, 25))]
