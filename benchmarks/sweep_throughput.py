"""Sweep points per second: in this process, in 2 local processes, on a 2-worker Dask LocalCluster.

Run:  pip install '.[dask]' && python benchmarks/sweep_throughput.py [--points 16] [--days 2]

The sweep is sma-cross fast x slow on seeded synthetic one-minute bars
(XNYS, from 2026-11-23 on, ``--days`` sessions), one seed, ``--points``
points, each a full simulation with its event log written. Each way of
running starts from an empty results folder; pools and clusters are started
before timing (their start-up is printed apart); the local pool is a new one
per sweep (``run_sweep`` starts it), so its figure includes the start-up of two
processes and their first import of statebot, while the cluster's workers are
warmed by one sweep before timing. Every way must give the
same result per point (checked; a difference stops the script).

Per-task overhead is measured two ways: the round trip of an empty task
(submit, run nothing, return) and, for the sweep itself, wall x workers minus
the points' own compute time (``PointResult.seconds``, timed in the worker),
per task. Chunks are ``--chunk`` points (default 1: the overhead per point).

Not a test: no assertion besides the equality; it prints the figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statebot.app.sweep import SweepRun, load_sweep, run_sweep
from statebot.app.sweep.spec import SweepSpec


def _noop() -> None:
    return None


def sweep_file(folder: Path, points: int, days: int) -> Path:
    fast = list(range(2, 2 + 2 * (points // 2), 2))[: max(1, points // 2)]
    slow = [30, 60] if points >= 2 else [30]
    end = {1: "2026-11-23", 2: "2026-11-24", 3: "2026-11-25"}.get(days, "2026-11-25")
    path = folder / "bench.toml"
    path.write_text(f'[sim]\nstart = 2026-11-23\nend = {end}\nseed = 1\n[sweep]\nseeds = [1]\n'
                    f'[sweep.params]\nfast = {fast}\nslow = {slow}\n', encoding="utf-8")
    return path


def report(name: str, run: SweepRun, wall: float, workers: int, tasks: int, empty_s: float | None) -> None:
    compute = sum(r.seconds for r in run.results)
    overhead = max(0.0, wall * workers - compute) / max(1, tasks)
    empty = "-" if empty_s is None else f"{empty_s * 1000:.1f} ms"
    print(f"{name:<26}{len(run.results) / wall:>8.2f} points/s  wall {wall:>6.2f} s  compute {compute:>6.2f} s  "
          f"overhead/task {overhead * 1000:>7.1f} ms  empty task {empty}")


def timed(spec: SweepSpec, out: Path, **kwargs: Any) -> tuple[SweepRun, float]:
    start = time.perf_counter()
    run = run_sweep(spec, out, **kwargs)
    return run, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--days", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--chunk", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = load_sweep(sweep_file(folder, args.points, args.days))
        n = len(spec.points())
        tasks = -(-n // args.chunk)
        print(f"{n} points, {args.days} session(s) of one-minute bars each, {args.chunk} point(s) per task")
        run_sweep(spec, folder / "warm", stop=iter([False, True]).__next__)  # imports and calendars loaded
        serial, wall = timed(spec, folder / "serial")
        reference = [r.outcome() for r in serial.results]
        report("this process", serial, wall, 1, n, None)

        run_sweep(spec, folder / "local-warm", jobs=2, chunk=1)  # a fresh pool each time: start-up included
        with ProcessPoolExecutor(max_workers=2) as pool:
            pool.submit(_noop).result()
            start = time.perf_counter()
            for _ in range(50):
                pool.submit(_noop).result()
            empty = (time.perf_counter() - start) / 50
        local, wall = timed(spec, folder / "local", jobs=2, chunk=args.chunk)
        assert [r.outcome() for r in local.results] == reference, "local processes differ from this process"
        report("2 local processes", local, wall, 2, tasks, empty)

        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print("2-worker LocalCluster: skipped (dask.distributed is not installed: pip install '.[dask]')")
            return
        start = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            print(f"(LocalCluster start-up {time.perf_counter() - start:.2f} s, not counted)")
            client.submit(_noop, pure=False).result()
            start = time.perf_counter()
            for _ in range(50):
                client.submit(_noop, pure=False).result()
            empty = (time.perf_counter() - start) / 50
            # each worker imports statebot and builds its calendar before timing, as the local pool's did
            run_sweep(spec, folder / "dask-warm", client=client, chunk=1)
            dask, wall = timed(spec, folder / "dask", client=client, chunk=args.chunk)
        assert [r.outcome() for r in dask.results] == reference, "the cluster differs from this process"
        report("2-worker LocalCluster", dask, wall, 2, tasks, empty)


if __name__ == "__main__":
    main()
