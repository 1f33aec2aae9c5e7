"""The two baselines statebot's simulation throughput is compared with.

Both trade the same rule as the ``sma-cross`` demo strategy on the same bars:
always in the market with one contract, reversing on a crossover of a fast
and a slow simple moving average, flat from each session's flatten time (close
minus 5 minutes) to the close, commission per contract per side.

* ``bare_loop``: the minimal hand-written loop a quant would write first, no
  lifecycle, no log: the floor of what the trading itself costs in Python.
* ``backtrader_run``: the same trading in backtrader (``pip install '.[bench]'``).

Used by benchmarks/sim_throughput.py; importable on its own for experiments.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Sequence

from statebot import Bar, SessionSchedule

TICK = 0.25
TICK_VALUE = 1.25
COMMISSION_PER_SIDE = 1.25


def flatten_windows(bars: Sequence[Bar], schedule: SessionSchedule) -> dict[dt.date, tuple[dt.datetime, dt.datetime]]:
    """Each session date's (flatten, close) instants in UTC."""
    first, last = bars[0].end.date() - dt.timedelta(days=2), bars[-1].end.date() + dt.timedelta(days=2)
    return {s.date: (s.flatten, s.close) for s in schedule.between(first, last)}


def bare_loop(bars: Sequence[Bar], flatten_at: Sequence[bool], fast: int = 10, slow: int = 30) -> tuple[int, float]:
    """(round trips, net P&L in USD) of the rule; ``flatten_at[i]`` marks bars at or after a flatten time."""
    fast_win: deque[float] = deque()
    slow_win: deque[float] = deque()
    fast_sum = slow_sum = 0.0
    position = 0
    entry = 0.0
    pnl = 0.0
    trades = 0
    prev_diff = 0.0
    for bar, flat_now in zip(bars, flatten_at):
        close = float(bar.close)
        fast_win.append(close)
        slow_win.append(close)
        fast_sum += close
        slow_sum += close
        if len(fast_win) > fast:
            fast_sum -= fast_win.popleft()
        if len(slow_win) > slow:
            slow_sum -= slow_win.popleft()
        if flat_now:
            if position:
                pnl += (close - entry) / TICK * TICK_VALUE * position - COMMISSION_PER_SIDE * abs(position)
                trades += 1
                position = 0
            prev_diff = 0.0
            continue
        if len(slow_win) < slow:
            continue
        diff = fast_sum / fast - slow_sum / slow
        target = position
        if diff > 0 >= prev_diff:
            target = 1
        elif diff < 0 <= prev_diff:
            target = -1
        prev_diff = diff
        if target != position:
            if position:
                pnl += (close - entry) / TICK * TICK_VALUE * position - COMMISSION_PER_SIDE * abs(position)
                trades += 1
            pnl -= COMMISSION_PER_SIDE * abs(target)
            position, entry = target, close
    return trades, pnl


def backtrader_run(bars: Sequence[Bar], flatten_at: Sequence[bool], fast: int = 10, slow: int = 30) -> tuple[int, float]:
    """The same rule in backtrader; returns (closed trades, net P&L)."""
    import backtrader as bt

    class Feed(bt.feed.DataBase):
        def start(self) -> None:
            super().start()
            self._i = 0

        def _load(self) -> bool:
            if self._i >= len(bars):
                return False
            b = bars[self._i]
            self.lines.datetime[0] = bt.date2num(b.end.replace(tzinfo=None))
            self.lines.open[0] = float(b.open)
            self.lines.high[0] = float(b.high)
            self.lines.low[0] = float(b.low)
            self.lines.close[0] = float(b.close)
            self.lines.volume[0] = float(b.volume)
            self.lines.openinterest[0] = 0.0
            self._i += 1
            return True

    class SmaCross(bt.Strategy):
        def __init__(self) -> None:
            self.cross = bt.ind.CrossOver(bt.ind.SMA(period=fast), bt.ind.SMA(period=slow))
            self.closed = 0
            self.i = 0

        def notify_trade(self, trade) -> None:  # type: ignore[no-untyped-def]
            if trade.isclosed:
                self.closed += 1

        def next(self) -> None:
            flat_now = flatten_at[self.i]
            self.i += 1
            if flat_now:
                if self.position:
                    self.close()
                return
            if self.cross[0] > 0:
                self.order_target_size(target=1)
            elif self.cross[0] < 0:
                self.order_target_size(target=-1)

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(Feed())
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(100_000.0)
    cerebro.broker.setcommission(commission=COMMISSION_PER_SIDE, margin=1500.0, mult=TICK_VALUE / TICK)
    (strategy,) = cerebro.run()
    return strategy.closed, cerebro.broker.getvalue() - 100_000.0
