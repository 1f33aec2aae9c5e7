"""Event-log appends per second for the payloads the runner writes most.

Run:  python benchmarks/event_log_throughput.py [--n 20000] [--rounds 5] [--before REV]

Times ``EventLog.append`` (validation, canonical JSON, hash, one ``os.write``
per line) into a file in a temporary folder with the simulation's fsync policy
(``"every_n"``, 1000), alternating a ``POSITION_TRANSITION`` and a ``FILL``
payload shaped like the runner's (strings, ints, a bool, Decimal prices), two
events per one-minute bar at the bar's UTC time (one datetime object, as the
runner passes it). Also times ``Event.make`` alone (no file).
Payloads and times are built before the timed loop; the median of the rounds
is reported.

``--before REV`` loads ``statebot/events.py`` as it was at git revision REV
(e.g. the commit before a change) into a separate module and prints its
figures next to the current ones, with the speed-up.

Not a test: no assertion. A year of one-minute bars through the runner writes
about 21,000 events, so every microsecond per append is ~21 ms per simulated year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
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


def load_events_module(rev: str) -> ModuleType:
    """``statebot/events.py`` at git revision ``rev`` as a module of its own."""
    source = subprocess.run(["git", "show", f"{rev}:statebot/events.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    name = "_events_at_" + "".join(c if c.isalnum() else "_" for c in rev)
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"{rev}:statebot/events.py", "exec"), module.__dict__)
    return module


def median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2]


def appends_per_s(events: ModuleType, batch: list[tuple[dt.datetime, str, dict[str, Any]]], rounds: int) -> float:
    results = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            log = events.EventLog(Path(tmp) / "events.jsonl", config_hash=CFG, durability="simulation")
            append = log.append
            gc.disable()
            t0 = time.perf_counter()
            for ts, type_, payload in batch:
                append(ts, type_, payload)
            elapsed = time.perf_counter() - t0
            gc.enable()
            log.close()
            assert events.read_events(Path(tmp) / "events.jsonl")[-1].seq == len(batch)
        results.append(len(batch) / elapsed)
    return median(results)


def makes_per_s(events: ModuleType, batch: list[tuple[dt.datetime, str, dict[str, Any]]], rounds: int) -> float:
    results = []
    make, genesis = events.Event.make, events.GENESIS_HASH
    for _ in range(rounds):
        gc.disable()
        t0 = time.perf_counter()
        for seq, (ts, type_, payload) in enumerate(batch, start=1):
            make(seq=seq, ts=ts, type=type_, payload=payload, config_hash=CFG, prev_hash=genesis)
        elapsed = time.perf_counter() - t0
        gc.enable()
        results.append(len(batch) / elapsed)
    return median(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="appends per round (default 20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported (default 5)")
    parser.add_argument("--before", metavar="REV", help="also time statebot/events.py as of this git revision")
    args = parser.parse_args()
    batch = runner_like_events(args.n)

    versions: list[tuple[str, ModuleType]] = []
    if args.before:
        try:
            versions.append((f"before ({args.before})", load_events_module(args.before)))
        except subprocess.CalledProcessError as exc:
            print(f"cannot read statebot/events.py at {args.before}: {exc.stderr.strip()}", file=sys.stderr)
            raise SystemExit(2) from None
    versions.append(("now", current))

    print(f"python {platform.python_version()} on {platform.machine()}, {args.n:,} events, median of {args.rounds} rounds")
    figures: dict[str, tuple[float, float]] = {}
    for label, module in versions:
        appends = appends_per_s(module, batch, args.rounds)
        makes = makes_per_s(module, batch, args.rounds)
        figures[label] = (appends, makes)
        print(f"{label:>22}: EventLog.append {appends:>10,.0f}/s ({1e6 / appends:6.2f} µs)   "
              f"Event.make {makes:>10,.0f}/s ({1e6 / makes:6.2f} µs)")
    if len(figures) == 2:
        (a0, m0), (a1, m1) = figures.values()
        print(f"{'speed-up':>22}: EventLog.append {a1 / a0:.1f}x, Event.make {m1 / m0:.1f}x")


if __name__ == "__main__":
    main()
