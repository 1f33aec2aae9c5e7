"""Sweeps: strategy parameters and config keys x seeds x periods, each point a full simulation.

``load_sweep(FILE)`` reads a sweep (a scenario file with a ``[sweep]`` table:
``spec``), ``run_sweep(spec, OUT)`` runs its points here, in local processes
or on a Dask cluster, journalled and resumable (``execute``), and ``results``
turns the results into a table, the best points with their robustness across
seeds, grid-edge warnings, a heatmap PNG and a Parquet file; ``report`` writes
them as one self-contained HTML page with the heatmap inline.
"""

from statebot.app.sweep.execute import PointResult, SweepRun, run_point, run_sweep
from statebot.app.sweep.results import (
    METRICS,
    Ranked,
    best_table,
    edge_warnings,
    export_parquet,
    heatmap_grid,
    heatmap_png,
    rank,
    results_table,
)
from statebot.app.sweep.report import heatmap_svg, sweep_html, write_sweep_html
from statebot.app.sweep.spec import Dimension, Period, Point, SweepSpec, load_sweep

__all__ = ["METRICS", "Dimension", "Period", "Point", "PointResult", "Ranked", "SweepRun", "best_table", "SweepSpec", "edge_warnings",
           "export_parquet", "heatmap_grid", "heatmap_png", "heatmap_svg", "load_sweep", "rank", "results_table", "run_point",
           "run_sweep", "sweep_html", "write_sweep_html"]
