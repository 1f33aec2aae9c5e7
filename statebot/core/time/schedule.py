"""Session times per day and the session state as a pure function of time.

``SessionSchedule`` turns a calendar's sessions into the four instants the
session lifecycle acts on, for each session:

* ``day_start``: the session's day begins (CLOSED -> PRE_OPEN): local midnight
  of the session date in the exchange zone, or the open if that is earlier
  (CME sessions open the evening before), never before the previous close;
* ``open``: PRE_OPEN -> TRADING;
* ``flatten``: ``close - flatten_lead`` (not before the open): TRADING -> FLATTENING;
* ``close``: FLATTENING -> CLOSED.

``entry_cutoff`` (``close - entry_cutoff``, optional) is when new entries stop
within TRADING. Sessions are loaded from the calendar a year at a time, so a
call for a time already covered never touches pandas.
"""

from __future__ import annotations

import bisect
import datetime as dt

import attrs

from statebot.core.time.calendar import ExchangeCalendar, TradingCalendar
from statebot.errors import CalendarError, ConfigError

PRE_OPEN = "PRE_OPEN"
TRADING = "TRADING"
FLATTENING = "FLATTENING"
CLOSED = "CLOSED"

_CHUNK = dt.timedelta(days=366)
_MARGIN = dt.timedelta(days=7)


@attrs.frozen(kw_only=True)
class SessionTimes:
    """The instants (aware, UTC) of one session's lifecycle."""

    date: dt.date
    day_start: dt.datetime
    open: dt.datetime
    entry_cutoff: dt.datetime | None
    flatten: dt.datetime
    close: dt.datetime

    def state_at(self, t: dt.datetime) -> str:
        """The session state at ``t``, for a ``t`` at or after ``day_start``."""
        if t < self.open:
            return PRE_OPEN
        if t < self.flatten:
            return TRADING
        if t < self.close:
            return FLATTENING
        return CLOSED

    def entries_allowed(self, t: dt.datetime) -> bool:
        """True when ``t`` is in TRADING and before the entry cut-off."""
        if not (self.open <= t < self.flatten):
            return False
        return self.entry_cutoff is None or t < self.entry_cutoff


def _lead(value: dt.timedelta | None, what: str) -> dt.timedelta | None:
    if value is None:
        return None
    if not isinstance(value, dt.timedelta):
        raise ConfigError(f"{what} must be a duration, got {value!r}")
    if value < dt.timedelta(0):
        raise ConfigError(f"{what} must not be negative, got {value}")
    return value


class SessionSchedule:
    """Session instants for a calendar, a flatten lead and an optional entry cut-off.

    ``flatten_lead`` defaults to 5 minutes (the seed's rule: flatten 5 minutes
    before the close). Raises ``ConfigError`` for a negative lead or cut-off.
    """

    def __init__(
        self,
        calendar: TradingCalendar | None = None,
        *,
        flatten_lead: dt.timedelta = dt.timedelta(minutes=5),
        entry_cutoff: dt.timedelta | None = None,
    ) -> None:
        self.calendar: TradingCalendar = calendar if calendar is not None else ExchangeCalendar("XNYS")
        if flatten_lead is None:
            raise ConfigError("flatten lead must be a duration (use 0 to flatten at the close itself)")
        self.flatten_lead: dt.timedelta = _lead(flatten_lead, "flatten lead")  # type: ignore[assignment]
        self.entry_cutoff = _lead(entry_cutoff, "entry cut-off")
        self._tz = self.calendar.tz
        self._times: list[SessionTimes] = []
        self._starts: list[dt.datetime] = []
        self._dates: list[dt.date] = []
        self._lo: dt.date | None = None
        self._hi: dt.date | None = None

    @property
    def tz(self):  # type: ignore[no-untyped-def]
        """The exchange's time zone."""
        return self._tz

    # loading ---------------------------------------------------------------

    def _load(self, lo: dt.date, hi: dt.date) -> None:
        if self._lo is not None and self._hi is not None:
            lo, hi = min(lo, self._lo), max(hi, self._hi)
        sessions = self.calendar.sessions(lo, hi)
        times: list[SessionTimes] = []
        prev_close: dt.datetime | None = None
        for s in sessions:
            midnight = dt.datetime.combine(s.date, dt.time(0), tzinfo=self._tz).astimezone(dt.timezone.utc)
            day_start = min(midnight, s.open)
            if prev_close is not None and day_start < prev_close:
                day_start = prev_close
            flatten = max(s.open, s.close - self.flatten_lead)
            cutoff = None if self.entry_cutoff is None else max(s.open, s.close - self.entry_cutoff)
            times.append(SessionTimes(date=s.date, day_start=day_start, open=s.open, entry_cutoff=cutoff, flatten=flatten, close=s.close))
            prev_close = s.close
        self._times = times
        self._starts = [t.day_start for t in times]
        self._dates = [t.date for t in times]
        self._lo, self._hi = lo, hi

    def _cover(self, t: dt.datetime) -> None:
        """Make sure the session containing ``t`` and the one after it are loaded."""
        local = t.astimezone(self._tz).date()
        if self._lo is None or local - _MARGIN < self._lo:
            self._load(local - _MARGIN, (local + _CHUNK) if self._hi is None else self._hi)
        tries = 0
        while not self._starts or self._starts[-1] <= t:
            if tries == 3:
                raise CalendarError(f"calendar {self.calendar.name} has no session after {t.isoformat()}")
            assert self._hi is not None
            self._load(self._lo, max(self._hi, local) + _CHUNK)  # type: ignore[arg-type]
            tries += 1

    # queries ---------------------------------------------------------------

    def index_at(self, t: dt.datetime) -> int:
        """Index of the session whose day contains ``t`` (-1: before the first loaded)."""
        self._cover(t)
        return bisect.bisect_right(self._starts, t) - 1

    def __getitem__(self, index: int) -> SessionTimes:
        return self._times[index]

    def session_at(self, t: dt.datetime) -> SessionTimes | None:
        """The session whose day contains ``t``; None only before the calendar's first session."""
        i = self.index_at(t)
        return self._times[i] if i >= 0 else None

    def state_at(self, t: dt.datetime) -> str:
        """The session state at ``t`` as DESIGN.md defines it (holidays and weekends: CLOSED)."""
        s = self.session_at(t)
        return CLOSED if s is None else s.state_at(t)

    def next_after(self, session: SessionTimes | None, t: dt.datetime) -> SessionTimes:
        """The session after ``session`` (or, for None, the first whose day starts after ``t``)."""
        if session is None:
            i = self.index_at(t) + 1
        else:
            i = bisect.bisect_right(self._dates, session.date)
        tries = 0
        while i >= len(self._times):
            if tries == 3:
                raise CalendarError(f"calendar {self.calendar.name} has no session after {t.isoformat()}")
            self._load(self._lo, self._hi + _CHUNK)  # type: ignore[arg-type,operator]
            tries += 1
        return self._times[i]

    def between(self, start: dt.date, end: dt.date) -> tuple[SessionTimes, ...]:
        """Sessions whose date lies in ``[start, end]``, in order."""
        if end < start:
            return ()
        if self._lo is None or start - _MARGIN < self._lo or self._hi is None or end + _MARGIN > self._hi:
            self._load(start - _MARGIN, end + _MARGIN)
        return tuple(s for s in self._times if start <= s.date <= end)
