"""Bars and the one clock that drives every machine.

A ``Bar`` acts at its END time: a one-minute bar that starts at 15:54 ends, and
is seen by the bot, at 15:55. ``BarClock`` moves time forward from bars;
``LiveClock`` also moves it from wall time (``heartbeat``), so a data outage
cannot keep the session from reaching FLATTENING and CLOSED.

Time only moves forward: a bar or heartbeat at or before the last seen time
raises ``BarRejected`` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Union

import attrs

from statebot.errors import BarRejected

_UTC = dt.timezone.utc

Price = Union[float, int, Decimal]
"""A price as it arrives from data: finite and positive. Ticks are made from it
at the instrument boundary, never here."""

TimeListener = Callable[[dt.datetime], object]


def require_aware(value: dt.datetime, what: str = "time") -> dt.datetime:
    """Return ``value`` if it is a timezone-aware datetime; raise ``BarRejected`` otherwise."""
    if not isinstance(value, dt.datetime):
        raise BarRejected("not_a_datetime", f"{what} {value!r} is not a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise BarRejected("naive_datetime", f"{what} {value.isoformat()} is naive; statebot needs timezone-aware times")
    return value


def _finite(value: float | int | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


def _check_price(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (float, int, Decimal)):
        raise BarRejected("bad_price", f"bar {name} {value!r} is not a number")
    if not _finite(value) or value <= 0:
        raise BarRejected("bad_price", f"bar {name} {value!r} must be finite and positive")


@attrs.frozen(kw_only=True, slots=True)
class Bar:
    """One OHLCV bar of ``symbol`` that ends at ``end`` (aware datetime).

    Constructing a bar validates it: naive ``end``, a non-finite or non-positive
    price, ``high`` below ``open``/``close``/``low``, ``low`` above
    ``open``/``close``, or negative volume raise ``BarRejected`` with a reason.
    """

    symbol: str
    end: dt.datetime
    open: Price
    high: Price
    low: Price
    close: Price
    volume: float | int = 0

    def __attrs_post_init__(self) -> None:
        require_aware(self.end, "bar end")
        for name in ("open", "high", "low", "close"):
            _check_price(name, getattr(self, name))
        o, h, low, c = self.open, self.high, self.low, self.close
        if h < o or h < c or h < low:
            raise BarRejected("high_below_open_close", f"bar {self.symbol} at {self.end.isoformat()}: high {h} is below open {o}, close {c} or low {low}")
        if low > o or low > c:
            raise BarRejected("low_above_open_close", f"bar {self.symbol} at {self.end.isoformat()}: low {low} is above open {o} or close {c}")
        v = self.volume
        if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)) or not _finite(v) or v < 0:
            raise BarRejected("negative_volume", f"bar {self.symbol} at {self.end.isoformat()}: volume {v!r} must be a finite number >= 0")


class BarClock:
    """The bot's clock: time moves forward only, from bar end times.

    One clock serves one bar stream: a bar of a second symbol with the same
    end time is not after the last seen time and is rejected. A bot trading
    several instruments either merges their bars into one stream per end time
    or runs one clock per stream.

    Listeners (``subscribe``) are called with each new time, in order of
    subscription; the session machine is the first. Listeners must not raise
    for ordinary times; an exception propagates to the caller after ``now``
    has already moved.
    """

    def __init__(self, *listeners: TimeListener) -> None:
        self._now: dt.datetime | None = None
        self._listeners: list[TimeListener] = list(listeners)

    @property
    def now(self) -> dt.datetime | None:
        """The last accepted time (in UTC), or None before the first."""
        return self._now

    def subscribe(self, listener: TimeListener) -> None:
        """Call ``listener(t)`` on every accepted time from now on (``t`` in UTC)."""
        self._listeners.append(listener)

    def advance(self, t: dt.datetime) -> None:
        """Move the clock to ``t``.

        Raises ``BarRejected`` (``naive_datetime`` or ``not_after_previous``)
        and changes nothing when ``t`` is naive or not after ``now``.
        """
        if t.tzinfo is not _UTC:
            if t.tzinfo is None:
                require_aware(t)
            # two times in one ZoneInfo compare by wall clock, ignoring fold (the fall-back hour)
            t = t.astimezone(_UTC)
        now = self._now
        if now is not None and t <= now:
            raise BarRejected("not_after_previous", f"time {t.isoformat()} is not after the last seen {now.isoformat()}")
        self._now = t
        for listener in self._listeners:
            listener(t)

    def on_bar(self, bar: Bar) -> None:
        """Advance to the bar's end time (the moment the bar is complete)."""
        self.advance(bar.end)
