"""Sizing at its boundaries: the exact edges the mutation run found unchecked.

Each test states one edge of compute_position_size: the smallest stop that
trades, the bound named when two bounds tie, the budget and risk reported on a
refusal, and the argument named in each error.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.core.risk.sizing import (
    BY_BUDGET,
    CAPPED_TO_ZERO,
    ONE_CONTRACT_EXCEEDS_BUDGET,
    STOP_TICKS_ABOVE_MAX,
    STOP_TICKS_BELOW_ONE,
    EQUITY_NOT_POSITIVE,
    compute_position_size,
)
from statebot.errors import SizingError
from tests.strategies import money, risk_fractions, tick_values

from tests.core.risk.test_sizing import MES, size  # noqa: E402  (one builder for the sizing tests)


def test_a_one_tick_stop_trades() -> None:
    """1 tick is the smallest stop: $100 / $1.25 = 80 contracts, capped at 50."""
    r = size(stop_ticks=1)
    assert (r.contracts, r.reason, r.risk_per_contract) == (50, None, MES)


def test_a_max_stop_of_one_tick_is_allowed() -> None:
    assert size(stop_ticks=1, max_stop_ticks=1).contracts == 50
    assert size(stop_ticks=2, max_stop_ticks=1).reason == STOP_TICKS_ABOVE_MAX


def test_one_dollar_of_equity_is_positive_equity() -> None:
    """Equity of $1 is sized (and here refused for budget), not called non-positive."""
    assert size(equity=Decimal(1)).reason == ONE_CONTRACT_EXCEEDS_BUDGET
    r = size(equity=Decimal(1), equity_risk_fraction=Decimal(1), tick_value=Decimal("0.01"), stop_ticks=1)
    assert (r.contracts, r.budget) == (50, Decimal(1))


def test_a_single_contract_is_a_true_result() -> None:
    r = size(max_risk_usd=Decimal("15"))
    assert r.contracts == 1 and bool(r) is True


@pytest.mark.parametrize("bound", ["max_contracts", "cap"])
def test_a_bound_equal_to_the_budget_size_leaves_the_budget_named(bound: str) -> None:
    """$100 / $10 = 10 contracts; a max_contracts or cap of exactly 10 does not bind."""
    r = size(**{bound: 10})
    assert (r.contracts, r.limited_by) == (10, BY_BUDGET)


def test_a_refusal_for_cap_zero_still_reports_budget_and_risk_per_contract() -> None:
    r = size(cap=0)
    assert (r.reason, r.budget, r.risk_per_contract) == (CAPPED_TO_ZERO, Decimal(100), Decimal("10.00"))


def test_a_refusal_for_budget_reports_budget_and_risk_per_contract() -> None:
    r = size(max_risk_usd=Decimal("9.99"))
    assert (r.reason, r.budget, r.risk_per_contract) == (ONE_CONTRACT_EXCEEDS_BUDGET, Decimal("9.99"), Decimal("10.00"))


def test_a_budget_a_hair_under_a_whole_contract_does_not_round_up() -> None:
    """Exact floor division: $99.999...9 (30 digits) buys 9 contracts at $10, not 10."""
    budget = Decimal("99." + "9" * 30)
    r = size(max_risk_usd=budget)
    assert r.contracts == 9 and r.risk <= budget


def test_a_zero_equity_risk_fraction_is_refused() -> None:
    with pytest.raises(SizingError, match=r"equity_risk_fraction 0 must be in \(0, 1\]"):
        size(equity_risk_fraction=Decimal(0))


def test_a_zero_max_stop_ticks_is_refused() -> None:
    with pytest.raises(SizingError, match="^max_stop_ticks 0 must be >= 1$"):
        size(max_stop_ticks=0)


@pytest.mark.parametrize("arg", ["equity", "max_risk_usd", "tick_value", "equity_risk_fraction"])
def test_a_float_money_argument_is_named(arg: str) -> None:
    with pytest.raises(SizingError, match=f"^{arg} 1.5 must be a Decimal"):
        size(**{arg: 1.5})


@pytest.mark.parametrize("arg", ["stop_ticks", "max_contracts", "max_stop_ticks", "cap"])
def test_a_non_integer_count_is_named(arg: str) -> None:
    with pytest.raises(SizingError, match=f"^{arg} '3' must be an integer$"):
        size(**{arg: "3"})


@given(
    max_risk=money.filter(lambda m: m >= 0), stop=st.integers(min_value=-2, max_value=16), tick=tick_values,
    fraction=risk_fractions, equity=money,
)
def test_the_reason_for_zero_is_the_first_rule_broken(
    max_risk: Decimal, stop: int, tick: Decimal, fraction: Decimal, equity: Decimal
) -> None:
    """Stop below 1, stop above the maximum and equity <= 0 are refused by name and only then."""
    r = compute_position_size(equity, max_risk, stop, tick_value=tick, max_contracts=100, equity_risk_fraction=fraction)
    if stop < 1:
        expected: str | None = STOP_TICKS_BELOW_ONE
    elif stop > 12:
        expected = STOP_TICKS_ABOVE_MAX
    elif equity <= 0:
        expected = EQUITY_NOT_POSITIVE
    else:
        budget = min(max_risk, equity * fraction)
        expected = None if budget // (stop * tick) >= 1 else ONE_CONTRACT_EXCEEDS_BUDGET
    assert r.reason == expected
