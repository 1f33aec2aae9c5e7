"""The [throttle] configuration section builds the rules the loop applies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from statebot import NEXT_SESSION, ConfigError, ThrottleRules
from statebot.config.model import from_data
from statebot.config.throttle import ThrottleConfig


def test_defaults_are_the_rules_defaults() -> None:
    assert ThrottleConfig().rules() == ThrottleRules()


def test_toml_values_become_rules() -> None:
    section = from_data(ThrottleConfig, {"max_consecutive_losses": 3, "cooldown": "45m", "min_win_rate": "0.4", "window": 30}, "throttle")
    rules = section.rules()
    assert rules.max_consecutive_losses == 3
    assert rules.cooldown == dt.timedelta(minutes=45)
    assert rules.min_win_rate == Decimal("0.4")
    assert section.loop(["orb"]).window == 30


def test_zero_switches_a_limit_off() -> None:
    rules = from_data(ThrottleConfig, {"max_drawdown_usd": 0, "max_consecutive_losses": 0}, "throttle").rules()
    assert rules.max_drawdown_usd is None and rules.max_consecutive_losses is None
    assert rules.cooldown == NEXT_SESSION


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cooldown": "tomorrow"}, 'throttle.cooldown: must be "next_session" or a duration'),
        ({"min_win_rate": "1.5"}, "throttle.min_win_rate: must be between 0 and 1"),
        ({"probation_trades": 0}, "throttle.probation_trades: must be >= 1"),
        ({"slippage_ewma_alpha": 0}, "throttle.slippage_ewma_alpha: must be in (0, 1]"),
        ({"max_losses": 3}, "throttle.max_losses: unknown key"),
    ],
)
def test_bad_settings_name_the_key(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_data(ThrottleConfig, data, "throttle")
