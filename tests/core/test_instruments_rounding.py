"""How a price rounds to ticks: halves away from zero, the same for a float as for its Decimal."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from statebot import InstrumentSpec, OffTickPrice
from statebot.core import instruments


def spec(**changes: Any) -> InstrumentSpec:
    fields: dict[str, Any] = dict(symbol="XYZ", tick_size="0.25", tick_value="1.25", multiplier="5")
    return InstrumentSpec(**(fields | changes))


def test_a_float_just_under_half_a_tick_is_no_tick_as_its_decimal_is() -> None:
    below = math.nextafter(0.125, 0.0)   # 0.12499999999999999: q + 0.5 rounds up to 1.0 in floats
    with pytest.raises(OffTickPrice, match=r"^XYZ price 0\.12499999999999999 is 0 ticks of 0\.25; XYZ prices are positive$"):
        spec().to_ticks(below)
    anywhere = spec(nonpositive_prices=True)
    assert anywhere.to_ticks(below) == 0 == anywhere.to_ticks(Decimal(repr(below)))
    assert anywhere.to_ticks(-below) == 0 == anywhere.to_ticks(Decimal(repr(-below)))
    assert anywhere.to_ticks(0.125) == 1 and anywhere.to_ticks(-0.125) == -1


def test_a_negative_float_rounds_half_away_from_zero_where_prices_may_be_negative() -> None:
    anywhere = spec(nonpositive_prices=True)
    assert [anywhere.to_ticks(p) for p in (-0.3, -0.375, -0.1, 0.15, 0.0)] == [-1, -2, 0, 1, 0]


def test_a_negative_float_is_refused_where_prices_are_positive() -> None:
    with pytest.raises(OffTickPrice, match=r"^XYZ price -0\.3 is -1 ticks of 0\.25; XYZ prices are positive$"):
        spec().to_ticks(-0.3)


def test_a_decimal_halfway_price_rounds_up_even_to_an_odd_tick() -> None:
    assert spec().to_ticks(Decimal("5000.125")) == 20001
    assert spec(nonpositive_prices=True).to_ticks(Decimal("-0.125")) == -1


def test_strict_mode_accepts_a_price_exactly_the_tolerance_off_the_grid() -> None:
    assert spec().to_ticks(Decimal("5000.00000025"), strict=True) == 20000
    with pytest.raises(OffTickPrice):
        spec().to_ticks(Decimal("5000.00000026"), strict=True)


def test_a_float_on_a_decimal_tick_rounds_as_its_decimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instruments, "_BINARY_TICKS", {})
    tenth = spec(tick_size="0.1", tick_value="0.5")
    # 0.15 / 0.1 is 1.4999999999999998 in floats: a float division would give 1 tick
    assert [tenth.to_ticks(p) for p in (0.15, 0.35, 5000.1)] == [2, 4, 50001]


@pytest.mark.parametrize(("tick", "as_float"), [
    ("0.25", 0.25), ("0.5", 0.5), ("0.125", 0.125), ("1", 1.0), ("2", 2.0), ("4", 4.0),
    ("0.1", 0.0), ("0.75", 0.0), ("3", 0.0), ("1.5", 0.0), ("0.2", 0.0), ("5", 0.0),
])
def test_only_a_tick_of_one_power_of_two_over_another_is_divided_in_floats(
        monkeypatch: pytest.MonkeyPatch, tick: str, as_float: float) -> None:
    monkeypatch.setattr(instruments, "_BINARY_TICKS", {})
    assert instruments._binary_tick(Decimal(tick)) == as_float
    assert instruments._binary_tick(Decimal(tick)) == as_float
