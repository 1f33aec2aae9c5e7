"""TradeOutcome field by field: what each validator accepts at its bound, each refusal's exact
message, the figures `from_prices` and `from_closed_trade` compute, and the dicts it writes and reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from statebot import InvalidOutcome, TradeOutcome
from statebot.core.costs import FeeSchedule, FixedCommission, IBKRFuturesCommission
from statebot.core.fsm.position import ClosedTrade
from statebot.core.instruments import instrument
from statebot.core.learning.outcomes import to_ticks
from tests.strategies import TRADE_T0

D = Decimal
T0 = TRADE_T0
T1 = T0 + dt.timedelta(minutes=7)


class _NoOffset(dt.tzinfo):
    """A time zone that knows no offset: a datetime carrying it is still naive."""

    def utcoffset(self, when: dt.datetime | None) -> None:
        return None

    def dst(self, when: dt.datetime | None) -> None:
        return None


def fields(**change: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        strategy="orb", symbol="MES", quantity=2, entry_time=T0, exit_time=T1, entry_price=D("5000.25"),
        exit_price=D("5001.75"), gross_pnl_usd=D("15.00"), commission_usd=D("2.48"), slippage_ticks=D("1.5"),
        expected_slippage_ticks=D("0.5"), spread_ticks=D(1), trade_id="t-9",
    )
    base.update(change)
    return base


def refused(**change: object) -> str:
    with pytest.raises(InvalidOutcome) as info:
        TradeOutcome(**fields(**change))  # type: ignore[arg-type]
    return str(info.value)


# the validators ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["strategy", "symbol", "trade_id"])
@pytest.mark.parametrize("value", ["", "  ", 7, b"orb"])
def test_a_name_must_be_a_non_empty_string(name: str, value: object) -> None:
    assert refused(**{name: value}) == f"{name} {value!r} must be a non-empty string"


def test_a_missing_trade_id_is_none() -> None:
    outcome = TradeOutcome(**{k: v for k, v in fields().items() if k != "trade_id"})  # type: ignore[arg-type]
    assert outcome.trade_id is None


@pytest.mark.parametrize("value", [0, True, False, 1.0, D(1), "1", None])
def test_a_quantity_must_be_a_non_zero_int(value: object) -> None:
    assert refused(quantity=value) == f"quantity {value!r} must be a non-zero int (long > 0, short < 0)"


@pytest.mark.parametrize(("quantity", "side", "contracts"), [(1, "long", 1), (7, "long", 7), (-1, "short", 1), (-4, "short", 4)])
def test_side_and_contracts_follow_the_signed_quantity(quantity: int, side: str, contracts: int) -> None:
    outcome = TradeOutcome(**fields(quantity=quantity))  # type: ignore[arg-type]
    assert (outcome.side, outcome.contracts) == (side, contracts)


@pytest.mark.parametrize("name", ["entry_time", "exit_time"])
def test_a_time_must_be_an_aware_datetime(name: str) -> None:
    day = dt.date(2026, 3, 2)
    assert refused(**{name: day}) == f"{name} {day!r} is not a datetime"
    assert refused(**{name: "2026-03-02T15:00:00+00:00"}) == f"{name} '2026-03-02T15:00:00+00:00' is not a datetime"
    naive = dt.datetime(2026, 3, 2, 15, 3)
    assert refused(**{name: naive}) == f"{name} 2026-03-02T15:03:00 is naive; times must be timezone-aware"
    offsetless = dt.datetime(2026, 3, 2, 15, 3, tzinfo=_NoOffset())
    assert refused(**{name: offsetless}) == f"{name} 2026-03-02T15:03:00 is naive; times must be timezone-aware"


def test_an_exit_at_the_entry_time_is_accepted_and_one_a_microsecond_earlier_refused() -> None:
    assert TradeOutcome(**fields(exit_time=T0)).exit_time == T0  # type: ignore[arg-type]
    early = T0 - dt.timedelta(microseconds=1)
    assert refused(exit_time=early) == f"exit_time {early.isoformat()} is before entry_time {T0.isoformat()}"


@pytest.mark.parametrize("name", ["entry_price", "exit_price", "gross_pnl_usd", "commission_usd"])
def test_money_must_be_a_finite_decimal(name: str) -> None:
    assert refused(**{name: 5}) == f"{name} 5 must be a Decimal, not int"
    assert refused(**{name: 5.0}) == f"{name} 5.0 must be a Decimal, not float"
    assert refused(**{name: "5"}) == f"{name} '5' must be a Decimal, not str"
    assert refused(**{name: D("Infinity")}) == f"{name} Decimal('Infinity') must be finite"
    assert refused(**{name: D("NaN")}) == f"{name} Decimal('NaN') must be finite"


@pytest.mark.parametrize("name", ["entry_price", "exit_price"])
def test_a_price_must_be_above_zero(name: str) -> None:
    assert refused(**{name: D(0)}) == f"{name} 0 must be positive"
    assert refused(**{name: D("-0.25")}) == f"{name} -0.25 must be positive"
    assert getattr(TradeOutcome(**fields(**{name: D("0.25")})), name) == D("0.25")  # type: ignore[arg-type]


def test_commission_and_spread_may_be_zero_or_a_fraction_but_not_negative() -> None:
    for value in (D(0), D("0.5")):
        outcome = TradeOutcome(**fields(commission_usd=value, spread_ticks=value))  # type: ignore[arg-type]
        assert (outcome.commission_usd, outcome.spread_ticks) == (value, value)
    assert refused(commission_usd=D("-0.01")) == "commission_usd -0.01 must not be negative"
    assert refused(spread_ticks=D("-0.5")) == "spread_ticks -0.5 must not be negative"


def test_gross_pnl_and_slippage_may_be_negative() -> None:
    outcome = TradeOutcome(**fields(gross_pnl_usd=D("-3"), slippage_ticks=D(-1), expected_slippage_ticks=-2))  # type: ignore[arg-type]
    assert (outcome.gross_pnl_usd, outcome.slippage_ticks, outcome.expected_slippage_ticks) == (D(-3), D(-1), D(-2))
    assert outcome.slippage_error_ticks == D(1)
    assert isinstance(outcome.expected_slippage_ticks, Decimal)


@pytest.mark.parametrize("name", ["slippage_ticks", "expected_slippage_ticks", "spread_ticks"])
def test_ticks_are_an_int_or_a_finite_decimal(name: str) -> None:
    assert refused(**{name: 0.5}) == f"{name} 0.5 must be an int or Decimal number of ticks, not float"
    assert refused(**{name: True}) == f"{name} True must be an int or Decimal number of ticks, not bool"
    assert refused(**{name: "1"}) == f"{name} '1' must be an int or Decimal number of ticks, not str"
    assert refused(**{name: D("NaN")}) == f"{name} Decimal('NaN') must be finite"


def test_to_ticks_names_ticks_unless_told() -> None:
    assert to_ticks(3) == D(3) and isinstance(to_ticks(3), Decimal)
    with pytest.raises(InvalidOutcome) as info:
        to_ticks(1.5)
    assert str(info.value) == "ticks 1.5 must be an int or Decimal number of ticks, not float"
    with pytest.raises(InvalidOutcome) as info:
        to_ticks(D("-Infinity"), "spread")
    assert str(info.value) == "spread Decimal('-Infinity') must be finite"


def test_figures_derived_from_the_fields() -> None:
    outcome = TradeOutcome(**fields())  # type: ignore[arg-type]
    assert outcome.net_pnl_usd == outcome.actual_pnl_usd == D("12.52")
    assert outcome.win
    assert outcome.slippage_error_ticks == D(1)
    assert not TradeOutcome(**fields(commission_usd=D("15.00"))).win  # type: ignore[arg-type]
    assert TradeOutcome(**fields(commission_usd=D("14.99"))).win  # type: ignore[arg-type]


# from_prices ------------------------------------------------------------------------------------


def priced(**change: object) -> TradeOutcome:
    args: dict[str, object] = dict(
        strategy="orb", symbol="MES", quantity=2, entry_time=T0, exit_time=T1, entry_price=D("5000.25"),
        exit_price=D("5001.75"), tick_size=D("0.25"), tick_value=D("1.25"), commission_model=FixedCommission("0.62"),
        slippage_ticks=D("1.5"), expected_slippage_ticks=D("0.5"),
    )
    args.update(change)
    return TradeOutcome.from_prices(**args)  # type: ignore[arg-type]


def test_from_prices_computes_gross_and_both_sides_commission() -> None:
    """+6 ticks x 1.25 x 2 = 15.00 gross; 0.62 x 2 contracts x 2 sides = 2.48."""
    assert priced() == TradeOutcome(**fields(spread_ticks=D(0), trade_id=None))  # type: ignore[arg-type]


def test_from_prices_passes_spread_and_trade_id_through() -> None:
    outcome = priced(spread_ticks=2, trade_id="t-9", slippage_ticks=3, expected_slippage_ticks=1)
    assert (outcome.spread_ticks, outcome.trade_id) == (D(2), "t-9")
    assert (outcome.slippage_ticks, outcome.expected_slippage_ticks) == (D(3), D(1))
    assert all(isinstance(v, Decimal) for v in (outcome.spread_ticks, outcome.slippage_ticks, outcome.expected_slippage_ticks))


@pytest.mark.parametrize("name", ["slippage_ticks", "expected_slippage_ticks", "spread_ticks"])
def test_from_prices_names_the_ticks_it_refuses(name: str) -> None:
    with pytest.raises(InvalidOutcome) as info:
        priced(**{name: 0.5})
    assert str(info.value) == f"{name} 0.5 must be an int or Decimal number of ticks, not float"


def test_from_prices_prices_a_trade_at_no_monthly_volume_unless_told() -> None:
    """A schedule whose second tier starts at 1 contract: 0.30 + 0.35 + 0.02 = 0.67 a side at 0, 0.57 from 1."""
    model = IBKRFuturesCommission({"MES": FeeSchedule(broker_tiers=((0, "0.30"), (1, "0.20")), exchange_fee="0.35")})
    assert priced(quantity=1, commission_model=model).commission_usd == D("1.34")
    assert priced(quantity=1, commission_model=model, month_volume=1).commission_usd == D("1.14")


def test_from_prices_charges_the_monthly_volume_tier_on_both_sides() -> None:
    """MES past 1,000 contracts a month: 0.20 + 0.35 + 0.02 = 0.57 a side; 3 contracts, 2 sides = 3.42."""
    model = IBKRFuturesCommission()
    assert priced(quantity=3, commission_model=model, month_volume=1001).commission_usd == D("3.42")
    assert priced(quantity=3, commission_model=model, month_volume=1000).commission_usd == D("3.72")
    assert priced(quantity=3, commission_model=model).commission_usd == D("3.72")


def test_from_prices_of_a_short_gains_as_the_price_falls() -> None:
    outcome = priced(quantity=-3, entry_price=D("5001.75"), exit_price=D("5000.25"))
    assert outcome.gross_pnl_usd == D("22.50") and outcome.side == "short"
    assert priced(quantity=-1, exit_price=D("5002.25")).gross_pnl_usd == D("-10.00")


def test_from_prices_of_a_price_that_does_not_move() -> None:
    assert priced(exit_price=D("5000.25")).gross_pnl_usd == 0


@pytest.mark.parametrize("name", ["entry_price", "exit_price", "tick_size", "tick_value"])
@pytest.mark.parametrize("value", [D(0), D("-0.25"), D("NaN"), D("Infinity"), 1, 0.25, "0.25"])
def test_from_prices_refuses_a_price_or_tick_that_is_not_a_positive_finite_decimal(name: str, value: object) -> None:
    with pytest.raises(InvalidOutcome) as info:
        priced(**{name: value})
    assert str(info.value) == f"{name} {value!r} must be a positive finite Decimal"


@pytest.mark.parametrize("value", [0, True, 1.0, None])
def test_from_prices_refuses_a_quantity_that_is_not_a_non_zero_int(value: object) -> None:
    with pytest.raises(InvalidOutcome) as info:
        priced(quantity=value, commission_model=IBKRFuturesCommission())
    assert str(info.value) == f"quantity {value!r} must be a non-zero int (long > 0, short < 0)"


def test_from_prices_refuses_a_move_off_the_tick_grid_naming_the_prices() -> None:
    with pytest.raises(InvalidOutcome) as info:
        priced(exit_price=D("5001.80"))
    assert str(info.value) == "price move 5001.80 - 5000.25 is not a whole number of ticks of 0.25"


# from_closed_trade ------------------------------------------------------------------------------


def closed(**change: object) -> ClosedTrade:
    base: dict[str, object] = dict(
        strategy="orb", symbol="MES", qty=2, entry_time=T0, exit_time=T1, avg_entry_ticks=D(20001),
        avg_exit_ticks=D(20007), commission=D("2.48"), gross_pnl=D("15.00"), fills=2,
    )
    base.update(change)
    return ClosedTrade(**base)  # type: ignore[arg-type]


def from_closed(trade: ClosedTrade, **kw: object) -> TradeOutcome:
    args: dict[str, object] = dict(slippage_ticks=D("1.5"), expected_slippage_ticks=D("0.5"))
    args.update(kw)
    return TradeOutcome.from_closed_trade(trade, instrument("MES"), **args)  # type: ignore[arg-type]


def test_from_closed_trade_takes_every_figure_of_the_trip() -> None:
    assert from_closed(closed(), spread_ticks=1, trade_id="t-9") == TradeOutcome(**fields())  # type: ignore[arg-type]
    plain = from_closed(closed(), slippage_ticks=2, expected_slippage_ticks=1)
    assert (plain.spread_ticks, plain.trade_id) == (D(0), None)
    assert (plain.slippage_ticks, plain.expected_slippage_ticks) == (D(2), D(1))
    assert all(isinstance(v, Decimal) for v in (plain.spread_ticks, plain.slippage_ticks, plain.expected_slippage_ticks))


def test_from_closed_trade_accepts_a_trip_at_the_edges_of_the_checks() -> None:
    """An exit at the entry time, no commission, a price of one tick, a negative gross."""
    trade = closed(exit_time=T0, commission=D(0), avg_entry_ticks=D(1), gross_pnl=D("-0.01"))
    outcome = from_closed(trade, spread_ticks=0)
    assert outcome == TradeOutcome(**attrs.asdict(outcome, recurse=False))
    assert (outcome.entry_price, outcome.exit_time, outcome.commission_usd) == (D("0.25"), T0, D(0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"symbol": ""}, "closed trade symbol '' is not the instrument's 'MES'"),
        ({"qty": 0}, "quantity 0 must be a non-zero int (long > 0, short < 0)"),
        ({"qty": True}, "quantity True must be a non-zero int (long > 0, short < 0)"),
        ({"qty": 2.0}, "quantity 2.0 must be a non-zero int (long > 0, short < 0)"),
        ({"strategy": ""}, "strategy '' must be a non-empty string"),
        ({"strategy": 7}, "strategy 7 must be a non-empty string"),
        ({"entry_time": dt.datetime(2026, 3, 2, 15, 0)}, "entry_time 2026-03-02T15:00:00 is naive; times must be timezone-aware"),
        ({"exit_time": dt.datetime(2026, 3, 2, 16, 0)}, "exit_time 2026-03-02T16:00:00 is naive; times must be timezone-aware"),
        ({"entry_time": dt.date(2026, 3, 2)}, "entry_time datetime.date(2026, 3, 2) is not a datetime"),
        ({"exit_time": dt.date(2026, 3, 3)}, "exit_time datetime.date(2026, 3, 3) is not a datetime"),
        ({"entry_time": T1 + dt.timedelta(seconds=1)}, "is before entry_time"),
        ({"avg_entry_ticks": D(0)}, "entry_price 0.00 must be positive"),
        ({"avg_entry_ticks": D(-4)}, "entry_price -1.00 must be positive"),
        ({"avg_exit_ticks": D(-4)}, "exit_price -1.00 must be positive"),
        ({"avg_entry_ticks": D("Infinity")}, "entry_price Decimal('Infinity') must be finite"),
        ({"avg_exit_ticks": D("NaN")}, "exit_price Decimal('NaN') must be finite"),
        ({"commission": D("-0.01")}, "commission_usd -0.01 must not be negative"),
        ({"commission": D("Infinity")}, "commission_usd Decimal('Infinity') must be finite"),
        ({"commission": 2}, "commission_usd 2 must be a Decimal, not int"),
        ({"gross_pnl": D("-Infinity")}, "gross_pnl_usd Decimal('-Infinity') must be finite"),
        ({"gross_pnl": 15}, "gross_pnl_usd 15 must be a Decimal, not int"),
    ],
)
def test_a_closed_trade_is_held_to_every_check_of_an_outcome(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOutcome) as info:
        from_closed(closed(**change))
    assert message in str(info.value)


@pytest.mark.parametrize("symbol", ["", " "])
def test_a_blank_symbol_is_refused_even_when_the_instrument_has_it(symbol: str) -> None:
    """An InstrumentSpec refuses a blank symbol, so the instrument here is only what is read of one."""
    with pytest.raises(InvalidOutcome) as info:
        TradeOutcome.from_closed_trade(closed(symbol=symbol), _Named(symbol), slippage_ticks=0, expected_slippage_ticks=0)  # type: ignore[arg-type]
    assert str(info.value) == f"symbol {symbol!r} must be a non-empty string"


def test_a_closed_trade_whose_symbol_is_not_a_string_is_refused_naming_it() -> None:
    with pytest.raises(InvalidOutcome) as info:
        TradeOutcome.from_closed_trade(closed(symbol=5), _Named(5), slippage_ticks=0, expected_slippage_ticks=0)  # type: ignore[arg-type]
    assert str(info.value) == "symbol 5 must be a non-empty string"


def test_a_closed_trade_priced_off_an_int_tick_size_is_refused_naming_the_price() -> None:
    """An int tick size times int average ticks is an int price: not the Decimal an outcome holds."""
    trade = closed(avg_entry_ticks=5000, avg_exit_ticks=5001)
    with pytest.raises(InvalidOutcome) as info:
        TradeOutcome.from_closed_trade(trade, _Named("MES", tick_size=1), slippage_ticks=0, expected_slippage_ticks=0)  # type: ignore[arg-type]
    assert str(info.value) == "entry_price 5000 must be a Decimal, not int"


@attrs.frozen
class _Named:
    """An instrument as `from_closed_trade` reads it: its symbol and tick size."""

    symbol: str
    tick_size: Decimal = D("0.25")


@pytest.mark.parametrize(("change", "message"), [
    ({"spread_ticks": -1}, "spread_ticks -1 must not be negative"),
    ({"spread_ticks": 0.5}, "spread_ticks 0.5 must be an int or Decimal number of ticks, not float"),
    ({"slippage_ticks": 0.5}, "slippage_ticks 0.5 must be an int or Decimal number of ticks, not float"),
    ({"expected_slippage_ticks": 0.5}, "expected_slippage_ticks 0.5 must be an int or Decimal number of ticks, not float"),
    ({"trade_id": ""}, "trade_id '' must be a non-empty string"),
    ({"trade_id": " "}, "trade_id ' ' must be a non-empty string"),
    ({"trade_id": 9}, "trade_id 9 must be a non-empty string"),
])
def test_the_callers_figures_for_a_closed_trade_are_checked(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOutcome) as info:
        from_closed(closed(), **change)
    assert str(info.value) == message


# dicts ------------------------------------------------------------------------------------------


def test_to_dict_writes_every_field_and_the_derived_figures() -> None:
    assert TradeOutcome(**fields(quantity=-2)).to_dict() == {  # type: ignore[arg-type]
        "strategy": "orb", "symbol": "MES", "quantity": -2, "side": "short",
        "entry_time": "2026-03-02T15:00:00+00:00", "exit_time": "2026-03-02T15:07:00+00:00",
        "entry_price": "5000.25", "exit_price": "5001.75", "gross_pnl_usd": "15.00", "commission_usd": "2.48",
        "net_pnl_usd": "12.52", "win": True, "slippage_ticks": "1.5", "expected_slippage_ticks": "0.5",
        "spread_ticks": "1", "trade_id": "t-9",
    }


def test_event_payload_carries_the_event_logs_keys_and_the_rest_of_the_trade() -> None:
    assert TradeOutcome(**fields()).event_payload() == {  # type: ignore[arg-type]
        "strategy": "orb", "symbol": "MES", "qty": 2, "side": "long", "gross_pnl": D("15.00"),
        "commission": D("2.48"), "net_pnl": D("12.52"), "win": True, "slippage_ticks": D("1.5"),
        "slippage_expected_ticks": D("0.5"), "spread_ticks": D(1), "entry_time": T0, "exit_time": T1,
        "entry_price": D("5000.25"), "exit_price": D("5001.75"), "trade_id": "t-9",
    }


def test_from_dict_reads_what_to_dict_wrote_without_a_trade_id() -> None:
    data = TradeOutcome(**fields()).to_dict()  # type: ignore[arg-type]
    del data["trade_id"]
    assert TradeOutcome.from_dict(data) == TradeOutcome(**fields(trade_id=None))  # type: ignore[arg-type]


def test_from_dict_reads_back_the_trade_id() -> None:
    outcome = TradeOutcome(**fields())  # type: ignore[arg-type]
    assert TradeOutcome.from_dict(outcome.to_dict()).trade_id == "t-9"
    assert TradeOutcome.from_dict(outcome.to_dict()) == outcome


def test_from_dict_names_a_missing_key() -> None:
    data = TradeOutcome(**fields()).to_dict()  # type: ignore[arg-type]
    del data["symbol"]
    with pytest.raises(InvalidOutcome) as info:
        TradeOutcome.from_dict(data)
    assert str(info.value) == f"trade outcome {data!r} is malformed: KeyError('symbol')"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"entry_price": "five"}, "InvalidOperation([<class 'decimal.ConversionSyntax'>])"),
        ({"exit_time": 5}, "TypeError("),
        ({"entry_time": "noon"}, "ValueError("),
    ],
)
def test_from_dict_names_a_value_it_cannot_read(change: dict[str, object], problem: str) -> None:
    data = TradeOutcome(**fields()).to_dict()  # type: ignore[arg-type]
    data.update(change)
    with pytest.raises(InvalidOutcome) as info:
        TradeOutcome.from_dict(data)
    assert str(info.value).startswith(f"trade outcome {data!r} is malformed: {problem}")


def test_from_dict_lets_a_validators_refusal_through_unchanged() -> None:
    data = TradeOutcome(**fields()).to_dict()  # type: ignore[arg-type]
    data["quantity"] = 0
    with pytest.raises(InvalidOutcome) as info:
        TradeOutcome.from_dict(data)
    assert str(info.value) == "quantity 0 must be a non-zero int (long > 0, short < 0)"
