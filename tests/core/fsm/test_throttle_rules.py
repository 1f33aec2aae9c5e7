"""ThrottleRules: the defaults, each value's bounds and the line that names a bad one, and each
rule's breach at its exact boundary with the reason and detail recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from statebot import NEXT_SESSION, ConfigError, ThrottleRules
from statebot.core.fsm.throttle import _count, _optional_count
from statebot.core.learning.metrics import ReliabilityMetrics

OFF: dict[str, Any] = {"max_consecutive_losses": None, "min_win_rate": None, "max_drawdown_usd": None,
                       "max_slippage_error_ticks": None}


def rules(**values: Any) -> ThrottleRules:
    return ThrottleRules(**{**OFF, **values})


def metrics(**values: Any) -> ReliabilityMetrics:
    return ReliabilityMetrics(strategy="orb", **values)


def test_the_defaults() -> None:
    r = ThrottleRules()
    assert (r.max_consecutive_losses, r.min_win_rate, r.win_rate_min_trades) == (4, Decimal("0.35"), 10)
    assert (r.max_drawdown_usd, r.max_slippage_error_ticks, r.slippage_min_trades) == (Decimal("150"), Decimal("1"), 5)
    assert (r.cooldown, r.probation_trades, r.probation_size_cap) == (NEXT_SESSION, 3, 1)


# values and their bounds -----------------------------------------------------------------


def test_every_rule_can_be_disabled_with_none() -> None:
    r = rules()
    assert (r.max_consecutive_losses, r.min_win_rate, r.max_drawdown_usd, r.max_slippage_error_ticks) == (None, None, None, None)
    assert r.breach(metrics(consecutive_losses=99, recent=[False] * 20, peak_net_pnl_usd=Decimal(900),
                            slippage_count=50, slippage_error_ewma_ticks=Decimal(9))) is None


def test_the_smallest_counts_are_accepted() -> None:
    r = rules(max_consecutive_losses=1, win_rate_min_trades=1, slippage_min_trades=1, probation_trades=1, probation_size_cap=1)
    assert (r.max_consecutive_losses, r.win_rate_min_trades, r.slippage_min_trades) == (1, 1, 1)
    assert (r.probation_trades, r.probation_size_cap) == (1, 1)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_consecutive_losses": 0}, "max_consecutive_losses 0 must be an int >= 1 (or None to disable)"),
        ({"max_consecutive_losses": True}, "max_consecutive_losses True must be an int >= 1 (or None to disable)"),
        ({"max_consecutive_losses": 2.0}, "max_consecutive_losses 2.0 must be an int >= 1 (or None to disable)"),
        ({"win_rate_min_trades": 0}, "win_rate_min_trades 0 must be an int >= 1"),
        ({"slippage_min_trades": True}, "slippage_min_trades True must be an int >= 1"),
        ({"probation_trades": "3"}, "probation_trades '3' must be an int >= 1"),
        ({"probation_size_cap": 0}, "probation_size_cap 0 must be an int >= 1"),
        ({"probation_size_cap": None}, "probation_size_cap None must be an int >= 1"),
        ({"min_win_rate": Decimal("1.01")}, "min_win_rate Decimal('1.01') must be between 0 and 1"),
        ({"min_win_rate": "-0.1"}, "min_win_rate '-0.1' must not be negative"),
        ({"max_drawdown_usd": "-5"}, "max_drawdown_usd '-5' must not be negative"),
        ({"max_slippage_error_ticks": Decimal("-1")}, "max_slippage_error_ticks Decimal('-1') must not be negative"),
        ({"cooldown": dt.timedelta(seconds=-1)},
         "cooldown datetime.timedelta(days=-1, seconds=86399) must be a non-negative timedelta or 'next_session'"),
        ({"cooldown": 30}, "cooldown 30 must be a non-negative timedelta or 'next_session'"),
        ({"cooldown": None}, "cooldown None must be a non-negative timedelta or 'next_session'"),
    ],
)
def test_a_bad_value_is_refused_in_one_line_naming_it(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ThrottleRules(**values)
    assert str(caught.value) == message


def test_money_values_are_decimals_and_the_win_rate_may_be_zero_or_one() -> None:
    r = ThrottleRules(max_drawdown_usd="0", max_slippage_error_ticks="2.5", min_win_rate="1")
    assert (r.max_drawdown_usd, r.max_slippage_error_ticks, r.min_win_rate) == (Decimal(0), Decimal("2.5"), Decimal(1))
    assert ThrottleRules(min_win_rate="0").min_win_rate == Decimal(0)


def test_a_cooldown_is_a_non_negative_timedelta_or_the_next_session() -> None:
    assert ThrottleRules(cooldown=dt.timedelta(0)).cooldown == dt.timedelta(0)
    assert ThrottleRules(cooldown=dt.timedelta(minutes=30)).cooldown == dt.timedelta(minutes=30)
    assert ThrottleRules(cooldown="next_session").cooldown == NEXT_SESSION


def test_the_count_validators_take_their_minimum_and_name_the_attribute() -> None:
    # the validators as a class of its own would use them, with a minimum other than 1 (made here,
    # not at import, so that what is checked is what the factories make now)
    Counts = attrs.make_class("Counts", {
        "needed": attrs.field(validator=_count(2)),
        "optional": attrs.field(default=None, validator=_optional_count(2)),
    }, frozen=True)
    assert Counts(2, 2) == Counts(needed=2, optional=2)
    assert Counts(2).optional is None
    for build, message in [
        (lambda: Counts(1), "needed 1 must be an int >= 2"),
        (lambda: Counts(False), "needed False must be an int >= 2"),
        (lambda: Counts(None), "needed None must be an int >= 2"),
        (lambda: Counts(2, 1), "optional 1 must be an int >= 2 (or None to disable)"),
        (lambda: Counts(2, True), "optional True must be an int >= 2 (or None to disable)"),
        (lambda: Counts(2, "3"), "optional '3' must be an int >= 2 (or None to disable)"),
    ]:
        with pytest.raises(ConfigError) as caught:
            build()
        assert str(caught.value) == message


# each rule at its boundary -----------------------------------------------------------------


def test_consecutive_losses_breach_at_the_limit_not_before() -> None:
    r = rules(max_consecutive_losses=3)
    assert r.breach(metrics(consecutive_losses=2)) is None
    assert r.breach(metrics(consecutive_losses=3)) == ("consecutive_losses", "3 consecutive losses >= limit 3")


def test_drawdown_breaches_only_beyond_the_limit() -> None:
    r = rules(max_drawdown_usd=Decimal(100))
    assert r.breach(metrics(peak_net_pnl_usd=Decimal(50), net_pnl_usd=Decimal(-50))) is None
    assert r.breach(metrics(peak_net_pnl_usd=Decimal(50), net_pnl_usd=Decimal("-50.01"))) == (
        "drawdown", "drawdown $100.01 > limit $100"
    )


def test_win_rate_breaches_below_the_rate_over_enough_trades() -> None:
    r = rules(min_win_rate=Decimal("0.5"), win_rate_min_trades=4)
    assert r.breach(metrics(recent=[True, False, False])) is None  # 1/3 over only 3 trades
    assert r.breach(metrics(recent=[True, True, False, False])) is None  # exactly the rate
    assert r.breach(metrics(recent=[True, False, False, False])) == (
        "win_rate", "rolling win rate 1/4 < 0.5 over >= 4 trades"
    )


def test_win_rate_is_wins_against_rate_times_trades() -> None:
    r = rules(min_win_rate=Decimal("0.25"), win_rate_min_trades=8)
    assert r.breach(metrics(recent=[True, True] + [False] * 6)) is None  # 2 wins = 0.25 x 8
    assert r.breach(metrics(recent=[True] + [False] * 7)) == ("win_rate", "rolling win rate 1/8 < 0.25 over >= 8 trades")


def test_slippage_breaches_beyond_the_limit_over_enough_trades() -> None:
    r = rules(max_slippage_error_ticks=Decimal(1), slippage_min_trades=3)
    assert r.breach(metrics(slippage_count=2, slippage_error_ewma_ticks=Decimal(5))) is None
    assert r.breach(metrics(slippage_count=3, slippage_error_ewma_ticks=Decimal(1))) is None
    assert r.breach(metrics(slippage_count=3, slippage_error_ewma_ticks=Decimal("1.5"))) == (
        "slippage_calibration", "slippage error EWMA 1.5 ticks > limit 1 over 3 trades"
    )


def test_the_first_rule_broken_in_order_is_the_reason() -> None:
    r = ThrottleRules(max_consecutive_losses=2, max_drawdown_usd=Decimal(10), min_win_rate=Decimal("0.5"),
                      win_rate_min_trades=2, max_slippage_error_ticks=Decimal(1), slippage_min_trades=1)
    everything = {"consecutive_losses": 2, "peak_net_pnl_usd": Decimal(20), "recent": [False, False],
                  "slippage_count": 2, "slippage_error_ewma_ticks": Decimal(3)}
    assert r.breach(metrics(**everything))[0] == "consecutive_losses"  # type: ignore[index]
    assert r.breach(metrics(**{**everything, "consecutive_losses": 1}))[0] == "drawdown"  # type: ignore[index]
    assert r.breach(metrics(**{**everything, "consecutive_losses": 1, "peak_net_pnl_usd": Decimal(0)}))[0] == "win_rate"  # type: ignore[index]
    assert r.breach(metrics(**{**everything, "consecutive_losses": 1, "peak_net_pnl_usd": Decimal(0),
                               "recent": [True, False]}))[0] == "slippage_calibration"  # type: ignore[index]
