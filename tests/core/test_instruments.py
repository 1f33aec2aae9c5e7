"""Instruments: prices become integer ticks, ticks become Decimal money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot import (
    BUILTIN_INSTRUMENTS,
    ConfigError,
    InstrumentSpec,
    OffTickPrice,
    UnknownInstrument,
    instrument,
)
from statebot.core.instruments import _equity_index


@pytest.mark.parametrize(
    ("symbol", "tick_value"), [("MES", "1.25"), ("ES", "12.50"), ("MNQ", "0.50"), ("NQ", "5.00")]
)
def test_builtin_contracts_have_quarter_point_ticks_and_their_tick_values(symbol: str, tick_value: str) -> None:
    spec = instrument(symbol)
    assert spec.tick_size == Decimal("0.25")
    assert spec.tick_value == Decimal(tick_value)
    assert spec.multiplier * spec.tick_size == spec.tick_value
    assert spec.currency == "USD"


def test_unknown_symbol_is_a_config_error_naming_it_and_the_known_ones() -> None:
    with pytest.raises(UnknownInstrument, match="'ZZ'.*MES") as info:
        instrument("ZZ")
    assert isinstance(info.value, ConfigError)


def test_extra_instruments_are_found_before_builtins() -> None:
    cl = InstrumentSpec(symbol="MCL", tick_size="0.01", tick_value="1.00", multiplier="100")
    assert instrument("MCL", {"MCL": cl}) is cl


def test_float_tick_size_is_refused() -> None:
    with pytest.raises(ConfigError, match="float"):
        InstrumentSpec(symbol="X", tick_size=0.25, tick_value="1.25", multiplier="5")


def test_prices_of_any_numeric_type_become_the_same_ticks() -> None:
    mes = instrument("MES")
    assert mes.to_ticks(5000.25) == mes.to_ticks(Decimal("5000.25")) == mes.to_ticks(5000) + 1 == 20001


def test_float_noise_lands_on_the_grid_even_in_strict_mode() -> None:
    assert instrument("MES").to_ticks(5000.2500000001, strict=True) == 20001


def test_off_grid_price_rounds_to_nearest_tick_by_default() -> None:
    mes = instrument("MES")
    assert mes.to_ticks(5000.1) == 20000
    assert mes.to_ticks(5000.125) == 20001  # halves away from zero


def test_off_grid_price_raises_in_strict_mode_naming_price_and_tick() -> None:
    with pytest.raises(OffTickPrice, match=r"5000\.1.*0\.25"):
        instrument("MES").to_ticks(5000.1, strict=True)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "5000", True, None])
def test_non_numeric_or_non_finite_prices_raise(bad: object) -> None:
    with pytest.raises(OffTickPrice):
        instrument("MES").to_ticks(bad)  # type: ignore[arg-type]


@given(ticks=st.integers(min_value=1, max_value=10**9), symbol=st.sampled_from(sorted(BUILTIN_INSTRUMENTS)))
def test_from_ticks_and_to_ticks_round_trip(ticks: int, symbol: str) -> None:
    """For every positive integer tick count, to_ticks(from_ticks(t), strict) == t."""
    spec = instrument(symbol)
    assert spec.to_ticks(spec.from_ticks(ticks), strict=True) == ticks


@given(ticks=st.integers(min_value=-10**9, max_value=10**9))
def test_an_instrument_with_nonpositive_prices_round_trips_every_tick_count(ticks: int) -> None:
    """For a contract that says its prices may be zero or negative, every integer tick count round-trips."""
    spread = InstrumentSpec(symbol="SPREAD", tick_size="0.01", tick_value="10", multiplier="1000", nonpositive_prices=True)
    assert spread.to_ticks(spread.from_ticks(ticks), strict=True) == ticks


@pytest.mark.parametrize("price", [0.01, 1e-300, Decimal("0.1"), -5])
def test_a_price_that_becomes_no_ticks_is_refused(price: object) -> None:
    """0.01 on MES rounds to 0 ticks: refused, not traded as a price of zero."""
    with pytest.raises(OffTickPrice, match="MES prices are positive"):
        instrument("MES").to_ticks(price)  # type: ignore[arg-type]


@pytest.mark.parametrize("price", [float("inf"), float("nan"), Decimal("NaN")])
def test_a_price_that_is_not_finite_is_refused(price: object) -> None:
    with pytest.raises(OffTickPrice, match="finite"):
        instrument("MES").to_ticks(price)  # type: ignore[arg-type]


def test_pnl_is_ticks_times_tick_value_times_signed_qty() -> None:
    mes = instrument("MES")
    assert mes.pnl(20000, 20004, 2) == Decimal("10.00")
    assert mes.pnl(20000, 20004, -2) == Decimal("-10.00")
    assert mes.pnl(Decimal("20000.5"), 20001, 1) == Decimal("0.625")


def test_pnl_refuses_fractional_quantities() -> None:
    with pytest.raises(ConfigError):
        instrument("ES").pnl(1, 2, 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("symbol", "exchange", "tick_size", "tick_value", "multiplier"), [
    ("ES", "CME", "0.25", "12.50", "50"), ("MES", "CME", "0.25", "1.25", "5"),
    ("NQ", "CME", "0.25", "5.00", "20"), ("MNQ", "CME", "0.25", "0.50", "2"),
    ("RTY", "CME", "0.10", "5.00", "50"), ("M2K", "CME", "0.10", "0.50", "5"),
    ("YM", "CBOT", "1", "5.00", "5"), ("MYM", "CBOT", "1", "0.50", "0.50"),
])
def test_builtin_equity_index_contracts_carry_cmes_specifications(
    symbol: str, exchange: str, tick_size: str, tick_value: str, multiplier: str
) -> None:
    spec = BUILTIN_INSTRUMENTS[symbol]
    assert (spec.exchange, spec.tick_size, spec.tick_value, spec.multiplier) == (
        exchange, Decimal(tick_size), Decimal(tick_value), Decimal(multiplier))
    assert spec.tick_size * spec.multiplier == spec.tick_value
    assert (spec.calendar, spec.flatten_before, spec.roll_months) == ("CME_GLOBEX_EQUITY", "cash_close", "HMUZ")


def test_a_spec_whose_tick_value_is_not_tick_size_times_multiplier_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^tick_value 1\.00 is not tick_size x multiplier = 0\.25 x 5 = 1\.25$"):
        InstrumentSpec(symbol="X", tick_size="0.25", tick_value="1.00", multiplier="5")


def test_flatten_before_is_the_cash_or_the_futures_close() -> None:
    with pytest.raises(ConfigError, match="flatten_before 'noon' must be one of cash_close, futures_close"):
        InstrumentSpec(symbol="X", tick_size="0.25", tick_value="1.25", multiplier="5", flatten_before="noon")


@pytest.mark.parametrize("symbol", sorted(BUILTIN_INSTRUMENTS))
def test_the_builtins_factory_called_afresh_builds_each_builtin(symbol: str) -> None:
    # the built-ins are built at import; this runs their factory again, field for field
    spec = BUILTIN_INSTRUMENTS[symbol]
    assert _equity_index(spec.symbol, spec.exchange, str(spec.tick_size), str(spec.multiplier), str(spec.tick_value)) == spec
