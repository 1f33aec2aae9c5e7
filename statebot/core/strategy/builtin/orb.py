"""``orb``: opening-range breakout, at most one trade per session.

Demo, not alpha. The opening range is the high and low of the bars that end
within the first ``range_minutes`` after the session's open. After it, the
first bar that closes above the range high signals LONG, or below the range
low SHORT, if the strategy is flat and entries are allowed; then it is done
for that session (even if the runner could not enter). No bar in the range
(a data gap) means no trade that session.

The stop is ``stop_ticks`` when given. Otherwise it is the distance from
the close to the other side of the range (at least 1 tick), capped at
``max_stop_ticks`` (default 12, statebot's default ``[sizing]
max_stop_ticks``): a 30-minute range on MES is often 100 ticks or more, and
sizing refuses any stop wider than its maximum, so an uncapped far-side
stop would rarely trade. On a wide range the capped stop sits inside the
range, nearer the entry than the range's far side: the risk limit decides
how much a trade may lose, the range only where the stop would otherwise
go. ``max_stop_ticks=None`` restores the uncapped far-side stop; with a
lower ``[sizing] max_stop_ticks`` lower this cap too. The target is
``target_ticks`` when given.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from statebot.core.time.clock import Bar
from statebot.core.strategy.builtin._params import optional_positive_int, positive_int, score, slippage_ticks
from statebot.core.strategy.protocol import LONG, SHORT, Signal, StrategyContext, price_ticks


class OpeningRangeBreakout:
    """Breakout of the first ``range_minutes`` (default 30) of each session.

    The stop is ``stop_ticks`` when given, else the range's far side capped at
    ``max_stop_ticks`` (default 12; None: uncapped); see the module docstring.
    Raises ``ConfigError`` for bad parameters.
    """

    def __init__(
        self,
        range_minutes: int = 30,
        *,
        stop_ticks: int | None = None,
        max_stop_ticks: int | None = 12,
        target_ticks: int | None = None,
        expected_slippage_ticks: Decimal | int | str = Decimal("0.5"),
        tier: str = "default",
        dvs: Decimal | int | str = Decimal(1),
        eqs: Decimal | int | str = Decimal(1),
        name: str = "orb",
    ) -> None:
        self.range = dt.timedelta(minutes=positive_int("orb range_minutes", range_minutes))
        self.stop_ticks = optional_positive_int("orb stop_ticks", stop_ticks)
        self.max_stop_ticks = optional_positive_int("orb max_stop_ticks", max_stop_ticks)
        self.target_ticks = optional_positive_int("orb target_ticks", target_ticks)
        self.expected_slippage_ticks = slippage_ticks("orb expected_slippage_ticks", expected_slippage_ticks)
        self.tier = tier
        self.dvs = score("orb dvs", dvs)
        self.eqs = score("orb eqs", eqs)
        self.name = name
        self._session: dt.date | None = None
        self.high: int | None = None
        """The current session's range high in ticks (None before its first range bar)."""
        self.low: int | None = None
        self.done = False
        """True once this session's one signal has been given."""

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Signal | None:
        s = ctx.session
        if s is None or bar.end <= s.open:
            return None
        if s.date != self._session:
            self._session, self.high, self.low, self.done = s.date, None, None, False
        if bar.end <= s.open + self.range:
            hi, lo = price_ticks(bar.high, ctx.tick_size), price_ticks(bar.low, ctx.tick_size)
            self.high = hi if self.high is None else max(self.high, hi)
            self.low = lo if self.low is None else min(self.low, lo)
            return None
        if self.done or self.high is None or self.low is None or ctx.position_qty != 0 or not ctx.may_enter:
            return None
        close = price_ticks(bar.close, ctx.tick_size)
        if close > self.high:
            side, distance = LONG, close - self.low
        elif close < self.low:
            side, distance = SHORT, self.high - close
        else:
            return None
        self.done = True
        stop = self.stop_ticks
        if stop is None:
            stop = max(1, distance) if self.max_stop_ticks is None else max(1, min(distance, self.max_stop_ticks))
        return Signal(
            side=side, stop_ticks=stop, target_ticks=self.target_ticks,
            expected_slippage_ticks=self.expected_slippage_ticks, tier=self.tier, dvs=self.dvs, eqs=self.eqs,
            reason=f"close {'above' if side == LONG else 'below'} the {self.range.seconds // 60}-minute range",
        )
