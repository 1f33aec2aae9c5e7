"""``statebot sim``: run a simulation (the demo, a CSV file of bars, or a scenario) and print its summary.

Where things go: with no ``--state-dir`` / ``--events`` the state folder and
the event log live in a fresh temporary folder that is removed when the run
ends (each run starts clean; nothing is written next to the package or in the
current folder). Give ``--state-dir DIR`` (a second run on it continues like a
restart) and/or ``--events FILE`` to keep them. ``--report`` writes the
summary as JSON; ``--html DIR`` writes a self-contained HTML report
(``DIR/index.html``; docs/simulation.md).

Exit status (``statebot.cli.exit_codes``): 0 ran (and every expectation held),
1 a scenario expectation failed (one line per failure on stderr) or every bar was
rejected, so nothing was simulated (one line; e.g. a ``--state-dir`` from an earlier run), 5 the strategy
raised (its traceback with statebot's frames trimmed, then one line naming the bar;
``--keep-going`` skips such bars and counts them as ``strategy_error``), 2 bad input
(one line on stderr), 3 a file or folder that cannot be read or written, the
event log or checkpoint could not be written, or a state folder in use (one line
naming the file and the OS error; no summary), 130/143 stopped by SIGINT/SIGTERM
between two bars (the log flushed, the checkpoint written; one line, no summary).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs

from statebot.cli._args import duration_arg
from statebot.cli._signals import StopSignals
from statebot.cli.exit_codes import EXIT_ENVIRONMENT, EXIT_EXPECTATION_FAILED, EXIT_STRATEGY_FAILED, user_traceback
from statebot.config.model import load_config, parse_config, split_assignment, toml_value
from statebot.errors import ConfigError, FileAccessError, StatebotError, StopsBot, StrategyFailed
from statebot.app.progress import Progress
from statebot.app.simrun import (
    SIM_DEFAULTS,
    Scenario,
    SimReport,
    SimSetup,
    check_expectations,
    choose_strategy,
    load_scenario,
    monte_carlo_percentiles,
    monte_carlo_table,
    refusal_hints,
    run_seeds,
    run_setup,
    seed_setup,
    summary_table,
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sim", help="simulate a strategy on synthetic or recorded bars and print a summary",
        description="Run bars through the full runner and a simulated venue. With no arguments: the demo "
        "(seeded synthetic one-minute bars, Thanksgiving week 2026 on XNYS, sma-cross on MES). "
        "SCENARIO is a sims/*.toml file whose [expect] table is checked (exit 1 when one fails).",
    )
    p.add_argument("scenario", nargs="?", help="a scenario TOML file (see sims/)")
    p.add_argument("--bars", type=Path, metavar="FILE",
                   help="bars from a CSV file: timestamp,open,high,low,close,volume (or date,time,open,...); "
                   "e.g. data/sample-mes-1m.csv, or one written by statebot bars synthetic or bars fetch; "
                   "or a Parquet file with the same columns (the parquet extra)")
    p.add_argument("--bar-label", choices=("start", "end"), default="start",
                   help="timestamps label the bar's start (default; the bar ends at timestamp + bar size) or its end")
    p.add_argument("--bar-size", type=duration_arg, metavar="DURATION", help="e.g. 1m, 5m (default: inferred from the file)")
    p.add_argument("--tz", metavar="ZONE", help="time zone of naive CSV timestamps, e.g. America/New_York")
    p.add_argument("--timestamp-format", metavar="FMT",
                   help="layout of the CSV's timestamps in strptime codes, e.g. '%%m/%%d/%%Y %%H:%%M' (default ISO-8601); "
                   "with split date,time columns it reads '<date> <time>'")
    p.add_argument("--symbol", help="instrument: built in (ES, MES, NQ, MNQ, RTY, M2K, YM, MYM) or defined in the --config file "
                   "(default: the config's, MES)")
    p.add_argument("--calendar", help="exchange calendar (default XNYS, or the config's)")
    p.add_argument("--strategy", default=None, help="sma-cross, orb, or module:ClassName (default: the config's "
                   "[strategy] name, else sma-cross); module.py is looked for in the current folder first")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a strategy parameter, read as a TOML value (30, 0.5, true, text); repeatable; "
                   "over the config's [strategy.params] and a scenario's strategy_params")
    p.add_argument("--config", type=Path, metavar="FILE", help="a statebot TOML config")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="overrides",
                   help="override one config key (e.g. sizing.max_stop_ticks=20), checked like the file; repeatable")
    p.add_argument("--state-dir", type=Path, metavar="DIR", help="keep the state folder here (default: a temporary one)")
    p.add_argument("--events", type=Path, metavar="OUT.jsonl", help="keep the event log here (default: temporary)")
    p.add_argument("--report", type=Path, metavar="OUT.json",
                   help="write the summary as JSON: statistics, the trade list, refusals, throttle path; a Monte Carlo "
                   "adds P5/P50/P95 of net P&L and drawdown")
    p.add_argument("--trades-csv", type=Path, metavar="OUT.csv",
                   help="write the closed trades as CSV (a Monte Carlo: every seed's, with a seed column)")
    p.add_argument("--html", type=Path, metavar="DIR", help="write a self-contained HTML report, DIR/index.html: price with trades and stops, "
                   "equity and drawdown, P&L by session, a calendar of sessions and throttle")
    p.add_argument("--seed", type=int, help="seed of the synthetic bars and the venue (default 7)")
    p.add_argument("--seeds", type=int, metavar="N", help="Monte Carlo: run N seeds from --seed on")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="Monte Carlo processes (default 1)")
    p.add_argument("--start", type=dt.date.fromisoformat, help="first day of synthetic bars (YYYY-MM-DD)")
    p.add_argument("--end", type=dt.date.fromisoformat, help="last day of synthetic bars (YYYY-MM-DD)")
    p.add_argument("--keep-going", action="store_true",
                   help="a bar on which the strategy raises is skipped and counted (default: the run stops, exit 5, "
                   "with the strategy's traceback)")
    p.add_argument("--skip-bad-rows", action="store_true", help="log malformed CSV rows as BAR_REJECTED and go on")
    p.add_argument("--verbose", action="store_true", help="also print the runner's warnings (they are in the event log anyway)")
    p.set_defaults(run=run)


def _params(args: argparse.Namespace) -> dict[str, Any]:
    return dict((name, toml_value(value)) for name, value in (split_assignment(p, "-p") for p in args.param))


def _setup(args: argparse.Namespace, base: SimSetup) -> SimSetup:
    changes: dict[str, Any] = {}
    if args.bars is not None:
        changes.update(bars_csv=args.bars, bar_label=args.bar_label, skip_bad_rows=args.skip_bad_rows)
    # a scenario's own bars file takes them too (--tz used to be ignored there)
    if args.tz is not None:
        changes["tz"] = args.tz
    if args.timestamp_format is not None:
        changes["timestamp_format"] = args.timestamp_format
    if args.bar_size is not None:
        changes["bar_size"] = args.bar_size
    for name in ("symbol", "calendar", "seed", "start", "end"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    config = base.config
    if args.config is not None:
        config = changes["config"] = load_config(args.config, defaults=SIM_DEFAULTS, overrides=args.overrides)
    elif args.overrides and args.scenario is None:  # a scenario applied them to its own config
        config = changes["config"] = parse_config("", defaults=SIM_DEFAULTS, overrides=args.overrides)
    # a scenario chose its strategy already (its [sim] strategy, else its config's)
    named = args.strategy or (base.strategy if args.scenario is not None else None)
    changes["strategy"], changes["strategy_params"] = choose_strategy(
        config, named, {**(base.strategy_params if args.scenario is not None else {}), **_params(args)})
    if args.keep_going:
        changes["stop_on_strategy_error"] = False
    # a module beside the scenario, then one in the current folder, as a user expects without PYTHONPATH
    changes["strategy_search"] = (*base.strategy_search, Path.cwd())
    if args.state_dir is not None:
        changes["state_dir"] = args.state_dir
    if args.events is not None:
        changes["event_log"] = args.events
    return attrs.evolve(base, **changes)


def run(args: argparse.Namespace) -> int:
    with StopSignals("statebot sim", "stopping after this bar (the log is flushed, the state saved)") as stop:
        try:
            code = _run(args, stop)
        except StopsBot as exc:
            print(f"statebot sim: error: {exc}", file=sys.stderr)
            return EXIT_ENVIRONMENT
        except StrategyFailed as exc:
            print(user_traceback(exc.error), end="", file=sys.stderr)
            print(f"statebot sim: error: {exc}; the run stopped (--keep-going skips such bars)", file=sys.stderr)
            return EXIT_STRATEGY_FAILED
        except StatebotError:
            if not stop():
                raise
        if stop():
            print(f"statebot sim: stopped by {stop.name}; no summary (the run is incomplete)", file=sys.stderr)
            return stop.exit_code
        return code


def _run(args: argparse.Namespace, stop: StopSignals) -> int:
    if not args.verbose:
        # every warning the runner logs is also an event in the log; the summary reports them
        logging.getLogger("statebot").addHandler(logging.NullHandler())
    if args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs} must be at least 1")
    scenario: Scenario | None = load_scenario(args.scenario, overrides=args.overrides) if args.scenario else None
    base = _setup(args, scenario.setup if scenario is not None else SimSetup())
    if scenario is not None:
        scenario = attrs.evolve(scenario, setup=base, seeds=scenario.seeds if args.seed is None else (args.seed,))
    seeds = scenario.seeds if scenario is not None else (base.seed,)
    if args.seeds is not None:
        if args.seeds < 1:
            raise ConfigError(f"--seeds {args.seeds} must be at least 1")
        seeds = tuple(range(seeds[0], seeds[0] + args.seeds))
    if len(seeds) > 1 and (base.state_dir is not None or base.event_log is not None):
        raise ConfigError("--state-dir and --events name one run's files; a Monte Carlo of several seeds keeps none")
    name = scenario.name if scenario is not None else (base.bars_csv.name if base.bars_csv is not None else "demo")
    setup_config = base.build_config()
    title = f"statebot sim: {name} ({base.strategy} on {setup_config.instrument.symbol})"
    with tempfile.TemporaryDirectory(prefix="statebot-sim-") as tmp:
        if len(seeds) == 1:
            setup = seed_setup(scenario, seeds[0]) if scenario is not None else attrs.evolve(base, seed=seeds[0])
            with Progress(None, "bars") as progress:
                reports = [run_setup(setup, tmp, progress=progress, stop=stop)]
            if stop():
                return 0
            print(summary_table(reports[0], title))
        else:
            setups = [seed_setup(scenario, s) if scenario is not None else attrs.evolve(base, seed=s) for s in seeds]
            with Progress(len(setups), "seeds") as progress:
                reports = run_seeds(setups, tmp, jobs=args.jobs, progress=progress, stop=stop)
            if stop():
                return 0
            print(title)
            print(monte_carlo_table(reports))
    _write_outputs(args, reports)
    refused: dict[str, int] = {}
    for r in reports:
        for reason, count in r.skips.items():
            refused[reason] = refused.get(reason, 0) + count
    for line in refusal_hints(refused, setup_config):
        print(f"statebot sim: {line}", file=sys.stderr)
    nothing_ran = [r for r in reports if r.bars and r.bars_rejected == r.bars]
    if nothing_ran:
        print(f"statebot sim: {_all_rejected(nothing_ran[0], base)}", file=sys.stderr)
        return EXIT_EXPECTATION_FAILED
    if scenario is None:
        return 0
    failures = [line for r in reports for line in check_expectations(r, scenario.expect)]
    for line in failures:
        print(f"statebot sim: {scenario.name}: expectation failed: {line}", file=sys.stderr)
    if not failures:
        print(f"{scenario.name}: all {len(scenario.expect)} expectation(s) hold for {len(reports)} seed(s)")
    return 1 if failures else 0


def _all_rejected(report: SimReport, setup: SimSetup) -> str:
    reasons = ", ".join(f"{k} {v}" for k, v in report.rejected_reasons.items())
    line = f"every one of the {report.bars} bars was rejected ({reasons}): nothing was simulated"
    if "not_after_previous" in report.rejected_reasons and setup.state_dir is not None:
        line += (f"; the state folder {setup.state_dir} holds an earlier run up to a later time "
                 "(use a fresh --state-dir, or bars after that run)")
    return line


def _trades_csv(reports: list[SimReport]) -> str:
    from statebot.app.simstats import trades_csv

    if len(reports) == 1:
        return trades_csv(reports[0].trade_list)
    lines: list[str] = []
    for r in reports:
        body = trades_csv(r.trade_list).splitlines()
        if not lines:
            lines.append("seed," + body[0])
        lines.extend(f"{r.seed},{row}" for row in body[1:])
    return "\n".join(lines) + "\n"


def _write_outputs(args: argparse.Namespace, reports: list[SimReport]) -> None:
    if args.report is not None:
        data: Any = reports[0].as_dict() if len(reports) == 1 else {
            "seeds": [r.as_dict() for r in reports],
            "percentiles": {name: {k: str(v) for k, v in pcts.items()}
                            for name, pcts in monte_carlo_percentiles(reports).items()}}
        try:
            args.report.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(f"--report {args.report}: cannot write ({exc.strerror})") from None
    if args.trades_csv is not None:
        try:
            args.trades_csv.write_text(_trades_csv(reports), encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(f"--trades-csv {args.trades_csv}: cannot write ({exc.strerror})") from None
    if args.html is not None:
        from statebot.app.simreport import write_html

        index = write_html(reports, args.html)
        print(f"HTML report: {os.fspath(index)}")
