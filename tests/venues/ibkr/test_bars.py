"""5-second real-time bars (stamped at their START) into N-minute bars (acting at their END)."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.venues.ibkr.bars import AggregatedBar, BarAggregator, RealTimeBar
from statebot.errors import BarRejected, ConfigError
from tests.strategies import NY, bar_minutes, realtime_bar_streams

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 24, 14, 55, tzinfo=UTC)


def rt(start: dt.datetime, price: float = 5000.0, volume: float = 1) -> RealTimeBar:
    return RealTimeBar(start=start, open=price, high=price + 0.5, low=price - 0.25, close=price, volume=volume)


def slots(first: dt.datetime, n: int) -> list[dt.datetime]:
    return [first + dt.timedelta(seconds=5 * i) for i in range(n)]


def feed(agg: BarAggregator, bars: list[RealTimeBar]) -> list[AggregatedBar]:
    out: list[AggregatedBar] = []
    for b in bars:
        out.extend(agg.add(b))
    return out


def reference(bars: list[RealTimeBar], minutes: int) -> list[tuple[dt.datetime, float, float, float, float, float, int]]:
    """The obvious model: group by the absolute bucket a start falls in."""
    size = minutes * 60
    out = []
    for bucket, group in groupby(bars, key=lambda b: int(b.start.timestamp()) // size):
        g = list(group)
        end = dt.datetime.fromtimestamp((bucket + 1) * size, UTC)
        out.append((end, g[0].open, max(b.high for b in g), min(b.low for b in g), g[-1].close, sum(b.volume for b in g), len(g)))
    return out


def as_tuple(a: AggregatedBar) -> tuple[dt.datetime, float, float, float, float, float, int]:
    b = a.bar
    return (b.end, b.open, b.high, b.low, b.close, b.volume, a.count)


# ----------------------------------------------------------------------------- examples


def test_sixty_bars_from_1455_make_one_five_minute_bar_ending_1500_utc() -> None:
    agg = BarAggregator("MES", 5)
    out = feed(agg, [rt(s, 5000.0 + i * 0.25) for i, s in enumerate(slots(T0, 60))])
    [done] = out
    assert done.bar.end == dt.datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert done.bar.end.tzinfo is UTC
    assert (done.bar.open, done.bar.close, done.bar.high, done.bar.low) == (5000.0, 5014.75, 5015.25, 4999.75)
    assert (done.bar.volume, done.count, done.expected, done.complete) == (60, 60, 60, True)


def test_the_bar_is_emitted_by_its_last_slot_without_waiting_for_the_next_bucket() -> None:
    agg = BarAggregator("MES", 1)
    bars = [rt(s) for s in slots(T0, 12)]
    assert feed(agg, bars[:11]) == []
    [done] = agg.add(bars[11])
    assert done.bar.end == T0 + dt.timedelta(minutes=1)


def test_a_missing_last_slot_emits_the_bar_incomplete_when_the_next_bucket_starts() -> None:
    agg = BarAggregator("MES", 1)
    assert feed(agg, [rt(s) for s in slots(T0, 11)]) == []
    [late] = agg.add(rt(T0 + dt.timedelta(minutes=1)))
    assert (late.bar.end, late.count, late.complete) == (T0 + dt.timedelta(minutes=1), 11, False)


def test_missing_five_second_bars_do_not_shift_the_bar_boundaries() -> None:
    agg = BarAggregator("MES", 1)
    kept = [s for i, s in enumerate(slots(T0, 36)) if i % 5 != 2]
    out = feed(agg, [rt(s) for s in kept])
    assert [a.bar.end for a in out] == [T0 + dt.timedelta(minutes=m) for m in (1, 2, 3)]


def test_a_gap_of_several_buckets_emits_only_buckets_that_had_data() -> None:
    agg = BarAggregator("MES", 1)
    agg.add(rt(T0))
    [first] = agg.add(rt(T0 + dt.timedelta(minutes=10)))
    assert first.bar.end == T0 + dt.timedelta(minutes=1)
    assert agg.flush().bar.end == T0 + dt.timedelta(minutes=11)  # type: ignore[union-attr]


def test_one_bar_can_close_the_previous_bucket_and_complete_its_own() -> None:
    agg = BarAggregator("MES", 1)
    agg.add(rt(T0))
    out = agg.add(rt(T0 + dt.timedelta(seconds=115)))
    assert [(a.bar.end, a.count) for a in out] == [(T0 + dt.timedelta(minutes=1), 1), (T0 + dt.timedelta(minutes=2), 1)]


def test_a_start_in_another_zone_gives_the_same_utc_end() -> None:
    agg = BarAggregator("MES", 1)
    out = feed(agg, [rt(s.astimezone(NY)) for s in slots(T0, 12)])
    assert out[0].bar.end == T0 + dt.timedelta(minutes=1)
    assert out[0].bar.end.utcoffset() == dt.timedelta(0)


def test_a_repeated_bar_is_rejected_and_changes_nothing() -> None:
    agg = BarAggregator("MES", 1)
    agg.add(rt(T0, 5000.0))
    with pytest.raises(BarRejected) as err:
        agg.add(rt(T0, 6000.0))
    assert err.value.reason == "not_after_previous"
    assert agg.flush().bar.high == 5000.5  # type: ignore[union-attr]


def test_a_start_off_the_five_second_grid_is_rejected() -> None:
    with pytest.raises(BarRejected) as err:
        BarAggregator("MES", 1).add(rt(T0 + dt.timedelta(seconds=3)))
    assert err.value.reason == "not_on_five_second_grid"


def test_close_due_emits_a_stalled_bucket_once_late_after_has_passed() -> None:
    agg = BarAggregator("MES", 1, late_after=dt.timedelta(seconds=10))
    agg.add(rt(T0))
    end = T0 + dt.timedelta(minutes=1)
    assert agg.close_due(end + dt.timedelta(seconds=9)) is None
    stalled = agg.close_due(end + dt.timedelta(seconds=10))
    assert stalled is not None and (stalled.bar.end, stalled.complete) == (end, False)
    assert agg.close_due(end + dt.timedelta(hours=1)) is None


def test_a_bar_arriving_for_a_bucket_already_emitted_is_rejected() -> None:
    agg = BarAggregator("MES", 1)
    agg.add(rt(T0))
    agg.close_due(T0 + dt.timedelta(minutes=2))
    with pytest.raises(BarRejected) as err:
        agg.add(rt(T0 + dt.timedelta(seconds=55)))
    assert err.value.reason == "bucket_already_closed"


@pytest.mark.parametrize("minutes", [0, 7, -5, 1441])
def test_a_bar_size_that_does_not_divide_a_day_is_a_config_error(minutes: int) -> None:
    with pytest.raises(ConfigError):
        BarAggregator("MES", minutes)


def test_a_naive_or_inverted_real_time_bar_is_rejected() -> None:
    with pytest.raises(BarRejected):
        rt(T0.replace(tzinfo=None))
    with pytest.raises(BarRejected):
        RealTimeBar(start=T0, open=5000.0, high=4999.0, low=4998.0, close=5000.0)


# ----------------------------------------------------------------------------- properties


@given(realtime_bar_streams(), bar_minutes)
def test_aggregation_equals_grouping_by_absolute_bucket(bars: list[RealTimeBar], minutes: int) -> None:
    """Every 5-second bar lands in exactly one N-minute bar, the one whose fixed
    UTC bucket holds its start; OHLCV and counts match a plain group-by."""
    agg = BarAggregator("MES", minutes)
    out = feed(agg, bars)
    last = agg.flush()
    out += [last] if last else []
    assert [as_tuple(a) for a in out] == reference(bars, minutes)


@given(realtime_bar_streams(), bar_minutes)
def test_bars_end_on_the_grid_in_utc_strictly_increasing_and_complete_only_when_full(bars: list[RealTimeBar], minutes: int) -> None:
    """Ends are aware UTC multiples of N minutes, strictly increasing; complete <=> all 12*N slots came."""
    agg = BarAggregator("MES", minutes)
    out = feed(agg, bars)
    ends = [a.bar.end for a in out]
    assert ends == sorted(set(ends))
    for a in out:
        assert a.bar.end.utcoffset() == dt.timedelta(0)
        assert int(a.bar.end.timestamp()) % (minutes * 60) == 0
        assert a.complete == (a.count == minutes * 12)


@given(realtime_bar_streams(), bar_minutes)
def test_a_bar_is_emitted_as_soon_as_nothing_more_can_arrive_for_it(bars: list[RealTimeBar], minutes: int) -> None:
    """After the 5-second bar starting at s, every bucket ending at or before s + 5 s
    has been emitted, and none ending later."""
    agg = BarAggregator("MES", minutes)
    expected_ends = [r[0] for r in reference(bars, minutes)]
    emitted: list[dt.datetime] = []
    for b in bars:
        emitted += [a.bar.end for a in agg.add(b)]
        horizon = b.start + dt.timedelta(seconds=5)
        assert emitted == [e for e in expected_ends if e <= horizon]


@given(realtime_bar_streams(), bar_minutes, st.data())
def test_dropping_five_second_bars_never_moves_a_bar_end(bars: list[RealTimeBar], minutes: int, data: st.DataObject) -> None:
    """Gaps do not shift boundaries: the bars of a thinned stream end where the full stream's bars end."""
    keep = data.draw(st.lists(st.booleans(), min_size=len(bars), max_size=len(bars)))
    thinned = [b for b, k in zip(bars, keep) if k]
    full_ends = {r[0] for r in reference(bars, minutes)}
    agg = BarAggregator("MES", minutes)
    out = feed(agg, thinned)
    assert {a.bar.end for a in out} <= full_ends
