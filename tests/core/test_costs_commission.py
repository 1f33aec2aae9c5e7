"""Commission models: per contract per side, linear in quantity."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.core.costs import CommissionModel, FeeSchedule, FixedCommission, IBKRFuturesCommission
from statebot.errors import ConfigError


def test_seed_round_trip_of_2_50_is_1_25_per_side() -> None:
    model = FixedCommission("1.25")
    assert model.per_side("MES", 1) * 2 == Decimal("2.50")


def test_ibkr_mes_first_tier_is_0_62_per_contract_per_side() -> None:
    """0.25 broker + 0.35 exchange + 0.02 regulatory (sources in statebot/core/costs.py)."""
    assert IBKRFuturesCommission().per_side("MES", 1) == Decimal("0.62")


def test_ibkr_broker_fee_falls_with_monthly_volume() -> None:
    model = IBKRFuturesCommission()
    assert model.per_side("MES", 1, month_volume=1000) == Decimal("0.62")
    assert model.per_side("MES", 1, month_volume=1001) == Decimal("0.57")
    assert model.per_side("MES", 1, month_volume=25000) == Decimal("0.47")


@given(qty=st.integers(min_value=-500, max_value=500), volume=st.integers(min_value=0, max_value=50000))
def test_commission_is_linear_in_quantity_and_ignores_the_sign(qty: int, volume: int) -> None:
    """For every model, per_side(q) == q x per_side(1) and a short pays like a long."""
    for model in (FixedCommission("1.25"), IBKRFuturesCommission()):
        assert isinstance(model, CommissionModel)
        one = model.per_side("ES", 1, month_volume=volume)
        assert model.per_side("ES", qty, month_volume=volume) == one * abs(qty)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FixedCommission(1.25), "not a float"),
        (lambda: FixedCommission("-1"), "must not be negative"),
        (lambda: FixedCommission("abc"), "not a number"),
        (lambda: IBKRFuturesCommission().per_side("ZZ", 1), "no IBKR fee schedule for symbol 'ZZ'"),
        (lambda: IBKRFuturesCommission().per_side("MES", 1.5), "integer number of contracts"),
        (lambda: FeeSchedule(broker_tiers=((5, "1"),), exchange_fee="0"), "must start at 0"),
    ],
)
def test_bad_commission_settings_are_named(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message):
        build()
