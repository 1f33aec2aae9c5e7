"""Running a sweep: each point a full simulation in its own folder, results journalled as they come.

Where points run: in this process (``jobs`` 1), in ``jobs`` local processes,
or on a Dask distributed cluster (``scheduler`` an address or ``client`` a
``distributed.Client``). Points travel in chunks (``chunk`` points per task)
so a task lasts long enough to pay for its dispatch. A worker writes each
point's state folder and event log under ``<log_root>/<point id>`` on its own
machine (emptied first: a point always starts fresh) and returns only a small
``PointResult``; the parent appends it to the journal.

The journal (JSONL) is the record of the sweep: a header line naming the
sweep's fingerprint, then one line per finished point, each written whole and
flushed, and fsynced after each task. A re-run skips the points it holds as
ok (a failed point is tried again); a journal of another sweep base is
refused; a torn last line (a crash mid-write) is cut off before appending.
``stop`` is asked between tasks: once true, no task starts; local running
tasks finish and are journalled, a cluster's are cancelled; the journal is
left whole either way.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from statebot.app.progress import Progress
from statebot.app.simrun import SimReport, run_setup
from statebot.app.sweep.spec import Point, SweepSpec, canonical
from statebot.errors import ConfigError, FileAccessError, MissingDependency

JOURNAL = "sweep.jsonl"
TRADING_DAYS_PER_YEAR = 252


@attrs.frozen(kw_only=True)
class PointResult:
    """What one point did. Money as Decimal USD; ``sharpe`` is the annualised Sharpe ratio of the
    daily net P&L over the run's sessions (None with fewer than two sessions or no variation);
    ``log_hash`` is the hash at the head of the point's event log: equal inputs give equal hashes.
    ``status`` is "ok" or "failed" (then ``error`` is one line and the statistics are empty)."""

    key: str
    id: str
    params: Mapping[str, Any]
    config: Mapping[str, Any]
    period: str
    seed: int
    status: str
    error: str = ""
    net_pnl: Decimal | None = None
    max_drawdown: Decimal | None = None
    sharpe: float | None = None
    trades: int | None = None
    kill_switch_trips: int | None = None
    late_flattens: int | None = None
    sessions: int | None = None
    log_verifies: bool | None = None
    log_hash: str = ""
    log: str = ""
    host: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def combo(self) -> tuple[tuple[str, Any], ...]:
        return tuple(self.params.items()) + tuple((f"config.{k}", v) for k, v in self.config.items())

    def outcome(self) -> dict[str, Any]:
        """The deterministic part (no host, folder or timing): equal for equal inputs anywhere."""
        data = self.as_dict()
        for name in ("log", "host", "seconds"):
            data.pop(name)
        return data

    def as_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        for name in ("net_pnl", "max_drawdown"):
            data[name] = None if data[name] is None else str(data[name])
        data["params"], data["config"] = dict(self.params), dict(self.config)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PointResult:
        values = dict(data)
        for name in ("net_pnl", "max_drawdown"):
            values[name] = None if values.get(name) is None else Decimal(values[name])
        known = {f.name for f in attrs.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def daily_sharpe(report: SimReport) -> float | None:
    """Annualised Sharpe ratio (mean / sample stdev x sqrt(252)) of net P&L per session, a session
    without trades counting as 0; trades are dated by their close in the exchange's time zone."""
    days: dict[str, Decimal] = {s.session: Decimal(0) for s in report.sessions}
    previous = Decimal(0)
    for at, cumulative in report.equity_curve:
        value = Decimal(cumulative)
        day = at[:10]
        days[day] = days.get(day, Decimal(0)) + value - previous
        previous = value
    daily = [float(v) for v in days.values()]
    if len(daily) < 2:
        return None
    spread = statistics.stdev(daily)
    if spread == 0:
        return None
    return round(statistics.fmean(daily) / spread * math.sqrt(TRADING_DAYS_PER_YEAR), 4)


def log_head_hash(log_path: Path) -> str:
    """The ``hash`` of the last event in the log ("" for an empty log)."""
    with open(log_path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 65536))
        lines = f.read().splitlines()
    return str(json.loads(lines[-1])["hash"]) if lines else ""


