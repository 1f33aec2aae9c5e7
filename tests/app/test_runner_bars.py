"""``BotRunner.run_bars``: the runner owning the simulation loop writes what the per-bar loop writes,
and the benchmark's run writes the same log bytes under both durability modes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.sim_throughput import EQUAL_WORK_STOP_TICKS, NeverSignals, config
from statebot import Bar, BotRunner, SimBroker, SmaCross
from statebot.config.model import Config
from statebot.feeds import SyntheticBars

BARS = list(SyntheticBars(start=dt.date(2025, 1, 6), end=dt.date(2025, 1, 8), seed=7))


def run(tmp: Path, cfg: Config, *, per_bar: bool, strategy: object = None, bars: list[Bar] = BARS) -> bytes:
    """The benchmark's run of ``bars`` (sma-cross with a stop too wide to be hit unless ``strategy``); the log's bytes."""
    broker = SimBroker(commission=cfg.commission.build())
    runner = BotRunner(strategy or SmaCross(stop_ticks=EQUAL_WORK_STOP_TICKS), broker, equity=Decimal(20000), config=cfg,
                       state_dir=tmp / "state", event_log=tmp / "events.jsonl", start=bars[0].end)
    if per_bar:
        for bar in bars:
            broker.on_bar(bar)
            runner.run_once(bar)
    else:
        assert runner.run_bars(bars, broker) == len(bars)
    runner.close()
    return (tmp / "events.jsonl").read_bytes()


@pytest.mark.parametrize("equal_work", [True, False], ids=["equal-work", "default"])
def test_run_bars_writes_the_bytes_of_the_per_bar_loop(tmp_path: Path, equal_work: bool) -> None:
    cfg = config("simulation", equal_work=equal_work)
    # the default config sizes sma-cross's own 8-tick stop; the equal-work one its stop too wide to be hit
    stop_ticks = EQUAL_WORK_STOP_TICKS if equal_work else 8
    looped = run(tmp_path / "loop", cfg, per_bar=True, strategy=SmaCross(stop_ticks=stop_ticks))
    owned = run(tmp_path / "owned", cfg, per_bar=False, strategy=SmaCross(stop_ticks=stop_ticks))
    assert looped.count(b'"TRADE_CLOSED"') > 5
    assert owned == looped


def test_run_bars_of_a_strategy_that_never_signals_writes_the_bytes_of_the_per_bar_loop(tmp_path: Path) -> None:
    cfg = config("simulation", equal_work=True)
    looped = run(tmp_path / "loop", cfg, per_bar=True, strategy=NeverSignals())
    owned = run(tmp_path / "owned", cfg, per_bar=False, strategy=NeverSignals())
    assert b'"SESSION_TRANSITION"' in looped and b'"ORDER_SUBMITTED"' not in looped
    assert owned == looped


def test_run_bars_without_a_venue_runs_each_bar_through_run_once(tmp_path: Path) -> None:
    cfg = config("simulation", equal_work=True)
    runner = BotRunner(NeverSignals(), SimBroker(), equity=Decimal(20000), config=cfg, state_dir=tmp_path / "state",
                       event_log=tmp_path / "events.jsonl", start=BARS[0].end)
    assert runner.run_bars(iter(BARS[:50])) == 50
    assert runner.now == BARS[49].end
    runner.close()


@pytest.mark.invariant("a run writes the same log bytes under live and simulation durability", machine="eventlog")
def test_the_benchmark_run_writes_the_same_log_bytes_under_live_and_simulation(tmp_path: Path) -> None:
    live = run(tmp_path / "live", config("live", equal_work=True), per_bar=False)
    simulated = run(tmp_path / "simulation", config("simulation", equal_work=True), per_bar=False)
    assert live.count(b'"TRADE_CLOSED"') > 10
    assert live == simulated
