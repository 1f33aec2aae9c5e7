"""What the demo strategies' constructors accept: each bad parameter is one ConfigError naming it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from statebot.core.strategy.builtin import OpeningRangeBreakout, SmaCross
from statebot.errors import ConfigError

STRATEGIES = [(SmaCross, "sma-cross"), (OpeningRangeBreakout, "orb")]


@pytest.mark.parametrize(("cls", "label"), STRATEGIES)
@pytest.mark.parametrize("key", ["dvs", "eqs"])
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", "1.5", "-0.1", 2, Decimal("1.0001")])
def test_a_score_outside_0_to_1_is_refused_at_construction(cls: type, label: str, key: str, value: object) -> None:
    # A NaN or out-of-range score would otherwise run a whole simulation whose every entry the
    # gates refuse (NaN) or wave through (1.5): the mistake is in the configuration, so it is named there.
    with pytest.raises(ConfigError, match=rf"^{label} {key} {re.escape(repr(value))} must be a finite score between 0 and 1$"):
        cls(**{key: value})


@pytest.mark.parametrize(("cls", "label"), STRATEGIES)
@pytest.mark.parametrize("key", ["dvs", "eqs"])
@pytest.mark.parametrize(("value", "expected"), [(0, Decimal(0)), (1, Decimal(1)), ("0.80", Decimal("0.80")), (Decimal("0.5"), Decimal("0.5"))])
def test_a_score_from_0_to_1_is_kept_as_a_decimal(cls: type, label: str, key: str, value: object, expected: Decimal) -> None:
    strategy = cls(**{key: value})
    assert getattr(strategy, key) == expected
    assert type(getattr(strategy, key)) is Decimal


@pytest.mark.parametrize(("cls", "label"), STRATEGIES)
@pytest.mark.parametrize(
    ("value", "match"),
    [
        (True, "must be a Decimal, int or decimal string"),
        (0.5, "must be a Decimal, int or decimal string"),
        (None, "must be a Decimal, int or decimal string"),
        ("abc", "is not a number"),
    ],
)
def test_a_score_of_the_wrong_type_names_the_parameter(cls: type, label: str, value: object, match: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{label} dvs {re.escape(repr(value))} {match}$"):
        cls(dvs=value)


@pytest.mark.parametrize(("cls", "label"), STRATEGIES)
def test_expected_slippage_may_exceed_one_tick(cls: type, label: str) -> None:
    assert cls(expected_slippage_ticks="2.5").expected_slippage_ticks == Decimal("2.5")


@pytest.mark.parametrize(("cls", "label"), STRATEGIES)
@pytest.mark.parametrize("value", ["nan", "-1", "inf"])
def test_a_negative_or_non_finite_slippage_is_refused_at_construction(cls: type, label: str, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{label} expected_slippage_ticks {value!r} must be finite and >= 0$"):
        cls(expected_slippage_ticks=value)


@pytest.mark.parametrize(("cls", "label"), STRATEGIES)
@pytest.mark.parametrize("value", [0, -3, True, 1.0, "2"])
def test_an_integer_parameter_below_its_minimum_or_not_an_int_is_refused(cls: type, label: str, value: object) -> None:
    key = "stop_ticks" if cls is SmaCross else "range_minutes"
    with pytest.raises(ConfigError, match=rf"^{label} {key} {re.escape(repr(value))} must be an integer >= 1$"):
        cls(**{key: value})


def test_sma_cross_slow_must_be_at_least_2() -> None:
    with pytest.raises(ConfigError, match=r"^sma-cross slow 1 must be an integer >= 2$"):
        SmaCross(fast=1, slow=1)


@pytest.mark.parametrize("key", ["stop_ticks", "max_stop_ticks", "target_ticks"])
def test_orb_optional_ticks_accept_none_and_refuse_zero(key: str) -> None:
    assert getattr(OpeningRangeBreakout(**{key: None}), key) is None
    with pytest.raises(ConfigError, match=rf"^orb {key} 0 must be an integer >= 1$"):
        OpeningRangeBreakout(**{key: 0})
