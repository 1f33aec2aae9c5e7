"""``statebot run --adapter sim --bars FILE [--speed N]``: ``statebot run``'s live loop on recorded bars, no broker.

The loop (``statebot.app.live.LiveSession``: heartbeats, bars, Ctrl-C and
SIGTERM, the shutdown flatten) runs against the simulated venue with
``statebot sim``'s settings, driven by a replay clock (``statebot.app.dry_run``):
recorded time, scaled by ``--speed`` (0 or ``max``, the default: as fast as it
runs; 60: a recorded minute a second). It ends at the end of the file (exit 0
stopped flat, 1 a position the recorded bars could not flatten) or on Ctrl-C
(130) or SIGTERM (143), then prints ``statebot sim``'s summary of its event log.
Without ``--config`` it uses ``statebot sim``'s defaults and a temporary state
folder; with one, the config's state folder and log, as ``statebot run`` does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from statebot.cli._signals import StopSignals
from statebot.cli.exit_codes import EXIT_EXPECTATION_FAILED
from statebot.errors import ConfigError, FileAccessError

DEFAULT_EQUITY = Decimal(20000)
"""As ``statebot sim``'s."""


def speed_arg(text: str) -> float:
    """``--speed``: a factor >= 0, or ``max`` (0: as fast as possible)."""
    if text.strip().lower() == "max":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"speed {text!r} must be 0 or max (as fast as possible) or a positive factor")
    return value


def refuse_ibkr_only(args: argparse.Namespace) -> None:
    for flag, value in (("--mode", args.mode), ("--live", args.live or None), ("--port", args.port),
                        ("--rearm-kill-switch", args.rearm_kill_switch), ("--write-off-positions", args.write_off_positions)):
        if value is not None:
            raise ConfigError(f"{flag} is for --adapter ibkr; the simulated venue has no modes, ports or broker positions")


def run_dry(args: argparse.Namespace) -> int:
    from statebot.app.dry_run import ReplayClock, ReplayFeed
    from statebot.app.live import LiveSession
    from statebot.app.runner import BotRunner
    from statebot.app.simrun import (
        SIM_DEFAULTS,
        Refusals,
        SimSetup,
        refusal_hints,
        report_from_log,
        setup_bars,
        sim_broker,
        summary_table,
    )
    from statebot.cli.run import strategy_choice
    from statebot.config.model import load_config, parse_config
    from statebot.core.instruments import instrument
    from statebot.core.strategy.protocol import get_strategy
    from statebot.store.persistence import resolve_state_dir
    from statebot.store.preflight import check_files_usable

    refuse_ibkr_only(args)
    if args.bars is None:
        raise ConfigError("--adapter sim needs --bars FILE (recorded bars, CSV or Parquet)")
    config = (load_config(args.config, defaults=SIM_DEFAULTS, overrides=args.overrides) if args.config is not None
              else parse_config("", defaults=SIM_DEFAULTS, overrides=args.overrides))
    setup = SimSetup(config=config, symbol=args.symbol, bars_csv=args.bars, tz=args.tz, timestamp_format=args.timestamp_format,
                     bar_label=args.bar_label, bar_size=None if args.bar_size is None else dt.timedelta(minutes=args.bar_size))
    config = setup.build_config()
    strategy_name, params = strategy_choice(config, args)
    strategy = get_strategy(strategy_name, search=(Path.cwd(),), **params)
    bad_rows: list[tuple[int, str]] = []
    feed = ReplayFeed(setup_bars(setup, config, bad_rows), symbol=config.instrument.symbol)  # the file's first bar read
    clock = ReplayClock(feed.first_end, speed=args.speed)
    broker = sim_broker(setup, config)
    traded = [0]  # bars the venue and the runner got (not refused by the price guard): the exposure's time
    refusals = Refusals()  # each bar's refused entry, counted as statebot sim counts them

    def venue_bar(bar: Any) -> None:
        traded[0] += 1
        broker.on_bar(bar)
    equity = args.equity if args.equity is not None else DEFAULT_EQUITY
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="statebot-dry-run-") as tmp:
        if args.config is None:
            state_dir = Path(args.state_dir) if args.state_dir else Path(tmp) / "state"
            log_path = Path(args.events) if args.events else state_dir / "events.jsonl"
        else:
            state_dir = Path(args.state_dir or config.resolve(config.persistence.state_dir))
            log_path = Path(args.events or config.resolve(config.event_log.path))
        check_files_usable(resolve_state_dir(state_dir), log_path)
        runner = BotRunner.from_config(config, strategy=strategy, adapter=broker, equity=equity, state_dir=state_dir,
                                       event_log=log_path, start=feed.first_end)
        start_seq = runner.events.head.seq
        stop = StopSignals("statebot run", "stopping (flatten first)")
        session: LiveSession | None = None
        try:
            session = LiveSession(runner, feed, mode="PAPER", bar_minutes=args.bar_size or 1,
                                  heartbeat=args.heartbeat or dt.timedelta(seconds=1), stop_timeout=args.stop_timeout,
                                  now=clock.now, sleep=clock.sleep, on_bar=venue_bar, on_decision=refusals.count,
                                  guard=config.bar_checks.guard(instrument(config.instrument.symbol, config.instrument.specs()), live=False))
            session.start()
        except BaseException:
            runner.close()
            raise
        speed = "as fast as it runs" if not args.speed else f"{args.speed:g}x recorded time"
        stop.install()
        try:
            print(f"statebot run: dry run of {args.bars} on the simulated venue, {strategy.name} on "
                  f"{config.instrument.symbol}, {speed}; Ctrl-C stops", file=sys.stderr, flush=True)
            flat = session.run(lambda: stop() or feed.exhausted)
        finally:
            stop.restore()
        size = setup.bar_size or feed.bar_size or dt.timedelta(minutes=1)
        report = report_from_log(log_path, start_seq, feed.delivered, final_flat=not broker.book, config=config,
                                 market_time=traded[0] * size, refusals=refusals)
        report = attrs.evolve(report, strategy=strategy_name, strategy_params=params, data=str(args.bars),
                              symbol=config.instrument.symbol,
                              calendar=config.instrument.session_calendar(config.calendar.name))
        _write_outputs(args, report)
        print(summary_table(report, f"statebot run --adapter sim: {args.bars.name} ({strategy.name} on "
                                    f"{config.instrument.symbol})"))
        for line in refusal_hints(report.skips, config):
            print(f"statebot run: {line}", file=sys.stderr)
    state = "flat" if flat else "NOT flat: the recorded bars ended before the shutdown flatten filled"
    if stop():
        print(f"statebot run: stopped by {stop.name}, {state}; event log and state closed", file=sys.stderr, flush=True)
        return stop.exit_code
    print(f"statebot run: end of {args.bars} after {feed.delivered} bars, {state}", file=sys.stderr, flush=True)
    return 0 if flat else EXIT_EXPECTATION_FAILED


def _write_outputs(args: argparse.Namespace, report: Any) -> None:
    from statebot.app.simstats import trades_csv

    if args.report is not None:
        try:
            args.report.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(f"--report {args.report}: cannot write ({exc.strerror})") from None
    if args.trades_csv is not None:
        try:
            args.trades_csv.write_text(trades_csv(report.trade_list), encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(f"--trades-csv {args.trades_csv}: cannot write ({exc.strerror})") from None
