"""Fee schedules: how tiers are read and refused, and every built-in figure pinned to its source.

The figures below are the ones cited in statebot/core/costs.py (stored copies of Interactive
Brokers' public fee pages, read 2026-11-29). A change to the table must come with a new dated
source there and a change here: each entry is checked on its own, so a slip in one symbol fails.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from statebot.core.costs import IBKR_FUTURES_FEES, FeeSchedule, FixedCommission, IBKRFuturesCommission
from statebot.errors import ConfigError

MICRO_TIERS = ((0, Decimal("0.25")), (1001, Decimal("0.20")), (10001, Decimal("0.15")), (20001, Decimal("0.10")))
STANDARD_TIERS = ((0, Decimal("0.85")), (1001, Decimal("0.65")), (10001, Decimal("0.45")), (20001, Decimal("0.25")))

# symbol -> (broker tiers, exchange fee); regulatory 0.02 for all
PUBLISHED = {
    "MES": (MICRO_TIERS, Decimal("0.35")),  # CME Micro E-Mini Futures, non-member
    "MNQ": (MICRO_TIERS, Decimal("0.35")),
    "M2K": (MICRO_TIERS, Decimal("0.35")),
    "ES": (STANDARD_TIERS, Decimal("1.38")),  # CME E-Mini S&P Equity Futures
    "NQ": (STANDARD_TIERS, Decimal("1.38")),  # CME E-mini Equity Futures
    "RTY": (STANDARD_TIERS, Decimal("1.38")),
    "MYM": (MICRO_TIERS, Decimal("0.30")),  # CBOT: no stored source (see costs.py); pinned as is
    "YM": (STANDARD_TIERS, Decimal("1.38")),
}


def test_the_table_holds_exactly_the_published_symbols() -> None:
    assert set(IBKR_FUTURES_FEES) == set(PUBLISHED)


@pytest.mark.parametrize("symbol", sorted(PUBLISHED))
def test_each_fee_entry_matches_its_source(symbol: str) -> None:
    tiers, exchange = PUBLISHED[symbol]
    schedule = IBKR_FUTURES_FEES[symbol]
    assert (schedule.broker_tiers, schedule.exchange_fee, schedule.regulatory_fee) == (tiers, exchange, Decimal("0.02"))


@pytest.mark.parametrize("symbol", sorted(PUBLISHED))
def test_the_default_commission_model_charges_the_published_all_in_fee_per_tier(symbol: str) -> None:
    tiers, exchange = PUBLISHED[symbol]
    model = IBKRFuturesCommission()
    for lo, broker in tiers:
        assert model.per_side(symbol, -2, month_volume=lo) == 2 * (broker + exchange + Decimal("0.02"))


def schedule(*tiers: tuple[int, str], exchange: str = "0.10") -> FeeSchedule:
    return FeeSchedule(broker_tiers=tiers, exchange_fee=exchange)


def test_a_custom_schedule_is_built_from_pairs_and_read_by_tier() -> None:
    fees = schedule((0, "2"), (1, "1"), (5, "0"))
    assert fees.broker_tiers == ((0, Decimal(2)), (1, Decimal(1)), (5, Decimal(0)))
    assert [fees.broker_fee(v) for v in (0, 1, 4, 5, 99)] == [Decimal(2), Decimal(1), Decimal(1), Decimal(0), Decimal(0)]
    assert fees.per_contract() == Decimal("2.12")  # volume 0 by default: the first tier


def test_a_single_tier_schedule_charges_its_one_fee() -> None:
    assert schedule((0, "0.5")).per_contract(month_volume=10**6) == Decimal("0.62")


def test_a_tier_fee_below_the_starting_volume_is_not_mistaken_for_a_volume() -> None:
    assert schedule((0, "5"), (3, "1")).broker_fee(3) == Decimal(1)


def test_the_commission_model_reads_volume_zero_by_default() -> None:
    model = IBKRFuturesCommission(schedules={"X": schedule((0, "2"), (1, "1"))})
    assert model.per_side("X", 1) == Decimal("2.12")
    assert model.per_side("X", 1, month_volume=1) == Decimal("1.12")


@pytest.mark.parametrize(
    "tiers",
    [
        (),
        ((1, "1"),),
        ((0, "1"), (5, "1"), (5, "2")),
        ((0, "1"), (10, "1"), (5, "2")),
        ((0, "1"), (10, "1"), (20, "1"), (15, "1")),
    ],
    ids=["empty", "starts-at-1", "repeated-volume", "falling-volume", "falls-at-the-end"],
)
def test_tiers_must_start_at_zero_and_increase(tiers: tuple[tuple[int, str], ...]) -> None:
    with pytest.raises(ConfigError, match=r"must start at 0 contracts and increase$"):
        schedule(*tiers)


@pytest.mark.parametrize("tiers", [5, [("a", "1")], [(0,)]], ids=["not-pairs", "bad-volume", "short-pair"])
def test_tiers_that_are_not_pairs_are_named(tiers: object) -> None:
    with pytest.raises(ConfigError, match=r"^broker tiers .* must be \(from_contracts, fee\) pairs$"):
        FeeSchedule(broker_tiers=tiers, exchange_fee="0")  # type: ignore[arg-type]


def test_a_negative_tier_fee_is_named() -> None:
    with pytest.raises(ConfigError, match="^broker tier fee '-1' must not be negative$"):
        schedule((0, "-1"))


def test_a_negative_month_volume_is_named() -> None:
    with pytest.raises(ConfigError, match="^month_volume -1 must not be negative$"):
        IBKRFuturesCommission().per_side("MES", 1, month_volume=-1)


def test_an_unknown_symbol_lists_the_known_ones() -> None:
    model = IBKRFuturesCommission(schedules={"B": schedule((0, "1")), "A": schedule((0, "1"))})
    with pytest.raises(ConfigError, match="^no IBKR fee schedule for symbol 'Z'; known: A, B$"):
        model.per_side("Z", 1)


def test_a_fixed_commission_ignores_volume() -> None:
    assert FixedCommission("1.25").per_side("MES", 2) == FixedCommission("1.25").per_side("MES", 2, month_volume=5000)
