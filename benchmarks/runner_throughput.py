"""Bars per second through ``BotRunner.run_once`` + ``SimBroker``, against a bare loop.

Run:  python benchmarks/runner_throughput.py [--days 60]

Three timings on the same synthetic one-minute XNYS bars (generated before
timing; the calendar is loaded before timing too):

* ``bare``: the baselines module's hand-written sma-cross loop (no lifecycle);
* ``runner, quiet strategy``: a strategy that never signals, so every bar is
  the path that changes no state (the floor of the runner's own cost);
* ``runner, sma-cross``: the demo strategy trading (orders, fills, events).

Both runner timings use the simulation settings of ``statebot sim``
(``statebot.app.simrun.SIM_DEFAULTS``): event log fsync every 1000 events, the
runner snapshot saved per session, the learning state every 1000 trades
(throttle changes are still saved at once, before they take effect) and state
files replaced atomically without fsync. Live settings fsync on every change
and cost more per trade, never per quiet bar.

Not a test: no assertion, it prints the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.baselines import bare_loop, flatten_windows
from statebot import BotRunner, SessionSchedule, SimBroker, SmaCross
from statebot.feeds import SyntheticBars
from statebot.app.simrun import SimSetup


class Quiet:
    name = "quiet"

    def on_bar(self, bar, ctx):  # type: ignore[no-untyped-def]
        return None


def timed_runner(bars, strategy) -> float:  # type: ignore[no-untyped-def]
    cfg = SimSetup().build_config()
    with tempfile.TemporaryDirectory() as tmp:
        broker = SimBroker()
        runner = BotRunner(strategy, broker, equity=Decimal(100000), config=cfg, state_dir=Path(tmp) / "state",
                           event_log=Path(tmp) / "events.jsonl")
        runner.session.schedule.between(bars[0].end.date(), bars[-1].end.date())  # load the calendar untimed
        run_once, on_bar = runner.run_once, broker.on_bar
        t0 = time.perf_counter()
        for bar in bars:
            on_bar(bar)
            run_once(bar)
        elapsed = time.perf_counter() - t0
        runner.close()
    return len(bars) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    start = dt.date(2026, 1, 5)
    bars = list(SyntheticBars(start=start, end=start + dt.timedelta(days=args.days), seed=7))
    schedule = SessionSchedule()
    windows = flatten_windows(bars, schedule)
    flat = [windows[b.end.astimezone(schedule.tz).date()][0] <= b.end for b in bars]
    t0 = time.perf_counter()
    bare_loop(bars, flat)
    bare = len(bars) / (time.perf_counter() - t0)
    quiet = timed_runner(bars, Quiet())
    sma = timed_runner(bars, SmaCross())
    print(f"{len(bars)} one-minute bars")
    print(f"bare loop              {bare:>12,.0f} bars/s")
    print(f"runner, quiet strategy {quiet:>12,.0f} bars/s  ({bare / quiet:.1f}x slower than bare)")
    print(f"runner, sma-cross      {sma:>12,.0f} bars/s  ({bare / sma:.1f}x slower than bare)")


if __name__ == "__main__":
    main()
