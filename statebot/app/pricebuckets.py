"""A run's prices, downsampled as the bars stream by, for the HTML report's price chart.

The rule: bars are grouped into OHLC buckets aligned to UTC multiples of a width taken from
``WIDTHS`` (1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 day; each a whole multiple of
the one before, so merging buckets is exact). The first width is the smallest one that is at
least one bar; whenever the run holds more than ``max_buckets`` buckets, they are merged into
the next width. A bucket keeps the first open, the highest high, the lowest low and the last
close of its bars, so no extreme a stop could have touched is lost. A week of one-minute bars
(about 2,000) stays at one bar a bucket; a year of them (about 97,000) ends at one hour.
Memory is bounded by ``max_buckets`` whatever the length of the run.
"""

from __future__ import annotations

import datetime as dt

import attrs

WIDTHS: tuple[int, ...] = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400)
"""Bucket widths in seconds, finest first."""
MAX_BUCKETS = 2000


@attrs.frozen
class PriceBucket:
    """One bucket: its start (UTC seconds since the epoch) and the OHLC of its bars (floats: a picture, not money)."""

    start: int
    open: float
    high: float
    low: float
    close: float


@attrs.define
class PriceBuckets:
    """Collects bars (``add``) into at most ``max_buckets`` buckets; ``width_s`` is the current width."""

    max_buckets: int = MAX_BUCKETS
    width_s: int = 0
    buckets: list[PriceBucket] = attrs.field(factory=list)

    def add(self, end: dt.datetime, bar_size: dt.timedelta, open_: float, high: float, low: float, close: float) -> None:
        """One bar ending at ``end`` (aware) of ``bar_size``; bars come in time order."""
        if not self.width_s:
            size = bar_size.total_seconds()
            self.width_s = next((w for w in WIDTHS if w >= size), WIDTHS[-1])
        start = int(end.timestamp() - bar_size.total_seconds())
        key = start - start % self.width_s
        last = self.buckets[-1] if self.buckets else None
        if last is not None and last.start == key:
            self.buckets[-1] = PriceBucket(key, last.open, max(last.high, high), min(last.low, low), close)
        else:
            self.buckets.append(PriceBucket(key, open_, high, low, close))
            if len(self.buckets) > self.max_buckets:
                self._coarsen()

    def _coarsen(self) -> None:
        while len(self.buckets) > self.max_buckets and self.width_s < WIDTHS[-1]:
            self.width_s = WIDTHS[WIDTHS.index(self.width_s) + 1]
            merged: list[PriceBucket] = []
            for b in self.buckets:
                key = b.start - b.start % self.width_s
                if merged and merged[-1].start == key:
                    m = merged[-1]
                    merged[-1] = PriceBucket(key, m.open, max(m.high, b.high), min(m.low, b.low), b.close)
                else:
                    merged.append(PriceBucket(key, b.open, b.high, b.low, b.close))
            self.buckets = merged

    def series(self) -> tuple[int, tuple[PriceBucket, ...]]:
        """(width in seconds, the buckets in time order)."""
        return self.width_s, tuple(self.buckets)
