"""``statebot bars synthetic``: write seeded synthetic bars as a CSV file that ``statebot sim --bars`` reads.

The bars are the ones ``statebot sim`` generates for the same symbol, calendar,
dates, bar size and seed (its demo: MES, XNYS, 2026-11-23..27, 1m, seed 7). Rows
are labelled with the bar's start in the exchange's time zone with its UTC
offset, so the file needs no ``--tz`` or ``--bar-label``. A bar size must fit
every session a whole number of times (1m, 5m, 15m, 30m on XNYS); another is
refused in one line, exit 2. Written to ``--out FILE`` (atomically replaced) or stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs

from statebot.cli._args import positive_duration_arg
from statebot.errors import ConfigError, FileAccessError


def register(sub: Any) -> None:
    p = sub.add_parser("bars", help="write bars to a CSV file (synthetic)",
                       description="Bars for simulations. 'synthetic' writes the seeded synthetic bars statebot sim "
                       "generates, as a CSV file statebot sim --bars reads.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    syn = actions.add_parser("synthetic", help="write seeded synthetic bars as CSV")
    syn.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23), help="first day (default 2026-11-23)")
    syn.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27), help="last day (default 2026-11-27)")
    syn.add_argument("--symbol", default="MES", help="built-in instrument whose tick grid the prices follow (default MES)")
    syn.add_argument("--calendar", default="XNYS", help="exchange calendar of the sessions (default XNYS)")
    syn.add_argument("--bar-size", type=positive_duration_arg, default=dt.timedelta(minutes=1), metavar="DURATION",
                     help="default 1m")
    syn.add_argument("--seed", type=int, default=7, help="default 7, as statebot sim")
    syn.add_argument("--daily-vol", type=float, default=0.01, metavar="X", help="a session's return std-dev (default 0.01)")
    syn.add_argument("--start-price", type=float, default=6000.0, metavar="PRICE", help="default 6000")
    syn.add_argument("--out", type=Path, metavar="FILE.csv", help="write here (default: stdout)")
    syn.set_defaults(run=run_synthetic)


def run_synthetic(args: argparse.Namespace) -> int:
    from statebot.config.model import Config
    from statebot.core.time.calendar import get_calendar
    from statebot.core.time.durations import format_duration
    from statebot.feeds.csv import write_bars_csv
    from statebot.feeds.synthetic import SyntheticBars

    instrument = attrs.evolve(Config().instrument, symbol=args.symbol)
    calendar = get_calendar(instrument.session_calendar(args.calendar))
    if args.end < args.start:
        raise ConfigError(f"--end {args.end} is before --start {args.start}")
    for session in calendar.sessions(args.start, args.end):
        if (session.close - session.open) % args.bar_size:
            raise ConfigError(f"--bar-size {format_duration(args.bar_size)} does not fit the session of {session.date} "
                              f"({format_duration(session.close - session.open)}) a whole number of times; "
                              "a shorter last bar could not be labelled by its start")
    bars = SyntheticBars(start=args.start, end=args.end, symbol=args.symbol, calendar=calendar, seed=args.seed,
                         bar_size=args.bar_size, daily_vol=args.daily_vol, start_price=args.start_price,
                         tick_size=instrument.spec().tick_size)
    if args.out is None:
        write_bars_csv(bars, sys.stdout, bar_size=args.bar_size, tz=calendar.tz)
        return 0
    buffer = io.StringIO()
    count = write_bars_csv(bars, buffer, bar_size=args.bar_size, tz=calendar.tz)
    _write_atomically(args.out, buffer.getvalue())
    print(f"wrote {count} bars to {args.out}", file=sys.stderr)
    return 0


def _write_atomically(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # an ordinary new file's mode, not mkstemp's private one
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise FileAccessError(f"--out {path}: cannot write ({exc.strerror})") from None
