"""Interactive Brokers' 5-second real-time bars, aggregated into N-minute bars.

IB sends real-time bars only at a 5-second size, each stamped with its START
time (epoch seconds, UTC). statebot's ``Bar`` acts at its END. ``BarAggregator``
turns the first into the second:

- Buckets are fixed: an N-minute bucket covers ``[k*N, (k+1)*N)`` minutes since
  the Unix epoch (so 5-minute bars end at :00, :05, ... UTC, and 60-minute bars
  at whole UTC hours). A missing 5-second bar never shifts a boundary.
- A bar's ``end`` is its bucket's end, aware, in UTC.
- A bucket is emitted as soon as nothing more can arrive for it: when its last
  5-second slot arrives (complete if every slot came), or when a 5-second bar
  of a later bucket arrives, or by ``close_due(now)`` once wall time is
  ``late_after`` past its end (a feed that stops must not hold a bar forever),
  or by ``flush()``.
- An incomplete bucket (a slot missing) is still emitted, with its correct end
  time and the data it has: dropping it would hide real highs and lows and
  stall the clock. ``AggregatedBar.count`` and ``.expected`` say how many
  5-second bars it was built from, so a data-quality gate can judge it.
- A 5-second bar at or before the previous one, off the 5-second grid, or for
  a bucket already emitted is refused with ``BarRejected``; nothing changes.

The aggregator is pure: time comes in as arguments, nothing reads a clock.
"""

from __future__ import annotations

import datetime as dt
import math

import attrs

from statebot.core.time.clock import Bar, require_aware
from statebot.errors import BarRejected, ConfigError

REALTIME_BAR_SECONDS = 5
"""The only real-time bar size IB offers."""

_UTC = dt.timezone.utc


