"""``statebot sweep FILE.toml``: run every point of a sweep, journalled, and print what it found.

Results go to ``--out DIR`` (default ``<FILE stem>-sweep`` in the current
folder): ``sweep.jsonl`` (the journal: one line per finished point, read back
by a re-run, which skips the points already ok), ``logs/<point id>/`` (each
point's state folder and event log, on the machine that ran it),
``results.parquet`` (when pyarrow is installed), ``heatmap.png`` (two
swept parameters, when matplotlib is installed) and ``report.html`` (one
self-contained page: the best, the edge warnings, the heatmap inline, every point).

Exit status (``statebot.cli.exit_codes``): 0 every point ran ok, 1 a point
failed (each failure is one line on stderr; the others ran), 2 bad input (one
line), 3 the journal cannot be written, 130/143 stopped by SIGINT/SIGTERM
(the journal holds every finished point; run the same command to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from statebot.app.progress import Progress
from statebot.app.sweep import (
    METRICS,
    best_table,
    edge_warnings,
    export_parquet,
    heatmap_png,
    load_sweep,
    rank,
    results_table,
    run_sweep,
    write_sweep_html,
)
from statebot.app.sweep.spec import PARAM
from statebot.cli._signals import StopSignals
from statebot.cli.exit_codes import EXIT_EXPECTATION_FAILED, EXIT_OK
from statebot.errors import ConfigError


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="run a grid or random sample of strategy parameters and config keys x seeds x periods",
        description="Each point is a full simulation (the real runner, a simulated venue). A sweep file is a "
        "scenario file with a [sweep] table (docs/sweeps.md). Interrupted or failed points are run again by the "
        "same command; finished ones are read from the journal.",
    )
    p.add_argument("sweep", type=Path, help="a sweep TOML file")
    p.add_argument("--out", type=Path, metavar="DIR", help="results folder (default: <FILE stem>-sweep here)")
    p.add_argument("--jobs", type=_positive, default=1, metavar="N", help="local processes (default 1)")
    p.add_argument("--chunk", type=_positive, metavar="N", help="points per task (default: about 4 tasks per worker, at most 8)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask distributed scheduler (needs the dask extra)")
    p.add_argument("--worker-dir", metavar="DIR", help="where workers write the points' logs (default: DIR/logs of --out, "
                   "as a path on each worker's machine)")
    p.add_argument("--metric", choices=tuple(METRICS), default="net_pnl", help="rank the combinations by this (default net_pnl)")
    p.add_argument("--top", type=_positive, default=5, metavar="K", help="show the K best combinations (default 5)")
    p.add_argument("--heatmap", metavar="X,Y", help="the two swept parameters of the heatmap (default: the first two of a grid; "
                   "a random sample draws one only when asked)")
    p.add_argument("--fresh", action="store_true", help="start over: discard the journal in --out")
    p.add_argument("--quiet", action="store_true", help="no table of every point (the best, warnings and failures only)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    spec = load_sweep(args.sweep)
    out: Path = args.out or Path(f"{args.sweep.stem}-sweep")
    axes = _heatmap_axes(args.heatmap, spec)
    total = len(spec.points())
    with StopSignals("statebot sweep", "stopping after the running points (the journal keeps every finished one)") as stop, \
            Progress(total, "points") as progress:
        done = run_sweep(spec, out, jobs=args.jobs, chunk=args.chunk, scheduler=args.scheduler, log_root=args.worker_dir,
                         fresh=args.fresh, stop=stop, progress=progress)
    if done.cut_bytes:
        print(f"statebot sweep: the journal's last line was torn ({done.cut_bytes} bytes, an interrupted write): "
              "cut off, that point runs again", file=sys.stderr)
    if done.stopped:
        print(f"statebot sweep: stopped by {stop.name}; {len(done.results)} of {total} points in {done.journal}; "
              "run the same command to resume", file=sys.stderr)
        return stop.exit_code
    print(f"sweep {spec.name}: {total} points ({done.ran} run now, {done.skipped} from the journal {done.journal})")
    if not args.quiet:
        print(results_table(done.results))
    ranked = rank(done.results, args.metric)
    if ranked:
        print()
        print(best_table(ranked, args.metric, args.top))
        for line in edge_warnings(spec, ranked[0]):
            print(line)
    parquet = export_parquet(done.results, out / "results.parquet")
    print(f"parquet: {parquet}" if parquet else "parquet: not written (pyarrow is not installed)")
    if axes is not None and any(r.ok for r in done.results):
        try:
            print(f"heatmap: {heatmap_png(done.results, axes[0], axes[1], out / 'heatmap.png', metric=args.metric)}")
        except ConfigError as exc:
            print(f"heatmap: not drawn ({exc})")
    report = write_sweep_html(spec, done.results, ranked, out, metric=args.metric, top=args.top,
                              axes=axes if any(r.ok for r in done.results) else None)
    print(f"report: {report}")
    for failed in done.failed:
        print(f"statebot sweep: point {failed.id} ({_describe(failed.combo)} period {failed.period} seed {failed.seed}) "
              f"failed: {failed.error}", file=sys.stderr)
    return EXIT_EXPECTATION_FAILED if done.failed else EXIT_OK


def _describe(combo: tuple[tuple[str, Any], ...]) -> str:
    return " ".join(f"{k}={v}" for k, v in combo) or "base"


def _heatmap_axes(text: str | None, spec: Any) -> tuple[str, str] | None:
    swept = [d.label for d in spec.dimensions]
    if text is None:
        if spec.mode != "grid":
            return None  # a random sample's values rarely meet on a grid: name X,Y to draw one anyway
        params = [d.label for d in spec.dimensions if d.kind == PARAM] + [d.label for d in spec.dimensions if d.kind != PARAM]
        return (params[0], params[1]) if len(params) >= 2 else None
    names = [n.strip() for n in text.split(",")]
    if len(names) != 2 or any(n not in swept for n in names):
        raise ConfigError(f"--heatmap {text!r}: name two swept dimensions, X,Y (swept: {', '.join(swept) or 'none'})")
    return names[0], names[1]
