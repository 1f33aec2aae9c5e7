"""Clock advances per second for bars that change no session state.

Run:  python benchmarks/clock_throughput.py [--n 2000000]

Times ``BarClock.advance`` (clock + SessionMachine) over N increasing times that
all fall inside one TRADING window, i.e. the per-bar path that must cost only a
few comparisons: no ``transitions`` trigger, no pandas, no event objects. Times
and bars are built before the timed loop. Target: >= 1,000,000 advances/s on
one core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import platform
import time

from statebot import Bar, BarClock, SessionMachine

UTC = dt.timezone.utc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="advances per round (default 2,000,000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported (default 5)")
    args = parser.parse_args()

    start = dt.datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 ET: TRADING until 20:55 UTC
    step = dt.timedelta(microseconds=1)
    times = [start + i * step for i in range(1, args.n + 1)]
    bars = [Bar(symbol="MES", end=t, open=100.0, high=100.5, low=99.5, close=100.25, volume=1) for t in times[: args.n // 10]]

    def rate(run, count: int) -> float:
        results = []
        for _ in range(args.rounds):
            machine = SessionMachine()
            clock = BarClock(machine.advance)
            clock.advance(start)  # places the machine: TRADING, transitions fired here, not timed
            gc.disable()
            t0 = time.perf_counter()
            run(clock)
            elapsed = time.perf_counter() - t0
            gc.enable()
            assert machine.state == "TRADING"
            results.append(count / elapsed)
        results.sort()
        return results[len(results) // 2]

    def by_time(clock: BarClock) -> None:
        advance = clock.advance
        for t in times:
            advance(t)

    def by_bar(clock: BarClock) -> None:
        on_bar = clock.on_bar
        for b in bars:
            on_bar(b)

    print(f"python {platform.python_version()} on {platform.machine()}, median of {args.rounds} rounds")
    print(f"clock.advance(t), no state change : {rate(by_time, len(times)):>12,.0f} advances/s  (target >= 1,000,000)")
    print(f"clock.on_bar(bar), no state change: {rate(by_bar, len(bars)):>12,.0f} bars/s")


if __name__ == "__main__":
    main()
