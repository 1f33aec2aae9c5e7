"""Event-log appends per second for the payloads the runner writes.

Run:  python benchmarks/event_log_throughput.py [--n 20000] [--rounds 5] [--before REV]

Times ``EventLog.append`` (validation, canonical JSON, hash, the line buffered
as under simulation durability) into a file in a temporary folder, on two batches:

* ``pair``: alternating a ``POSITION_TRANSITION`` and a ``FILL`` payload shaped
  like the runner's (strings, ints, a bool, Decimal prices), two events per
  one-minute bar at the bar's UTC time (one datetime object, as the runner passes it);
* ``runner``: the events the runner appends in ``sim_throughput.py``'s equal-work
  January run (3,261 events of 11 shapes), recorded as the runner passes them
  (its ``EventType`` members, dicts of str, int, bool, None, Decimal, datetime, date
  and nested dicts) by running it once, untimed.

Also times ``Event.make`` alone (no file) on the pair batch.
Payloads and times are built before the timed loop; the rounds of every version
alternate (so a shared machine's load falls on each alike), each is timed in CPU
time (``time.process_time``: on a loaded machine the wall clock also counts the time
other processes hold the cores), and the median of the rounds is reported.

``--before REV`` loads ``statebot/journal/log.py`` as it was at git revision REV
(e.g. the commit before a change) into a separate module and prints its
figures next to the current ones, with the speed-up.

Not a test: no assertion. A year of one-minute bars through the runner writes
about 21,000 events, so every microsecond per append is ~21 ms per simulated year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import statebot.journal.log as current  # noqa: E402

CFG = "c" * 64
START = dt.datetime(2025, 1, 2, 15, 0, tzinfo=dt.timezone.utc)


def runner_like_events(n: int) -> list[tuple[dt.datetime, str, dict[str, Any]]]:
    """``n`` (ts, type, payload) alternating POSITION_TRANSITION and FILL, as the runner logs them."""
    out: list[tuple[dt.datetime, str, dict[str, Any]]] = []
    ts = START
    for i in range(n):
        if i % 2 == 0:
            ts = START + dt.timedelta(minutes=i // 2)
            out.append((ts, "POSITION_TRANSITION", {"strategy": "sma-cross", "symbol": "MES", "from": "FLAT",
                                                    "to": "ENTERING", "qty": 0}))
        else:
            out.append((ts, "FILL", {"order_id": f"r1-{i}", "exec_id": f"sim-{i}", "strategy": "sma-cross",
                                     "symbol": "MES", "side": "SELL", "qty": -1, "price": Decimal("6003.50"),
                                     "commission": Decimal("1.25"), "routed": True}))
    return out


def recorded_runner_events() -> list[tuple[dt.datetime, str, dict[str, Any]]]:
    """The (ts, type, payload) of every append of the benchmark's equal-work January run, as the runner passes them."""
    from benchmarks.sim_throughput import EQUAL_WORK_STOP_TICKS, config
    from statebot import BotRunner, SimBroker, SmaCross
    from statebot.feeds import SyntheticBars

    bars = list(SyntheticBars(start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31), seed=7))
    cfg = config("simulation", equal_work=True)
    recorded: list[tuple[dt.datetime, str, dict[str, Any]]] = []
    append = current.EventLog.append

    def recording(log: Any, ts: dt.datetime, type_: str, payload: Any = None) -> Any:
        recorded.append((ts, type_, payload))
        return append(log, ts, type_, payload)

    setattr(current.EventLog, "append", recording)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            broker = SimBroker(commission=cfg.commission.build())
            runner = BotRunner(SmaCross(stop_ticks=EQUAL_WORK_STOP_TICKS), broker, equity=Decimal(20000), config=cfg,
                               state_dir=Path(tmp) / "state", event_log=Path(tmp) / "events.jsonl", start=bars[0].end)
            runner.run_bars(bars, broker)
            runner.close()
    finally:
        setattr(current.EventLog, "append", append)
    return recorded


