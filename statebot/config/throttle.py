"""The ``[throttle]`` configuration section: rules, window and cooldown from TOML.

Defined beside the learning code and built with ``statebot.config.model.from_data``
so the config module needs only one line to host it::

    throttle: ThrottleConfig = section(ThrottleConfig, "strategy throttle")

In TOML a limit of 0 switches its rule off (TOML has no null).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from statebot.config.fields import at_least, fraction, non_negative, setting, unit_interval
from statebot.core.time.durations import parse_duration
from statebot.errors import ConfigError
from statebot.core.learning.loop import LearningLoop
from statebot.core.fsm.throttle import NEXT_SESSION, ThrottleRules


def cooldown_text(v: str) -> str | None:
    """None when ``v`` is "next_session" or a duration string, else the problem."""
    if v == NEXT_SESSION:
        return None
    try:
        parse_duration(v)
    except ConfigError:
        return f'must be "next_session" or a duration such as "30m", got {v!r}'
    return None


@attrs.frozen(kw_only=True)
class ThrottleConfig:
    """Strategy throttle rules (statebot.core.fsm.throttle); 0 switches a limit off."""

    max_consecutive_losses: int = setting(4, doc="throttle after this many losing trades in a row (0: off)", check=at_least(0))
    min_win_rate: Decimal = setting(Decimal("0.35"), doc="throttle below this rolling win rate, 0..1 (0: off)", check=unit_interval)
    win_rate_min_trades: int = setting(10, doc="the win-rate rule needs at least this many trades in the window", check=at_least(1))
    window: int = setting(20, doc="rolling win-rate window, in trades", check=at_least(1))
    max_drawdown_usd: Decimal = setting(
        Decimal("150"), doc="throttle when net P&L falls more than this below its peak, USD (0: off)", check=non_negative
    )
    max_slippage_error_ticks: Decimal = setting(
        Decimal("1"), doc="throttle when fills are worse than modelled by more than this, EWMA ticks (0: off)", check=non_negative
    )
    slippage_min_trades: int = setting(5, doc="the slippage rule needs at least this many trades", check=at_least(1))
    slippage_ewma_alpha: Decimal = setting(Decimal("0.2"), doc="weight of the newest trade in the slippage EWMA, (0, 1]", check=fraction)
    cooldown: str = setting("next_session", doc='"next_session" or a duration on the bar clock such as "30m"', check=cooldown_text)
    probation_trades: int = setting(3, doc="clean trades in probation before full size again", check=at_least(1))
    probation_size_cap: int = setting(1, doc="most contracts per entry during probation", check=at_least(1))

    def rules(self) -> ThrottleRules:
        """The ``ThrottleRules`` this section describes (a 0 limit becomes None: off)."""
        return ThrottleRules(
            max_consecutive_losses=self.max_consecutive_losses or None,
            min_win_rate=self.min_win_rate or None,
            win_rate_min_trades=self.win_rate_min_trades,
            max_drawdown_usd=self.max_drawdown_usd or None,
            max_slippage_error_ticks=self.max_slippage_error_ticks or None,
            slippage_min_trades=self.slippage_min_trades,
            cooldown=NEXT_SESSION if self.cooldown == NEXT_SESSION else parse_duration(self.cooldown),
            probation_trades=self.probation_trades,
            probation_size_cap=self.probation_size_cap,
        )

    def loop(self, strategies: Iterable[str] = ()) -> LearningLoop:
        """A fresh ``LearningLoop`` with these rules, window and EWMA weight."""
        return LearningLoop(self.rules(), window=self.window, ewma_alpha=self.slippage_ewma_alpha, strategies=strategies)
