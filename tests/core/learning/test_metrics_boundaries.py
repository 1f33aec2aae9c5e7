"""ReliabilityMetrics at its edges: exact figures on small hand-computed trade lists, the window and
EWMA weight at their bounds, the EWMA's rounding, and each refusal's message."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext

import attrs
import pytest

from statebot import ConfigError, ReliabilityMetrics, StateCorrupt
from tests.core.learning.test_metrics import fed, outcome
from tests.strategies import TRADE_T0

D = Decimal


# construction ---------------------------------------------------------------------------------


def test_new_metrics_are_empty_with_a_window_of_20_and_an_ewma_weight_of_0_2() -> None:
    m = ReliabilityMetrics(strategy="orb")
    assert m.to_dict() == {
        "strategy": "orb", "window": 20, "ewma_alpha": "0.2", "trades": 0, "wins": 0, "consecutive_losses": 0,
        "recent": "", "gross_pnl_usd": "0", "commission_usd": "0", "net_pnl_usd": "0", "peak_net_pnl_usd": "0",
        "max_drawdown_usd": "0", "slippage_count": 0, "slippage_error_sum_ticks": "0",
        "slippage_error_ewma_ticks": "0", "last_trade_at": None,
    }
    assert (m.losses, m.rolling_trades, m.rolling_wins, m.rolling_win_rate) == (0, 0, 0, None)
    assert m.expectancy_usd == 0 and isinstance(m.expectancy_usd, Decimal)
    assert m.drawdown_usd == 0
    assert m.mean_slippage_error_ticks is None


def test_a_window_of_one_is_accepted() -> None:
    m = fed("1", "-1", window=1)
    assert m.window == 1 and m.recent == [False]


@pytest.mark.parametrize("window", [0, -3, True, 2.0, "3", None])
def test_a_window_that_is_not_an_int_of_at_least_one_is_refused(window: object) -> None:
    with pytest.raises(ConfigError) as info:
        ReliabilityMetrics(strategy="orb", window=window)  # type: ignore[arg-type]
    assert str(info.value) == f"rolling window {window!r} must be an int >= 1"


@pytest.mark.parametrize(("alpha", "expected"), [(1, D(1)), ("1", D(1)), (D("0.0001"), D("0.0001")), ("0.5", D("0.5"))])
def test_an_ewma_weight_in_the_open_closed_unit_interval_is_accepted(alpha: object, expected: Decimal) -> None:
    m = ReliabilityMetrics(strategy="orb", ewma_alpha=alpha)  # type: ignore[arg-type]
    assert m.ewma_alpha == expected and isinstance(m.ewma_alpha, Decimal)


@pytest.mark.parametrize("alpha", [0, "0", D("-0.1"), "1.0000001", 2, "NaN", "Infinity", "-Infinity"])
def test_an_ewma_weight_outside_the_open_closed_unit_interval_is_refused(alpha: object) -> None:
    with pytest.raises(ConfigError) as info:
        ReliabilityMetrics(strategy="orb", ewma_alpha=alpha)  # type: ignore[arg-type]
    assert str(info.value) == f"ewma_alpha {alpha!r} must be in (0, 1]"


@pytest.mark.parametrize(("alpha", "kind"), [(0.5, "float"), (True, "bool"), (None, "NoneType"), ([1], "list")])
def test_an_ewma_weight_of_another_type_is_refused_naming_the_type(alpha: object, kind: str) -> None:
    with pytest.raises(ConfigError) as info:
        ReliabilityMetrics(strategy="orb", ewma_alpha=alpha)  # type: ignore[arg-type]
    assert str(info.value) == f"ewma_alpha {alpha!r} must be a Decimal in (0, 1], not {kind}"


# one trade at a time ---------------------------------------------------------------------------


def test_a_cent_of_net_profit_is_a_win() -> None:
    m = fed("0.01")
    assert (m.trades, m.wins, m.losses, m.consecutive_losses, m.recent) == (1, 1, 0, 0, [True])


def test_every_count_and_sum_after_five_trades() -> None:
    """Nets +10, -4, 0, -6, +3 (commission 2 each): wins 2, the last result breaks a run of 2 losses."""
    m = ReliabilityMetrics(strategy="orb", window=4)
    for net in ("10", "-4", "0", "-6", "3"):
        m.update_from_trade(attrs.evolve(outcome(net), gross_pnl_usd=D(net) + 2, commission_usd=D(2)))
    assert (m.trades, m.wins, m.losses, m.consecutive_losses) == (5, 2, 3, 0)
    assert m.recent == [False, False, False, True]
    assert (m.rolling_trades, m.rolling_wins, m.rolling_win_rate) == (4, 1, D("0.25"))
    assert (m.gross_pnl_usd, m.commission_usd, m.net_pnl_usd) == (D(13), D(10), D(3))
    assert m.expectancy_usd == D("0.6")
    assert (m.peak_net_pnl_usd, m.drawdown_usd, m.max_drawdown_usd) == (D(10), D(7), D(10))


def test_consecutive_losses_count_each_loss_since_the_last_win() -> None:
    assert [fed(*nets).consecutive_losses for nets in (("-1",), ("-1", "0"), ("-1", "0", "-2"), ("-1", "0", "5"))] == [1, 2, 3, 0]


def test_the_window_holds_exactly_its_length_once_full() -> None:
    m = fed(window=3)
    lengths = []
    for net in ("1", "-1", "1", "-1", "-1"):
        m.update_from_trade(outcome(net))
        lengths.append(len(m.recent))
    assert lengths == [1, 2, 3, 3, 3]
    assert m.recent == [True, False, False]


def test_the_peak_rises_with_each_new_high_and_holds_through_losses() -> None:
    peaks, drawdowns = [], []
    m = fed()
    for net in ("5", "7", "-3", "-4", "2", "9"):
        m.update_from_trade(outcome(net))
        peaks.append(m.peak_net_pnl_usd)
        drawdowns.append(m.max_drawdown_usd)
    assert peaks == [D(5), D(12), D(12), D(12), D(12), D(16)]
    assert drawdowns == [D(0), D(0), D(3), D(7), D(7), D(7)]


def test_the_last_trade_time_is_the_exit_of_the_newest_trade() -> None:
    m = fed("1", "-1")
    assert m.last_trade_at == TRADE_T0 + dt.timedelta(minutes=5)


def test_the_ewma_is_seeded_by_the_first_error_then_weighs_the_newest_by_alpha() -> None:
    """alpha 0.2, errors 2, 0, -3: 2, then 0.2*0 + 0.8*2 = 1.6, then 0.2*-3 + 0.8*1.6 = 0.68."""
    m = ReliabilityMetrics(strategy="orb")
    ewmas = []
    for slip in ("3", "1", "-2"):
        m.update_from_trade(outcome("1", slip=slip, expected="1"))
        ewmas.append(m.slippage_error_ewma_ticks)
    assert ewmas == [D(2), D("1.6"), D("0.68")]
    assert m.slippage_count == 3
    assert m.slippage_error_sum_ticks == D(-1)
    assert m.mean_slippage_error_ticks == D(-1) / 3


def test_the_ewma_is_rounded_half_even_to_1e_8_ticks_whatever_the_decimal_context() -> None:
    """Seed 1e-8, then an error of 0 at alpha 0.5: exactly 5e-9, which half-even rounds to 0 (half-up: 1e-8)."""
    with localcontext() as ctx:
        ctx.rounding = ROUND_HALF_UP
        m = ReliabilityMetrics(strategy="orb", ewma_alpha=D("0.5"))
        m.update_from_trade(outcome("1", slip="0.00000001", expected="0"))
        first = m.slippage_error_ewma_ticks
        m.update_from_trade(outcome("1", slip="0", expected="0"))
        second = m.slippage_error_ewma_ticks
        m.update_from_trade(outcome("1", slip="0.000000025", expected="0"))
    assert first == D("1E-8") and str(first) == "1E-8"
    assert second == 0 and str(second) == "0E-8"
    assert str(m.slippage_error_ewma_ticks) == "1E-8"  # 0.5 x 2.5e-8 = 1.25e-8


def test_a_seed_error_is_rounded_to_1e_8_ticks() -> None:
    m = ReliabilityMetrics(strategy="orb")
    m.update_from_trade(outcome("1", slip="0.123456785", expected="0"))
    assert str(m.slippage_error_ewma_ticks) == "0.12345678"
    assert m.slippage_error_sum_ticks == D("0.123456785")  # the sum is exact


# fresh and rewindowed ---------------------------------------------------------------------------


def test_fresh_metrics_keep_the_strategy_window_and_weight_only() -> None:
    m = fed("5", "-1", window=7, ewma_alpha=D("0.3"))
    again = m.fresh()
    assert again == ReliabilityMetrics(strategy="orb", window=7, ewma_alpha=D("0.3"))
    assert m.trades == 2


def test_rewindowed_keeps_the_newest_results_and_leaves_the_original_alone() -> None:
    m = fed("1", "-1", "-1", "1", window=4)
    narrow = m.rewindowed(2)
    assert (narrow.window, narrow.recent) == (2, [False, True])
    assert narrow.trades == 4 and narrow.net_pnl_usd == 0
    assert m.recent == [True, False, False, True] and m.window == 4
    narrow.update_from_trade(outcome("1"))
    assert m.recent == [True, False, False, True]
    assert m.rewindowed(9).recent == [True, False, False, True]


# from_dict -------------------------------------------------------------------------------------


def _saved(**change: object) -> dict[str, object]:
    data = fed("4", "-1", "-2").to_dict()  # trades 3, wins 1, 2 losses in a row, net 1, peak 4
    data.update(change)
    return data


def _refusal(data: object, what: str | None = None) -> str:
    with pytest.raises(StateCorrupt) as info:
        if what is None:
            ReliabilityMetrics.from_dict(data)
        else:
            ReliabilityMetrics.from_dict(data, what)
    assert info.value.reason == "malformed"
    return str(info.value)


def test_the_default_name_in_a_refusal_is_metrics() -> None:
    assert _refusal(_saved(recent="WXL")) == "metrics.recent 'WXL' must hold only W and L"
    assert _refusal(_saved(window=0)) == "metrics.window 0 must be an int >= 1"
    assert _refusal([]) == "metrics must be a JSON object, found list"


def test_a_refusal_names_what_the_caller_says_was_read() -> None:
    what = "strategy 'orb'.judged"
    assert _refusal(_saved(recent="WL "), what) == "strategy 'orb'.judged.recent 'WL ' must hold only W and L"
    assert _refusal(_saved(recent=5), what) == "strategy 'orb'.judged.recent 5 must be a string"
    assert _refusal(_saved(strategy=3), what) == "strategy 'orb'.judged.strategy 3 must be a string"
    assert _refusal(_saved(ewma_alpha="3"), what) == "strategy 'orb'.judged: ewma_alpha Decimal('3') must be in (0, 1]"
    assert _refusal(_saved(wins=4), what) == "strategy 'orb'.judged for 'orb' is internally inconsistent"
    for key in ("trades", "wins", "consecutive_losses", "slippage_count"):
        assert _refusal(_saved(**{key: -1}), what) == f"strategy 'orb'.judged.{key} -1 must be an int >= 0"
    for key in ("gross_pnl_usd", "commission_usd", "net_pnl_usd", "peak_net_pnl_usd", "max_drawdown_usd",
                "slippage_error_sum_ticks", "slippage_error_ewma_ticks", "ewma_alpha"):
        assert _refusal(_saved(**{key: 1}), what) == f"strategy 'orb'.judged.{key} 1 must be a decimal string"
    assert _refusal(_saved(last_trade_at="noon"), what) == "strategy 'orb'.judged.last_trade_at 'noon' is not an ISO-8601 time"


def test_a_window_of_one_is_read_back() -> None:
    data = fed("1", window=1).to_dict()
    assert ReliabilityMetrics.from_dict(data).window == 1


@pytest.mark.parametrize(
    "change",
    [
        {"wins": 3, "consecutive_losses": 0, "recent": "WWW"},  # every trade a win
        {"consecutive_losses": 3},  # every trade a loss in a row
        {"window": 3},  # the window full, as long as the trade count
        {"peak_net_pnl_usd": "1", "max_drawdown_usd": "0"},  # the peak is the net
        {"net_pnl_usd": "-2", "peak_net_pnl_usd": "0"},  # the peak never falls below the starting 0
    ],
)
def test_figures_at_the_edge_of_consistency_are_read_back(change: dict[str, object]) -> None:
    data = _saved(**change)
    assert ReliabilityMetrics.from_dict(data).to_dict() == data


@pytest.mark.parametrize(
    "change",
    [
        {"wins": 4},
        {"consecutive_losses": 4},
        {"window": 2},  # 3 results kept in a window of 2
        {"trades": 2, "wins": 1, "consecutive_losses": 1, "slippage_count": 2},  # 3 results of 2 trades
        {"slippage_count": 2},
        {"slippage_count": 4},
        {"peak_net_pnl_usd": "0.99"},  # below the net
        {"net_pnl_usd": "-2", "peak_net_pnl_usd": "-1"},  # below the starting 0
    ],
)
def test_figures_that_contradict_each_other_are_refused(change: dict[str, object]) -> None:
    assert _refusal(_saved(**change)) == "metrics for 'orb' is internally inconsistent"
