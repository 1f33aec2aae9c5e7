"""``statebot bars synthetic|fetch``: write bars as a CSV file that ``statebot sim --bars`` reads.

``fetch --adapter ibkr`` downloads historical bars from TWS / IB Gateway
(``statebot.venues.ibkr.history``: one request per 24 hours of the range, paced
by IB's historical data rules, the front month of each day unless ``--expiry``)
and writes them in the same layout as ``synthetic``. Errors are one line: TWS
unreachable, a pacing violation IB reports (error 162), no data (exit 4).


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
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs

from statebot.cli._args import positive_duration_arg
from statebot.cli.run import _client_id, _port
from statebot.errors import AdapterUnavailable, ConfigError, FileAccessError


def register(sub: Any) -> None:
    p = sub.add_parser("bars", help="write bars to a CSV file (synthetic, or fetched from IB)",
                       description="Bars for simulations, as a CSV file statebot sim --bars reads. 'synthetic' writes "
                       "the seeded synthetic bars statebot sim generates; 'fetch' downloads historical bars from "
                       "Interactive Brokers.")
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
    fetch = actions.add_parser("fetch", help="download historical bars from Interactive Brokers as CSV",
                               description="Download historical TRADES bars of a futures contract from TWS or IB "
                               "Gateway (read-only connection), one request per day of the range, paced by IB's "
                               "historical data rules (at most 60 requests in ten minutes: a year of days takes about "
                               "an hour). Without --expiry each day's front month is asked for (the live bot's roll "
                               "rule), so a range across a roll is stitched, unadjusted.")
    fetch.add_argument("--adapter", required=True, choices=("ibkr",), help="where the bars come from (only ibkr)")
    fetch.add_argument("--symbol", default="MES", help="futures symbol (default MES)")
    fetch.add_argument("--expiry", default=None, metavar="YYYYMM", help="one contract month throughout (default: each day's front month)")
    fetch.add_argument("--start", type=dt.date.fromisoformat, required=True, help="first exchange date (YYYY-MM-DD)")
    fetch.add_argument("--end", type=dt.date.fromisoformat, required=True, help="last exchange date (YYYY-MM-DD)")
    fetch.add_argument("--bar-size", type=positive_duration_arg, default=dt.timedelta(minutes=1), metavar="DURATION",
                       help="1m, 2m, 3m, 5m, 10m, 15m, 20m, 30m, 1h, 2h, 3h, 4h or 8h (default 1m)")
    fetch.add_argument("--calendar", default="XNYS", help="exchange calendar whose time zone dates and labels use (default XNYS)")
    fetch.add_argument("--rth", action="store_true", help="regular trading hours only (default: every bar IB has)")
    fetch.add_argument("--host", default="127.0.0.1", help="TWS / IB Gateway host (default 127.0.0.1)")
    fetch.add_argument("--port", type=_port, default=7497, metavar="N", help="API port (default 7497, TWS paper; IB Gateway 4002)")
    fetch.add_argument("--client-id", type=_client_id, default=17, metavar="N",
                       help="API client id, not one a running bot uses (default 17)")
    fetch.add_argument("--timeout", type=positive_duration_arg, default=dt.timedelta(seconds=60), metavar="DURATION",
                       help="how long to wait for each request (default 60s)")
    fetch.add_argument("--out", type=Path, metavar="FILE.csv", help="write here (default: stdout)")
    fetch.set_defaults(run=run_fetch)


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


def run_fetch(args: argparse.Namespace) -> int:
    from statebot.core.time.calendar import get_calendar
    from statebot.feeds.csv import write_bars_csv
    from statebot.venues.ibkr import client_library
    from statebot.venues.ibkr.history import HistoryPacer, fetch_history, ib_bar_size

    tz = get_calendar(args.calendar).tz
    setting = ib_bar_size(args.bar_size)  # a bad size is refused before connecting
    if args.end < args.start:
        raise ConfigError(f"--end {args.end} is before --start {args.start}")
    lib = client_library()
    # the client library logs each failure too; the one line below says it (a configured root logger still sees them)
    logging.getLogger(lib.__name__).addHandler(logging.NullHandler())
    ib = lib.IB()
    try:
        ib.connect(args.host, args.port, clientId=args.client_id, timeout=args.timeout.total_seconds(), readonly=True)
    except (OSError, TimeoutError, ConnectionError) as exc:
        raise AdapterUnavailable(f"cannot connect to TWS / IB Gateway at {args.host}:{args.port} as client "
                                 f"{args.client_id} ({type(exc).__name__}); is it running with the API enabled?") from None
    try:
        def progress(local_symbol: str, left: dt.datetime, right: dt.datetime, count: int) -> None:
            print(f"{local_symbol} {left.astimezone(tz):%Y-%m-%d %H:%M}..{right.astimezone(tz):%Y-%m-%d %H:%M}: "
                  f"{count} bars", file=sys.stderr, flush=True)

        bars = fetch_history(ib, lib, symbol=args.symbol, start=args.start, end=args.end, tz=tz, bar_size=args.bar_size,
                             expiry=args.expiry, use_rth=args.rth, pacer=HistoryPacer(sleep=ib.sleep),
                             timeout_s=args.timeout.total_seconds(), on_window=progress)
    finally:
        ib.disconnect()
    if args.out is None:
        write_bars_csv(bars, sys.stdout, bar_size=args.bar_size, tz=tz)
        return 0
    buffer = io.StringIO()
    count = write_bars_csv(bars, buffer, bar_size=args.bar_size, tz=tz)
    _write_atomically(args.out, buffer.getvalue())
    print(f"wrote {count} {setting} bars of {args.symbol} to {args.out}", file=sys.stderr)
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
