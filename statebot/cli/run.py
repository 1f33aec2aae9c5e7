"""``statebot run --adapter ibkr --mode OBSERVE|PAPER|LIVE ...``: the BotRunner live on TWS / IB Gateway.

(``--adapter sim --bars FILE``: the same loop on recorded bars, no broker: ``statebot.cli.dry_run``.)

Builds the runner from the config file, connects (``statebot.app.live.LiveSession``),
and runs until Ctrl-C or SIGTERM; then flattens (unless OBSERVE), closes the
event log and the state, and exits 130 (SIGINT) or 143 (SIGTERM), saying in one
line whether it stopped flat. A second Ctrl-C cuts the flatten's wait short
(the runner is still closed cleanly, no traceback). Exit 1 when the run ended
otherwise with a flatten still under way; 3 when the event log could not be
written (one line naming the file and the OS error, after one flatten step was
tried). Bad input or a refused LIVE start: one line on stderr, exit 2; an
unreachable TWS: exit 4 (the table in ``statebot.cli.exit_codes``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from statebot.cli._args import positive_duration_arg
from statebot.cli._signals import StopSignals
from statebot.cli.exit_codes import EXIT_ENVIRONMENT, EXIT_EXPECTATION_FAILED
from statebot.errors import ConfigError, StopsBot

EXIT_NOT_FLAT = EXIT_EXPECTATION_FAILED




def _bar_minutes(text: str) -> int:
    value = positive_duration_arg(text)
    seconds = value.total_seconds()
    if seconds % 60 or 1440 % int(seconds // 60):
        raise argparse.ArgumentTypeError(f"bar size {text!r} must be whole minutes that divide a day (1m, 5m, 15m, 1h, ...)")
    return int(seconds // 60)


def _equity(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"equity {text!r} must be a number of USD") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"equity {text!r} must be positive")
    return value


def _port(text: str) -> int:
    from statebot.venues.ibkr.settings import MAX_PORT

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"port {text!r} must be a whole number from 1 to {MAX_PORT}")
    return value


def _client_id(text: str) -> int:
    from statebot.venues.ibkr.settings import MAX_CLIENT_ID

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_CLIENT_ID:
        raise argparse.ArgumentTypeError(f"client id {text!r} must be a whole number from 0 to {MAX_CLIENT_ID}")
    return value


def _mode(text: str) -> str:
    return text.upper()


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run", help="run the bot live on Interactive Brokers (OBSERVE, PAPER or LIVE)",
        description="Run the BotRunner live on TWS or IB Gateway: 5-second real-time bars of the front month "
        "aggregated into --bar-size bars, a wall-time heartbeat so the session flattens even when bars stop, "
        "reconnects with backoff, every decision in the event log. Ctrl-C or SIGTERM stops it: it flattens first "
        "(not in OBSERVE), then closes the event log and the state. Exit 0 stopped flat, 1 a flatten was still "
        "under way at --stop-timeout, 2 bad input, 3 a file or folder unusable, 4 TWS unreachable at start.",
    )
    p.add_argument("--adapter", required=True, choices=("ibkr", "sim"),
                   help="ibkr: TWS / IB Gateway; sim: a dry run of this loop on recorded --bars against the simulated venue")
    p.add_argument("--mode", type=_mode, choices=("OBSERVE", "PAPER", "LIVE"),
                   help="(ibkr, required) OBSERVE: read-only, no order leaves the process; PAPER: a paper account (refuses "
                   "live ports and non-paper accounts); LIVE: real money, needs --live and ibkr.live_acknowledgement in the config")
    p.add_argument("--config", metavar="FILE",
                   help="the bot's TOML config (see statebot config default); required for ibkr; for sim, default: "
                   "statebot sim's settings and a temporary state folder")
    p.add_argument("--host", default="127.0.0.1", help="TWS / IB Gateway host (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=None, metavar="N",
                   help="API socket port (default 7497 for OBSERVE and PAPER, 7496 for LIVE; IB Gateway: 4002 paper, 4001 live)")
    p.add_argument("--client-id", type=_client_id, default=1, metavar="N",
                   help="API client id, unique per connection to that TWS (default 1)")
    p.add_argument("--live", action="store_true", help="required, with the config's acknowledgement, for LIVE mode")
    p.add_argument("--strategy", default=None, metavar="NAME",
                   help="strategy: sma-cross, orb or module:ClassName (default: the config's [strategy] name, else orb); "
                   "module.py is looked for in the current folder first")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a strategy parameter, read as a TOML value; repeatable; over the config's [strategy.params]")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="overrides",
                   help="override one config key, checked like the file; repeatable")
    p.add_argument("--symbol", default=None, metavar="SYM",
                   help="instrument, traded in its front month (default: the config's instrument.symbol, MES)")
    p.add_argument("--bar-size", type=_bar_minutes, default=None, metavar="DURATION",
                   help="bar size the strategy trades, whole minutes dividing a day (default 1m; sim: the file's)")
    p.add_argument("--heartbeat", type=positive_duration_arg, default=None, metavar="DURATION",
                   help="heartbeat cadence, of wall time (sim: of recorded time) (default 1s)")
    p.add_argument("--state-dir", default=None, metavar="D", help="state folder (default: the config's persistence.state_dir)")
    p.add_argument("--events", default=None, metavar="F", help="event log file (default: the config's event_log.path)")
    p.add_argument("--equity", type=_equity, default=None, metavar="USD",
                   help="account value sizing starts from (default: the account's NetLiquidation as TWS reports it)")
    p.add_argument("--stop-timeout", type=positive_duration_arg, default=dt.timedelta(minutes=2), metavar="DURATION",
                   help="on Ctrl-C/SIGTERM, wait at most this long for the flatten (default 2m)")
    p.add_argument("--rearm-kill-switch", default=None, metavar="NOTE",
                   help="a tripped kill switch stays tripped across restarts: re-arm it at start, recording NOTE "
                   "(why it is safe to trade again) in the event log")
    p.add_argument("--write-off-positions", default=None, metavar="NOTE",
                   help="after a position_mismatch trip, write off at start what the machines hold but the venue "
                   "reports flat (no order is sent), recording NOTE; before --rearm-kill-switch")
    dry = p.add_argument_group("dry run (--adapter sim)")
    dry.add_argument("--bars", type=Path, metavar="FILE", help="recorded bars, CSV or Parquet, as statebot sim --bars reads them")
    dry.add_argument("--speed", type=_speed, default=0.0, metavar="N",
                     help="replay N times faster than recorded time; 0 or max (default): as fast as it runs")
    dry.add_argument("--tz", metavar="ZONE", help="time zone of naive timestamps in --bars")
    dry.add_argument("--timestamp-format", metavar="FMT", help="strptime layout of the timestamps in --bars")
    dry.add_argument("--bar-label", choices=("start", "end"), default="start", help="timestamps label the bar's start (default) or end")
    dry.add_argument("--report", type=Path, metavar="OUT.json", help="write statebot sim's JSON summary of the run")
    dry.add_argument("--trades-csv", type=Path, metavar="OUT.csv", help="write the closed trades as CSV")
    dry.add_argument("--verbose", action="store_true", help="print the loop's log lines (default: errors only)")
    p.set_defaults(run=run)


def _speed(text: str) -> float:
    from statebot.cli.dry_run import speed_arg

    return speed_arg(text)


def strategy_choice(config: Any, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """``--strategy``, else the config's ``[strategy] name``, else orb; the config's params for that
    strategy (when it names it or none) with each ``-p NAME=VALUE`` over them."""
    from statebot.config.model import split_assignment, toml_value

    named = config.strategy.name
    chosen = args.strategy or named or "orb"
    params = dict(config.strategy.params) if named in (None, chosen) else {}
    params.update((name, toml_value(value)) for name, value in (split_assignment(p, "-p") for p in args.param))
    return chosen, params


def _account_equity(ib: Any, account: str) -> Decimal:
    for value in ib.ib.accountValues():
        if value.tag == "NetLiquidation" and value.currency == "USD" and (not account or value.account == account):
            return Decimal(value.value)
    raise ConfigError("TWS reported no NetLiquidation in USD for the account; pass --equity USD")


def run(args: argparse.Namespace) -> int:
    if args.adapter == "sim":
        from statebot.cli.dry_run import run_dry

        return run_dry(args)
    for flag, value in (("--mode", args.mode), ("--config", args.config)):
        if value is None:
            raise ConfigError(f"--adapter ibkr needs {flag}")
    if args.bars is not None or args.speed:
        raise ConfigError("--bars and --speed are for a dry run (--adapter sim)")
    args.bar_size = args.bar_size or 1
    args.heartbeat = args.heartbeat or dt.timedelta(seconds=1)
    from statebot.venues.ibkr.settings import IBKRSettings
    from statebot.core.time.calendar import get_calendar
    from statebot.app.live_clock import LiveClock
    from statebot.config.model import load_config
    from statebot.app.live import LiveSession
    from statebot.app.runner import BotRunner
    from statebot.core.strategy.protocol import get_strategy
    from statebot.store.persistence import resolve_state_dir
    from statebot.store.preflight import check_files_usable

    config = load_config(args.config, overrides=args.overrides)
    if args.symbol is not None:
        config = attrs.evolve(config, instrument=attrs.evolve(config.instrument, symbol=args.symbol))
    settings = IBKRSettings(mode=args.mode, host=args.host, port=args.port, client_id=args.client_id,
                            symbols=(config.instrument.symbol,), account=config.ibkr.account, live_flag=args.live,
                            live_acknowledgement=config.ibkr.live_acknowledgement)
    strategy_name, params = strategy_choice(config, args)
    strategy = get_strategy(strategy_name, search=(Path.cwd(),), **params)
    venue, ib = settings.adapter()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    session: LiveSession | None = None

    def cut_the_wait_short() -> None:
        if session is not None:
            session.stop_timeout = dt.timedelta(0)

    stop = StopSignals("statebot run", "stopping (flatten first unless OBSERVE)", on_repeat=cut_the_wait_short,
                       repeat_note="not waiting for the flatten any longer; closing the log and the state")
    stop.install()
    try:
        runner = None
        try:
            # connect before the runner opens the state folder: an unreachable TWS changes nothing on disk
            ib.connect(LiveClock.wall_time().astimezone(get_calendar(config.calendar.name).tz).date())
            equity = args.equity if args.equity is not None else _account_equity(ib, config.ibkr.account)
            check_files_usable(resolve_state_dir(args.state_dir or config.resolve(config.persistence.state_dir)),
                               args.events or config.resolve(config.event_log.path))
            runner = BotRunner.from_config(config, strategy=strategy, adapter=venue, equity=equity, clock=LiveClock(),
                                           state_dir=args.state_dir, event_log=args.events)
            if args.write_off_positions is not None:
                for strategy_name, symbol, qty in runner.write_off_positions(args.write_off_positions, LiveClock.wall_time()):
                    print(f"statebot run: wrote off {qty} {symbol} of {strategy_name} (the venue holds none)", file=sys.stderr)
            if args.rearm_kill_switch is not None:
                if runner.killswitch_state == "TRIPPED":
                    runner.reset_kill_switch(args.rearm_kill_switch, LiveClock.wall_time())
                else:
                    print("statebot run: the kill switch is ARMED; --rearm-kill-switch ignored", file=sys.stderr)
            session = LiveSession(runner, ib, mode=args.mode, bar_minutes=args.bar_size, heartbeat=args.heartbeat,
                                  stop_timeout=args.stop_timeout, guard=config.bar_checks.guard(runner.instrument, live=True))
            session.start()
        except BaseException:
            if runner is not None:
                runner.close()
            if ib.connected:
                ib.disconnect()
            raise
        print(f"statebot run: {args.mode} on {args.host}:{settings.resolved_port} as client {args.client_id}, "
              f"{strategy.name} on {ib.contract(config.instrument.symbol).localSymbol}, {args.bar_size}m bars; "
              f"Ctrl-C stops", file=sys.stderr, flush=True)
        if runner.killswitch_state == "TRIPPED":
            print("statebot run: the kill switch is TRIPPED (see KILL_SWITCH in the event log): no entries, positions "
                  "are flattened; --rearm-kill-switch NOTE re-arms it", file=sys.stderr, flush=True)
        try:
            flat = session.run(stop)
        except StopsBot as exc:  # the session's shutdown has flattened what it could and closed the runner
            print(f"statebot run: error: {exc}; stopped (check the positions in TWS)", file=sys.stderr, flush=True)
            return EXIT_ENVIRONMENT
    finally:
        stop.restore()
    if stop():
        state = "flat" if flat else "NOT flat: a flatten was still under way (check the positions in TWS)"
        print(f"statebot run: stopped by {stop.name}, {state}; event log and state closed", file=sys.stderr, flush=True)
        return stop.exit_code
    return 0 if flat else EXIT_NOT_FLAT
