"""Reading a sweep's results: the table, the best combinations across seeds, edges, a heatmap, Parquet.

A combination is one set of swept values (strategy parameters and config
overrides); its points differ only by seed and period. The best combinations
are ranked by the mean of a metric over their ok points, and each is shown
with its worst point, the spread (sample stdev) and the share of its points
with a positive net P&L: a combination that is best only on average, with a
losing seed, reads as such.
"""

from __future__ import annotations

import importlib
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from statebot.app.sweep.execute import PointResult
from statebot.app.sweep.spec import SweepSpec
from statebot.errors import ConfigError

METRICS: dict[str, bool] = {
    "net_pnl": True, "sharpe": True, "max_drawdown": False, "trades": True, "kill_switch_trips": False,
    "late_flattens": False,
}
"""Metrics a sweep can be ranked by, and whether higher is better."""


def metric_value(result: PointResult, metric: str) -> float | None:
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    value = getattr(result, metric)
    return None if value is None else float(value)


@attrs.frozen(kw_only=True)
class Ranked:
    """One combination's robustness across its ok points (seeds x periods) for one metric."""

    combo: tuple[tuple[str, Any], ...]
    points: int
    mean: float
    worst: float
    spread: float
    positive_share: float

    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.combo) or "(base)"


def rank(results: Sequence[PointResult], metric: str = "net_pnl") -> list[Ranked]:
    """Combinations best first by the mean of ``metric`` (ties: the better worst point, then the
    label). Points that failed, or have no value for the metric (a Sharpe of one session), are left out."""
    higher = METRICS.get(metric)
    if higher is None:
        raise ConfigError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    groups: dict[tuple[tuple[str, Any], ...], list[PointResult]] = {}
    for r in results:
        if r.ok and metric_value(r, metric) is not None:
            groups.setdefault(r.combo, []).append(r)
    ranked = []
    for combo, rows in groups.items():
        values = [v for v in (metric_value(r, metric) for r in rows) if v is not None]
        ranked.append(Ranked(
            combo=combo, points=len(values), mean=statistics.fmean(values),
            worst=min(values) if higher else max(values),
            spread=statistics.stdev(values) if len(values) > 1 else 0.0,
            positive_share=sum(1 for r in rows if r.net_pnl is not None and r.net_pnl > 0) / len(rows),
        ))
    sign = -1 if higher else 1
    return sorted(ranked, key=lambda g: (sign * g.mean, sign * g.worst, g.label()))


def edge_warnings(spec: SweepSpec, best: Ranked) -> list[str]:
    """One line per swept numeric dimension whose best value is the lowest or highest tried: the
    optimum may lie outside the grid."""
    lines = []
    chosen = dict(best.combo)
    for dim in spec.dimensions:
        value = chosen.get(dim.label)
        bounds = (dim.low, dim.high) if not dim.values else (
            (min(dim.values), max(dim.values)) if all(_number(v) for v in dim.values) else None)
        if bounds is None or not _number(value) or bounds[0] == bounds[1]:
            continue
        if value == bounds[0] or value == bounds[1]:
            side = "lowest" if value == bounds[0] else "highest"
            lines.append(f"warning: the best point has {dim.label} = {value}, the {side} value tried "
                         f"({bounds[0]}..{bounds[1]}): the optimum may lie outside the grid; widen it")
    return lines


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _money(value: Any) -> str:
    return "-" if value is None else f"{value:,.2f}"


def results_table(results: Sequence[PointResult]) -> str:
    """One line per point: its swept values, period, seed and statistics (or its error)."""
    labels = sorted({k for r in results for k, _ in r.combo}, key=lambda k: (k.startswith("config."), k))
    widths = {k: max(len(k), *(len(str(dict(r.combo).get(k, ""))) for r in results)) for k in labels}
    period_w = max([6] + [len(r.period) for r in results])
    head = " ".join(f"{k:>{widths[k]}}" for k in labels)
    lines = [f"{head} {'period':<{period_w}} {'seed':>5} {'net P&L':>11} {'max DD':>10} {'Sharpe':>7} {'trades':>6} "
             f"{'trips':>5} {'late':>4}  log"]
    for r in results:
        values = " ".join(f"{str(dict(r.combo).get(k, '')):>{widths[k]}}" for k in labels)
        if r.ok:
            sharpe = "-" if r.sharpe is None else f"{r.sharpe:.2f}"
            lines.append(f"{values} {r.period:<{period_w}} {r.seed:>5} {_money(r.net_pnl):>11} {_money(r.max_drawdown):>10} "
                         f"{sharpe:>7} {r.trades:>6} {r.kill_switch_trips:>5} {r.late_flattens:>4}  "
                         f"{r.log_hash[:12] if r.log_verifies else 'DOES NOT VERIFY'}")
        else:
            lines.append(f"{values} {r.period:<{period_w}} {r.seed:>5} FAILED: {r.error}")
    return "\n".join(lines)


