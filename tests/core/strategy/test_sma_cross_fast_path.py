"""sma-cross's per-bar shortcuts give the same answers as the plain definitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from statebot import Bar, StrategyContext
from statebot.core.strategy.builtin.sma_cross import SmaCross
from statebot.core.strategy.protocol import price_ticks


@given(price=st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False),
       tick=st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal(1), Decimal("0.125"), Decimal("0.1"), Decimal("0.01")]))
def test_tick_conversion_matches_price_ticks(price: float, tick: Decimal) -> None:
    """Invariant: for every float price and tick size, the strategy's tick count equals ``price_ticks`` (nearest, halves away from zero)."""
    assert SmaCross()._ticks(price, tick) == price_ticks(price, tick)


@given(closes=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=120))
def test_running_sums_equal_the_window_sums(closes: list[int]) -> None:
    """Invariant: after any sequence of closes the running sums equal the sums of the last fast / slow closes."""
    s = SmaCross(fast=3, slow=7)
    t = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
    for i, c in enumerate(closes):
        bar = Bar(symbol="MES", end=t + dt.timedelta(minutes=i + 1), open=c, high=c, low=c, close=float(c))
        ctx = StrategyContext(now=bar.end, symbol="MES", tick_size=Decimal("0.25"), position_qty=0, session_state="TRADING",
                              may_enter=True, session=None)
        s.on_bar(bar, ctx)
    ticks = [c * 4 for c in closes]
    assert s._fast_sum == sum(ticks[-3:])
    assert s._slow_sum == sum(ticks[-7:])


@given(ticks=st.integers(min_value=-4_000_000, max_value=4_000_000),
       tick=st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal(1), Decimal("0.125")]))
def test_a_price_halfway_between_ticks_rounds_as_the_instrument_does(ticks: int, tick: Decimal) -> None:
    """Invariant: a price exactly half a tick off the grid becomes the same tick count in the strategy,
    in ``price_ticks`` and in ``InstrumentSpec.to_ticks`` (halves away from zero)."""
    from statebot.core.instruments import InstrumentSpec

    spec = InstrumentSpec(symbol="X", tick_size=tick, tick_value=Decimal("1.25"), multiplier=Decimal("1.25") / tick,
                         nonpositive_prices=True)  # the rounding rule holds below zero too
    price = float((ticks + Decimal("0.5")) * tick)
    expected = spec.to_ticks(price)
    assert price_ticks(price, tick) == expected
    assert SmaCross()._ticks(price, tick) == expected
