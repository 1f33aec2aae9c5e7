"""A year of one-minute bars through the full runner, backtrader and a bare loop: bars per second.

Run:  pip install '.[bench]' && python benchmarks/sim_throughput.py [--year 2025] [--no-memory]

The bars (seeded synthetic one-minute bars on the XNYS calendar, one calendar
year, about 97,000) are generated before timing and the calendar is loaded
before timing. Three timings, same bars, same sma-cross rule (10/30, one
contract, flat from 5 minutes before each close):

* ``statebot``: ``BotRunner`` + ``SimBroker`` with ``SmaCross`` and the event
  log written to a file, with the simulation settings of ``statebot sim``
  (fsync every 1000 events, runner snapshot per session, state files replaced
  atomically without fsync). The config is the default otherwise: the throttle
  and the kill switch are on, as a user gets them, so the learning state is saved
  before every throttle change takes effect.
* ``backtrader``: benchmarks/baselines.py ``backtrader_run`` (the ``bench`` extra).
* ``bare loop``: benchmarks/baselines.py ``bare_loop``: no lifecycle, no log.

Then, unless ``--no-memory``, the peak traced memory (tracemalloc) of the
runner fed from the streaming generator for one, four and twelve months:
flat means it does not grow with the number of bars.

Not a test: no assertion; it prints the figures and the ratios against the
targets (>= 20x backtrader, within 5x of the bare loop).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.baselines import backtrader_run, bare_loop, flatten_windows
from statebot import BotRunner, SessionSchedule, SimBroker, SmaCross
from statebot.feeds import SyntheticBars
from statebot.app.simrun import SimSetup


def run_statebot(bars, start: dt.date, end: dt.date) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """(bars per wall-clock second, bars per CPU second, events written). The two differ by
    the time spent waiting for fsync (state saves at throttle changes, the log every 1000 events)."""
    config = SimSetup().build_config()
    with tempfile.TemporaryDirectory() as tmp:
        broker = SimBroker(commission=config.commission.build())
        runner = BotRunner(SmaCross(), broker, equity=Decimal(20000), config=config, state_dir=Path(tmp) / "state",
                           event_log=Path(tmp) / "events.jsonl", start=bars[0].end)
        runner.session.schedule.between(start, end)  # load the calendar untimed
        run_once, on_bar = runner.run_once, broker.on_bar
        t0, c0 = time.perf_counter(), time.process_time()
        for bar in bars:
            on_bar(bar)
            run_once(bar)
        runner.events.sync()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        events = runner.events.head.seq
        runner.close()
    return len(bars) / elapsed, len(bars) / cpu, events


def peak_memory(start: dt.date, end: dt.date) -> tuple[int, float]:
    """(bars, peak traced MiB) of the runner fed straight from the streaming generator."""
    config = SimSetup().build_config()
    with tempfile.TemporaryDirectory() as tmp:
        broker = SimBroker(commission=config.commission.build())
        runner = BotRunner(SmaCross(), broker, equity=Decimal(20000), config=config, state_dir=Path(tmp) / "state",
                           event_log=Path(tmp) / "events.jsonl", start=dt.datetime.combine(start, dt.time(), dt.UTC))
        runner.session.schedule.between(start, end)
        count = 0
        tracemalloc.start()
        for bar in SyntheticBars(start=start, end=end, seed=7):
            broker.on_bar(bar)
            runner.run_once(bar)
            count += 1
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        runner.close()
    return count, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    start, end = dt.date(args.year, 1, 1), dt.date(args.year, 12, 31)
    bars = list(SyntheticBars(start=start, end=end, seed=7))
    schedule = SessionSchedule()
    windows = flatten_windows(bars, schedule)
    flat = [windows[b.end.astimezone(schedule.tz).date()][0] <= b.end for b in bars]

    t0 = time.perf_counter()
    bare_trades, _ = bare_loop(bars, flat)
    bare = len(bars) / (time.perf_counter() - t0)
    ours, ours_cpu, events = run_statebot(bars, start, end)
    try:
        t0 = time.perf_counter()
        bt_trades, _ = backtrader_run(bars, flat)
        bt: float | None = len(bars) / (time.perf_counter() - t0)
    except ImportError:
        bt = None
    print(f"{len(bars):,} one-minute bars, {args.year}, XNYS (python {sys.version.split()[0]})")
    print(f"bare loop    {bare:>12,.0f} bars/s  ({bare_trades} round trips)")
    print(f"statebot     {ours:>12,.0f} bars/s  ({events:,} events logged; {ours_cpu:,.0f} bars per CPU second)")
    if bt is not None:
        print(f"backtrader   {bt:>12,.0f} bars/s  ({bt_trades} round trips)")
        print(f"statebot / backtrader = {ours / bt:.1f}x  (target >= 20x: {'met' if ours / bt >= 20 else 'MISSED'})")
    else:
        print("backtrader   not installed (pip install '.[bench]')")
    print(f"bare loop / statebot  = {bare / ours:.1f}x  (target <= 5x: {'met' if bare / ours <= 5 else 'MISSED'})")
    if not args.no_memory:
        for months in (1, 4, 12):
            last = dt.date(args.year + months // 12, months % 12 + 1, 1) - dt.timedelta(days=1)
            n, mib = peak_memory(start, last)
            print(f"peak traced memory, {months} month(s) streamed ({n:,} bars): {mib:.2f} MiB")


if __name__ == "__main__":
    main()