def best_table(ranked: Sequence[Ranked], metric: str, top: int = 5) -> str:
    """The ``top`` combinations with their robustness across seeds and periods."""
    lines = [f"best by mean {metric} over seeds and periods:",
             f"{'#':>2} {'mean':>11} {'worst':>11} {'stdev':>10} {'points':>6} {'net > 0':>7}  combination"]
    for i, g in enumerate(ranked[:top], start=1):
        lines.append(f"{i:>2} {g.mean:>11,.2f} {g.worst:>11,.2f} {g.spread:>10,.2f} {g.points:>6} "
                     f"{g.positive_share:>7.0%}  {g.label()}")
    return "\n".join(lines)


def heatmap_grid(results: Sequence[PointResult], x: str, y: str, *,
                 metric: str = "net_pnl") -> tuple[list[Any], list[Any], list[list[float | None]]]:
    """(x values, y values, rows of cells): the mean ``metric`` of the ok points for each (x, y) pair of
    swept values (averaged over everything else), one row per y value; None where no ok point has a
    value. Raises ``ConfigError`` when ``x`` or ``y`` was not swept."""
    cells: dict[tuple[Any, Any], list[float]] = {}
    for r in results:
        combo = dict(r.combo)
        value = metric_value(r, metric) if r.ok else None
        if x not in combo or y not in combo:
            raise ConfigError(f"heatmap: {x!r} and {y!r} must both be swept; swept: {', '.join(combo) or 'nothing'}")
        if value is not None:
            cells.setdefault((combo[x], combo[y]), []).append(value)
    xs = sorted({k[0] for k in cells}, key=_order)
    ys = sorted({k[1] for k in cells}, key=_order)
    return xs, ys, [[statistics.fmean(cells[(a, b)]) if (a, b) in cells else None for a in xs] for b in ys]


def heatmap_png(results: Sequence[PointResult], x: str, y: str, path: str | Path, *, metric: str = "net_pnl") -> Path:
    """A PNG of the mean ``metric`` for each (``x``, ``y``) pair of swept values (averaged over
    everything else). Raises ``ConfigError`` when matplotlib is missing or ``x``/``y`` were not swept."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("the heatmap needs matplotlib: install the plots extra (pip install '.[plots]')") from None
    xs, ys, cells = heatmap_grid(results, x, y, metric=metric)
    grid = [[float("nan") if v is None else v for v in row] for row in cells]
    figure, axes = plt.subplots(figsize=(1.2 + 0.8 * len(xs), 1.0 + 0.6 * len(ys)))
    image = axes.imshow(grid, origin="lower", cmap="RdYlGn" if METRICS[metric] else "RdYlGn_r", aspect="auto")
    axes.set_xticks(range(len(xs)), [str(v) for v in xs])
    axes.set_yticks(range(len(ys)), [str(v) for v in ys])
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.set_title(f"mean {metric}")
    for j, row in enumerate(grid):
        for i, value in enumerate(row):
            if value == value:
                axes.text(i, j, f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    out = Path(path)
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out


def _order(value: Any) -> tuple[int, Any]:
    return (0, value) if _number(value) else (1, str(value))


def export_parquet(results: Sequence[PointResult], path: str | Path) -> Path | None:
    """Write one row per point to a Parquet file; None (nothing written) when pyarrow is not installed.
    Swept values become columns ``param.<name>`` / ``config.<key>`` (as text when a column mixes types)."""
    try:  # untyped and optional: looked up by name
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        return None
    rows = []
    for r in results:
        data = r.as_dict()
        params, config = data.pop("params"), data.pop("config")
        data.update(net_pnl=r.net_pnl, max_drawdown=r.max_drawdown)  # Decimal: a decimal column
        data.update({f"param.{k}": v for k, v in params.items()})
        data.update({f"config.{k}": v for k, v in config.items()})
        rows.append(data)
    columns = sorted({k for row in rows for k in row}, key=lambda k: (k.count("."), k))
    table = {}
    for name in columns:
        values = [row.get(name) for row in rows]
        kinds = {type(v) for v in values if v is not None}
        table[name] = [None if v is None else str(v) for v in values] if len(kinds) > 1 else values
    out = Path(path)
    pq.write_table(pa.table(table), out)
    return out
