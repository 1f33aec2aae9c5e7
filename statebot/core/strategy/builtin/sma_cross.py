"""``sma-cross``: always in the market, reversing when two moving averages cross.

Demo, not alpha. Once ``slow`` closes have been seen, the wanted side is LONG
while the fast simple moving average of the closes is above the slow one and
SHORT while it is below (equal: no change). Whenever the wanted side differs
from the position held (flat included) and entries are allowed
(``ctx.may_enter``), it signals that side: so it enters at each session's
open and reverses on each crossover. Outside entry hours it says nothing
(the session flattens positions by itself).

O(1) per bar: closes are integer ticks kept in running sums (one window
per average, so dropping the oldest close is a ``popleft``); the averages
are compared as ``fast_sum x slow`` against ``slow_sum x fast``, exactly.
The two signals (long, short) are built once: a ``Signal`` is immutable.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from statebot.core.time.clock import Bar
from statebot.errors import ConfigError
from statebot.core.strategy.builtin._params import optional_positive_int, positive_int, score, slippage_ticks
from statebot.core.strategy.protocol import LONG, SHORT, Signal, StrategyContext, price_ticks


class SmaCross:
    """Fast/slow SMA crossover on closes; ``fast`` < ``slow`` bars.

    Each signal carries ``stop_ticks`` (default 8), ``target_ticks``
    (default none), ``expected_slippage_ticks``, ``tier`` and the ``dvs`` /
    ``eqs`` scores given here (default 1: the demo trusts its data).
    Raises ``ConfigError`` for bad parameters.
    """

    def __init__(
        self,
        fast: int = 10,
        slow: int = 30,
        *,
        stop_ticks: int = 8,
        target_ticks: int | None = None,
        expected_slippage_ticks: Decimal | int | str = Decimal("0.5"),
        tier: str = "default",
        dvs: Decimal | int | str = Decimal(1),
        eqs: Decimal | int | str = Decimal(1),
        name: str = "sma-cross",
    ) -> None:
        self.fast = positive_int("sma-cross fast", fast)
        self.slow = positive_int("sma-cross slow", slow, 2)
        if self.fast >= self.slow:
            raise ConfigError(f"sma-cross fast {fast} must be less than slow {slow}")
        self.stop_ticks = positive_int("sma-cross stop_ticks", stop_ticks)
        self.target_ticks = optional_positive_int("sma-cross target_ticks", target_ticks)
        self.expected_slippage_ticks = slippage_ticks("sma-cross expected_slippage_ticks", expected_slippage_ticks)
        self.tier = tier
        self.dvs = score("sma-cross dvs", dvs)
        self.eqs = score("sma-cross eqs", eqs)
        self.name = name
        self._closes: deque[int] = deque()
        self._fast_closes: deque[int] = deque()
        self._fast_sum = 0
        self._slow_sum = 0
        self._signals = {side: self._signal(side) for side in (LONG, SHORT)}
        self._tick_size: Decimal | None = None
        self._per_tick = 0.0

    def _signal(self, side: int) -> Signal:
        return Signal(
            side=side, stop_ticks=self.stop_ticks, target_ticks=self.target_ticks,
            expected_slippage_ticks=self.expected_slippage_ticks, tier=self.tier, dvs=self.dvs, eqs=self.eqs,
            reason=f"sma {self.fast}/{self.slow} {'above' if side == LONG else 'below'}",
        )

    def _ticks(self, price: float | int | Decimal, tick_size: Decimal) -> int:
        """``price`` in whole ticks, as ``price_ticks`` rounds it; a float division when the tick
        size is a binary fraction (0.25, 0.5, 1: exact in floating point), else Decimal."""
        if tick_size != self._tick_size:
            self._tick_size = tick_size
            ratio = tick_size.as_integer_ratio()
            binary = ratio[1] & (ratio[1] - 1) == 0
            self._per_tick = float(tick_size) if binary else 0.0
        if self._per_tick and type(price) is float:
            # exact on a binary-fraction grid; halves away from zero as price_ticks rounds them
            q = price / self._per_tick
            return int(q + 0.5) if q >= 0 else -int(0.5 - q)
        return price_ticks(price, tick_size)

    @property
    def trend(self) -> int:
        """+1 while fast > slow, -1 while fast < slow, 0 when equal or still warming up."""
        if len(self._closes) < self.slow:
            return 0
        diff = self._fast_sum * self.slow - self._slow_sum * self.fast
        return LONG if diff > 0 else SHORT if diff < 0 else 0

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Signal | None:
        close = self._ticks(bar.close, ctx.tick_size)
        closes, fast_closes = self._closes, self._fast_closes
        closes.append(close)
        fast_closes.append(close)
        self._fast_sum += close
        self._slow_sum += close
        if len(fast_closes) > self.fast:
            self._fast_sum -= fast_closes.popleft()
        if len(closes) > self.slow:
            self._slow_sum -= closes.popleft()
        want = self.trend
        qty = ctx.position_qty
        held = (qty > 0) - (qty < 0)
        if want == 0 or want == held or not ctx.may_enter:
            return None
        return self._signals[want]