def load_events_module(rev: str) -> ModuleType:
    """``statebot/journal/log.py`` at git revision ``rev`` as a module of its own."""
    source = subprocess.run(["git", "show", f"{rev}:statebot/journal/log.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    name = "_events_at_" + "".join(c if c.isalnum() else "_" for c in rev)
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"{rev}:statebot/journal/log.py", "exec"), module.__dict__)
    return module


def median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2]


def appends_per_s(events: ModuleType, batch: list[tuple[dt.datetime, str, dict[str, Any]]]) -> float:
    """One round: appends per second of ``batch`` into a fresh simulation-durability log."""
    with tempfile.TemporaryDirectory() as tmp:
        log = events.EventLog(Path(tmp) / "events.jsonl", config_hash=CFG, durability="simulation")
        append = log.append
        gc.disable()
        t0 = time.process_time()
        for ts, type_, payload in batch:
            append(ts, type_, payload)
        elapsed = time.process_time() - t0
        gc.enable()
        log.close()
        data = (Path(tmp) / "events.jsonl").read_bytes()
        assert data.count(b"\n") == len(batch)
        SHA256.setdefault(len(batch), set()).add(hashlib.sha256(data).hexdigest())
    return len(batch) / elapsed


SHA256: dict[int, set[str]] = {}
"""The sha256 of each batch's log, per batch length, over every version and round: one each."""


def makes_per_s(events: ModuleType, batch: list[tuple[dt.datetime, str, dict[str, Any]]]) -> float:
    """One round: ``Event.make`` per second over ``batch``."""
    make, genesis = events.Event.make, events.GENESIS_HASH
    gc.disable()
    t0 = time.process_time()
    for seq, (ts, type_, payload) in enumerate(batch, start=1):
        make(seq=seq, ts=ts, type=type_, payload=payload, config_hash=CFG, prev_hash=genesis)
    elapsed = time.process_time() - t0
    gc.enable()
    return len(batch) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="appends per round (default 20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported (default 5)")
    parser.add_argument("--before", metavar="REV", help="also time statebot/journal/log.py as of this git revision")
    args = parser.parse_args()
    batch = runner_like_events(args.n)
    runner = recorded_runner_events()

    versions: list[tuple[str, ModuleType]] = []
    if args.before:
        try:
            versions.append((f"before ({args.before})", load_events_module(args.before)))
        except subprocess.CalledProcessError as exc:
            print(f"cannot read statebot/events.py at {args.before}: {exc.stderr.strip()}", file=sys.stderr)
            raise SystemExit(2) from None
    versions.append(("now", current))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {platform.python_version()} on {platform.machine()}, pair batch {args.n:,} events, runner batch "
          f"{len(runner):,} events, median of {args.rounds} alternating rounds, load average {load:.1f}")
    rounds: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _ in versions}
    for _ in range(args.rounds):
        for label, module in versions:
            rounds[label].append((appends_per_s(module, batch), appends_per_s(module, runner), makes_per_s(module, batch)))
    figures: dict[str, tuple[float, float, float]] = {}
    for label, results in rounds.items():
        pair, mix, makes = (median([r[i] for r in results]) for i in range(3))
        figures[label] = (pair, mix, makes)
        print(f"{label:>22}: EventLog.append pair {1e6 / pair:6.2f} µs, runner {1e6 / mix:6.2f} µs   "
              f"Event.make {1e6 / makes:6.2f} µs")
    if len(figures) == 2:
        (p0, r0, m0), (p1, r1, m1) = figures.values()
        print(f"{'speed-up':>22}: EventLog.append pair {p1 / p0:.2f}x, runner {r1 / r0:.2f}x, Event.make {m1 / m0:.2f}x")
    same = all(len(hashes) == 1 for hashes in SHA256.values())
    print(f"{'log bytes':>22}: {'the same' if same else 'DIFFERENT'} in every version and round "
          f"({', '.join(sorted(h[:16] for hashes in SHA256.values() for h in hashes))})")


if __name__ == "__main__":
    main()
