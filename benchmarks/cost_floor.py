"""The least a year of the demo can cost: what statebot must do, priced one unit at a time.

Run:  python benchmarks/cost_floor.py [--year 2025]

issue 6 asks for at least 20x backtrader's bars per second and within 5x of a bare loop.
This prints the floor any runner keeping statebot's guarantees pays on this machine, from
two measurements:

1. What the year's run has to do (counted by running it once, with the simulation
   settings of ``statebot sim``): bars, state changes fired through ``transitions``
   (every session, position, throttle and kill-switch transition), events appended
   to the hash-chained log, and state files replaced (learning state before a
   throttle change takes effect; the runner snapshot per session).
2. What each unit costs alone (median of repeats): the bare loop's per-bar work,
   one ``TableMachine.fire`` (a kill-switch trip or reset: the cheapest machine),
   one ``EventLog.append`` of a position-transition payload, one ``atomic_write``
   of a 2 KB file without fsync (the temp file and ``os.replace`` that make a save
   atomic; the rename alone is most of it on ext4).

floor = bars x bare + fires x fire + events x append + saves x replace; nothing else
(the runner's bookkeeping, the venue, the strategy's context) is counted, so the real
run is always slower. Not a test: it prints the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.baselines import backtrader_run, bare_loop, flatten_windows
from benchmarks.sim_throughput import Run, config
from statebot import KillSwitch, SessionSchedule, SmaCross
from statebot.journal.log import EventLog
from statebot.feeds import SyntheticBars
from statebot.core.fsm.table import TableMachine
from statebot.store.persistence import atomic_write

T = dt.datetime(2025, 6, 2, 15, 0, tzinfo=dt.UTC)


def per_call(fn: Callable[[], object], n: int, repeats: int = 5) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` batches of ``n`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def count_work(bars: list, start: dt.date, end: dt.date) -> dict[str, int]:  # type: ignore[type-arg]
    """Run the year once with counters on the state changes and the state-file replaces."""
    import statebot.store.persistence as persistence
    import statebot.app.runner_state as runner_state

    counts = {"fires": 0, "saves": 0}
    fire, write = TableMachine.fire, persistence.atomic_write

    def counted_fire(self: TableMachine, trigger: str, **data: object) -> object:
        changed = fire(self, trigger, **data)
        counts["fires"] += 1
        return changed

    def counted_write(*args: object, **kwargs: object) -> None:
        counts["saves"] += 1
        write(*args, **kwargs)  # type: ignore[arg-type]

    TableMachine.fire = counted_fire  # type: ignore[method-assign]
    persistence.atomic_write = counted_write  # type: ignore[assignment]
    runner_state.atomic_write = counted_write  # type: ignore[attr-defined]
    try:
        events = Run(bars, SmaCross(), config("simulation", equal_work=False)).events
    finally:
        TableMachine.fire = fire  # type: ignore[method-assign]
        persistence.atomic_write = write
        runner_state.atomic_write = write  # type: ignore[attr-defined]
    return {"bars": len(bars), "events": events, **counts}


def unit_costs(bars: list, flat: list[bool]) -> dict[str, float]:  # type: ignore[type-arg]
    t0 = time.perf_counter()
    bare_loop(bars, flat)
    bare = (time.perf_counter() - t0) / len(bars)

    ks = KillSwitch()
    state = {"tripped": False}

    def toggle() -> None:
        if state["tripped"]:
            ks.reset("benchmark", T)
        else:
            ks.trip("consecutive_rejects", T, "benchmark")
        state["tripped"] = not state["tripped"]

    fire = per_call(toggle, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        log = EventLog(Path(tmp) / "events.jsonl", config_hash="0" * 64, durability="simulation")
        clock = {"t": T}

        def append() -> None:
            clock["t"] += dt.timedelta(microseconds=1)
            log.append(clock["t"], "POSITION_TRANSITION",
                       {"strategy": "sma-cross", "symbol": "MES", "from": "FLAT", "to": "ENTERING", "qty": 0})

        event = per_call(append, 2000)
        log.close()
        target, data = Path(tmp) / "state.json", b"x" * 2048
        replace = per_call(lambda: atomic_write(target, data, fsync=False), 200)
    return {"bare": bare, "fire": fire, "event": event, "replace": replace}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()
    start, end = dt.date(args.year, 1, 1), dt.date(args.year, 12, 31)
    bars = list(SyntheticBars(start=start, end=end, seed=7))
    schedule = SessionSchedule()
    windows = flatten_windows(bars, schedule)
    flat = [windows[b.end.astimezone(schedule.tz).date()][0] <= b.end for b in bars]

    work = count_work(bars, start, end)
    cost = unit_costs(bars, flat)
    parts = {
        "strategy work (bare loop per bar)": work["bars"] * cost["bare"],
        "state changes through transitions": work["fires"] * cost["fire"],
        "event-log appends": work["events"] * cost["event"],
        "atomic state-file replaces": work["saves"] * cost["replace"],
    }
    floor = sum(parts.values())
    print(f"{work['bars']:,} one-minute bars, {args.year}, XNYS (python {sys.version.split()[0]})")
    print(f"work in the year: {work['fires']:,} state changes, {work['events']:,} events, {work['saves']:,} state-file replaces")
    print(f"unit costs: bare loop {cost['bare'] * 1e6:.2f} us/bar, fire {cost['fire'] * 1e6:.1f} us, "
          f"append {cost['event'] * 1e6:.1f} us, replace {cost['replace'] * 1e6:.0f} us")
    for name, seconds in parts.items():
        print(f"  {name:<36} {seconds:6.3f} s  ({seconds / work['bars'] * 1e6:5.2f} us/bar)")
    print(f"floor: {floor:.3f} s for the year = at most {work['bars'] / floor:,.0f} bars/s with zero runner overhead")
    print(f"within 5x of the bare loop needs {1 / (5 * cost['bare']):,.0f} bars/s: "
          f"{'above the floor' if floor <= 5 * work['bars'] * cost['bare'] else 'faster than the floor: not reachable'}")
    try:
        t0 = time.perf_counter()
        backtrader_run(bars, flat)
        bt = len(bars) / (time.perf_counter() - t0)
    except ImportError:
        print("backtrader not installed (pip install '.[bench]'): no 20x figure")
        return
    need = 20 * bt
    print(f"20x backtrader ({bt:,.0f} bars/s) needs {need:,.0f} bars/s: "
          f"{'above the floor' if need <= work['bars'] / floor else 'faster than the floor: not reachable'}")


if __name__ == "__main__":
    main()
