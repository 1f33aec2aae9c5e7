"""``statebot sim --html DIR``: one self-contained page a trader reads (``DIR/index.html``).

One run: what ran (strategy and parameters, data, symbol, calendar, config hash), the key
statistics, the price with every trade's entry, exit, stop and target, equity and drawdown,
net P&L by session, a calendar of sessions (one row a week) showing the session state, when
the throttle or the kill switch kept the strategy out, the position held, holidays and
sessions without data; then the trades and the terminal summary. A Monte Carlo: the table,
percentiles and every seed's equity.

The price, equity and drawdown charts share one x axis of market time: the bars in order, so
nights, weekends and holidays take no width; dates mark the sessions. The price is drawn from
the run's downsampled buckets (``statebot.app.pricebuckets``: at most 2,000 OHLC buckets, a
bar each for a week of one-minute bars, an hour each for a year); trades are drawn at their
own times and prices. With more than ``TRADE_TABLE_ALL`` trades the table lists the
``TRADE_TABLE_EXTREMES`` best and worst (the full list is ``--trades-csv``), and trade markers
carry no tooltip. Times are exchange time. Nothing is loaded from the network or another file.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from statebot.app.htmlpage import esc, num, page, svg, table, y_axis
from statebot.app.simrun import SimReport, monte_carlo_percentiles, monte_carlo_table, summary_table
from statebot.app.simstats import Trade
from statebot.core.time.calendar import get_calendar
from statebot.errors import ConfigError, FileAccessError

WIDTH = 1100
LEFT, RIGHT = 64, 12
TRADE_TABLE_ALL = 200
TRADE_TABLE_EXTREMES = 15
TRADE_TOOLTIPS_MAX = 300
SESSION_COLOURS = {"PRE_OPEN": "#d9d9d9", "TRADING": "#66bd63", "FLATTENING": "#fdae61"}
THROTTLE_COLOURS = {"THROTTLED": "#8c6bb1", "PROBATION": "#c6b3dc"}
KILL_COLOUR = "#d73027"
LONG_COLOUR, SHORT_COLOUR = "#2166ac", "#b2182b"
_T = TypeVar("_T")


class _Axis:
    """Market time -> x: each price bucket takes the same width, time inside a bucket is linear."""

    def __init__(self, starts: Sequence[int], width_s: int, left: float, right: float) -> None:
        self.starts, self.width_s, self.left, self.right = list(starts), max(width_s, 1), left, right
        self.step = (right - left) / max(len(self.starts), 1)

    def x(self, moment: dt.datetime) -> float:
        t = moment.timestamp()
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return self.left
        inside = min(max((t - self.starts[i]) / self.width_s, 0.0), 1.0)
        return self.left + (i + inside) * self.step


def render_html(reports: Sequence[SimReport], title: str = "statebot simulation") -> str:
    """The report page of one run or (several reports) a Monte Carlo, as text."""
    if len(reports) == 1:
        return page(title, _single(reports[0]))
    return page(title, _monte_carlo(reports))


def write_html(reports: Sequence[SimReport], out_dir: str | os.PathLike[str], title: str = "statebot simulation") -> Path:
    """Write ``index.html`` (self-contained) into ``out_dir``; return its path.

    Raises ``FileAccessError`` when the folder or the file cannot be written."""
    out = Path(out_dir)
    index = out / "index.html"
    text = render_html(reports, title)
    try:
        out.mkdir(parents=True, exist_ok=True)
        index.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FileAccessError(f"--html {out}: cannot write the report ({exc.strerror})") from None
    return index


# -- one run --------------------------------------------------------------------------


def _zone(report: SimReport) -> dt.tzinfo:
    """The exchange's time zone (with its daylight saving), else the offset the log's times carry."""
    if report.calendar:
        try:
            return get_calendar(report.calendar).tz
        except ConfigError:
            pass
    for at, _, _ in report.session_states:
        zone = dt.datetime.fromisoformat(at).tzinfo
        if zone is not None:
            return zone
    return dt.timezone.utc


def _single(r: SimReport) -> list[str]:
    zone = _zone(r)
    parts = [_meta(r), _cards(r)]
    if r.prices:
        axis = _Axis([b.start for b in r.prices], r.price_width_s, LEFT, WIDTH - RIGHT)
        ticks = _date_ticks(r, axis, zone)
        parts += ["<h2>Price, entries, exits and stops</h2>", _legend_price(), _price_chart(r, axis, ticks),
                  "<h2>Equity and drawdown (net of commission)</h2>", _equity_chart([r], axis, ticks, drawdown=True)]
    if r.stats is not None and r.stats.session_pnl:
        parts += ["<h2>Net P&amp;L by session</h2>", _session_pnl_chart(r)]
    if r.session_states:
        parts += ["<h2>Sessions: state, throttle and position</h2>", _legend_calendar(), _calendar(r, zone)]
    parts += ["<h2>Trades</h2>", _trades_table(r, zone),
              "<details><summary>Terminal summary</summary><pre>" + esc(summary_table(r)) + "</pre></details>"]
    return parts


def _meta(r: SimReport) -> str:
    params = ", ".join(f"{k}={v}" for k, v in r.strategy_params.items()) or "defaults"
    rows = [("strategy", f"{r.strategy} ({params})"), ("data", r.data), ("instrument", f"{r.symbol} on {r.calendar}"),
            ("config hash", ", ".join(h[:16] for h in r.config_hashes) or "-"),
            ("seed", "-" if r.seed is None else r.seed),
            ("bars", f"{r.bars:,}" + (f" ({r.bars_rejected:,} rejected)" if r.bars_rejected else "")),
            ("event log", "verifies" if r.log_verifies else f"DOES NOT VERIFY: {r.log_error}")]
    return "<table class='meta'>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows) + "</table>"


def _cards(r: SimReport) -> str:
    s = r.stats

    def money(v: Decimal | None) -> str:
        return "-" if v is None else f"{v:,.2f}"

    def ratio(v: float | Decimal | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    dd_when = ""
    if s is not None and s.max_drawdown:
        dd_when = f"{(s.drawdown_peak or 'start')[:10]} to {(s.drawdown_trough or '?')[:10]}"
    cards = [
        ("net P&L (USD)", money(r.net_pnl), f"gross {money(r.gross_pnl)}, commission {money(r.commission)}",
         "neg" if r.net_pnl < 0 else "pos"),
        ("trades", str(r.trades), "" if s is None or s.win_rate is None else f"win rate {s.win_rate * 100:.1f}%", ""),
        ("profit factor", ratio(s.profit_factor if s else None), "" if s is None else f"expectancy {money(s.expectancy)}", ""),
        ("Sharpe / Sortino", f"{ratio(s.sharpe if s else None)} / {ratio(s.sortino if s else None)}", "daily, annualised", ""),
        ("max drawdown (USD)", money(r.max_drawdown), dd_when, ""),
        ("exposure", "-" if s is None or s.exposure is None else f"{s.exposure * 100:.1f}%", "of market time in a position", ""),
        ("kill switch", f"{len(r.kill_switch_trips)} trip(s)", ", ".join(r.kill_switch_trips)[:60], ""),
        ("late flattens", str(r.late_flattens), "flat at every close" if r.flat_at_every_close else "NOT flat at a close", ""),
    ]
    return "<div class='cards'>" + "".join(
        f"<div class='card'><span>{esc(k)}</span><b class='{c}'>{esc(v)}</b><span>{esc(sub)}</span></div>"
        for k, v, sub, c in cards) + "</div>"


def _date_ticks(r: SimReport, axis: _Axis, zone: dt.tzinfo) -> list[tuple[float, str]]:
    """(x, label) at the first bucket of each exchange date, thinned to about a dozen labels."""
    days: list[tuple[int, dt.date]] = []
    for i, b in enumerate(r.prices):
        day = dt.datetime.fromtimestamp(b.start, zone).date()
        if not days or days[-1][1] != day:
            days.append((i, day))
    if len(days) > 60:  # months
        days = [d for k, d in enumerate(days) if k == 0 or d[1].month != days[k - 1][1].month]
        fmt = "%b %Y"
    else:
        fmt = "%a %d %b" if len(days) <= 14 else "%d %b"
    every = max(1, -(-len(days) // 12))
    return [(axis.left + i * axis.step, day.strftime(fmt)) for i, day in days[::every]]


def _x_ticks(ticks: Iterable[tuple[float, str]], top: float, bottom: float) -> list[str]:
    return [f"<line x1='{num(x)}' x2='{num(x)}' y1='{num(top)}' y2='{num(bottom)}' stroke='#e4e4e4'/>"
            f"<text x='{num(x + 2)}' y='{num(bottom + 12)}'>{esc(label)}</text>" for x, label in ticks]


def _legend_price() -> str:
    return ("<div class='legend'><i style='background:#c9d7e8'></i>high-low<i style='background:#333;height:2px'></i>close"
            f"<i style='background:{LONG_COLOUR}'></i>long entry (&#9650;)<i style='background:{SHORT_COLOUR}'></i>short entry (&#9660;)"
            "<i style='background:#000;width:7px;height:7px;transform:rotate(45deg)'></i>exit (&#9670;)"
            f"<i style='background:{KILL_COLOUR};height:2px'></i>stop<i style='background:#1a9850;height:2px'></i>target</div>")


def _price_chart(r: SimReport, axis: _Axis, ticks: list[tuple[float, str]]) -> str:
    height, top, bottom = 320, 8, 300
    low = min(b.low for b in r.prices)
    high = max(b.high for b in r.prices)
    for t in r.trade_list:
        for v in (t.stop_price, t.target_price, t.outcome.exit_price, t.outcome.entry_price):
            if v is not None:
                low, high = min(low, float(v)), max(high, float(v))
    pad = (high - low) * 0.03 or 1.0
    low, high = low - pad, high + pad

    def y(v: float) -> float:
        return bottom - (v - low) / (high - low) * (bottom - top)

    xs = [axis.left + (i + 0.5) * axis.step for i in range(len(r.prices))]
    band = ("M" + " L".join(f"{num(x)},{num(y(b.high))}" for x, b in zip(xs, r.prices))
            + " L" + " L".join(f"{num(x)},{num(y(b.low))}" for x, b in zip(reversed(xs), reversed(r.prices))) + "Z")
    close = "M" + " L".join(f"{num(x)},{num(y(b.close))}" for x, b in zip(xs, r.prices))
    parts = [*y_axis(low, high, top, bottom, LEFT, WIDTH - RIGHT, "{:,.2f}"), *_x_ticks(ticks, top, bottom),
             f"<path class='band' d='{band}' fill='#c9d7e8' stroke='none'/>",
             f"<path class='close' d='{close}' fill='none' stroke='#333' stroke-width='0.8'/>"]
    longs: list[str] = []
    shorts: list[str] = []
    exits: list[str] = []
    stops: list[str] = []
    targets: list[str] = []
    wins: list[str] = []
    losses: list[str] = []
    tips: list[str] = []
    for t in r.trade_list:
        o = t.outcome
        xe, xx = axis.x(o.entry_time), axis.x(o.exit_time)
        ye, yx = y(float(o.entry_price)), y(float(o.exit_price))
        if len(r.trade_list) <= TRADE_TOOLTIPS_MAX:
            (wins if o.net_pnl_usd > 0 else losses).append(f"M{num(xe)},{num(ye)}L{num(xx)},{num(yx)}")
        if o.quantity > 0:
            longs.append(f"M{num(xe)},{num(ye)}l-3.5,6h7z")
        else:
            shorts.append(f"M{num(xe)},{num(ye)}l-3.5,-6h7z")
        exits.append(f"M{num(xx)},{num(yx - 2.5)}l2.5,2.5-2.5,2.5-2.5-2.5z")
        if t.stop_price is not None:
            stops.append(f"M{num(xe)},{num(y(float(t.stop_price)))}H{num(max(xx, xe + 2))}")
        if t.target_price is not None:
            targets.append(f"M{num(xe)},{num(y(float(t.target_price)))}H{num(max(xx, xe + 2))}")
        if len(r.trade_list) <= TRADE_TOOLTIPS_MAX:
            tips.append(f"<circle cx='{num(xe)}' cy='{num(ye)}' r='5' fill='transparent'><title>{esc(_trade_tip(t))}</title></circle>")
    parts += [f"<path class='stops' d='{''.join(stops)}' stroke='{KILL_COLOUR}' stroke-width='1.4' fill='none'/>",
              f"<path class='targets' d='{''.join(targets)}' stroke='#1a9850' stroke-width='1.2' fill='none'/>",
              f"<path d='{''.join(wins)}' stroke='#1a9850' stroke-width='0.7' stroke-dasharray='2 1' fill='none'/>",
              f"<path d='{''.join(losses)}' stroke='{SHORT_COLOUR}' stroke-width='0.7' stroke-dasharray='2 1' fill='none'/>",
              f"<path class='entries long' d='{''.join(longs)}' fill='{LONG_COLOUR}'/>",
              f"<path class='entries short' d='{''.join(shorts)}' fill='{SHORT_COLOUR}'/>",
              f"<path class='exits' d='{''.join(exits)}' fill='#000'/>", *tips]
    return svg(WIDTH, height + 4, parts, label="price with entries, exits and stops", cls="chart price")


def _trade_tip(t: Trade) -> str:
    o = t.outcome
    side = "long" if o.quantity > 0 else "short"
    stop = "-" if t.stop_price is None else t.stop_price
    return (f"{side} {abs(o.quantity)} {o.entry_time:%Y-%m-%d %H:%M} at {o.entry_price}, stop {stop}; "
            f"exit {o.exit_time:%H:%M} at {o.exit_price}; net {o.net_pnl_usd:,.2f} USD")


def _equity_chart(reports: Sequence[SimReport], axis: _Axis, ticks: list[tuple[float, str]], *, drawdown: bool) -> str:
    eq_top, eq_bottom = 8, 190
    dd_top, dd_bottom = 214, 300
    curves = []
    for r in reports:
        points = [(axis.x(o.exit_time), float(c)) for o, c in _cumulative(r)]
        curves.append(points)
    values = [v for c in curves for _, v in c] + [0.0]
    low, high = min(values), max(values)
    if high == low:
        high = low + 1
    pad = (high - low) * 0.05

    def y(v: float) -> float:
        return eq_bottom - (v - low + pad) / (high - low + 2 * pad) * (eq_bottom - eq_top)

    parts = [*y_axis(low - pad, high + pad, eq_top, eq_bottom, LEFT, WIDTH - RIGHT),
             *_x_ticks(ticks, eq_top, eq_bottom if not drawdown else dd_bottom),
             f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{num(y(0))}' y2='{num(y(0))}' stroke='#888'/>"]
    for k, points in enumerate(curves):
        path = f"M{LEFT},{num(y(0))}" + "".join(f"H{num(x)}V{num(y(v))}" for x, v in points) + f"H{WIDTH - RIGHT}"
        colour = "#2166ac" if len(curves) == 1 else f"hsl({(k * 47) % 360},55%,45%)"
        parts.append(f"<path class='equity' d='{path}' fill='none' stroke='{colour}' stroke-width='{1.4 if len(curves) == 1 else 0.8}'/>")
    parts.append(f"<text x='{LEFT + 4}' y='{eq_top + 10}'>cumulative net P&amp;L (USD)</text>")
    height = eq_bottom + 16
    if drawdown and curves:
        peak, depth = 0.0, []
        for x, v in curves[0]:
            peak = max(peak, v)
            depth.append((x, v - peak))
        worst = min([d for _, d in depth] + [-1.0])

        def yd(v: float) -> float:
            return dd_top + v / worst * (dd_bottom - dd_top)

        area = f"M{LEFT},{num(dd_top)}" + "".join(f"H{num(x)}V{num(yd(d))}" for x, d in depth) + f"H{WIDTH - RIGHT}V{dd_top}Z"
        parts += [*y_axis(worst, 0, dd_top, dd_bottom, LEFT, WIDTH - RIGHT),
                  f"<path class='drawdown' d='{area}' fill='#f4a582' stroke='#b2182b' stroke-width='0.8'/>",
                  f"<text x='{LEFT + 4}' y='{dd_bottom - 4}'>drawdown from the peak (USD)</text>"]
        height = dd_bottom + 16
    return svg(WIDTH, height, parts, label="equity and drawdown against time", cls="chart equity")


def _cumulative(r: SimReport) -> list[tuple[Any, Decimal]]:
    total, out = Decimal(0), []
    for t in r.trade_list:
        total += t.outcome.net_pnl_usd
        out.append((t.outcome, total))
    return out


def _session_pnl_chart(r: SimReport) -> str:
    assert r.stats is not None
    sessions = list(r.stats.session_pnl.items())
    top, bottom, height = 8, 150, 172
    values = [float(v) for _, v in sessions] + [0.0]
    low, high = min(values), max(values)
    if high == low:
        high = low + 1
    step = (WIDTH - RIGHT - LEFT) / len(sessions)

    def y(v: float) -> float:
        return bottom - (v - low) / (high - low) * (bottom - top)

    parts = [*y_axis(low, high, top, bottom, LEFT, WIDTH - RIGHT),
             f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{num(y(0))}' y2='{num(y(0))}' stroke='#888'/>"]
    every = max(1, -(-len(sessions) // 12))
    for i, (day, value) in enumerate(sessions):
        x = LEFT + i * step
        v = float(value)
        y0, y1 = sorted((y(0), y(v)))
        colour = "#1a9850" if v > 0 else SHORT_COLOUR
        bar_w = min(max(step * 0.8, 0.6), 40.0)
        parts.append(f"<rect class='session-pnl' x='{num(x + (step - bar_w) / 2)}' y='{num(y0)}' width='{num(bar_w)}' "
                     f"height='{num(max(y1 - y0, 0.5))}' fill='{colour}'><title>{esc(day)}: {value:,.2f} USD</title></rect>")
        if i % every == 0:
            parts.append(f"<text x='{num(x)}' y='{bottom + 14}'>{esc(day[5:] if len(sessions) <= 60 else day[:7])}</text>")
    return svg(WIDTH, height, parts, label="net P&L by session", cls="chart sessions")


# -- the calendar of sessions --------------------------------------------------------


def _legend_calendar() -> str:
    items = [("#d9d9d9", "pre-open"), (SESSION_COLOURS["TRADING"], "trading, entries allowed"),
             (THROTTLE_COLOURS["THROTTLED"], "trading, throttled (no entries)"),
             (THROTTLE_COLOURS["PROBATION"], "trading, throttle on probation"), (KILL_COLOUR, "kill switch tripped"),
             (SESSION_COLOURS["FLATTENING"], "flattening"), (LONG_COLOUR, "long"), (SHORT_COLOUR, "short"),
             ("repeating-linear-gradient(45deg,#ddd 0 3px,#fff 3px 6px)", "holiday (no session)"),
             ("#fff;border:1px dashed #999", "session without data")]
    return "<div class='legend'>" + "".join(f"<i style='background:{c}'></i>{esc(t)}" for c, t in items) + "</div>"


def _intervals(changes: Sequence[tuple[dt.datetime, _T]], end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, _T]]:
    """(start, end, state) from state changes in time order; the last lasts until ``end``."""
    out = []
    for (at, state), (until, _) in zip(changes, [*changes[1:], (end, changes[-1][1] if changes else None)]):
        if until > at:
            out.append((at, until, state))
    return out


def _calendar(r: SimReport, zone: dt.tzinfo) -> str:
    """One row a week, one column a weekday; a cell draws its session's hours."""
    def parse(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text).astimezone(zone)

    ends = [parse(a) for a, _, _ in r.session_states]
    if r.prices:
        ends.append(dt.datetime.fromtimestamp(r.prices[-1].start + r.price_width_s, zone))
    last = max(ends)
    cells: dict[dt.date, list[tuple[dt.datetime, dt.datetime, str]]] = {}
    for start, end, (session, state) in _intervals([(parse(a), (d, s)) for a, d, s in r.session_states], last):
        if session and state != "CLOSED":
            cells.setdefault(dt.date.fromisoformat(session), []).append((start, end, state))
    throttle = _intervals([(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), "ACTIVE")]
                          + [(parse(a), s) for a, k, s, _ in r.timeline if k == "throttle"], last)
    kill = _intervals([(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), "ARMED")]
                      + [(parse(a), s) for a, k, s, _ in r.timeline if k == "kill_switch"], last)
    held = [(t.outcome.entry_time, t.outcome.exit_time, "long" if t.outcome.quantity > 0 else "short") for t in r.trade_list]
    if not cells:
        return "<p>No session reached TRADING.</p>"
    no_data = {dt.date.fromisoformat(s) for s in r.sessions_without_data}
    first, final = min([*cells, *no_data]), max([*cells, *no_data])
    pnl = r.stats.session_pnl if r.stats is not None else {}
    trades_by_day: dict[str, int] = {}
    for t in r.trade_list:
        trades_by_day[t.session] = trades_by_day.get(t.session, 0) + 1

    def offset(day: dt.date, moment: dt.datetime) -> float:
        midnight = dt.datetime.combine(day, dt.time(), zone)
        return (moment - midnight).total_seconds() / 3600

    lo = min(offset(d, s) for d, spans in cells.items() for s, _, _ in spans)
    hi = max(offset(d, e) for d, spans in cells.items() for _, e, _ in spans)
    hi = max(hi, lo + 1)
    weekend = any(d.weekday() >= 5 for d in cells)
    columns = 7 if weekend else 5
    monday = first - dt.timedelta(days=first.weekday())
    weeks = (final - monday).days // 7 + 1
    # a week or two is read cell by cell; a year must stay one screen or two
    label_w, gap, row_h = 78, 4, (44 if weeks <= 2 else 28 if weeks <= 8 else 18)
    band = row_h - 7
    cell_w = (WIDTH - label_w - RIGHT) / columns
    spans_out = _Spans()
    labels: list[str] = []
    parts = [f"<text x='{label_w + c * cell_w + 2}' y='10'>{name}</text>"
             for c, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[:columns])]
    parts.append("<defs><pattern id='holiday' width='6' height='6' patternUnits='userSpaceOnUse' "
                 "patternTransform='rotate(45)'><rect width='3' height='6' fill='#ddd'/></pattern></defs>")
    for w in range(weeks):
        week = monday + dt.timedelta(days=7 * w)
        y = 14 + w * row_h
        parts.append(f"<text x='0' y='{num(y + 11)}'>{week:%d %b %Y}</text>")
        for c in range(columns):
            day = week + dt.timedelta(days=c)
            if day < first or day > final:
                continue
            x = label_w + c * cell_w
            w_px = cell_w - gap

            def px(moment: dt.datetime, day: dt.date = day, x: float = x, w_px: float = w_px) -> float:
                return x + min(max((offset(day, moment) - lo) / (hi - lo), 0.0), 1.0) * w_px

            if day in cells:
                spans = cells[day]
                tip = (f"{day:%a %Y-%m-%d}: {trades_by_day.get(day.isoformat(), 0)} trade(s), net "
                       f"{pnl.get(day.isoformat(), Decimal(0)):,.2f} USD")
                parts.append(f"<rect class='session' x='{num(x)}' y='{num(y)}' width='{num(w_px)}' height='{row_h - 3}' "
                             f"fill='#f7f7f7'><title>{esc(tip)}</title></rect>")
                for s, e, state in spans:
                    spans_out.add(px(s), px(e), y, band, SESSION_COLOURS.get(state, "#bbbbbb"), "state")
                    if state == "TRADING":
                        for ts, te, tstate in throttle:
                            if tstate in THROTTLE_COLOURS and te > s and ts < e:
                                spans_out.add(px(max(s, ts)), px(min(e, te)), y, band, THROTTLE_COLOURS[tstate], "throttled")
                        for ks, ke, kstate in kill:
                            if kstate == "TRIPPED" and ke > s and ks < e:
                                spans_out.add(px(max(s, ks)), px(min(e, ke)), y, band, KILL_COLOUR, "tripped")
                day_start, day_end = spans[0][0], spans[-1][1]
                for hs, he, side in held:
                    if he > day_start and hs < day_end:
                        spans_out.add(px(max(hs, day_start)), px(min(he, day_end)), y + band, 4,
                                      LONG_COLOUR if side == "long" else SHORT_COLOUR, "held")
                if row_h >= 28:
                    net = pnl.get(day.isoformat(), Decimal(0))
                    labels.append(f"<text x='{num(x + w_px - 2)}' y='{num(y + band - 3)}' text-anchor='end' "
                                 f"fill='{'#1a7837' if net > 0 else '#b2182b' if net < 0 else '#444'}'>{net:,.2f}</text>")
            elif day in no_data:
                parts.append(f"<g class='no-data'><title>{day:%a %Y-%m-%d}: session without data</title>"
                             f"<rect x='{num(x)}' y='{num(y)}' width='{num(w_px)}' height='{row_h - 3}' fill='#fff' "
                             f"stroke='#999' stroke-dasharray='3 2'/><text x='{num(x + 4)}' y='{num(y + 11)}'>no data</text></g>")
            elif day.weekday() < 5:
                parts.append(f"<g class='holiday'><title>{day:%a %Y-%m-%d}: no session (holiday)</title>"
                             f"<rect x='{num(x)}' y='{num(y)}' width='{num(w_px)}' height='{row_h - 3}' fill='url(#holiday)'/>"
                             f"<text x='{num(x + 4)}' y='{num(y + 11)}'>holiday</text></g>")
    parts += [*spans_out.svg(), *labels]
    hours = f"each cell {_clock(lo)} to {_clock(hi)} exchange time"
    parts.append(f"<text x='0' y='{num(14 + weeks * row_h + 10)}'>{esc(hours)}</text>")
    return svg(WIDTH, 14 + weeks * row_h + 16, parts, label="calendar of sessions", cls="chart calendar")