def _finite_positive(value: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@attrs.frozen(kw_only=True, slots=True)
class RealTimeBar:
    """One 5-second bar as IB sends it, stamped with its START (aware datetime).

    Prices are finite and positive, ``low <= open, close <= high``, volume
    ``>= 0`` (IB's ``-1`` for "no volume" must be mapped to 0 by the caller);
    anything else raises ``BarRejected``.
    """

    start: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0

    def __attrs_post_init__(self) -> None:
        require_aware(self.start, "real-time bar start")
        for name in ("open", "high", "low", "close"):
            if not _finite_positive(getattr(self, name)):
                raise BarRejected("bad_price", f"real-time bar at {self.start.isoformat()}: {name} {getattr(self, name)!r} must be finite and positive")
        if self.high < max(self.open, self.close, self.low):
            raise BarRejected("high_below_open_close", f"real-time bar at {self.start.isoformat()}: high {self.high} is below open, close or low")
        if self.low > min(self.open, self.close):
            raise BarRejected("low_above_open_close", f"real-time bar at {self.start.isoformat()}: low {self.low} is above open or close")
        if not (isinstance(self.volume, (int, float)) and math.isfinite(self.volume) and self.volume >= 0):
            raise BarRejected("negative_volume", f"real-time bar at {self.start.isoformat()}: volume {self.volume!r} must be a finite number >= 0")


@attrs.frozen(kw_only=True, slots=True)
class AggregatedBar:
    """An N-minute ``bar`` (ending at its bucket's end, UTC) and how it was built.

    ``count`` of the ``expected`` 5-second bars went into it; ``complete`` is
    ``count == expected``.
    """

    bar: Bar
    count: int
    expected: int

    @property
    def complete(self) -> bool:
        return self.count == self.expected


class BarAggregator:
    """Builds ``minutes``-minute bars of ``symbol`` from 5-second real-time bars.

    ``minutes`` must divide a day (1, 2, 3, 5, 10, 15, 30, 60, ...), else
    ``ConfigError``. ``late_after`` is how long past a bucket's end
    ``close_due`` waits for its last 5-second bar (IB delivers each one a
    moment after it ends).
    """

    def __init__(self, symbol: str, minutes: int, *, late_after: dt.timedelta = dt.timedelta(seconds=10)) -> None:
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1 or 1440 % minutes:
            raise ConfigError(f"bar size {minutes!r} minutes must be a whole number of minutes that divides a day (1, 5, 15, 30, 60, ...)")
        if late_after < dt.timedelta(0):
            raise ConfigError(f"late_after {late_after} must not be negative")
        self.symbol = symbol
        self.minutes = minutes
        self.late_after = late_after
        self._bucket_s = minutes * 60
        self._expected = self._bucket_s // REALTIME_BAR_SECONDS
        self._last_start: int | None = None  # epoch seconds of the last accepted 5-second bar
        self._closed_until = -math.inf  # epoch seconds: buckets ending at or before this were emitted
        self._bucket: int | None = None  # index of the open bucket
        self._open = self._high = self._low = self._close = 0.0
        self._volume: float = 0
        self._count = 0

    @property
    def expected(self) -> int:
        """How many 5-second bars a complete bar has (``minutes * 12``)."""
        return self._expected

    @property
    def open_end(self) -> dt.datetime | None:
        """The end (UTC) of the bar being built, None when none is open."""
        return None if self._bucket is None else dt.datetime.fromtimestamp((self._bucket + 1) * self._bucket_s, _UTC)

    def bucket_end(self, t: dt.datetime) -> dt.datetime:
        """The end (UTC) of the bucket that contains instant ``t``."""
        seconds = math.floor(require_aware(t).timestamp())
        return dt.datetime.fromtimestamp((seconds // self._bucket_s + 1) * self._bucket_s, _UTC)

    def add(self, rt: RealTimeBar) -> tuple[AggregatedBar, ...]:
        """Take one 5-second bar; return the bars it lets out (none, one or two), oldest first.

        Raises ``BarRejected`` (``not_on_five_second_grid``,
        ``not_after_previous``, ``bucket_already_closed``) and changes nothing
        when the bar cannot belong to the stream.
        """
        stamp = rt.start.timestamp()
        start = int(stamp)
        if start != stamp or start % REALTIME_BAR_SECONDS:
            raise BarRejected("not_on_five_second_grid", f"real-time bar start {rt.start.isoformat()} is not on IB's 5-second grid")
        if self._last_start is not None and start <= self._last_start:
            raise BarRejected("not_after_previous", f"real-time bar start {rt.start.isoformat()} is not after the previous one")
        if start < self._closed_until:
            raise BarRejected("bucket_already_closed", f"real-time bar start {rt.start.isoformat()} belongs to a bar already emitted")
        out: tuple[AggregatedBar, ...] = ()
        bucket = start // self._bucket_s
        if self._bucket is not None and bucket != self._bucket:
            out = (self._emit(),)
        self._last_start = start
        if self._bucket is None:
            self._bucket = bucket
            self._open, self._high, self._low, self._close = rt.open, rt.high, rt.low, rt.close
            self._volume = rt.volume
            self._count = 1
        else:
            # plain comparisons: this runs for every 5-second bar
            if rt.high > self._high:
                self._high = rt.high
            if rt.low < self._low:
                self._low = rt.low
            self._close = rt.close
            self._volume += rt.volume
            self._count += 1
        if start + REALTIME_BAR_SECONDS == (bucket + 1) * self._bucket_s:
            out = (*out, self._emit())
        return out

    def close_due(self, now: dt.datetime) -> AggregatedBar | None:
        """Emit the open bucket if ``now`` is at least ``late_after`` past its end; else None."""
        if self._bucket is None:
            return None
        end = (self._bucket + 1) * self._bucket_s
        if require_aware(now, "now").timestamp() >= end + self.late_after.total_seconds():
            return self._emit()
        return None

    def flush(self) -> AggregatedBar | None:
        """Emit the open bucket, whatever it holds (end of the feed); None when empty."""
        return None if self._bucket is None else self._emit()

    def _emit(self) -> AggregatedBar:
        assert self._bucket is not None
        end = (self._bucket + 1) * self._bucket_s
        bar = Bar(
            symbol=self.symbol,
            end=dt.datetime.fromtimestamp(end, _UTC),
            open=self._open,
            high=self._high,
            low=self._low,
            close=self._close,
            volume=self._volume,
        )
        result = AggregatedBar(bar=bar, count=self._count, expected=self._expected)
        self._closed_until = end
        self._bucket = None
        self._count = 0
        return result
