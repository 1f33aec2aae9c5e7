"""The price series of the HTML report: bounded in size, no extreme lost, the same as bucketing at the final width."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from statebot.app.pricebuckets import WIDTHS, PriceBucket, PriceBuckets

START = dt.datetime(2026, 3, 2, 14, 31, tzinfo=dt.timezone.utc)
MINUTE = dt.timedelta(minutes=1)


def _bars(n: int, seed: int = 1) -> list[tuple[dt.datetime, float, float, float, float]]:
    rng, price, out = random.Random(seed), 6000.0, []
    for i in range(n):
        move = rng.uniform(-2, 2)
        high, low = max(price, price + move) + rng.uniform(0, 1), min(price, price + move) - rng.uniform(0, 1)
        out.append((START + (i + 1) * MINUTE, price, high, low, price + move))
        price += move
    return out


def _collect(bars: list[tuple[dt.datetime, float, float, float, float]], max_buckets: int) -> PriceBuckets:
    collected = PriceBuckets(max_buckets=max_buckets)
    for end, o, h, l, c in bars:
        collected.add(end, MINUTE, o, h, l, c)
    return collected


def test_a_week_of_minute_bars_keeps_every_bar() -> None:
    bars = _bars(1950)
    width, buckets = _collect(bars, 2000).series()
    assert width == 60 and len(buckets) == 1950
    assert buckets[0] == PriceBucket(int(START.timestamp()), *bars[0][1:])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=1, max_value=3000), max_buckets=st.integers(min_value=2, max_value=200))
def test_coarsening_is_bounded_keeps_extremes_and_equals_direct_bucketing(n: int, max_buckets: int) -> None:
    """Whatever the length: at most max_buckets buckets (or the widest width), the run's first open, last
    close, highest high and lowest low kept, and the buckets those of bucketing at the final width directly."""
    bars = _bars(n)
    width, buckets = _collect(bars, max_buckets).series()
    assert width in WIDTHS and (len(buckets) <= max_buckets or width == WIDTHS[-1])
    assert buckets[0].open == bars[0][1] and buckets[-1].close == bars[-1][4]
    assert max(b.high for b in buckets) == max(b[2] for b in bars)
    assert min(b.low for b in buckets) == min(b[3] for b in bars)
    direct = PriceBuckets(max_buckets=10**9, width_s=width)
    for end, o, h, l, c in bars:
        direct.add(end, MINUTE, o, h, l, c)
    assert direct.series() == (width, buckets)