class _Spans:
    """Rectangles gathered into one SVG path per (class, colour): a year of them stays small."""

    def __init__(self) -> None:
        self.paths: dict[tuple[str, str], list[str]] = {}

    def add(self, x0: float, x1: float, y: float, h: float, colour: str, cls: str) -> None:
        w = max(x1 - x0, 0.5)
        self.paths.setdefault((cls, colour), []).append(f"M{num(x0)},{num(y)}h{num(w)}v{num(h)}h-{num(w)}z")

    def svg(self) -> list[str]:
        return [f"<path class='{cls}' fill='{colour}' pointer-events='none' d='{''.join(d)}'/>"
                for (cls, colour), d in self.paths.items()]


def _clock(hours: float) -> str:
    day, rest = divmod(hours, 24)
    text = f"{int(rest):02d}:{round((rest % 1) * 60):02d}"
    return text if not day else f"{text} ({'+' if day > 0 else ''}{int(day)}d)"


def _trades_table(r: SimReport, zone: dt.tzinfo) -> str:
    trades = list(enumerate(r.trade_list, start=1))
    note = ""
    if len(trades) > TRADE_TABLE_ALL:
        ordered = sorted(trades, key=lambda it: it[1].outcome.net_pnl_usd)
        keep = {i for i, _ in ordered[:TRADE_TABLE_EXTREMES] + ordered[-TRADE_TABLE_EXTREMES:]}
        trades = [it for it in trades if it[0] in keep]
        note = (f"<p>{len(r.trade_list):,} trades: the {TRADE_TABLE_EXTREMES} worst and {TRADE_TABLE_EXTREMES} best "
                "are listed (every trade: <code>--trades-csv</code> or <code>--report</code>).</p>")
    if not trades:
        return "<p>No trade closed.</p>"

    def when(moment: dt.datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    rows = [(i, "long" if t.outcome.quantity > 0 else "short", abs(t.outcome.quantity), when(t.outcome.entry_time),
             t.outcome.entry_price, "-" if t.stop_price is None else t.stop_price,
             "-" if t.target_price is None else t.target_price, when(t.outcome.exit_time), t.outcome.exit_price,
             f"{t.outcome.net_pnl_usd:,.2f}") for i, t in trades]
    return note + table(("#", "side", "qty", "entry (exchange time)", "entry", "stop", "target", "exit", "exit price",
                         "net USD"), rows, left=2, cls="trades")


# -- Monte Carlo ------------------------------------------------------------------------


def _monte_carlo(reports: Sequence[SimReport]) -> list[str]:
    first = reports[0]
    seeds = [r.seed for r in reports]
    params = ", ".join(f"{k}={v}" for k, v in first.strategy_params.items()) or "defaults"
    meta = [("strategy", f"{first.strategy} ({params})"), ("data", first.data),
            ("instrument", f"{first.symbol} on {first.calendar}"),
            ("config hash", ", ".join(sorted({h[:16] for r in reports for h in r.config_hashes})) or "-"),
            ("seeds", f"{len(reports)}: {seeds[0]}..{seeds[-1]}")]
    parts = ["<table class='meta'>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta) + "</table>"]
    pcts = monte_carlo_percentiles(reports)
    parts.append("<h2>Percentiles over the seeds (USD)</h2>" + table(
        ("", "P5", "P50", "P95"), [(name, *(f"{v:,.2f}" for v in p.values())) for name, p in pcts.items()], left=1))
    if first.prices:
        axis = _Axis([b.start for b in first.prices], first.price_width_s, LEFT, WIDTH - RIGHT)
        parts += ["<h2>Equity of every seed (net of commission)</h2>",
                  _equity_chart(reports, axis, _date_ticks(first, axis, _zone(first)), drawdown=False)]
    parts.append("<h2>Every seed</h2><pre>" + esc(monte_carlo_table(reports)) + "</pre>")
    return parts

