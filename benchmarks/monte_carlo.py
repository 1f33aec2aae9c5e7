"""A Monte Carlo of one-week simulations: 64 seeds of ``statebot sim``'s demo week across 2 processes.

Run:  python benchmarks/monte_carlo.py [--seeds 64] [--jobs 2] [--serial]

What ``statebot sim --seeds 64 --jobs 2`` runs (``run_seeds``: each seed a full
simulation of the demo week, 2026-11-23 .. 2026-11-27 on XNYS, sma-cross with
``SIM_DEFAULTS``, seeded synthetic one-minute bars and venue, its event log and
state written in its own folder, the log verified), timed from the first seed
handed to the pool to the last report back: the pool's start-up and each
process's first import of statebot are included, as a user waits for them.
``--serial`` also runs the seeds in this process (``--jobs 1``) and checks that
both ways give the same report per seed.

Prints seeds/s, bars/s over all seeds, the CPU time of this process and of the
workers, the load average (on a shared machine two processes do not get two
cores), and the Monte Carlo summary ``statebot sim`` prints (P5 / P50 / P95).

Not a test: no assertion besides the equality with ``--serial``; it prints the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statebot.app.simrun import SimReport, SimSetup, monte_carlo_table, run_seeds


def timed(setups: list[SimSetup], jobs: int) -> tuple[float, float, list[SimReport]]:
    """(wall seconds, CPU seconds of this process and its finished children, reports)."""
    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    with tempfile.TemporaryDirectory(prefix="statebot-mc-") as tmp:
        c0, t0 = cpu(), time.perf_counter()
        reports = run_seeds(setups, tmp, jobs=jobs)
        return time.perf_counter() - t0, cpu() - c0, reports


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=64, help="seeds, from statebot sim's default seed on (default 64)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--serial", action="store_true", help="also run them in this process and compare")
    args = parser.parse_args()
    first = SimSetup().seed  # statebot sim's seeds: --seed (default 7) on
    setups = [SimSetup(seed=seed) for seed in range(first, first + args.seeds)]
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f}; "
          f"{args.seeds} seeds of {setups[0].start} .. {setups[0].end} (as statebot sim --seeds {args.seeds} --jobs {args.jobs})")
    ways = [(f"--jobs {args.jobs}", args.jobs)] + ([("--jobs 1 (this process)", 1)] if args.serial else [])
    results: dict[str, list[SimReport]] = {}
    for label, jobs in ways:
        wall, cpu, reports = timed(setups, jobs)
        results[label] = reports
        bars = sum(r.bars for r in reports)
        trades = sum(r.trades for r in reports)
        verified = sum(r.log_verifies for r in reports)
        print(f"{label:<24} wall {wall:6.1f} s  {len(reports) / wall:5.2f} seeds/s  {bars / wall:9,.0f} bars/s  "
              f"CPU {cpu:6.1f} s  ({bars:,} bars, {trades:,} trades, {verified}/{len(reports)} logs verify)")
    first = next(iter(results.values()))
    print()
    print("\n".join(monte_carlo_table(first).splitlines()[-3:]))
    if len(results) == 2:
        a, b = results.values()
        same = [(x.seed, x.trades, x.net_pnl, x.max_drawdown) for x in a] == [(y.seed, y.trades, y.net_pnl, y.max_drawdown) for y in b]
        print(f"the same report per seed both ways: {'yes' if same else 'NO'}")
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
