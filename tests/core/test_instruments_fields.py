"""What an instrument specification refuses field by field, and what ``describe`` prints."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from statebot import ConfigError, InstrumentSpec, OffTickPrice, UnknownInstrument, instrument
from statebot.core.instruments import normalized_roll_months
from statebot.core.money import non_negative_money, to_money


def spec(**changes: Any) -> InstrumentSpec:
    fields: dict[str, Any] = dict(symbol="XYZ", tick_size="0.25", tick_value="1.25", multiplier="5")
    return InstrumentSpec(**(fields | changes))


def refused(message: str) -> Any:
    return pytest.raises(ConfigError, match="^" + re.escape(message) + "$")


@pytest.mark.parametrize("key", ["tick_size", "tick_value", "multiplier"])
@pytest.mark.parametrize("value", ["0", "-1", 0])
def test_tick_size_value_and_multiplier_must_be_positive(key: str, value: object) -> None:
    with refused(f"{key} {value!r} must be positive"):
        spec(**{key: value})


@pytest.mark.parametrize(("value", "expected"), [("hmuz", "HMUZ"), (" ZUMH ", "HMUZ"), ("z", "Z"), ("FGHJKMNQUVXZ", "FGHJKMNQUVXZ")])
def test_roll_months_are_cme_letters_in_calendar_order(value: str, expected: str) -> None:
    assert normalized_roll_months(value) == expected
    assert spec(roll_months=value).roll_months == expected


@pytest.mark.parametrize("value", ["", "  ", "HMUA", "HH", "H M"])
def test_roll_months_refuses_anything_but_distinct_month_letters(value: str) -> None:
    with refused(f"roll_months {value!r} must be distinct CME month letters (FGHJKMNQUVXZ), e.g. HMUZ"):
        spec(roll_months=value)


@pytest.mark.parametrize("value", [0, 8, 60])
def test_roll_days_from_0_to_60(value: int) -> None:
    assert spec(roll_days=value).roll_days == value


@pytest.mark.parametrize("value", [-1, 61, True, 8.0, "8"])
def test_roll_days_refuses_anything_else(value: object) -> None:
    with refused(f"roll_days {value!r} must be a whole number of calendar days from 0 to 60"):
        spec(roll_days=value)


def test_a_fee_per_side_is_none_or_not_negative() -> None:
    assert spec().fee_per_side is None
    assert spec(fee_per_side="0").fee_per_side == Decimal(0)
    assert spec(fee_per_side="0.62").fee_per_side == Decimal("0.62")
    with refused("fee_per_side '-0.01' must not be negative"):
        spec(fee_per_side="-0.01")
    with refused("fee_per_side 0.5 must be a Decimal, int or string, not a float"):
        spec(fee_per_side=0.5)


def test_describe_names_the_economics_calendar_roll_and_fees() -> None:
    assert spec().describe().splitlines() == [
        "XYZ on CME (USD): tick 0.25 = 1.25 USD, multiplier 5",
        "  calendar CME_GLOBEX_EQUITY, flatten before the cash close",
        "  roll: HMUZ contracts, 8 days before expiry; IB symbol XYZ",
        "  fees: the [commission] model",
    ]
    custom = spec(ib_symbol="XY", ib_trading_class="XYZC", fee_per_side="0.85", flatten_before="futures_close")
    assert custom.describe().splitlines()[1:] == [
        "  calendar CME_GLOBEX_EQUITY, flatten before the futures close",
        "  roll: HMUZ contracts, 8 days before expiry; IB symbol XY, trading class XYZC",
        "  fees: 0.85 USD per contract per side",
    ]


@pytest.mark.parametrize("ticks", [True, 1.0, "3", Decimal(3)])
def test_from_ticks_takes_only_an_int(ticks: object) -> None:
    with refused(f"ticks {ticks!r} must be an integer"):
        spec().from_ticks(ticks)  # type: ignore[arg-type]


def test_to_money_keeps_a_decimal_and_reads_ints_and_strings() -> None:
    d = Decimal("1.50")
    assert to_money(d) is d
    assert to_money(3) == Decimal(3)
    assert str(to_money("0.10")) == "0.10"


@pytest.mark.parametrize(("value", "message"), [
    (True, "fee True must be a Decimal, int or string, not a float"),
    (1.5, "fee 1.5 must be a Decimal, int or string, not a float"),
    ("x", "fee 'x' is not a number"),
    (None, "fee None is not a number"),
    ([1], "fee [1] is not a number"),
    ("Infinity", "fee 'Infinity' must be finite"),
    (Decimal("NaN"), "fee Decimal('NaN') must be finite"),
])
def test_to_money_refuses_what_is_not_a_finite_amount(value: object, message: str) -> None:
    with refused(message):
        to_money(value, "fee")


def test_non_negative_money_refuses_a_negative_amount_and_keeps_zero() -> None:
    assert non_negative_money("0", "cost") == Decimal(0)
    with refused("cost '-1' must not be negative"):
        non_negative_money("-1", "cost")


def test_non_negative_money_names_what_in_the_refusals_it_passes_on() -> None:
    with refused("cost 0.5 must be a Decimal, int or string, not a float"):
        non_negative_money(0.5, "cost")
    with refused("cost 'x' is not a number"):
        non_negative_money("x", "cost")


def test_an_unnamed_amount_is_called_amount() -> None:
    with refused("amount 'x' is not a number"):
        to_money("x")
    with refused("amount 'x' is not a number"):
        non_negative_money("x")
    with refused("amount '-1' must not be negative"):
        non_negative_money("-1")


@pytest.mark.parametrize("key", ["tick_size", "tick_value", "multiplier"])
def test_a_float_economics_field_is_refused_by_name(key: str) -> None:
    with refused(f"{key} 0.5 must be a Decimal, int or string, not a float"):
        spec(**{key: 0.5})


def test_a_price_that_is_not_a_number_is_refused_naming_it() -> None:
    with pytest.raises(OffTickPrice, match=r"^price '5000' is not a number$"):
        spec().to_ticks("5000")  # type: ignore[arg-type]


def test_pnl_names_a_quantity_that_is_not_a_whole_number() -> None:
    with refused("qty 1.5 must be a signed integer number of contracts"):
        spec().pnl(1, 2, 1.5)  # type: ignore[arg-type]


def test_an_unknown_instrument_lists_the_known_ones_comma_separated() -> None:
    with pytest.raises(UnknownInstrument, match="^" + re.escape(
            "unknown instrument 'ZZ'; known: ES, M2K, MES, MNQ, MYM, NQ, RTY, XYZ, YM") + "$"):
        instrument("ZZ", {"XYZ": spec()})
