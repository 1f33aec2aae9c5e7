"""Property tests: the session machine equals DESIGN.md's function of time.

The oracle below reads exchange_calendars directly (not statebot's schedule):
for the session on t's New York date, t < open is PRE_OPEN, open <= t < close - lead
is TRADING, close - lead <= t < close is FLATTENING, t >= close is CLOSED; a date
without a session is CLOSED.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import exchange_calendars as xcals
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from statebot import CLOSED, FLATTENING, PRE_OPEN, TRADING, BarRejected, SessionMachine
from tests.strategies import NY, start_instants, time_steps, zones

LEAD = dt.timedelta(minutes=5)
ORDER = [CLOSED, PRE_OPEN, TRADING, FLATTENING]

# Guarantees these tests prove, word for word as SESSION_SPEC.invariants declares them
# (collected into docs/invariants.md by `python -m statebot diagrams`).
TIME = pytest.mark.invariant(
    "the state always equals the function of clock time: PRE_OPEN before the open, TRADING until close minus the flatten lead, FLATTENING until the close, CLOSED after it and on days without a session",
    machine="session",
)
NEVER_SKIPPED = pytest.mark.invariant(
    "states are visited in cycle order and never skipped, even across a gap of hours or days",
    machine="session",
)
ONE_FLATTEN = pytest.mark.invariant(
    "exactly one flatten per session whose open was reached, once its flatten instant has passed",
    machine="session",
)
STALE = pytest.mark.invariant(
    "a stale or repeated time is rejected and changes nothing",
    machine="session",
)
ZONES = pytest.mark.invariant(
    "nothing depends on the process time zone or on the zone the times arrive in",
    machine="session",
)


@lru_cache(maxsize=1)
def xnys_sessions() -> dict[dt.date, tuple[dt.datetime, dt.datetime]]:
    cal = xcals.get_calendar("XNYS", start="2025-06-01", end="2027-12-31")
    return {
        label.date(): (o.to_pydatetime(), c.to_pydatetime())
        for label, o, c in zip(cal.schedule.index, cal.schedule["open"], cal.schedule["close"])
    }


def oracle(t: dt.datetime, lead: dt.timedelta = LEAD) -> str:
    session = xnys_sessions().get(t.astimezone(NY).date())
    if session is None:
        return CLOSED
    opened, closed = session
    if t < opened:
        return PRE_OPEN
    if t < closed - lead:
        return TRADING
    if t < closed:
        return FLATTENING
    return CLOSED


@TIME
@ZONES
@given(start=start_instants, steps=st.lists(time_steps, min_size=1, max_size=60), zone=zones)
def test_state_always_equals_the_function_of_time(start: dt.datetime, steps: list, zone: dt.tzinfo) -> None:
    """For any increasing stream of times, in any zone, the state is oracle(t)."""
    machine = SessionMachine()
    t = start
    for step in steps:
        t = t + step
        machine.advance(t.astimezone(zone))
        assert machine.state == oracle(t), t


@NEVER_SKIPPED
@given(start=start_instants, steps=st.lists(time_steps, min_size=1, max_size=60))
def test_states_are_visited_in_cycle_order_and_never_skipped(start: dt.datetime, steps: list) -> None:
    """Every transition leaves the state the previous one entered, in table order."""
    machine = SessionMachine()
    fired = []
    t = start
    for step in steps:
        t += step
        fired.extend(machine.advance(t))
    for before, after in zip(fired, fired[1:]):
        assert after.source == before.dest
    for e in fired:
        assert ORDER.index(e.dest) == (ORDER.index(e.source) + 1) % 4
        assert e.late == (e.at > e.due)
        assert e.at >= e.due


class SessionClockModel(RuleBasedStateMachine):
    """Random bars, gaps and stale times against one SessionMachine."""

    def __init__(self) -> None:
        super().__init__()
        self.machine = SessionMachine()
        self.t: dt.datetime | None = None
        self.events: list = []
        self.machine.subscribe(self.events.append)
        self.opened: set[dt.date] = set()

    @initialize(start=start_instants)
    def first_time(self, start: dt.datetime) -> None:
        self.machine.advance(start)
        self.t = start

    @rule(step=time_steps, zone=zones)
    def advance(self, step: dt.timedelta, zone: dt.tzinfo) -> None:
        assert self.t is not None
        self.t += step
        self.machine.advance(self.t.astimezone(zone))

    @rule(back=st.integers(min_value=0, max_value=3 * 86400))
    def stale_time_is_rejected_and_changes_nothing(self, back: int) -> None:
        assert self.t is not None
        state, count = self.machine.state, len(self.events)
        try:
            self.machine.advance(self.t - dt.timedelta(seconds=back))
        except BarRejected:
            pass
        else:
            raise AssertionError("a stale time was accepted")
        assert (self.machine.state, len(self.events), self.machine.time) == (state, count, self.t)

    @invariant()
    def state_is_the_function_of_time(self) -> None:
        if self.t is not None:
            note(f"t={self.t.isoformat()}")
            assert self.machine.state == oracle(self.t)

    @invariant()
    def one_flatten_per_session_whose_open_was_reached(self) -> None:
        opens = [e.session for e in self.events if e.dest == TRADING]
        flats = [e.session for e in self.events if e.dest == FLATTENING]
        assert len(flats) == len(set(flats))
        assert set(flats) <= set(opens)
        # every opened session whose flatten instant has passed has flattened
        for day in opens:
            _, closed = xnys_sessions()[day]
            if self.t is not None and self.t >= closed - LEAD:
                assert day in flats


TestSessionClockModel = TIME(ONE_FLATTEN(STALE(ZONES(SessionClockModel.TestCase))))
