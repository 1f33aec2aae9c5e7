"""TradeOutcome: a closed round trip, net of commission charged per contract per side."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot import InvalidOutcome, TradeOutcome
from statebot.core.costs import FixedCommission, IBKRFuturesCommission
from statebot.core.instruments import instrument
from statebot.core.fsm.position import ClosedTrade
from tests.strategies import TRADE_T0, commission_models, quantities, trade_outcomes

T0 = TRADE_T0
MES = {"tick_size": Decimal("0.25"), "tick_value": Decimal("1.25")}


def mes_trade(quantity: int = 1, entry: str = "5000.00", exit: str = "5002.50", model=FixedCommission("1.25"), **kw):  # type: ignore[no-untyped-def]
    args = dict(
        strategy="orb", symbol="MES", quantity=quantity, entry_time=T0, exit_time=T0 + dt.timedelta(minutes=12),
        entry_price=Decimal(entry), exit_price=Decimal(exit), commission_model=model,
        slippage_ticks=1, expected_slippage_ticks=Decimal("0.5"), spread_ticks=1, **MES,
    )
    args.update(kw)
    return TradeOutcome.from_prices(**args)


def test_long_gross_is_ticks_times_tick_value_times_quantity() -> None:
    trade = mes_trade(quantity=3)  # +10 ticks x $1.25 x 3
    assert trade.gross_pnl_usd == Decimal("37.50")
    assert trade.side == "long"


def test_short_gains_when_price_falls() -> None:
    trade = mes_trade(quantity=-2, entry="5002.50", exit="5000.00")
    assert trade.gross_pnl_usd == Decimal("25.00")
    assert trade.side == "short"
    assert trade.contracts == 2


def test_commission_is_charged_per_contract_on_both_sides() -> None:
    """Seed defect 5: commission was taken once per trade. Five contracts at $1.25/side cost $12.50."""
    trade = mes_trade(quantity=5)
    assert trade.commission_usd == Decimal("12.50")


def test_ibkr_mes_round_trip_costs_1_24_per_contract() -> None:
    """0.62 per contract per side at the first tier (sources in statebot/core/costs.py), both sides."""
    trade = mes_trade(quantity=2, model=IBKRFuturesCommission())
    assert trade.commission_usd == Decimal("2.48")


def test_seed_actual_pnl_usd_is_the_net_figure() -> None:
    trade = mes_trade(quantity=1)
    assert trade.net_pnl_usd == Decimal("12.50") - Decimal("2.50")
    assert trade.actual_pnl_usd == trade.net_pnl_usd


def test_a_trade_that_only_covers_commission_is_not_a_win() -> None:
    trade = mes_trade(quantity=1, entry="5000.00", exit="5000.50")  # +2 ticks = $2.50 gross, $2.50 costs
    assert trade.net_pnl_usd == 0
    assert not trade.win


def test_slippage_error_is_realized_minus_expected() -> None:
    assert mes_trade(slippage_ticks=Decimal("2.25"), expected_slippage_ticks=1).slippage_error_ticks == Decimal("1.25")


@given(trade=trade_outcomes())
def test_net_is_always_gross_minus_commission(trade: TradeOutcome) -> None:
    """For every valid outcome: net = gross - commission, win <=> net > 0, and the seed's name agrees."""
    assert trade.net_pnl_usd == trade.gross_pnl_usd - trade.commission_usd
    assert trade.actual_pnl_usd == trade.net_pnl_usd
    assert trade.win == (trade.net_pnl_usd > 0)


@given(qty=quantities, model=commission_models, moved=st.integers(min_value=-40, max_value=40))
def test_commission_and_gross_are_linear_in_quantity(qty: int, model, moved: int) -> None:  # type: ignore[no-untyped-def]
    """q contracts cost q times one contract's round trip, and gross scales with signed q."""
    exit_price = str(Decimal("5000") + Decimal(moved) * Decimal("0.25"))
    one = mes_trade(quantity=1, exit=exit_price, model=model)
    many = mes_trade(quantity=qty, exit=exit_price, model=model)
    assert many.commission_usd == one.commission_usd * abs(qty)
    assert one.commission_usd == model.per_side("MES", 1) * 2
    assert many.gross_pnl_usd == one.gross_pnl_usd * qty


@given(trade=trade_outcomes())
def test_to_dict_round_trips(trade: TradeOutcome) -> None:
    """from_dict(to_dict(t)) == t for every valid outcome."""
    assert TradeOutcome.from_dict(trade.to_dict()) == trade


