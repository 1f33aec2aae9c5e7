"""``statebot sessions``: the session schedule, for people (table) or programs (--json).

The table shows every time in the exchange's zone, and the flatten and the close
also in a second zone (New York for a calendar kept elsewhere, Chicago for one
kept in New York), so the cash close (16:00 ET) and the CME equity halt (16:00 CT)
can be read side by side."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from collections import Counter
from typing import Any

from statebot.config.model import load_config
from statebot.core.time.calendar import get_calendar, zone
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
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="the sessions the config's instrument keeps: its [calendar] for the cash close, the contract's "
                   "own calendar for the futures close, and the config's flatten lead and entry cut-off")
    p.add_argument("--calendar", default=None,
                   help="XNYS (default without --config: the cash close, 16:00 ET), CME_GLOBEX_EQUITY (CME equity index futures, "
                   "16:00 CT halt), any exchange_calendars name, or a pandas_market_calendars name when installed")
    p.add_argument("--zone", default=None, metavar="ZONE",
                   help="second zone for the flatten and close columns (default: America/New_York, or "
                   "America/Chicago for a calendar kept in New York)")
    p.add_argument("--start", type=_date, help="first date, YYYY-MM-DD (default: Monday of this week)")
    p.add_argument("--end", type=_date, help="last date, YYYY-MM-DD (default: Sunday after --start)")
    p.add_argument("--flatten-before", type=duration_arg, default=None, metavar="DURATION",
                   help="flatten this long before the close (default 5m, or the config's)")
    p.add_argument("--entry-cutoff", type=duration_arg, default=None, metavar="DURATION",
                   help="no new entries from this long before the close (default: none, or the config's)")
    p.add_argument("--json", action="store_true", help="print a JSON array, one object per session")
    p.set_defaults(run=run)


def _apply_config(args: argparse.Namespace) -> None:
    """Fill the options not given on the command line from ``--config`` (or the defaults)."""
    if args.config is not None:
        config = load_config(args.config)
        if args.calendar is None:
            args.calendar = config.instrument.session_calendar(config.calendar.name)
        if args.flatten_before is None:
            args.flatten_before = config.calendar.flatten_lead
        if args.entry_cutoff is None:
            args.entry_cutoff = config.calendar.entry_cutoff
    if args.calendar is None:
        args.calendar = "XNYS"
    if args.flatten_before is None:
        args.flatten_before = dt.timedelta(minutes=5)


def _iso(value: dt.datetime | None, tz: Any) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat()


def run(args: argparse.Namespace) -> int:
    _apply_config(args)
    calendar = get_calendar(args.calendar)
    tz = calendar.tz
    other = zone(args.zone) if args.zone is not None else zone(
        "America/Chicago" if str(tz) == "America/New_York" else "America/New_York")
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
    print(_table(calendar.name, tz, other, start, end, sessions, args))
    return 0


def _abbrev(zone_: Any) -> str:
    return str(zone_).rsplit("/", 1)[-1].replace("_", " ")


def _table(name: str, tz: Any, other: Any, start: dt.date, end: dt.date, sessions: tuple[SessionTimes, ...],
           args: argparse.Namespace) -> str:
    def hm(value: dt.datetime | None, day: dt.date | None = None, in_zone: Any = tz) -> str:
        if value is None:
            return "-"
        local = value.astimezone(in_zone)
        # CME-style sessions open the evening before their date: say which day
        return local.strftime("%a %H:%M" if day is not None and local.date() != day else "%H:%M")

    usual_close = Counter(hm(s.close) for s in sessions).most_common(1)
    usual = usual_close[0][0] if usual_close else None
    by_date = {s.date: s for s in sessions}
    there = _abbrev(other)[:9]
    lines = [
        f"{name} sessions {start} .. {end}, times in {tz}, flatten and close also in {other} "
        f"(flatten {format_duration(args.flatten_before)} before close"
        + (f", entry cut-off {format_duration(args.entry_cutoff)} before close)" if args.entry_cutoff is not None else ")"),
        f"{'session':<14}{'open':>10}  {'cut-off':>7}  {'flatten':>7}  {'close':>6}  "
        f"{'flatten':>9}  {'close':>9}  note",
        f"{'':<14}{'':>10}  {'':>7}  {'':>7}  {'':>6}  {there:>9}  {there:>9}",
    ]
    day = start
    while day <= end:
        s = by_date.get(day)
        label = f"{day} {day.strftime('%a')}"
        if s is not None:
            note = "early close" if usual is not None and hm(s.close) < usual else ""
            lines.append(f"{label:<14}{hm(s.open, s.date):>10}  {hm(s.entry_cutoff):>7}  {hm(s.flatten):>7}  {hm(s.close):>6}  "
                         f"{hm(s.flatten, in_zone=other):>9}  {hm(s.close, in_zone=other):>9}  {note}".rstrip())
        elif day.weekday() < 5:
            lines.append(f"{label:<14}{'':>10}  {'':>7}  {'':>7}  {'':>6}  {'':>9}  {'':>9}  no session (holiday)")
        day += dt.timedelta(days=1)
    return "\n".join(lines)
