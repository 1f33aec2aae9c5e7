"""``statebot new-strategy NAME``: write a strategy module and its test, both passing, to start from.

Writes ``NAME.py`` (a momentum strategy with the whole contract in view: indicator
state, the gates' scores, a stop and target, a FLAT exit) and ``test_NAME.py`` (a
unit test of its signals and a simulation on synthetic bars) in ``--dir`` (the
current folder by default). Existing files are never overwritten (exit 2, one line).
``statebot sim --strategy NAME:ClassName`` run in that folder finds the module.
"""

from __future__ import annotations

import argparse
import keyword
import sys
from pathlib import Path
from typing import Any

from statebot.errors import ConfigError, FileAccessError

MODULE = '''"""{name}: a statebot strategy (started by `statebot new-strategy`; make it yours).

Simulate it:  statebot sim --strategy {name}:{cls}
Test it:      python -m pytest test_{name}.py
The contract (what on_bar sees and may answer, the gates, how exits work): docs/strategies.md.
"""

from __future__ import annotations

from collections import deque

from statebot import Bar, Signal, StrategyContext


class {cls}:
    """Long when the close is at least ``min_move_ticks`` above the close ``lookback`` bars
    ago, short when as far below; asks to be flat when the move fades below that."""

    name = "{name}"

    def __init__(self, lookback: int = 20, min_move_ticks: int = 8, stop_ticks: int = 8,
                 target_ticks: int | None = 16) -> None:
        if lookback < 1 or min_move_ticks < 1 or stop_ticks < 1:
            raise ValueError("lookback, min_move_ticks and stop_ticks must be at least 1")
        self.lookback = lookback
        self.min_move_ticks = min_move_ticks
        self.stop_ticks = stop_ticks
        self.target_ticks = target_ticks
        self._closes: deque[float] = deque(maxlen=lookback + 1)

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Signal | None:
        self._closes.append(bar.close)
        if len(self._closes) <= self.lookback:
            return None  # not enough history yet: nothing new
        move_ticks = (self._closes[-1] - self._closes[0]) / float(ctx.tick_size)
        if abs(move_ticks) < self.min_move_ticks:
            # the move faded: close what is held (a FLAT signal when flat changes nothing)
            return Signal(side="FLAT", reason="momentum faded") if ctx.position_qty else None
        # dvs/eqs: the gates refuse an entry whose scores are missing; 1 says "no doubts"
        return Signal(side="LONG" if move_ticks > 0 else "SHORT", stop_ticks=self.stop_ticks,
                      target_ticks=self.target_ticks, dvs=1, eqs=1, reason="momentum")
'''

TEST = '''"""Tests of the {name} strategy: its signals bar by bar, then a whole simulation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from statebot import Bar, SimSetup, StrategyContext, run_setup

from {name} import {cls}

HERE = Path(__file__).resolve().parent
UTC = dt.timezone.utc


def _bar(minute: int, close: float) -> Bar:
    end = dt.datetime(2026, 11, 24, 15, 0, tzinfo=UTC) + dt.timedelta(minutes=minute)
    return Bar(symbol="MES", end=end, open=close, high=close + 0.25, low=close - 0.25, close=close, volume=100)


def _ctx(bar: Bar, position_qty: int = 0) -> StrategyContext:
    return StrategyContext(now=bar.end, symbol="MES", tick_size=Decimal("0.25"), position_qty=position_qty,
                           session_state="TRADING", may_enter=True)


def test_it_says_nothing_until_it_has_lookback_bars() -> None:
    strategy = {cls}(lookback=3)
    assert [strategy.on_bar(b, _ctx(b)) for b in (_bar(i, 6000.0 + i) for i in range(3))] == [None, None, None]


def test_a_rise_of_min_move_ticks_asks_for_a_long_with_its_stop() -> None:
    strategy = {cls}(lookback=2, min_move_ticks=4, stop_ticks=6)
    signals = [strategy.on_bar(b, _ctx(b)) for b in (_bar(0, 6000.0), _bar(1, 6000.5), _bar(2, 6001.0))]
    last = signals[-1]
    assert last is not None and last.side_name == "LONG" and last.stop_ticks == 6


def test_a_faded_move_asks_to_be_flat_when_holding() -> None:
    strategy = {cls}(lookback=1, min_move_ticks=4)
    first, second = _bar(0, 6000.0), _bar(1, 6000.25)
    strategy.on_bar(first, _ctx(first))
    signal = strategy.on_bar(second, _ctx(second, position_qty=1))
    assert signal is not None and signal.side_name == "FLAT"


def test_a_simulation_on_synthetic_bars_trades_and_its_event_log_verifies(tmp_path: Path) -> None:
    report = run_setup(SimSetup(strategy="{name}:{cls}", strategy_search=(HERE,)), tmp_path)
    assert report.trades > 0
    assert report.log_verifies and report.final_flat
'''


def register(sub: Any) -> None:
    p = sub.add_parser("new-strategy", help="write a strategy module and its test to start from",
                       description="Write NAME.py (a working momentum strategy) and test_NAME.py (its tests, "
                       "including a simulation) into --dir; both pass as written. See docs/strategies.md.")
    p.add_argument("name", metavar="NAME", help="the module's name, a Python identifier such as my_momentum")
    p.add_argument("--dir", type=Path, default=Path("."), metavar="DIR", help="where to write (default: the current folder)")
    p.set_defaults(run=run)


def class_name(module: str) -> str:
    """``my_momentum`` -> ``MyMomentum``."""
    return "".join(part[:1].upper() + part[1:] for part in module.split("_") if part) or "Strategy"


def run(args: argparse.Namespace) -> int:
    name: str = args.name
    if not name.isidentifier() or keyword.iskeyword(name) or not name.islower():
        raise ConfigError(f"strategy name {name!r} must be a lowercase Python identifier, e.g. my_momentum")
    if name in sys.stdlib_module_names or name in {"statebot", "test", "tests"}:
        raise ConfigError(f"strategy name {name!r} would shadow a module of the same name; pick another")
    folder: Path = args.dir
    if not folder.is_dir():
        raise FileAccessError(f"--dir {folder}: not a folder")
    cls = class_name(name)
    files = {folder / f"{name}.py": MODULE, folder / f"test_{name}.py": TEST}
    existing = [str(f) for f in files if f.exists()]
    if existing:
        raise ConfigError(f"{', '.join(existing)} already exist(s); nothing written")
    for path, template in files.items():
        try:
            path.write_text(template.format(name=name, cls=cls), encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(f"{path}: cannot write ({exc.strerror})") from None
        print(f"wrote {path}")
    print(f"next: statebot sim --strategy {name}:{cls}   and   python -m pytest test_{name}.py")
    return 0