def run_point(spec: SweepSpec, point: Point, log_root: str | os.PathLike[str]) -> PointResult:
    """Run one point with its state and log in ``log_root/<point id>`` (emptied first). Never raises
    for the point's own failure: a bad parameter, an invalid config or a failed write is returned as
    a failed result with the error in one line."""
    folder = Path(log_root) / point.id
    started = time.perf_counter()
    common: dict[str, Any] = dict(key=point.key, id=point.id, params=dict(point.params), config=dict(point.config), period=point.period,
                  seed=point.seed, log=str(folder), host=socket.gethostname())
    try:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        report = run_setup(spec.setup(point), folder)
        log_hash = log_head_hash(folder / "events.jsonl")
    except Exception as exc:  # the point's failure is its result; the sweep goes on
        message = " ".join(str(exc).split()) or type(exc).__name__
        return PointResult(**common, status="failed", error=f"{type(exc).__name__}: {message}",
                           seconds=round(time.perf_counter() - started, 3))
    return PointResult(
        **common, status="ok", net_pnl=report.net_pnl, max_drawdown=report.max_drawdown, sharpe=daily_sharpe(report),
        trades=report.trades, kill_switch_trips=len(report.kill_switch_trips), late_flattens=report.late_flattens,
        sessions=len(report.sessions), log_verifies=report.log_verifies, log_hash=log_hash,
        seconds=round(time.perf_counter() - started, 3),
    )


def run_chunk(spec: SweepSpec, points: Sequence[Point], log_root: str) -> list[dict[str, Any]]:
    """A task: run ``points`` in turn; their results as plain dicts (small, picklable anywhere)."""
    return [run_point(spec, point, log_root).as_dict() for point in points]


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: the parent decides, workers finish their chunk
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Journal:
    """The append-only JSONL record of a sweep in ``folder/sweep.jsonl``."""

    def __init__(self, folder: str | os.PathLike[str], spec: SweepSpec, *, fresh: bool = False) -> None:
        self.path = Path(folder) / JOURNAL
        self.spec = spec
        self.results: dict[str, PointResult] = {}
        self.cut_bytes = 0
        self.appended = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if fresh and self.path.exists():
                self.path.unlink()
            if self.path.exists():
                self._read()
            else:
                self._write_lines([canonical({"sweep": spec.name, "fingerprint": spec.fingerprint})])
        except OSError as exc:
            raise FileAccessError(f"sweep journal {self.path}: {exc.strerror or exc}") from None

    def _read(self) -> None:
        raw = self.path.read_bytes()
        whole = raw[:raw.rfind(b"\n") + 1]
        if len(whole) != len(raw):
            self.cut_bytes = len(raw) - len(whole)
            with open(self.path, "r+b") as f:
                f.truncate(len(whole))
                os.fsync(f.fileno())
        lines = whole.decode("utf-8").splitlines()
        try:
            header = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError:
            header = {}
        if header.get("fingerprint") != self.spec.fingerprint:
            raise ConfigError(f"sweep journal {self.path} was written for another sweep base (its [sim], [config] or bar "
                              "files differ): use another --out folder, or --fresh to start over")
        for number, line in enumerate(lines[1:], start=2):
            try:
                result = PointResult.from_dict(json.loads(line))
            except (json.JSONDecodeError, TypeError, KeyError, ArithmeticError) as exc:
                raise ConfigError(f"sweep journal {self.path} line {number}: not a point result ({exc})") from None
            self.results[result.key] = result

    def _write_lines(self, lines: Iterable[str]) -> None:
        text = "".join(line + "\n" for line in lines).encode("utf-8")
        with open(self.path, "ab") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def append(self, results: Sequence[PointResult]) -> None:
        try:
            self._write_lines(canonical(r.as_dict()) for r in results)
        except OSError as exc:
            raise FileAccessError(f"sweep journal {self.path}: {exc.strerror or exc}") from None
        for result in results:
            self.results[result.key] = result
        self.appended += len(results)

    def done(self, point: Point) -> bool:
        result = self.results.get(point.key)
        return result is not None and result.ok


@attrs.frozen(kw_only=True)
class SweepRun:
    """The outcome of ``run_sweep``: every point's latest result in the sweep's order (points not
    run because of a stop are missing), how many ran now and how many came from the journal."""

    results: tuple[PointResult, ...]
    total: int
    ran: int
    skipped: int
    stopped: bool
    journal: Path
    cut_bytes: int = 0

    @property
    def failed(self) -> tuple[PointResult, ...]:
        return tuple(r for r in self.results if not r.ok)


def chunks(points: Sequence[Point], size: int) -> list[list[Point]]:
    return [list(points[i:i + size]) for i in range(0, len(points), size)]


def auto_chunk(n: int, workers: int) -> int:
    """Points per task: about four tasks per worker (so the work spreads evenly), at most 8 points."""
    return max(1, min(8, math.ceil(n / max(1, workers * 4))))


