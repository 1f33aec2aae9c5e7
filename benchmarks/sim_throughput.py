"""A year of one-minute bars through the full runner, backtrader, a bare loop and a silent strategy.

Run:  pip install '.[bench]' && python benchmarks/sim_throughput.py [--year 2025] [--quick] [--profile]

``--quick`` runs January only (about 8,000 bars, well under 30 s); ``--profile`` adds a
cProfile of the equal-work run (the 30 most expensive functions by own time).

The bars (seeded synthetic one-minute bars on the XNYS calendar) are generated before
timing, and each runner's calendar is loaded before timing; an untimed equal-work run of
the first ``WARM_UP_BARS`` bars comes first (a process's first run imports and builds what
later runs reuse). Every statebot run is the
full runner: ``BotRunner`` + ``SimBroker`` fed through ``BotRunner.run_bars``, the
hash-chained event log written to a file, the same sma-cross rule (10/30, one
contract, flat from 5 minutes before each close) as the baselines:

* ``equal work``: the throttle and the daily loss limit off and a stop too wide to be hit
  (one contract), so statebot trades every crossover as backtrader does (both round-trip counts are printed);
  ``[durability] mode = "simulation"``, and again with ``"live"`` (the log fsynced
  before every order leaves the process). The two logs' sha256 are printed: they
  are the same bytes.
* ``default``: ``statebot sim``'s configuration (``SIM_DEFAULTS``: throttle and kill
  switch on), as a user gets it.
* ``never signals``: a strategy returning None on every bar: the runner's own cost
  per bar when nothing can change.
* ``backtrader``: benchmarks/baselines.py ``backtrader_run`` (the ``bench`` extra).
* ``bare loop``: benchmarks/baselines.py ``bare_loop``: no lifecycle, no log.

µs per round trip is the equal-work run's time above the silent strategy's, divided by
its round trips, by the wall clock and in CPU time (which leaves out fsync waits and a
shared machine's other processes). backtrader and the bare loop are timed both ways too: the
last column is each row's bars per CPU second against backtrader's, the ratio to read on a
shared machine (the wall-clock ratio moves with the other processes and the disk). Then, unless ``--quick`` or ``--no-memory``, the peak traced memory
(tracemalloc) of the runner fed from the streaming generator for one, four and twelve
months: flat means it does not grow with the number of bars.

Not a test: no assertion; it prints the figures and the ratios against the targets.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import pstats
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.baselines import backtrader_run, bare_loop, flatten_windows
from statebot import Bar, BotRunner, SessionSchedule, SimBroker, SmaCross
from statebot.app.simrun import SIM_DEFAULTS
from statebot.config.model import Config, from_data
from statebot.feeds import SyntheticBars

EQUAL_WORK: dict[str, Any] = {
    "throttle": {"max_consecutive_losses": 0, "min_win_rate": "0", "max_drawdown_usd": "0", "max_slippage_error_ticks": "0"},
    "kill_switch": {"daily_loss_limit_usd": "0"},
    # a stop too wide to be hit, sized to one contract whatever the equity (the fraction caps nothing):
    # statebot exits on crossovers only and trades every one, as the baselines do
    "sizing": {"max_stop_ticks": 1000, "max_contracts": 1, "equity_risk_fraction": "1",
               "max_risk_per_trade": {"default": "1250"}},
}
EQUAL_WORK_STOP_TICKS = 1000


class NeverSignals:
    name = "never-signals"

    def on_bar(self, bar, ctx):  # type: ignore[no-untyped-def]
        return None


def config(mode: str, *, equal_work: bool) -> Config:
    data: dict[str, Any] = dict(SIM_DEFAULTS)
    if equal_work:
        data.update(EQUAL_WORK)
    data["durability"] = {"mode": mode}
    return from_data(Config, data)


WARM_UP_BARS = 2_000
"""Bars of the untimed equal-work run that precedes the timed rows (about five sessions)."""


class Run:
    """One timed statebot run: bars/s, round trips, events, the log's sha256."""

    def __init__(self, bars: Sequence[Bar], strategy: Any, cfg: Config, profile: bool = False) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            log_path = Path(tmp) / "events.jsonl"
            broker = SimBroker(commission=cfg.commission.build())
            runner = BotRunner(strategy, broker, equity=Decimal(20000), config=cfg, state_dir=Path(tmp) / "state",
                               event_log=log_path, start=bars[0].end)
            runner.session.schedule.between(bars[0].end.date(), bars[-1].end.date())  # load the calendar untimed
            profiler = cProfile.Profile() if profile else None
            t0, c0 = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            runner.run_bars(bars, broker)
            runner.events.sync()
            if profiler is not None:
                profiler.disable()
            self.seconds, self.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
            runner.close()
            data = log_path.read_bytes()
        self.bars_per_s = len(bars) / self.seconds
        self.bars_per_cpu_s = len(bars) / self.cpu_seconds
        self.events = data.count(b"\n")
        self.round_trips = data.count(b'"type":"TRADE_CLOSED"')
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.profiler = profiler


def timed(fn: Any, *args: Any) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result) of ``fn(*args)``."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return time.perf_counter() - t0, time.process_time() - c0, out


def peak_memory(start: dt.date, end: dt.date) -> tuple[int, float]:
    """(bars, peak traced MiB) of the runner fed straight from the streaming generator."""
    cfg = config("simulation", equal_work=False)
    with tempfile.TemporaryDirectory() as tmp:
        broker = SimBroker(commission=cfg.commission.build())
        runner = BotRunner(SmaCross(), broker, equity=Decimal(20000), config=cfg, state_dir=Path(tmp) / "state",
                           event_log=Path(tmp) / "events.jsonl", start=dt.datetime.combine(start, dt.time(), dt.UTC))
        runner.session.schedule.between(start, end)
        counted = _Counted(SyntheticBars(start=start, end=end, seed=7))
        tracemalloc.start()
        runner.run_bars(counted, broker)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        runner.close()
    return counted.n, peak / 2**20


