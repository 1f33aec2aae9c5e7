"""The strategy protocol and the two demo strategies on crafted bars."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.core.time.clock import Bar
from statebot.errors import ConfigError, SignalError
from statebot.core.time.schedule import SessionTimes
from statebot.core.strategy.builtin import OpeningRangeBreakout, SmaCross
from statebot.core.strategy.protocol import FLAT, LONG, SHORT, Signal, Strategy, StrategyContext, get_strategy

NY = ZoneInfo("America/New_York")
TICK = Decimal("0.25")


def session(day: int = 24) -> SessionTimes:
    d = dt.date(2026, 11, day)
    at = lambda h, m: dt.datetime(2026, 11, day, h, m, tzinfo=NY)  # noqa: E731
    return SessionTimes(date=d, day_start=at(0, 0), open=at(9, 30), entry_cutoff=None, flatten=at(15, 55), close=at(16, 0))


def bar(end: dt.datetime, close: str, high: str | None = None, low: str | None = None) -> Bar:
    c = Decimal(close)
    return Bar(symbol="MES", end=end, open=c, high=Decimal(high) if high else c, low=Decimal(low) if low else c, close=c)


def ctx(end: dt.datetime, qty: int = 0, may_enter: bool = True, s: SessionTimes | None = None) -> StrategyContext:
    return StrategyContext(now=end, symbol="MES", tick_size=TICK, position_qty=qty, session_state="TRADING",
                           may_enter=may_enter, session=s or session())


def minute(i: int, day: int = 24) -> dt.datetime:
    return dt.datetime(2026, 11, day, 9, 30, tzinfo=NY) + dt.timedelta(minutes=i)


# -- Signal ------------------------------------------------------------------


def test_signal_side_accepts_names_and_signs() -> None:
    assert Signal(side="long", stop_ticks=8).side == LONG
    assert Signal(side=-1, stop_ticks=8).side == SHORT and Signal(side="SELL", stop_ticks=8).side_name == "SHORT"


def test_a_flat_signal_needs_no_stop() -> None:
    assert Signal(side=FLAT).side == FLAT == Signal(side="flat").side == Signal(side=0).side
    assert Signal(side=FLAT).side_name == "FLAT"


@pytest.mark.parametrize(
    "kw", [{"side": 2}, {"side": "HOLD"}, {"side": True}, {"side": False}, {"stop_ticks": 8.0}, {"target_ticks": "5"},
           {"expected_slippage_ticks": 0.5}, {"expected_slippage_ticks": "-1"}, {"tier": 1}],
)
def test_invalid_signal_raises_signal_error(kw: dict[str, object]) -> None:
    args: dict[str, object] = {"side": LONG, "stop_ticks": 8, **kw}
    with pytest.raises((SignalError, TypeError)):
        Signal(**args)  # type: ignore[arg-type]


def test_signal_is_frozen() -> None:
    import attrs

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Signal(side=LONG, stop_ticks=8).stop_ticks = 3  # type: ignore[misc]


# -- registry ----------------------------------------------------------------


def test_registry_builds_the_demos_with_parameters() -> None:
    s = get_strategy("sma-cross", fast=3, slow=5)
    assert isinstance(s, SmaCross) and isinstance(s, Strategy) and (s.fast, s.slow) == (3, 5)
    assert isinstance(get_strategy("orb"), OpeningRangeBreakout)


def test_registry_imports_module_colon_class() -> None:
    assert isinstance(get_strategy("statebot.core.strategy.builtin.orb:OpeningRangeBreakout", range_minutes=5), OpeningRangeBreakout)


class _NoName:
    def on_bar(self, bar: object, ctx: object) -> None:
        return None


def test_a_class_with_on_bar_but_no_name_is_refused_after_construction() -> None:
    with pytest.raises(ConfigError, match="no 'name' attribute"):
        get_strategy(f"{__name__}:_NoName")


@pytest.mark.parametrize("reference", ["os:system", "subprocess:Popen", "builtins:exec", "os:getcwd"])
def test_a_reference_to_anything_but_a_strategy_class_is_refused_before_it_is_called(
        reference: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    import os
    import subprocess

    called: list[object] = []
    for module, attr in ((os, "system"), (subprocess, "Popen"), (builtins, "exec"), (os, "getcwd")):
        original = getattr(module, attr)
        fake = type(original.__name__, (), {"__init__": lambda self, *a, **k: called.append(a)}) if isinstance(original, type) \
            else (lambda *a, **k: called.append(a))
        monkeypatch.setattr(module, attr, fake)
    with pytest.raises(ConfigError, match="is not a strategy class"):
        get_strategy(reference, command="touch /tmp/pwned")
    assert called == []


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("smacross", {}, "unknown strategy 'smacross'; built in: orb, sma-cross"),
        ("no_such_mod:X", {}, "cannot import module 'no_such_mod'"),
        ("statebot.core.strategy.builtin:Nope", {}, "has no 'Nope'"),
        ("statebot.core.time.clock:Bar", {}, "statebot.core.time.clock.Bar is not a strategy class"),
        ("datetime:timedelta", {}, "datetime.timedelta is not a strategy class"),
        ("statebot.core.strategy.builtin.sma_cross:NotAStrategyWithOnBar", {}, "has no"),
        ("sma-cross", {"speed": 3}, "bad parameters"),
        ("sma-cross", {"fast": 5, "slow": 5}, "fast 5 must be less than slow 5"),
        ("orb", {"range_minutes": 0}, "orb range_minutes 0 must be an integer >= 1"),
        ("orb", {"max_stop_ticks": 0}, "orb max_stop_ticks 0 must be an integer >= 1"),
        ("", {}, "non-empty"),
    ],
)
def test_registry_errors_are_clear(name: str, params: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        get_strategy(name, **params)


# -- sma-cross ---------------------------------------------------------------


def feed(strategy: Strategy, closes: list[str], qty: int = 0, may_enter: bool = True) -> list[Signal | None]:
    return [strategy.on_bar(bar(minute(i), c), ctx(minute(i), qty, may_enter)) for i, c in enumerate(closes)]


def test_sma_cross_says_nothing_while_warming_up() -> None:
    assert feed(SmaCross(2, 4), ["100", "101", "102"]) == [None, None, None]


def test_sma_cross_enters_the_trend_side_from_flat() -> None:
    out = feed(SmaCross(2, 4), ["100", "101", "102", "103"])
    assert out[-1] is not None and out[-1].side == LONG and out[-1].stop_ticks == 8


def test_sma_cross_holds_while_the_position_matches_the_trend() -> None:
    assert feed(SmaCross(2, 4), ["100", "101", "102", "103", "104"], qty=2)[-2:] == [None, None]


def test_sma_cross_reverses_on_a_crossover() -> None:
    s = SmaCross(2, 4)
    closes = ["100", "101", "102", "103", "104", "100", "96"]
    signals = [s.on_bar(bar(minute(i), c), ctx(minute(i), qty=1)) for i, c in enumerate(closes)]
    assert signals[:5] == [None] * 5
    # fast (100, 96) = 98 below slow (103, 104, 100, 96) = 100.75: the trend turned
    assert signals[6] is not None and signals[6].side == SHORT
    assert s.trend == SHORT


def test_sma_cross_equal_averages_change_nothing() -> None:
    assert feed(SmaCross(2, 4), ["100", "100", "100", "100"])[-1] is None


def test_sma_cross_does_not_ask_to_enter_when_entries_are_closed() -> None:
    assert feed(SmaCross(2, 4), ["100", "101", "102", "103"], may_enter=False)[-1] is None


def test_sma_cross_reads_float_prices_as_ticks() -> None:
    s = SmaCross(1, 2)
    s.on_bar(Bar(symbol="MES", end=minute(0), open=6000.25, high=6000.25, low=6000.25, close=6000.25), ctx(minute(0)))
    sig = s.on_bar(Bar(symbol="MES", end=minute(1), open=6000.5, high=6000.5, low=6000.5, close=6000.5), ctx(minute(1)))
    assert sig is not None and sig.side == LONG


@given(st.lists(st.integers(min_value=1, max_value=40000), min_size=1, max_size=80), st.integers(1, 5), st.integers(1, 10))
def test_sma_cross_running_sums_equal_the_averages(closes: list[int], fast: int, extra: int) -> None:
    """Invariant: the O(1) running sums give the same trend as recomputing both averages."""
    slow = fast + extra
    s = SmaCross(fast, slow)
    for i, c in enumerate(closes):
        s.on_bar(bar(minute(i), str(Decimal(c) * TICK)), ctx(minute(i)))
        seen = closes[: i + 1]
        if len(seen) < slow:
            assert s.trend == 0
        else:
            f = Decimal(sum(seen[-fast:])) / fast
            sl = Decimal(sum(seen[-slow:])) / slow
            assert s.trend == (1 if f > sl else -1 if f < sl else 0)


# -- orb ---------------------------------------------------------------------


def orb_day(strategy: OpeningRangeBreakout, bars: list[tuple[int, str, str, str]], day: int = 24, qty: int = 0) -> list[Signal | None]:
    s = session(day)
    return [strategy.on_bar(bar(minute(i, day), c, h, lo), ctx(minute(i, day), qty, s=s)) for i, c, h, lo in bars]


RANGE = [(1, "100", "101", "99.5"), (2, "100.5", "102", "100"), (3, "100", "100.5", "99")]  # high 102, low 99


def test_orb_builds_the_range_then_enters_long_on_a_breakout_above() -> None:
    o = OpeningRangeBreakout(range_minutes=3)
    out = orb_day(o, RANGE + [(4, "101", "101.5", "100.5"), (5, "102.5", "102.75", "101")])
    assert out[:4] == [None] * 4
    sig = out[4]
    assert sig is not None and sig.side == LONG
    assert (o.high, o.low) == (408, 396)
    assert sig.stop_ticks == 12  # the other side of the range is 410 - 396 = 14 ticks away: capped at 12


def orb_stop(strategy: OpeningRangeBreakout, bars: list[tuple[int, str, str, str]]) -> int:
    sig = orb_day(strategy, bars)[-1]
    assert sig is not None
    return sig.stop_ticks


def test_orb_stop_is_the_far_side_of_the_range_up_to_its_cap() -> None:
    long_bars = RANGE + [(4, "102.5", "102.75", "101")]  # close 410 ticks, range low 396: 14 ticks
    assert [orb_stop(OpeningRangeBreakout(range_minutes=3, max_stop_ticks=cap), long_bars) for cap in (20, 14, 13, None)] \
        == [14, 14, 13, 14]
    short_bars = RANGE + [(4, "98.75", "99.5", "98.5")]  # close 395 ticks, range high 408: 13 ticks
    assert orb_stop(OpeningRangeBreakout(range_minutes=3), short_bars) == 12
    assert orb_stop(OpeningRangeBreakout(range_minutes=3, max_stop_ticks=20), short_bars) == 13
    # a fixed stop_ticks is used as given: the cap is for the stop taken from the range
    assert orb_stop(OpeningRangeBreakout(range_minutes=3, stop_ticks=30), long_bars) == 30


def test_orb_enters_short_below_the_range_with_a_fixed_stop() -> None:
    sig = orb_day(OpeningRangeBreakout(range_minutes=3, stop_ticks=6, target_ticks=12), RANGE + [(4, "98.75", "99.5", "98.5")])[-1]
    assert sig is not None and (sig.side, sig.stop_ticks, sig.target_ticks) == (SHORT, 6, 12)


def test_orb_trades_once_per_session() -> None:
    o = OpeningRangeBreakout(range_minutes=3)
    out = orb_day(o, RANGE + [(4, "103", "103", "101"), (5, "98", "101", "98"), (6, "104", "104", "98")])
    assert [x is not None for x in out] == [False, False, False, True, False, False]


def test_orb_trades_again_the_next_session() -> None:
    o = OpeningRangeBreakout(range_minutes=3)
    orb_day(o, RANGE + [(4, "103", "103", "101")])
    sig = orb_day(o, RANGE + [(4, "98", "101", "98")], day=25)[-1]
    assert sig is not None and sig.side == SHORT


def test_orb_ignores_bars_before_the_open_and_needs_a_range() -> None:
    o = OpeningRangeBreakout(range_minutes=3)
    s = session()
    pre = dt.datetime(2026, 11, 24, 9, 0, tzinfo=NY)
    assert o.on_bar(bar(pre, "200"), ctx(pre, s=s)) is None and o.high is None
    # no bar inside the range (a data gap): no trade that session
    assert orb_day(o, [(10, "300", "300", "300")])[-1] is None


def test_orb_does_not_enter_while_in_a_position_or_when_entries_are_closed() -> None:
    o = OpeningRangeBreakout(range_minutes=3)
    assert orb_day(o, RANGE + [(4, "103", "103", "101")], qty=1)[-1] is None
    s = session()
    assert o.on_bar(bar(minute(5), "103"), ctx(minute(5), may_enter=False, s=s)) is None
    assert not o.done
