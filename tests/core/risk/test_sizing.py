"""Position sizing: the seed's compute_position_size, done right."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.errors import SizingError
from statebot.core.risk.sizing import (
    BY_BUDGET,
    BY_CAP,
    BY_MAX_CONTRACTS,
    CAPPED_TO_ZERO,
    EQUITY_NOT_POSITIVE,
    ONE_CONTRACT_EXCEEDS_BUDGET,
    STOP_TICKS_ABOVE_MAX,
    STOP_TICKS_BELOW_ONE,
    compute_position_size,
)
from tests.strategies import money, risk_fractions, tick_values

MES = Decimal("1.25")


def size(**kw: Any) -> Any:
    args: dict[str, Any] = {"equity": Decimal("100000"), "max_risk_usd": Decimal("100"), "stop_ticks": 8,
                            "tick_value": MES, "max_contracts": 50}
    args.update(kw)
    return compute_position_size(**args)


def test_budget_over_risk_per_contract_floored() -> None:
    r = size()  # min(100, 2000) / (8 x 1.25) = 10
    assert (r.contracts, r.limited_by, r.reason) == (10, BY_BUDGET, None)
    assert r.budget == Decimal("100") and r.risk_per_contract == Decimal("10.00") and r.risk == Decimal("100.00")


def test_seed_numbers_give_one_mes_contract() -> None:
    """The seed: $15 max risk, 8-tick stop on MES ($10 per contract) -> 1 contract."""
    assert size(max_risk_usd=Decimal("15")).contracts == 1


def test_equity_fraction_binds_when_smaller_than_tier_risk() -> None:
    r = size(equity=Decimal("2500"))  # 2 % = 50 -> 5 contracts
    assert r.contracts == 5 and r.budget == Decimal("50.00")


def test_custom_equity_risk_fraction() -> None:
    assert size(equity=Decimal("2500"), equity_risk_fraction=Decimal("0.01")).contracts == 2


def test_max_contracts_caps() -> None:
    r = size(max_contracts=3)
    assert (r.contracts, r.limited_by) == (3, BY_MAX_CONTRACTS)


def test_probation_cap_caps() -> None:
    r = size(cap=1)
    assert (r.contracts, r.limited_by) == (1, BY_CAP)


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"stop_ticks": 0}, STOP_TICKS_BELOW_ONE),
        ({"stop_ticks": -3}, STOP_TICKS_BELOW_ONE),
        ({"stop_ticks": 13}, STOP_TICKS_ABOVE_MAX),
        ({"stop_ticks": 5, "max_stop_ticks": 4}, STOP_TICKS_ABOVE_MAX),
        ({"equity": Decimal(0)}, EQUITY_NOT_POSITIVE),
        ({"equity": Decimal("-5")}, EQUITY_NOT_POSITIVE),
        ({"cap": 0}, CAPPED_TO_ZERO),
        ({"max_risk_usd": Decimal("9.99")}, ONE_CONTRACT_EXCEEDS_BUDGET),
        ({"max_risk_usd": Decimal(0)}, ONE_CONTRACT_EXCEEDS_BUDGET),
        ({"equity": Decimal("499")}, ONE_CONTRACT_EXCEEDS_BUDGET),
    ],
)
def test_zero_contracts_carry_a_named_reason(kw: dict[str, Any], reason: str) -> None:
    r = size(**kw)
    assert (r.contracts, r.reason, bool(r)) == (0, reason, False)


def test_twelve_tick_stop_is_the_default_maximum() -> None:
    assert size(stop_ticks=12).contracts == 6


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"equity": 1000.0}, "equity 1000.0 must be a Decimal"),
        ({"tick_value": 1.25}, "tick_value"),
        ({"stop_ticks": 8.0}, "stop_ticks 8.0 must be an integer"),
        ({"stop_ticks": True}, "stop_ticks True"),
        ({"max_contracts": 0}, "max_contracts 0 must be >= 1"),
        ({"cap": -1}, "cap -1 must be >= 0"),
        ({"tick_value": Decimal(0)}, "tick_value 0 must be positive"),
        ({"max_risk_usd": Decimal(-1)}, "max_risk_usd -1 must not be negative"),
        ({"equity_risk_fraction": Decimal("1.5")}, r"equity_risk_fraction 1.5 must be in \(0, 1\]"),
        ({"equity": Decimal("NaN")}, "finite"),
    ],
)
def test_bad_arguments_raise_sizing_error(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(SizingError, match=match):
        size(**kw)


def test_strings_and_ints_are_exact_money() -> None:
    assert size(equity="100000", max_risk_usd=100, tick_value="1.25").contracts == 10


sizing_args = st.fixed_dictionaries({
    "max_risk_usd": money.filter(lambda m: m >= 0),
    "stop_ticks": st.integers(min_value=-2, max_value=16),
    "tick_value": tick_values,
    "max_contracts": st.integers(min_value=1, max_value=100),
    "equity_risk_fraction": risk_fractions,
    "cap": st.none() | st.integers(min_value=0, max_value=5),
})


@pytest.mark.invariant("position size grows (weakly) with equity", machine="runner")
@given(args=sizing_args, a=money, b=money)
def test_size_grows_weakly_with_equity(args: dict[str, Any], a: Decimal, b: Decimal) -> None:
    """Invariant: more equity never gives fewer contracts."""
    lo, hi = sorted((a, b))
    assert compute_position_size(lo, **args).contracts <= compute_position_size(hi, **args).contracts


@pytest.mark.invariant("position size never exceeds max contracts, the throttle cap, or the risk budget", machine="runner")
@given(args=sizing_args, equity=money)
def test_size_respects_every_cap_and_the_budget(args: dict[str, Any], equity: Decimal) -> None:
    """Invariant: contracts <= max_contracts and <= cap, and contracts x stop x tick value <= budget."""
    r = compute_position_size(equity, **args)
    assert 0 <= r.contracts <= args["max_contracts"]
    if args["cap"] is not None:
        assert r.contracts <= args["cap"]
    if r.contracts:
        budget = min(args["max_risk_usd"], equity * args["equity_risk_fraction"])
        assert r.contracts * args["stop_ticks"] * args["tick_value"] <= budget
        assert 1 <= args["stop_ticks"] <= 12 and r.reason is None
    else:
        assert r.reason is not None


@pytest.mark.invariant("the returned size is the largest allowed: one more contract breaks the budget or a cap", machine="runner")
@given(args=sizing_args, equity=money)
def test_one_more_contract_would_break_the_budget_or_a_cap(args: dict[str, Any], equity: Decimal) -> None:
    """Invariant: when sizing is possible at all, size + 1 exceeds the budget, max_contracts or the cap."""
    r = compute_position_size(equity, **args)
    if r.reason in (STOP_TICKS_BELOW_ONE, STOP_TICKS_ABOVE_MAX, EQUITY_NOT_POSITIVE):
        return
    n = r.contracts + 1
    budget = min(args["max_risk_usd"], equity * args["equity_risk_fraction"])
    over_budget = n * args["stop_ticks"] * args["tick_value"] > budget
    over_cap = n > args["max_contracts"] or (args["cap"] is not None and n > args["cap"])
    assert over_budget or over_cap
