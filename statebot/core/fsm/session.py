"""The session lifecycle: PRE_OPEN -> TRADING -> FLATTENING -> CLOSED, every day.

The state is a function of clock time (see ``statebot.core.time.schedule``); the machine
walks to it. A jump in time (missed bars, a data outage over the close) walks
through every intermediate state in order and fires each transition, with
``late=True`` when it happens after its due instant: a gap from 15:50 to 16:05
still sends the flatten, and says it was late. No state is ever skipped.

Transition actions are typed effects (``Effect``) carried to subscribers in
``SessionTransition.actions`` for the engine to execute in order: entering
FLATTENING asks to cancel working entry orders and flatten every position;
entering CLOSED asks to check that nothing is held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from statebot.core.time.calendar import TradingCalendar
from statebot.core.time.clock import require_aware
from statebot.errors import BarRejected
from statebot.core.fsm.effects import Effect
from statebot.core.fsm.table import MachineSpec, TableMachine, Transition
from statebot.core.time.schedule import CLOSED, FLATTENING, PRE_OPEN, TRADING, SessionSchedule, SessionTimes

DUE = "clock_at_or_after_due"

SESSION_SPEC = MachineSpec(
    name="session",
    states=(PRE_OPEN, TRADING, FLATTENING, CLOSED),
    initial=CLOSED,
    description=(
        "One trading session a day from the exchange calendar. The state is a function of "
        "clock time; a jump in time walks every state in order and fires each transition."
    ),
    invariants=(
        'OBSERVE mode sends no order, cancel or global cancel to IB over a whole session',
        'a PAPER session on IB enters, flattens before the close and ends flat with the kill switch armed',
        'a disconnect in the middle of a flatten: the flatten is retried after the reconnect and the session ends flat',
        'every scenario in sims/ meets its stated expectations (flat at each close, no late flatten, ...)',
        'stopping a PAPER or LIVE bot flattens first; the event log and state are closed after',
        'when IB stops sending bars the wall-time heartbeat still flattens the session and closes it flat',
        'a data outage over the close still flattens when heartbeats arrive',
        "the state always equals the function of clock time: PRE_OPEN before the open, TRADING until "
        "close minus the flatten lead, FLATTENING until the close, CLOSED after it and on days without a session",
        "states are visited in cycle order and never skipped, even across a gap of hours or days",
        "exactly one flatten per session whose open was reached, once its flatten instant has passed",
        "a jump in time over the flatten instant still fires the flatten, marked late",
        "whole sessions without data, nothing held or working, are recorded once, not as late flattens",
        "a position held across a gap of whole sessions still gets its late flatten and the trip",
        "a stale or repeated time is rejected and changes nothing",
        "nothing depends on the process time zone or on the zone the times arrive in",
        "five-minute bars flatten at the 15:55 bar end (the seed's minutes-to-close check never fired)",
        "new entries are allowed only in TRADING, at a time the machine has reached, before the entry cut-off",
        "holidays stay CLOSED and an early close flattens before its own close",
        "a trigger the table does not allow, or one not yet due, raises or refuses and changes nothing",
    ),
    transitions=(
        Transition(
            trigger="start_day", source=CLOSED, dest=PRE_OPEN, guard=DUE,
            why="the session's day begins (local midnight, or the open if earlier); entries still refused",
        ),
        Transition(
            trigger="open", source=PRE_OPEN, dest=TRADING, guard=DUE,
            why="the exchange opened; entries allowed until the entry cut-off",
        ),
        Transition(
            trigger="flatten", source=TRADING, dest=FLATTENING, guard=DUE,
            actions=("cancel_entry_orders", "flatten_all_positions"),
            why="close minus flatten lead reached: no new entries, cancel working entries, flatten all (late if time jumped past it)",
        ),
        Transition(
            trigger="close", source=FLATTENING, dest=CLOSED, guard=DUE,
            actions=("check_flat_at_close",),
            why="the exchange closed; a position still open here is critical and trips the kill switch",
        ),
    ),
)

# Which instant of a session each trigger is due at (the time-driven half of the table).
DUE_AT: dict[str, str] = {"start_day": "day_start", "open": "open", "flatten": "flatten", "close": "close"}


@attrs.frozen(kw_only=True)
class SessionTransition:
    """One session transition, as delivered to subscribers.

    ``due`` is the scheduled instant, ``at`` the clock time that caused it;
    ``late`` is ``at > due``. ``actions`` are the row's effects, for the engine to execute in order.
    """

    source: str
    dest: str
    trigger: str
    session: dt.date
    due: dt.datetime
    at: dt.datetime
    late: bool
    actions: tuple[Effect, ...]

    @property
    def minutes_late(self) -> float:
        return max(0.0, (self.at - self.due).total_seconds() / 60)


SessionListener = Callable[[SessionTransition], object]
_NONE: tuple[SessionTransition, ...] = ()
_UTC = dt.timezone.utc


class SessionMachine(TableMachine):
    """The session lifecycle for one calendar, driven by ``advance(t)``.

    Starts CLOSED and knows no time. The first ``advance`` places it: inside a
    session day before the close it walks from CLOSED up to the state of that
    time (so starting at 15:57 still fires a late flatten); after a close it
    just stays CLOSED. A time that changes no state costs two comparisons.
    """

    SPEC = SESSION_SPEC

    def __init__(
        self,
        calendar: TradingCalendar | SessionSchedule | None = None,
        *,
        flatten_lead: dt.timedelta = dt.timedelta(minutes=5),
        entry_cutoff: dt.timedelta | None = None,
    ) -> None:
        if isinstance(calendar, SessionSchedule):
            self.schedule = calendar
        else:
            self.schedule = SessionSchedule(calendar, flatten_lead=flatten_lead, entry_cutoff=entry_cutoff)
        self._rows = {row.source[0]: row for row in SESSION_SPEC.transitions}
        super().__init__()
        self._subscribers: list[SessionListener] = []
        self._last: dt.datetime | None = None
        self._session: SessionTimes | None = None
        self._upcoming: SessionTimes | None = None
        self._next_due: dt.datetime | None = None
        self._skipped: tuple[SessionTimes, ...] = ()

    def _guard_clock_at_or_after_due(self, data: Mapping[str, Any]) -> bool:
        return bool(data["at"] >= data["due"])

    # public ---------------------------------------------------------------

    @property
    def time(self) -> dt.datetime | None:
        """The last time the machine accepted, in UTC."""
        return self._last

    @property
    def session(self) -> SessionTimes | None:
        """The session whose day the clock is in (or, when CLOSED, last was in)."""
        return self._session

    @property
    def next_change(self) -> dt.datetime | None:
        """When the next transition is due (UTC), once the machine has a time."""
        return self._next_due

    def subscribe(self, listener: SessionListener) -> None:
        """Call ``listener(transition)`` after every transition, in order."""
        self._subscribers.append(listener)

    def may_enter(self, t: dt.datetime) -> bool:
        """True only when a new entry is allowed at ``t``: the machine has been
        advanced to ``t``, is in TRADING and ``t`` is before the entry cut-off."""
        s = self._session
        last = self._last
        if self._state != TRADING or s is None or last is None or t.astimezone(_UTC) < last:
            return False
        if self._next_due is not None and t >= self._next_due:
            return False
        return s.entries_allowed(t)

    @property
    def skipped(self) -> tuple[SessionTimes, ...]:
        """The whole sessions the last ``advance(..., skip_missed=True)`` passed over, in order."""
        return self._skipped

    def advance(self, t: dt.datetime, *, skip_missed: bool = False) -> tuple[SessionTransition, ...]:
        """Move to time ``t``; return the transitions fired, in order (their ``at`` in UTC).

        ``skip_missed``: whole sessions that close at or before ``t`` and that the clock has
        not entered are passed over once the machine is CLOSED (no transition, no flatten;
        ``skipped`` names them), for a caller holding nothing and working nothing. The session
        the clock was in still walks to CLOSED, and the session containing ``t`` is walked.
        Raises ``BarRejected`` and changes nothing when ``t`` is naive or not
        after the last accepted time.
        """
        if t.tzinfo is not _UTC:
            if t.tzinfo is None:
                require_aware(t)
            # two times in one ZoneInfo compare by wall clock, ignoring fold: 01:00 EST (fold=1)
            # would look earlier than 01:03 EDT in the fall-back hour. UTC has no folds.
            t = t.astimezone(_UTC)
        last = self._last
        if last is not None:
            if t <= last:
                raise BarRejected("not_after_previous", f"time {t.isoformat()} is not after the last seen {last.isoformat()}")
            self._skipped = ()
            self._last = t
            if t < self._next_due:  # type: ignore[operator]
                return _NONE
        else:
            self._place(t)
            self._last = t
        return self._walk(t, skip_missed)

    __call__ = advance

    # walking ----------------------------------------------------------------

    def _place(self, t: dt.datetime) -> None:
        s = self.schedule.session_at(t)
        if s is not None and s.state_at(t) == CLOSED:
            self._session = s
            self._upcoming = self.schedule.next_after(s, t)
        else:
            self._upcoming = s if s is not None else self.schedule.next_after(None, t)
        self._next_due = self._upcoming.day_start

    def _skip_missed(self, t: dt.datetime) -> None:
        skipped = []
        upcoming = self._upcoming
        while upcoming is not None and upcoming.close <= t:
            skipped.append(upcoming)
            self._session = upcoming
            upcoming = self.schedule.next_after(upcoming, t)
        if skipped:
            self._upcoming = upcoming
            self._next_due = upcoming.day_start  # type: ignore[union-attr]
            self._skipped = tuple(skipped)

    def _walk(self, t: dt.datetime, skip_missed: bool = False) -> tuple[SessionTransition, ...]:
        fired = []
        if skip_missed and self._state == CLOSED:
            self._skip_missed(t)
        while t >= self._next_due:  # type: ignore[operator]
            row = self._rows[self._state]
            due = self._next_due
            if row.trigger == "start_day":
                self._session = self._upcoming
            session = self._session
            assert session is not None and due is not None
            self.fire(row.trigger, at=t, due=due)
            if row.dest == CLOSED:
                self._upcoming = self.schedule.next_after(session, t)
                self._next_due = self._upcoming.day_start
                if skip_missed and not self._skipped:
                    self._skip_missed(t)
            else:
                self._next_due = getattr(session, DUE_AT[self._rows[row.dest].trigger])
            event = SessionTransition(
                source=row.source[0], dest=row.dest, trigger=row.trigger, session=session.date,
                due=due, at=t, late=t > due, actions=row.actions,
            )
            fired.append(event)
            for listener in self._subscribers:
                listener(event)
        return tuple(fired)
