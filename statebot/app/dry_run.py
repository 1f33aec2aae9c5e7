"""A dry run of the live loop without a broker: recorded bars, a simulated venue, a replay clock.

``statebot run --adapter sim --bars FILE`` runs the same ``LiveSession`` loop
as ``statebot run --adapter ibkr`` (heartbeats, bars, the signals that stop
it, the shutdown flatten), with two parts swapped:

- ``ReplayFeed`` stands in for IB's real-time bars: it hands the loop each
  recorded bar once the replay time reaches its end, and keeps the loop's
  heartbeats before the end of the next bar (as IB's adapter does for the bar
  it is building), so no bar is refused as older than the clock.
- ``ReplayClock`` stands in for the wall clock: ``now()`` is recorded time,
  starting at the first bar's end; ``sleep(s)`` moves it ``s`` seconds and
  waits ``s / speed`` seconds of wall time (``speed`` 0: no wait, as fast as
  the loop runs).

The venue is a ``SimBroker`` with ``statebot sim``'s settings; the loop gives
it each bar the runner gets, first (``LiveSession(on_bar=...)``), as ``sim``
does, so the same bars and config give the same trades. The differences from
``sim`` that remain are the live loop's own: heartbeats between bars (the
session closes at its time, not at the next bar), and the shutdown flatten at
the end of the file or on Ctrl-C (``sim`` leaves a position open at the end;
the recorded bars end, so such a flatten cannot fill and the run ends NOT flat).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator

from statebot.core.time.clock import Bar, require_aware
from statebot.errors import ConfigError
from statebot.venues.ibkr.bars import AggregatedBar


class ReplayClock:
    """Recorded time for the live loop, scaled by ``speed`` (0: as fast as possible).

    ``now()`` returns the replay time (aware, UTC); ``sleep(seconds)`` moves it
    ``seconds`` on and waits ``seconds / speed`` of wall time through
    ``wall_sleep`` (injected by tests; never called at speed 0).
    """

    def __init__(self, start: dt.datetime, *, speed: float = 0.0,
                 wall_sleep: Callable[[float], object] = time.sleep) -> None:
        if not speed >= 0:  # also refuses NaN
            raise ConfigError(f"speed {speed!r} must be 0 (as fast as possible) or a positive factor")
        self._now = require_aware(start, "replay start").astimezone(dt.timezone.utc)
        self.speed = speed
        self._wall_sleep = wall_sleep

    def now(self) -> dt.datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ConfigError(f"cannot sleep {seconds} s")
        self._now += dt.timedelta(seconds=seconds)
        if self.speed:
            self._wall_sleep(seconds / self.speed)


class ReplayFeed:
    """Recorded bars of ``symbol`` as the live loop's bar source (the part of ``IBKRAdapter`` it reads).

    The first bar is read at construction (a bad file fails before anything
    starts; an empty one raises ``ConfigError``). ``exhausted`` turns True once
    every bar was handed out.
    """

    host = "replay"

    def __init__(self, bars: Iterable[Bar], *, symbol: str) -> None:
        self.symbol = symbol
        self._bars: Iterator[Bar] = iter(bars)
        self._next: Bar | None = next(self._bars, None)
        if self._next is None:
            raise ConfigError("no bars to replay (an empty file)")
        self.first_end = self._next.end
        self.delivered = 0
        self.bar_size: dt.timedelta | None = None
        """The smallest step between two bars handed out (as the file readers infer a bar size)."""
        self._open = True

    @property
    def connected(self) -> bool:
        return self._open

    @property
    def exhausted(self) -> bool:
        return self._next is None

    def connect(self, session_date: dt.date) -> None:
        self._open = True

    def disconnect(self) -> None:
        self._open = False

    def reconnect_if_due(self, now: dt.datetime) -> bool:
        return self._open

    def subscribe_bars(self, symbol: str, minutes: int, *, late_after: dt.timedelta = dt.timedelta(seconds=10)) -> None:
        if symbol != self.symbol:
            raise ConfigError(f"the replay has bars of {self.symbol}, not {symbol}")

    def open_bar_end(self) -> dt.datetime | None:
        """The end of the next recorded bar (the loop's heartbeats stay before it); None at the end."""
        return None if self._next is None else self._next.end

    def bars(self, now: dt.datetime | None = None) -> Iterator[AggregatedBar]:
        """The bars that ended by ``now``, oldest first, one at a time: each is taken from the file only
        when the loop asks for it, after the loop has handled the one before (the venue sees them in turn)."""
        while self._next is not None and now is not None and self._next.end <= now:
            bar = self._next
            self._next = next(self._bars, None)
            if self._next is not None:
                step = self._next.end - bar.end
                self.bar_size = step if self.bar_size is None else min(self.bar_size, step)
            self.delivered += 1
            yield AggregatedBar(bar=bar, count=1, expected=1)