class _Counted:
    def __init__(self, bars: Iterable[Bar]) -> None:
        self.bars, self.n = bars, 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for bar in self.bars:
            self.n += 1
            yield bar


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--quick", action="store_true", help="January only (about 8,000 bars)")
    parser.add_argument("--profile", action="store_true", help="cProfile the equal-work run")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    start = dt.date(args.year, 1, 1)
    end = dt.date(args.year, 1, 31) if args.quick else dt.date(args.year, 12, 31)
    bars = list(SyntheticBars(start=start, end=end, seed=7))
    schedule = SessionSchedule()
    windows = flatten_windows(bars, schedule)
    flat = [windows[b.end.astimezone(schedule.tz).date()][0] <= b.end for b in bars]
    n = len(bars)

    bare_s, bare_cpu, (bare_trades, _) = timed(bare_loop, bars, flat)
    wide = EQUAL_WORK_STOP_TICKS
    # untimed, a few sessions: the first run of a process pays for lazy imports and the event log's
    # payload templates (built once per process), which the rows below should not count
    Run(bars[:WARM_UP_BARS], SmaCross(stop_ticks=wide), config("simulation", equal_work=True))
    equal = Run(bars, SmaCross(stop_ticks=wide), config("simulation", equal_work=True), profile=args.profile)
    live = Run(bars, SmaCross(stop_ticks=wide), config("live", equal_work=True))
    default = Run(bars, SmaCross(), config("simulation", equal_work=False))
    silent = Run(bars, NeverSignals(), config("simulation", equal_work=True))
    try:
        bt_s, bt_cpu_s, (bt_trades, _) = timed(backtrader_run, bars, flat)
        bt: float | None = n / bt_s
        bt_cpu: float | None = n / bt_cpu_s
    except ImportError:
        bt, bt_cpu, bt_trades = None, None, 0

    print(f"{n:,} one-minute bars, {start} .. {end}, XNYS (python {sys.version.split()[0]})")
    print(f"{'':34}{'bars/s':>12}  {'round trips':>11}  {'x backtrader':>12}  {'events':>7}  {'bars per CPU s':>14}"
          f"  {'x backtrader, CPU':>17}")

    def row(label: str, bars_per_s: float, trips: int | str, events: int | str = "", cpu: float | None = None) -> None:
        ratio = f"{bars_per_s / bt:.1f}x" if bt else "-"
        cpu_ratio = f"{cpu / bt_cpu:.1f}x" if bt_cpu and cpu is not None else "-"
        print(f"{label:34}{bars_per_s:>12,.0f}  {trips:>11}  {ratio:>12}  {events:>7}  "
              f"{'' if cpu is None else f'{cpu:,.0f}':>14}  {cpu_ratio:>17}")

    row("bare loop", n / bare_s, bare_trades, cpu=n / bare_cpu)
    if bt is not None:
        row("backtrader", bt, bt_trades, cpu=bt_cpu)
    else:
        print("backtrader: not installed (pip install '.[bench]')")
    row("statebot equal work, simulation", equal.bars_per_s, equal.round_trips, equal.events, equal.bars_per_cpu_s)
    row("statebot equal work, live", live.bars_per_s, live.round_trips, live.events, live.bars_per_cpu_s)
    row("statebot default (throttled)", default.bars_per_s, default.round_trips, default.events, default.bars_per_cpu_s)
    row("statebot, strategy never signals", silent.bars_per_s, 0, silent.events, silent.bars_per_cpu_s)
    print()
    print(f"per bar: bare loop {bare_s / n * 1e6:.2f} us, never-signals runner {silent.seconds / n * 1e6:.2f} us "
          f"({silent.seconds / bare_s:.1f}x the bare loop)")
    if equal.round_trips:
        for label, r in (("simulation", equal), ("live", live), ("default", default)):
            wall = (r.seconds - silent.seconds) / r.round_trips * 1e6 if r.round_trips else float("nan")
            cpu = (r.cpu_seconds - silent.cpu_seconds) / r.round_trips * 1e6 if r.round_trips else float("nan")
            print(f"per round trip above the silent run ({label}): {wall:.0f} us wall clock, {cpu:.0f} us CPU")
    same = "identical" if equal.sha256 == live.sha256 else "DIFFERENT"
    print(f"event log sha256, simulation {equal.sha256[:16]}  live {live.sha256[:16]}  ({same}); "
          f"default {default.sha256[:16]}")
    if bt is not None and bt_cpu is not None:
        verdict = "met" if equal.bars_per_s / bt >= 10 else "missed"
        cpu_verdict = "met" if equal.bars_per_cpu_s / bt_cpu >= 10 else "missed"
        print(f"target: equal work >= 10x backtrader: {equal.bars_per_s / bt:.1f}x by the wall clock ({verdict}), "
              f"{equal.bars_per_cpu_s / bt_cpu:.1f}x by CPU time ({cpu_verdict}); project goal 20x")
    if equal.profiler is not None:
        print()
        pstats.Stats(equal.profiler).sort_stats("tottime").print_stats(30)
    if not (args.quick or args.no_memory):
        for months in (1, 4, 12):
            last = dt.date(args.year + months // 12, months % 12 + 1, 1) - dt.timedelta(days=1)
            count, mib = peak_memory(start, last)
            print(f"peak traced memory, {months} month(s) streamed ({count:,} bars): {mib:.2f} MiB")


if __name__ == "__main__":
    main()