def test_outcome_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        mes_trade().quantity = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entry_time": dt.datetime(2026, 3, 2, 15, 0)}, "entry_time .* is naive"),
        ({"exit_time": T0 - dt.timedelta(minutes=1)}, "exit_time .* is before entry_time"),
        ({"gross_pnl_usd": 12.5}, "gross_pnl_usd 12.5 must be a Decimal, not float"),
        ({"gross_pnl_usd": 12}, "gross_pnl_usd 12 must be a Decimal, not int"),
        ({"commission_usd": Decimal("-1")}, "commission_usd -1 must not be negative"),
        ({"entry_price": Decimal("NaN")}, "entry_price .* must be finite"),
        ({"exit_price": Decimal("0")}, "exit_price 0 must be positive"),
        ({"quantity": 0}, "quantity 0 must be a non-zero int"),
        ({"quantity": True}, "quantity True must be a non-zero int"),
        ({"strategy": " "}, "strategy ' ' must be a non-empty string"),
        ({"slippage_ticks": 0.5}, "slippage_ticks 0.5 must be an int or Decimal"),
        ({"spread_ticks": -1}, "spread_ticks -1 must not be negative"),
    ],
)
def test_invalid_outcomes_are_refused_with_the_field_named(change: dict, message: str) -> None:  # type: ignore[type-arg]
    base = attrs.asdict(mes_trade(), recurse=False)
    base.update(change)
    with pytest.raises(InvalidOutcome, match=message):
        TradeOutcome(**base)


def test_a_price_move_off_the_tick_grid_is_refused() -> None:
    with pytest.raises(InvalidOutcome, match="not a whole number of ticks of 0.25"):
        mes_trade(exit="5000.10")


def test_float_prices_are_refused_by_the_helper() -> None:
    with pytest.raises(InvalidOutcome, match="exit_price 5001.0 must be a positive finite Decimal"):
        mes_trade(exit_price=5001.0)


def test_invalid_outcome_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        mes_trade(quantity=0)


def test_a_position_machines_closed_trade_becomes_an_outcome_with_its_real_costs() -> None:
    closed = ClosedTrade(
        strategy="orb", symbol="MES", qty=-3, entry_time=T0, exit_time=T0 + dt.timedelta(minutes=30),
        avg_entry_ticks=Decimal("20004"), avg_exit_ticks=Decimal("20000"), commission=Decimal("3.42"),
        gross_pnl=Decimal("15.00"), fills=2,
    )
    trade = TradeOutcome.from_closed_trade(closed, instrument("MES"), slippage_ticks=1, expected_slippage_ticks=Decimal("0.5"))
    assert (trade.quantity, trade.side) == (-3, "short")
    assert (trade.entry_price, trade.exit_price) == (Decimal("5001.00"), Decimal("5000.00"))
    assert trade.net_pnl_usd == closed.net_pnl == Decimal("11.58")


def test_a_closed_trade_of_another_symbol_is_refused() -> None:
    closed = ClosedTrade(
        strategy="orb", symbol="ES", qty=1, entry_time=T0, exit_time=T0, avg_entry_ticks=Decimal(1),
        avg_exit_ticks=Decimal(1), commission=Decimal(0), gross_pnl=Decimal(0), fills=2,
    )
    with pytest.raises(InvalidOutcome, match="closed trade symbol 'ES' is not the instrument's 'MES'"):
        TradeOutcome.from_closed_trade(closed, instrument("MES"), slippage_ticks=0, expected_slippage_ticks=0)


def _closed(**kw: object) -> ClosedTrade:
    fields: dict[str, object] = dict(
        strategy="orb", symbol="MES", qty=2, entry_time=T0, exit_time=T0 + dt.timedelta(minutes=5),
        avg_entry_ticks=Decimal("20000.5"), avg_exit_ticks=Decimal("20003"), commission=Decimal("2.50"),
        gross_pnl=Decimal("6.25"), fills=2,
    )
    fields.update(kw)
    return ClosedTrade(**fields)  # type: ignore[arg-type]


def test_an_outcome_from_a_closed_trade_equals_the_validated_one_built_from_its_fields() -> None:
    trade = TradeOutcome.from_closed_trade(_closed(), instrument("MES"), slippage_ticks=1, expected_slippage_ticks=Decimal("0.5"),
                                           spread_ticks=1, trade_id="t-1")
    assert trade == TradeOutcome(**attrs.asdict(trade, recurse=False))


@pytest.mark.parametrize(("change", "message"), [
    ({"avg_exit_ticks": Decimal(0)}, "exit_price 0.00 must be positive"),
    ({"commission": Decimal(-1)}, "commission_usd -1 must not be negative"),
    ({"exit_time": T0 - dt.timedelta(minutes=1)}, "is before entry_time"),
    ({"gross_pnl": Decimal("NaN")}, "gross_pnl_usd Decimal\\('NaN'\\) must be finite"),
    ({"strategy": " "}, "strategy ' ' must be a non-empty string"),
])
def test_a_closed_trade_the_outcome_validators_refuse_is_refused_naming_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOutcome, match=message):
        TradeOutcome.from_closed_trade(_closed(**change), instrument("MES"), slippage_ticks=0, expected_slippage_ticks=0)
