"""The live clock: a ``BarClock`` that also reads wall time (an edge: the core's clock never does)."""

from __future__ import annotations

import datetime as dt

from statebot.core.time.clock import Bar, BarClock, TimeListener
from statebot.errors import BarRejected


class LiveClock(BarClock):
    """A ``BarClock`` that also advances from wall time.

    ``heartbeat()`` reads ``datetime.now(timezone.utc)`` at each call (so
    freezegun can freeze it) and advances to it. Bars whose end lies more than
    ``max_bar_lead`` ahead of wall time are rejected (``bar_from_future``):
    one bad stamp must not flatten a session early.
    """

    def __init__(self, *listeners: TimeListener, max_bar_lead: dt.timedelta = dt.timedelta(seconds=5)) -> None:
        super().__init__(*listeners)
        self.max_bar_lead = max_bar_lead

    @staticmethod
    def wall_time() -> dt.datetime:
        """The current wall time, aware, in UTC."""
        return dt.datetime.now(dt.timezone.utc)

    def heartbeat(self) -> dt.datetime:
        """Advance to wall time and return it; ``BarRejected`` if it is not after ``now``."""
        t = self.wall_time()
        self.advance(t)
        return t

    def on_bar(self, bar: Bar) -> None:
        wall = self.wall_time()
        if bar.end > wall + self.max_bar_lead:
            raise BarRejected("bar_from_future", f"bar end {bar.end.isoformat()} is ahead of wall time {wall.isoformat()}")
        self.advance(bar.end)
