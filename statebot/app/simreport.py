"""``statebot sim --html DIR``: an HTML page with the summary, an equity curve and a session timeline.

Needs matplotlib (the ``plots`` extra: ``pip install '.[plots]'`` from a clone);
``require_matplotlib`` raises ``ConfigError`` with that advice when it is
missing. Times on the plots are exchange time, as in the event log's report.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from statebot.errors import ConfigError
from statebot.app.simrun import SimReport, monte_carlo_table, summary_table

_STATE_COLOURS = {"PRE_OPEN": "#d9d9d9", "TRADING": "#a6d96a", "FLATTENING": "#fdae61", "CLOSED": "#f0f0f0"}


def require_matplotlib() -> Any:
    """The ``matplotlib.pyplot`` module (Agg backend); ``ConfigError`` when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("--html needs matplotlib, which is not installed: pip install '.[plots]' from a clone of statebot") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _hours(moment: dt.datetime) -> float:
    return moment.hour + moment.minute / 60 + moment.second / 3600


def _equity_png(reports: Sequence[SimReport], path: Path) -> None:
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for r in reports:
        points = [(dt.datetime.fromisoformat(t), float(Decimal(v))) for t, v in r.equity_curve]
        if not points:
            continue
        xs = [i + 1 for i in range(len(points))]
        ys = [0.0, *(v for _, v in points)]
        ax.step([0, *xs, xs[-1] + 1], [*ys, ys[-1]], where="post", linewidth=1.2 if len(reports) == 1 else 0.7,
                label=(f"seed {r.seed}" if r.seed is not None else "run") if len(reports) <= 10 else None)
    ax.axhline(0, color="#888", linewidth=0.6)
    ax.set_xlabel("closed trades")
    ax.set_ylabel("cumulative net P&L (USD)")
    ax.set_title("Equity curve (net of commission)" + (f", {len(reports)} seeds" if len(reports) > 1 else ""))
    if 1 < len(reports) <= 10:
        ax.legend(fontsize=7, ncol=5)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _timeline_png(report: SimReport, path: Path) -> None:
    plt = require_matplotlib()
    entries = [(dt.datetime.fromisoformat(t), kind, state, qty) for t, kind, state, qty in report.timeline]
    days = sorted({t.date() for t, kind, _, _ in entries if kind == "session"})
    row = {d: i for i, d in enumerate(days)}
    fig, ax = plt.subplots(figsize=(10, 0.7 * max(2, len(days)) + 1.2))
    # session states as coloured spans, one row per calendar day
    sessions = [(t, s) for t, kind, s, _ in entries if kind == "session"]
    for (t, state), nxt in zip(sessions, [*sessions[1:], (None, None)]):
        end = nxt[0] if nxt[0] is not None and nxt[0].date() == t.date() else t.replace(hour=20, minute=0, second=0)
        if t.date() in row:
            ax.broken_barh([(_hours(t), max(_hours(end) - _hours(t), 0.01))], (row[t.date()] - 0.4, 0.8),
                           facecolors=_STATE_COLOURS.get(state, "#cccccc"))
    # position: a step line inside each row, +/- its largest size
    positions = [(t, q) for t, kind, _, q in entries if kind == "position"]
    scale = max([abs(q) for _, q in positions] + [1])
    by_day: dict[dt.date, list[tuple[float, float]]] = {}
    for t, q in positions:
        by_day.setdefault(t.date(), []).append((_hours(t), q / scale * 0.35))
    for day, points in by_day.items():
        if day in row:
            xs, ys = zip(*points)
            ax.step(xs, [row[day] + y for y in ys], where="post", color="#2b83ba", linewidth=1.0)
    for t, kind, state, _ in entries:
        if kind in ("throttle", "kill_switch") and t.date() in row:
            ax.plot(_hours(t), row[t.date()] + 0.45, marker="v" if kind == "throttle" else "X",
                    color="#7b3294" if kind == "throttle" else "#d7191c", markersize=6)
    ax.set_yticks(range(len(days)), [d.strftime("%a %Y-%m-%d") for d in days])
    ax.invert_yaxis()
    ax.set_xlim(8, 17)
    ax.set_xlabel("exchange time (hours)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in _STATE_COLOURS.values()]
    handles += [plt.Line2D([], [], color="#2b83ba"), plt.Line2D([], [], marker="v", color="#7b3294", linestyle=""),
                plt.Line2D([], [], marker="X", color="#d7191c", linestyle="")]
    labels = [*_STATE_COLOURS, "position (up long, down short)", "throttle change", "kill switch"]
    ax.legend(handles, labels, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=4)
    ax.set_title("Sessions: states and position")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_html(reports: Sequence[SimReport], out_dir: str | os.PathLike[str], title: str = "statebot simulation") -> Path:
    """Write ``index.html``, ``equity.png`` and (one run) ``timeline.png`` into ``out_dir``; return the index path.

    Raises ``ConfigError`` when matplotlib is missing or the folder cannot be written.
    """
    require_matplotlib()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--html {out}: cannot create the folder ({exc.strerror})") from None
    _equity_png(reports, out / "equity.png")
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}pre{background:#f6f6f6;padding:1em}</style>",
             f"<h1>{html.escape(title)}</h1>"]
    if len(reports) == 1:
        _timeline_png(reports[0], out / "timeline.png")
        parts.append(f"<pre>{html.escape(summary_table(reports[0]))}</pre>")
        parts.append("<h2>Equity curve</h2><img src='equity.png' alt='equity curve' width='100%'>")
        parts.append("<h2>Session timeline</h2><img src='timeline.png' alt='session timeline' width='100%'>")
    else:
        parts.append(f"<pre>{html.escape(monte_carlo_table(reports))}</pre>")
        parts.append("<h2>Equity curves</h2><img src='equity.png' alt='equity curves' width='100%'>")
    index = out / "index.html"
    index.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return index