def run_sweep(spec: SweepSpec, out_dir: str | os.PathLike[str], *, jobs: int = 1, chunk: int | None = None,
              scheduler: str | None = None, client: Any = None, log_root: str | os.PathLike[str] | None = None,
              fresh: bool = False, stop: Callable[[], bool] | None = None, progress: Progress | None = None,
              connect_timeout_s: float = 10.0) -> SweepRun:
    """Run every point of ``spec`` not already ok in ``out_dir``'s journal; return all results.

    ``log_root`` (default ``out_dir/logs``) is where each point's folder goes, on
    the machine that runs it. Raises ``ConfigError`` for a journal of another
    sweep, ``FileAccessError`` when the journal cannot be written, and
    ``MissingDependency`` when a scheduler is named but dask.distributed is not
    installed, ``ConfigError`` when the scheduler does not answer within
    ``connect_timeout_s``. A local worker process that dies fails its points and
    the points not yet run (journalled as failed: the next run tries them again).
    """
    out = Path(out_dir)
    journal = Journal(out, spec, fresh=fresh)
    points = spec.points()
    todo = [p for p in points if not journal.done(p)]
    root = str(log_root if log_root is not None else (out / "logs").resolve())
    stopped = False
    if todo:
        if scheduler is not None or client is not None:
            stopped = _run_dask(spec, todo, root, journal, chunk, scheduler, client, stop, progress, connect_timeout_s)
        elif jobs <= 1:
            for point in todo:
                if stop is not None and stop():
                    stopped = True
                    break
                journal.append([run_point(spec, point, root)])
                if progress is not None:
                    progress.advance()
        else:
            stopped = _run_local(spec, chunks(todo, chunk or auto_chunk(len(todo), jobs)), root, journal, jobs, stop,
                                 progress)
    results = tuple(journal.results[p.key] for p in points if p.key in journal.results)
    return SweepRun(results=results, total=len(points), ran=journal.appended, skipped=len(points) - len(todo), stopped=stopped,
                    journal=journal.path, cut_bytes=journal.cut_bytes)


def _record(journal: Journal, rows: Sequence[Mapping[str, Any]], progress: Progress | None) -> None:
    journal.append([PointResult.from_dict(r) for r in rows])
    if progress is not None:
        progress.advance(len(rows))


def _failed_chunk(points: Sequence[Point], exc: BaseException) -> list[dict[str, Any]]:
    """A task that died (a worker lost, a process killed): each of its points failed with that error."""
    error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    return [PointResult(key=p.key, id=p.id, params=dict(p.params), config=dict(p.config), period=p.period, seed=p.seed,
                        status="failed", error=error).as_dict() for p in points]


def _run_local(spec: SweepSpec, tasks: list[list[Point]], root: str, journal: Journal, jobs: int,
               stop: Callable[[], bool] | None, progress: Progress | None) -> bool:
    stopped = False
    queue = deque(tasks)
    with ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_sigint) as pool:
        pending: dict[Future[list[dict[str, Any]]], list[Point]] = {}
        while queue or pending:
            while queue and len(pending) < jobs * 2 and not stopped:
                task = queue.popleft()
                try:
                    pending[pool.submit(run_chunk, spec, task, root)] = task
                except BrokenProcessPool as exc:
                    # a worker process died (killed, out of memory): the points not run are failed here,
                    # journalled as such, and run again by the next run of the sweep
                    _record(journal, [row for t in (task, *queue) for row in _failed_chunk(t, exc)], progress)
                    queue.clear()
            finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                try:
                    rows = future.result()
                except Exception as exc:  # a worker process died: its points failed, the sweep goes on
                    rows = _failed_chunk(task, exc)
                _record(journal, rows, progress)
            if queue and stop is not None and stop():
                stopped = True  # no new task; the running ones finish and are journalled
                queue.clear()
    return stopped


def _run_dask(spec: SweepSpec, todo: list[Point], root: str, journal: Journal, chunk: int | None, scheduler: str | None,
              client: Any, stop: Callable[[], bool] | None, progress: Progress | None, timeout_s: float) -> bool:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise MissingDependency("--scheduler needs dask.distributed: install the dask extra (pip install '.[dask]')") from None
    own = client is None
    if own:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {' '.join(str(exc).split())}") from None
    stopped = False
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        tasks = chunks(todo, chunk or auto_chunk(len(todo), workers))
        # a key of its own: a content-hashed key may be released by an earlier sweep on this client
        shared = client.scatter(spec, broadcast=True, hash=False)
        futures = {client.submit(run_chunk, shared, task, root, pure=False): task for task in tasks}
        pending = as_completed(list(futures))
        for future in pending:
            task = futures[future]
            try:
                rows = future.result()
            except Exception as exc:  # a lost worker or a task the scheduler gave up on
                rows = _failed_chunk(task, exc)
            _record(journal, rows, progress)
            if stop is not None and stop() and not all(f.done() for f in futures):
                stopped = True
                break
        client.cancel([f for f in futures if not f.done()])
    finally:
        if own:
            client.close()
    return stopped
