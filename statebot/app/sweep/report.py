"""A sweep's HTML report (``DIR/report.html``): one self-contained page.

What was swept, the grid-edge warnings, the best combinations with their robustness across
seeds and periods, the heatmap of two swept dimensions drawn inline as SVG (the mean metric
per cell, the best combination outlined), and every point's statistics or error. Nothing is
loaded from the network or another file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from statebot.app.htmlpage import colour_scale, esc, num, page, svg, table
from statebot.app.sweep.execute import PointResult
from statebot.app.sweep.results import METRICS, Ranked, edge_warnings, heatmap_grid
from statebot.app.sweep.spec import SweepSpec
from statebot.errors import ConfigError, FileAccessError

CELL_W, CELL_H = 76, 30


def sweep_html(spec: SweepSpec, results: Sequence[PointResult], ranked: Sequence[Ranked], *, metric: str = "net_pnl",
               top: int = 5, axes: tuple[str, str] | None = None) -> str:
    """The report page as text; ``ranked`` is ``rank(results, metric)``; ``axes`` the heatmap's X and Y
    (None: no heatmap; an axis some point did not sweep: the page says the heatmap was not drawn)."""
    ok = [r for r in results if r.ok]
    dims = [(d.label, ", ".join(str(v) for v in d.values) if d.values else f"{d.low}..{d.high}") for d in spec.dimensions]
    meta = [("mode", spec.mode + (f" ({spec.samples} samples, sample seed {spec.sample_seed})" if spec.mode != "grid" else "")),
            *dims, ("seeds", ", ".join(str(s) for s in spec.seeds)), ("periods", ", ".join(p.label for p in spec.periods)),
            ("strategy", spec.base.strategy), ("fingerprint", spec.fingerprint[:16]),
            ("points", f"{len(results)}: {len(ok)} ok, {len(results) - len(ok)} failed")]
    parts = ["<table class='meta'>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta) + "</table>"]
    if ranked:
        parts += [f"<p class='warn edge'>{esc(line)}</p>" for line in edge_warnings(spec, ranked[0])]
        parts += [f"<h2>Best combinations by mean {esc(metric)} over seeds and periods</h2>", table(
            ("#", "combination", "mean", "worst", "stdev", "points", "net > 0"),
            [(i, g.label(), f"{g.mean:,.2f}", f"{g.worst:,.2f}", f"{g.spread:,.2f}", g.points, f"{g.positive_share:.0%}")
             for i, g in enumerate(ranked[:top], start=1)], left=2, cls="best")]
    if axes is not None and ok:
        parts.append(f"<h2>Heatmap: mean {esc(metric)} by {esc(axes[0])} and {esc(axes[1])}</h2>")
        try:
            parts.append(heatmap_svg(results, axes[0], axes[1], metric=metric, best=ranked[0] if ranked else None))
        except ConfigError as exc:
            parts.append(f"<p class='warn'>not drawn: {esc(exc)}</p>")
    parts += ["<h2>Every point</h2>", _points_table(results)]
    return page(f"statebot sweep: {spec.name}", parts)


def write_sweep_html(spec: SweepSpec, results: Sequence[PointResult], ranked: Sequence[Ranked], out: str | os.PathLike[str],
                     **options: Any) -> Path:
    """Write ``sweep_html`` to ``out/report.html``; return its path. ``FileAccessError`` when it cannot be written."""
    path = Path(out) / "report.html"
    text = sweep_html(spec, results, ranked, **options)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FileAccessError(f"{path}: cannot write the sweep report ({exc.strerror})") from None
    return path


def heatmap_svg(results: Sequence[PointResult], x: str, y: str, *, metric: str = "net_pnl", best: Ranked | None = None) -> str:
    """The heatmap as inline SVG: one cell per (x, y) pair with its mean ``metric``, coloured red (worse)
    to green (better); the cell of ``best`` (when it has both values) outlined."""
    xs, ys, grid = heatmap_grid(results, x, y, metric=metric)
    values = [v for row in grid for v in row if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    chosen = dict(best.combo) if best is not None else {}
    left, top = 90, 10
    parts = []
    for j, yv in enumerate(ys):
        row_y = top + (len(ys) - 1 - j) * CELL_H  # the lowest y value at the bottom, as on a plot
        parts.append(f"<text x='{left - 6}' y='{num(row_y + CELL_H / 2 + 3)}' text-anchor='end'>{esc(yv)}</text>")
        for i, xv in enumerate(xs):
            value = grid[j][i]
            cx = left + i * CELL_W
            fill = "#eeeeee" if value is None else colour_scale(value, low, high, higher_is_better=METRICS[metric])
            text = "-" if value is None else (f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}")
            outline = " stroke='#000' stroke-width='2.5'" if chosen.get(x) == xv and chosen.get(y) == yv else " stroke='#fff'"
            parts.append(f"<rect class='cell' x='{cx}' y='{row_y}' width='{CELL_W}' height='{CELL_H}' fill='{fill}'{outline}>"
                         f"<title>{esc(x)}={esc(xv)} {esc(y)}={esc(yv)}: mean {esc(metric)} {esc(text)}</title></rect>"
                         f"<text x='{num(cx + CELL_W / 2)}' y='{num(row_y + CELL_H / 2 + 3)}' text-anchor='middle' "
                         f"pointer-events='none'>{esc(text)}</text>")
    bottom = top + len(ys) * CELL_H
    parts += [f"<text x='{num(left + i * CELL_W + CELL_W / 2)}' y='{bottom + 14}' text-anchor='middle'>{esc(xv)}</text>"
              for i, xv in enumerate(xs)]
    parts += [f"<text x='{num(left + len(xs) * CELL_W / 2)}' y='{bottom + 30}' text-anchor='middle'>{esc(x)}</text>",
              f"<text x='12' y='{num(top + len(ys) * CELL_H / 2)}' transform='rotate(-90 12 {num(top + len(ys) * CELL_H / 2)})' "
              f"text-anchor='middle'>{esc(y)}</text>"]
    return svg(left + len(xs) * CELL_W + 10, bottom + 40, parts, label=f"heatmap of mean {metric}", cls="chart heatmap")


def _points_table(results: Sequence[PointResult]) -> str:
    labels = sorted({k for r in results for k, _ in r.combo}, key=lambda k: (k.startswith("config."), k))
    rows = []
    for r in results:
        combo = dict(r.combo)
        values = [combo.get(k, "") for k in labels]
        if r.ok:
            rows.append((*values, r.period, r.seed, _money(r.net_pnl), _money(r.max_drawdown),
                         "-" if r.sharpe is None else f"{r.sharpe:.2f}", r.trades, r.kill_switch_trips, r.late_flattens,
                         r.log_hash[:12] if r.log_verifies else "DOES NOT VERIFY"))
        else:
            rows.append((*values, r.period, r.seed, "FAILED", "", "", "", "", "", r.error))
    return table((*labels, "period", "seed", "net P&L", "max DD", "Sharpe", "trades", "trips", "late", "log"), rows,
                 left=len(labels) + 1, cls="points")


def _money(value: Any) -> str:
    return "-" if value is None else f"{value:,.2f}"
