"""The protocol's values: what a signal and a context refuse, and where a strategy module is looked up."""

from __future__ import annotations

import datetime as dt
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from statebot.core.strategy.protocol import Signal, StrategyContext, get_strategy, price_ticks
from statebot.errors import ConfigError, SignalError

NOW = dt.datetime(2026, 11, 24, 15, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(("value", "message"), [
    ("abc", "signal expected_slippage_ticks 'abc' is not a number"),
    (0.5, "signal expected_slippage_ticks 0.5 must be a Decimal, int or decimal string"),
    (True, "signal expected_slippage_ticks True must be a Decimal, int or decimal string"),
    ("-0.5", "signal expected_slippage_ticks '-0.5' must be finite and >= 0"),
    ("NaN", "signal expected_slippage_ticks 'NaN' must be finite and >= 0"),
])
def test_a_signal_refuses_a_slippage_that_is_not_a_finite_non_negative_number(value: object, message: str) -> None:
    with pytest.raises(SignalError, match="^" + re.escape(message) + "$"):
        Signal(side="LONG", stop_ticks=4, expected_slippage_ticks=value)


def test_a_signal_keeps_a_zero_slippage_and_reads_a_string() -> None:
    assert Signal(side=1, stop_ticks=4, expected_slippage_ticks=0).expected_slippage_ticks == Decimal(0)
    assert Signal(side=1, stop_ticks=4, expected_slippage_ticks="1.25").expected_slippage_ticks == Decimal("1.25")


@pytest.mark.parametrize("tick", [Decimal(0), Decimal("-0.25"), Decimal("NaN"), Decimal("Infinity"), 0.25, 1, "0.25"])
def test_a_context_tick_size_must_be_a_positive_finite_decimal(tick: object) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(f"tick_size {tick!r} must be a positive Decimal") + "$"):
        StrategyContext(now=NOW, symbol="MES", tick_size=tick)


def test_a_context_has_the_documented_defaults() -> None:
    ctx = StrategyContext(now=NOW, symbol="MES", tick_size=Decimal("0.25"))
    assert (ctx.position_qty, ctx.session_state, ctx.may_enter, ctx.session) == (0, "CLOSED", False, None)


@pytest.mark.parametrize(("price", "ticks"), [(5000.125, 20001), (5000.12, 20000), ("5000.375", 20002), (Decimal("-0.125"), -1)])
def test_price_ticks_rounds_halves_away_from_zero(price: object, ticks: int) -> None:
    assert price_ticks(price, Decimal("0.25")) == ticks


STRATEGY_MODULE = '''
class Mine:
    name = "mine-{tag}"

    def on_bar(self, bar, ctx):
        return None
'''


def write_module(folder: Path, module: str, tag: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(STRATEGY_MODULE.format(tag=tag))


def test_a_search_folder_is_looked_in_first_in_its_order_and_the_import_path_is_restored(tmp_path: Path) -> None:
    module = "statebot_search_probe_mod"
    write_module(tmp_path / "a", module, "a")
    write_module(tmp_path / "b", module, "b")
    before = list(sys.path)
    try:
        strategy: Any = get_strategy(f"{module}:Mine", search=[tmp_path / "b", str(tmp_path / "a")])
        assert strategy.name == "mine-b"
        assert sys.path == before
    finally:
        sys.modules.pop(module, None)


def test_a_module_found_in_no_search_folder_names_where_it_was_looked_for(tmp_path: Path) -> None:
    before = list(sys.path)
    with pytest.raises(ConfigError, match=re.escape(f"cannot import module 'statebot_no_such_probe' (looked in {tmp_path}, . and the import path)")):
        get_strategy("statebot_no_such_probe:Mine", search=[tmp_path, "."])
    assert sys.path == before
