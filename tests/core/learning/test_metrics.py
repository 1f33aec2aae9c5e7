"""ReliabilityMetrics: counts, rolling win rate, expectancy, drawdown and slippage calibration."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot import ConfigError, ReliabilityMetrics, StateCorrupt, TradeOutcome
from tests.strategies import TRADE_T0, trade_outcomes


def outcome(net: str, *, slip: str = "1", expected: str = "1", strategy: str = "orb") -> TradeOutcome:
    """A one-lot trade whose net P&L is ``net`` (commission 0) and slippage as given."""
    return TradeOutcome(
        strategy=strategy, symbol="MES", quantity=1, entry_time=TRADE_T0, exit_time=TRADE_T0 + dt.timedelta(minutes=5),
        entry_price=Decimal("5000"), exit_price=Decimal("5000"), gross_pnl_usd=Decimal(net), commission_usd=Decimal(0),
        slippage_ticks=Decimal(slip), expected_slippage_ticks=Decimal(expected), spread_ticks=1,
    )


def fed(*nets: str, **kw: object) -> ReliabilityMetrics:
    m = ReliabilityMetrics(strategy="orb", **kw)  # type: ignore[arg-type]
    for net in nets:
        m.update_from_trade(outcome(net))
    return m


def test_counts_wins_losses_and_break_even_as_a_loss() -> None:
    m = fed("10", "-5", "0", "3")
    assert (m.trades, m.wins, m.losses) == (4, 2, 2)


def test_consecutive_losses_reset_on_a_win() -> None:
    assert fed("-1", "-1", "5", "-1", "-2").consecutive_losses == 2


def test_rolling_window_keeps_only_the_newest_results() -> None:
    m = fed("-1", "-1", "-1", "5", "5", window=3)
    assert m.recent == [False, True, True]
    assert m.rolling_win_rate == Decimal(2) / Decimal(3)


def test_rolling_win_rate_is_none_before_any_trade() -> None:
    assert fed().rolling_win_rate is None


def test_expectancy_is_mean_net_pnl() -> None:
    assert fed("10", "-4", "3").expectancy_usd == Decimal(3)


def test_drawdown_is_measured_from_the_peak_of_cumulative_net() -> None:
    m = fed("50", "-20", "-40", "10")
    assert m.net_pnl_usd == Decimal(0)
    assert m.peak_net_pnl_usd == Decimal(50)
    assert m.drawdown_usd == Decimal(50)
    assert m.max_drawdown_usd == Decimal(60)


def test_drawdown_counts_from_zero_when_the_first_trades_lose() -> None:
    assert fed("-30", "-5").drawdown_usd == Decimal(35)


def test_slippage_calibration_mean_and_ewma() -> None:
    m = ReliabilityMetrics(strategy="orb", ewma_alpha=Decimal("0.5"))
    m.update_from_trade(outcome("1", slip="3", expected="1"))  # error 2, seeds the EWMA
    m.update_from_trade(outcome("1", slip="1", expected="1"))  # error 0
    assert m.slippage_count == 2
    assert m.mean_slippage_error_ticks == Decimal(1)
    assert m.slippage_error_ewma_ticks == Decimal(1)


def test_money_and_counts_are_decimal_and_int() -> None:
    m = fed("1.25", "-2.50")
    assert isinstance(m.net_pnl_usd, Decimal) and isinstance(m.trades, int)


@given(trades=st.lists(trade_outcomes(strategy=st.just("orb")), max_size=40), window=st.integers(1, 30))
def test_to_dict_round_trips_exactly(trades: list[TradeOutcome], window: int) -> None:
    """from_dict(to_dict(m)) == m after any sequence of trades, even through JSON text."""
    m = ReliabilityMetrics(strategy="orb", window=window)
    for t in trades:
        m.update_from_trade(t)
    again = ReliabilityMetrics.from_dict(json.loads(json.dumps(m.to_dict())))
    assert again == m
    assert again.to_dict() == m.to_dict()


@given(trades=st.lists(trade_outcomes(strategy=st.just("orb")), max_size=40))
def test_cumulative_figures_are_sums_of_the_trades(trades: list[TradeOutcome]) -> None:
    """net = sum of nets = gross - commission; wins + losses = trades; drawdown >= 0."""
    m = ReliabilityMetrics(strategy="orb")
    for t in trades:
        m.update_from_trade(t)
    assert m.net_pnl_usd == sum((t.net_pnl_usd for t in trades), Decimal(0))
    assert m.net_pnl_usd == m.gross_pnl_usd - m.commission_usd
    assert m.wins + m.losses == m.trades == len(trades)
    assert 0 <= m.drawdown_usd <= m.max_drawdown_usd


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"trades": -1}, "trades -1 must be an int >= 0"),
        ({"net_pnl_usd": 1.5}, "net_pnl_usd 1.5 must be a decimal string"),
        ({"recent": "WXL"}, "must hold only W and L"),
        ({"wins": 99}, "internally inconsistent"),
        ({"last_trade_at": "2026-03-02T15:00:00"}, "is naive"),
        ({"ewma_alpha": "3"}, "ewma_alpha"),
    ],
)
def test_malformed_metrics_are_state_corrupt(change: dict, message: str) -> None:  # type: ignore[type-arg]
    data = fed("1", "-1").to_dict()
    data.update(change)
    with pytest.raises(StateCorrupt, match=message):
        ReliabilityMetrics.from_dict(data)


def test_window_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="rolling window 0"):
        ReliabilityMetrics(strategy="orb", window=0)
