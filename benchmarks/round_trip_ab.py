"""The round trip and the quiet bar, this tree against a git revision, in alternating warm processes.

Run:  python benchmarks/round_trip_ab.py --before REV [--after REV] [--rounds 12] [--year 2025] [--months 1]

Exports ``REV`` (``git archive``) into a temporary folder and starts two worker processes,
one importing statebot from that copy and one from this tree (or from ``--after REV``, exported
too: the working tree can then change while the benchmark runs). Each worker builds the same
bars (seeded synthetic one-minute bars on XNYS, January by default) and the benchmark's
equal-work configuration (``benchmarks/sim_throughput.py``: ``EQUAL_WORK``, simulation
durability, sma-cross with a stop too wide to be hit), then, once per round, runs the full
runner (``BotRunner.run_bars(bars, SimBroker)``, the event log to a file) three times:

* ``equal``: sma-cross trading every crossover (protective stops at the venue, the default);
* ``silent``: a strategy that never signals (the runner's own cost per bar);
* ``quiet``: ``run_once`` alone on a runner whose every bar is quiet (nothing held, nothing
  working, no session change due; the strategy never signals), its bars fed without a venue
  ``on_bar``: the runner's cost of a bar on which nothing can change state.

Rounds alternate between the two workers, so a shared machine's load falls on both alike;
each run is timed in CPU time (``time.process_time``); min and median over the rounds are
printed, and the sha256 of each run's log (they must match between the versions when no
behaviour changed). µs per round trip is (equal - silent) / round trips.

Not a test: no assertion.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import datetime as dt, hashlib, json, sys, tempfile, time
from decimal import Decimal
from pathlib import Path
tree, year, months = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, tree)
import statebot
assert statebot.__file__.startswith(tree), statebot.__file__
from statebot import BotRunner, SimBroker, SmaCross
from statebot.app.simrun import SIM_DEFAULTS
from statebot.config.model import Config, from_data
from statebot.feeds import SyntheticBars
EQUAL_WORK = json.loads(sys.argv[4])
STOP = int(sys.argv[5])
end = dt.date(year + months // 12, months % 12 + 1, 1) - dt.timedelta(days=1)
bars = list(SyntheticBars(start=dt.date(year, 1, 1), end=end, seed=7))
data = dict(SIM_DEFAULTS); data.update(EQUAL_WORK); data["durability"] = {"mode": "simulation"}
cfg = from_data(Config, data)

class NeverSignals:
    name = "never-signals"
    def on_bar(self, bar, ctx):
        return None

def run(strategy, venue=True):
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        broker = SimBroker(commission=cfg.commission.build())
        runner = BotRunner(strategy, broker, equity=Decimal(20000), config=cfg, state_dir=Path(tmp) / "state",
                           event_log=log, start=bars[0].end)
        runner.session.schedule.between(bars[0].end.date(), bars[-1].end.date())
        c0 = time.process_time()
        if venue:
            runner.run_bars(bars, broker)
        else:
            runner.run_bars(bars)
        runner.events.sync()
        cpu = time.process_time() - c0
        runner.close()
        raw = log.read_bytes()
    return cpu, raw.count(b'"type":"TRADE_CLOSED"'), raw.count(b"\n"), hashlib.sha256(raw).hexdigest()[:16]

print(json.dumps({"bars": len(bars)}), flush=True)
for line in sys.stdin:
    equal = run(SmaCross(stop_ticks=STOP))
    silent = run(NeverSignals())
    quiet = run(NeverSignals(), venue=False)
    print(json.dumps({"equal": equal, "silent": silent, "quiet": quiet}), flush=True)
"""


def export(rev: str, dest: Path) -> Path:
    """The tree of ``rev`` (statebot/ only) extracted under ``dest``."""
    archive = subprocess.run(["git", "archive", rev, "statebot"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            tar.extractall(dest, filter="data")
        else:
            tar.extractall(dest)
    return dest


def median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--before", required=True, metavar="REV", help="the git revision to compare with")
    parser.add_argument("--after", metavar="REV", help="compare with this revision instead of the working tree")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--months", type=int, default=1, help="months of bars from January (default 1)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks.sim_throughput import EQUAL_WORK, EQUAL_WORK_STOP_TICKS

    with tempfile.TemporaryDirectory() as tmp:
        after = ROOT if args.after is None else export(args.after, Path(tmp) / "after")
        trees = {f"before ({args.before})": export(args.before, Path(tmp) / "before"),
                 "now" if args.after is None else f"after ({args.after})": after}
        workers: dict[str, subprocess.Popen[str]] = {}
        for label, tree in trees.items():
            workers[label] = subprocess.Popen(
                [sys.executable, "-c", WORKER, str(tree), str(args.year), str(args.months), json.dumps(EQUAL_WORK),
                 str(EQUAL_WORK_STOP_TICKS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        n = 0
        for w in workers.values():
            assert w.stdout is not None
            n = json.loads(w.stdout.readline())["bars"]
        results: dict[str, list[dict[str, Any]]] = {label: [] for label in workers}
        loads = []
        for _ in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for label, w in workers.items():
                assert w.stdin is not None and w.stdout is not None
                w.stdin.write("run\n")
                w.stdin.flush()
                results[label].append(json.loads(w.stdout.readline()))
        for w in workers.values():
            assert w.stdin is not None
            w.stdin.close()
            w.wait()

    print(f"{n:,} bars from {args.year}-01, {args.rounds} alternating rounds, CPU time, "
          f"load average {min(loads):.1f} - {max(loads):.1f}")
    print(f"{'':22}{'equal work CPU s':>20}  {'us per round trip':>18}  {'silent us/bar':>14}  {'quiet us/bar':>13}  "
          f"{'trips':>5}  {'events':>6}  log sha256 (equal / silent)")
    for label, rows in results.items():
        equal = [r["equal"][0] for r in rows]
        trips = rows[0]["equal"][1]
        per_trip = [(r["equal"][0] - r["silent"][0]) / trips * 1e6 for r in rows]
        silent = [r["silent"][0] / n * 1e6 for r in rows]
        quiet = [r["quiet"][0] / n * 1e6 for r in rows]
        hashes = {(r["equal"][3], r["silent"][3]) for r in rows}

        def mm(values: list[float], fmt: str) -> str:
            return f"{min(values):{fmt}} / {median(values):{fmt}}"

        print(f"{label:22}{mm(equal, '.3f'):>20}  {mm(per_trip, '.0f'):>18}  {mm(silent, '.2f'):>14}  "
              f"{mm(quiet, '.2f'):>13}  {trips:>5}  {rows[0]['equal'][2]:>6}  "
              f"{', '.join(f'{a} / {b}' for a, b in sorted(hashes))}")
    print("(min / median over the rounds)")


if __name__ == "__main__":
    main()
