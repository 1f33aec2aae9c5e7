"""Bars and the clock: validation, forward-only time, listeners, the live heartbeat."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from freezegun import freeze_time

from statebot import Bar, BarClock, BarRejected, LiveClock
from tests.strategies import NY, UTC

T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=NY)


def bar(**overrides: object) -> Bar:
    fields: dict = dict(symbol="MES", end=T0, open=100.0, high=101.0, low=99.0, close=100.5, volume=10)
    fields.update(overrides)
    return Bar(**fields)


def test_a_valid_bar_keeps_its_values() -> None:
    b = bar(open=Decimal("100.25"))
    assert b.open == Decimal("100.25") and b.end == T0


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"end": dt.datetime(2026, 11, 24, 15, 0)}, "naive_datetime"),
        ({"high": 99.5}, "high_below_open_close"),
        ({"low": 100.4, "high": 101.0, "open": 100.3}, "low_above_open_close"),
        ({"close": float("nan")}, "bad_price"),
        ({"open": float("inf")}, "bad_price"),
        ({"low": 0.0}, "bad_price"),
        ({"low": -1.0}, "bad_price"),
        ({"high": Decimal("NaN")}, "bad_price"),
        ({"open": "100"}, "bad_price"),
        ({"volume": -1}, "negative_volume"),
        ({"volume": float("nan")}, "negative_volume"),
        ({"volume": Decimal("NaN")}, "negative_volume"),
    ],
)
def test_invalid_bars_are_rejected_with_a_named_reason(overrides: dict, reason: str) -> None:
    with pytest.raises(BarRejected) as err:
        bar(**overrides)
    assert err.value.reason == reason
    assert str(err.value)


def test_clock_moves_forward_and_calls_listeners_in_order() -> None:
    seen: list[tuple[str, dt.datetime]] = []
    clock = BarClock(lambda t: seen.append(("a", t)))
    clock.subscribe(lambda t: seen.append(("b", t)))
    clock.on_bar(bar())
    assert clock.now == T0
    assert seen == [("a", T0), ("b", T0)]


@pytest.mark.parametrize("delta", [dt.timedelta(0), dt.timedelta(seconds=-1), dt.timedelta(days=-3)])
def test_a_time_at_or_before_the_last_is_rejected_and_changes_nothing(delta: dt.timedelta) -> None:
    seen: list[dt.datetime] = []
    clock = BarClock(seen.append)
    clock.advance(T0)
    with pytest.raises(BarRejected) as err:
        clock.advance(T0 + delta)
    assert err.value.reason == "not_after_previous"
    assert clock.now == T0 and seen == [T0]


def test_equal_instants_in_different_zones_are_the_same_time() -> None:
    clock = BarClock()
    clock.advance(T0)
    with pytest.raises(BarRejected):
        clock.advance(T0.astimezone(UTC))


def test_a_naive_time_is_rejected() -> None:
    clock = BarClock()
    with pytest.raises(BarRejected, match="naive"):
        clock.advance(dt.datetime(2026, 11, 24, 15, 0))
    assert clock.now is None


def test_live_clock_heartbeat_reads_wall_time_in_utc() -> None:
    clock = LiveClock()
    with freeze_time(dt.datetime(2026, 11, 24, 20, 54, tzinfo=UTC)):
        t = clock.heartbeat()
    assert t == dt.datetime(2026, 11, 24, 20, 54, tzinfo=UTC) and t.tzinfo is not None
    assert clock.now == t


def test_live_clock_heartbeat_that_does_not_move_time_forward_is_rejected() -> None:
    clock = LiveClock()
    with freeze_time(dt.datetime(2026, 11, 24, 20, 54, tzinfo=UTC)):
        clock.heartbeat()
        with pytest.raises(BarRejected):
            clock.heartbeat()


def test_live_clock_rejects_a_bar_stamped_in_the_future() -> None:
    clock = LiveClock()
    with freeze_time(dt.datetime(2026, 11, 24, 20, 0, tzinfo=UTC)):
        with pytest.raises(BarRejected) as err:
            clock.on_bar(bar(end=dt.datetime(2026, 11, 24, 20, 55, tzinfo=UTC)))
    assert err.value.reason == "bar_from_future"
    assert clock.now is None


def test_clock_accepts_a_later_time_in_the_fall_back_hour_given_in_new_york_time() -> None:
    """01:00 EST (fold=1) comes an hour after 01:00 EDT; one ZoneInfo compares them by wall clock."""
    clock = BarClock()
    clock.advance(dt.datetime(2026, 11, 1, 1, 3, tzinfo=NY))
    clock.advance(dt.datetime(2026, 11, 1, 1, 0, tzinfo=NY, fold=1))
    assert clock.now == dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.timezone.utc)
