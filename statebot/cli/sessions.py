"""``statebot sessions``: the session schedule, for people (table) or programs (--json)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter
from typing import Any

from statebot.core.time.calendar import get_calendar
from statebot.cli._args import duration_arg
from statebot.core.time.durations import format_duration
from statebot.errors import ConfigError
from statebot.core.time.schedule import SessionSchedule, SessionTimes


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r} (use YYYY-MM-DD)") from None




def register(sub: Any) -> None:
    p = sub.add_parser("sessions", help="print trading sessions with their flatten and close times",
                       description="Print each session's open, entry cut-off, flatten and close, "
                       "in exchange time (table) or as JSON with UTC offsets.")
    p.add_argument("--calendar", default="XNYS", help="exchange_calendars name (default XNYS)")
    p.add_argument("--start", type=_date, help="first date, YYYY-MM-DD (default: Monday of this week)")
    p.add_argument("--end", type=_date, help="last date, YYYY-MM-DD (default: Sunday after --start)")
    p.add_argument("--flatten-before", type=duration_arg, default=dt.timedelta(minutes=5), metavar="DURATION",
                   help="flatten this long before the close (default 5m)")
    p.add_argument("--entry-cutoff", type=duration_arg, default=None, metavar="DURATION",
                   help="no new entries from this long before the close (default: none)")
    p.add_argument("--json", action="store_true", help="print a JSON array, one object per session")
    p.set_defaults(run=run)


def _iso(value: dt.datetime | None, tz: Any) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat()


def run(args: argparse.Namespace) -> int:
    calendar = get_calendar(args.calendar)
    tz = calendar.tz
    start = args.start or (dt.datetime.now(tz).date() - dt.timedelta(days=dt.datetime.now(tz).weekday()))
    end = args.end or (start + dt.timedelta(days=6))
    if end < start:
        raise ConfigError(f"--end {end} is before --start {start}")
    schedule = SessionSchedule(calendar, flatten_lead=args.flatten_before, entry_cutoff=args.entry_cutoff)
    sessions = schedule.between(start, end)
    if args.json:
        rows = [
            {
                "session": s.date.isoformat(),
                "open": _iso(s.open, tz),
                "entry_cutoff": _iso(s.entry_cutoff, tz),
                "flatten": _iso(s.flatten, tz),
                "close": _iso(s.close, tz),
            }
            for s in sessions
        ]
        print(json.dumps(rows, indent=2))
        return 0
    print(_table(calendar.name, tz, start, end, sessions, args))
    return 0


def _table(name: str, tz: Any, start: dt.date, end: dt.date, sessions: tuple[SessionTimes, ...], args: argparse.Namespace) -> str:
    def hm(value: dt.datetime | None, day: dt.date | None = None) -> str:
        if value is None:
            return "-"
        local = value.astimezone(tz)
        # CME-style sessions open the evening before their date: say which day
        return local.strftime("%a %H:%M" if day is not None and local.date() != day else "%H:%M")

    usual_close = Counter(hm(s.close) for s in sessions).most_common(1)
    usual = usual_close[0][0] if usual_close else None
    by_date = {s.date: s for s in sessions}
    lines = [
        f"{name} sessions {start} .. {end}, times in {tz} "
        f"(flatten {format_duration(args.flatten_before)} before close"
        + (f", entry cut-off {format_duration(args.entry_cutoff)} before close)" if args.entry_cutoff is not None else ")"),
        f"{'session':<14}{'open':>10}  {'cut-off':>7}  {'flatten':>7}  {'close':>6}  note",
    ]
    day = start
    while day <= end:
        s = by_date.get(day)
        label = f"{day} {day.strftime('%a')}"
        if s is not None:
            note = "early close" if usual is not None and hm(s.close) < usual else ""
            lines.append(f"{label:<14}{hm(s.open, s.date):>10}  {hm(s.entry_cutoff):>7}  {hm(s.flatten):>7}  {hm(s.close):>6}  {note}".rstrip())
        elif day.weekday() < 5:
            lines.append(f"{label:<14}{'':>10}  {'':>7}  {'':>7}  {'':>6}  no session (holiday)")
        day += dt.timedelta(days=1)
    return "\n".join(lines)
