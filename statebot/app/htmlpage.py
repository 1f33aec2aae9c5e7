"""The pieces every statebot HTML report is made of: one self-contained page, inline SVG.

A page loads nothing (no script, font, stylesheet or image from the network or another
file): its CSS is inline and its pictures are SVG drawn here, so a report can be mailed,
archived or opened offline and looks the same. Coordinates are rounded to 0.1 px to keep
pages small.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1140px;margin:1.5em auto;padding:0 1em;color:#222}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}
th{background:#f4f4f4}td.l,th.l{text-align:left}
.meta td{text-align:left}.meta th{text-align:left;background:none;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:8px}.card{border:1px solid #ddd;border-radius:4px;padding:4px 10px;min-width:120px}
.card b{display:block;font-size:1.15em}.card span{font-size:.75em;color:#666}
.neg{color:#b2182b}.pos{color:#1a7837}.warn{background:#fff3cd;border:1px solid #e0c36b;padding:4px 8px}
.legend{font-size:.8em;color:#444}.legend i{display:inline-block;width:12px;height:10px;margin:0 3px 0 10px;vertical-align:middle}
svg{display:block;max-width:100%;height:auto}svg text{font-size:10px;fill:#444}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.8em}
"""


def esc(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def num(value: float) -> str:
    """A coordinate to 0.1 px, without a trailing ``.0``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def page(title: str, body: Iterable[str]) -> str:
    """A whole HTML document: ``title`` and the ``body`` parts, CSS inline."""
    return "\n".join([
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<style>{STYLE}</style></head><body>", f"<h1>{esc(title)}</h1>", *body, "</body></html>", ""])


def svg(width: float, height: float, parts: Iterable[str], *, label: str, cls: str) -> str:
    """An inline ``<svg>`` of ``width`` x ``height`` user units, ``label`` its accessible name."""
    return (f"<svg class='{cls}' role='img' aria-label='{esc(label)}' viewBox='0 0 {num(width)} {num(height)}' "
            f"width='{num(width)}' height='{num(height)}' xmlns='http://www.w3.org/2000/svg'>" + "".join(parts) + "</svg>")


def table(head: Sequence[str], rows: Iterable[Sequence[object]], *, left: int = 0, cls: str = "") -> str:
    """An HTML table; the first ``left`` columns are left-aligned (text), the others right-aligned (numbers)."""
    def cell(tag: str, i: int, v: object) -> str:
        return f"<{tag}{' class=l' if i < left else ''}>{esc(v)}</{tag}>"

    out = [f"<table{f' class={cls}' if cls else ''}><tr>" + "".join(cell("th", i, h) for i, h in enumerate(head)) + "</tr>"]
    out += ["<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows]
    return "".join(out) + "</table>"


def y_axis(low: float, high: float, top: float, bottom: float, left: float, right: float, fmt: str = "{:,.0f}") -> list[str]:
    """Grid lines and labels at about five round values between ``low`` and ``high`` (plot y from ``bottom`` up to ``top``)."""
    span = high - low or 1.0
    step = _round_step(span / 4)
    first = (low // step) * step
    parts = []
    value = first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            y = bottom - (value - low) / span * (bottom - top)
            parts.append(f"<line x1='{num(left)}' x2='{num(right)}' y1='{num(y)}' y2='{num(y)}' stroke='#e4e4e4'/>"
                         f"<text x='{num(left - 4)}' y='{num(y + 3)}' text-anchor='end'>{esc(fmt.format(value))}</text>")
        value += step
    return parts


def _round_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x a power of ten that is at least ``raw`` (> 0)."""
    magnitude = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(magnitude * f for f in (1, 2, 2.5, 5, 10) if raw <= magnitude * f * (1 + 1e-9))


def colour_scale(value: float, low: float, high: float, *, higher_is_better: bool = True) -> str:
    """A red-yellow-green colour for ``value`` between ``low`` and ``high`` (green: better)."""
    share = 0.5 if high == low else (value - low) / (high - low)
    if not higher_is_better:
        share = 1 - share
    stops = ((215, 48, 39), (254, 224, 139), (26, 152, 80))
    a, b, t = (stops[0], stops[1], share * 2) if share < 0.5 else (stops[1], stops[2], share * 2 - 1)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))
