"""Demo strategies for simulations and tests: documented, deterministic, not alpha.

``sma-cross`` (``SmaCross``) is always in the market and reverses on a
crossover of two simple moving averages; ``orb`` (``OpeningRangeBreakout``)
trades one breakout of each session's opening range. Build them by name with
``statebot.get_strategy``.
"""

from statebot.core.strategy.builtin.orb import OpeningRangeBreakout
from statebot.core.strategy.builtin.sma_cross import SmaCross

__all__ = ["OpeningRangeBreakout", "SmaCross"]
