"""``statebot state``: read the learning state, and the operator reset.

``statebot state show [--state-dir D] [--json]`` prints every strategy's
throttle state, reason and metrics; it never changes anything (a corrupt file
is reported, not moved). ``statebot state reset STRATEGY --note TEXT`` makes
the strategy ACTIVE and records the note and the time in the state file; stop
the bot first (the folder is locked while a bot runs). The state folder
defaults to ``$STATEBOT_STATE_DIR`` or ``./state``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from statebot.errors import ConfigError, StateCorrupt
from statebot.core.learning.loop import LearningLoop
from statebot.core.fsm.throttle import ThrottleRules
from statebot.core.learning.metrics import ReliabilityMetrics
from statebot.store.persistence import (
    DEFAULT_FILENAME,
    ENV_STATE_DIR,
    DurableLearningLoop,
    default_state_dir,
    read_state_file,
    resolve_state_dir,
)


def register(sub: Any) -> None:
    p = sub.add_parser("state", help="show the learning state, or reset a throttled strategy",
                       description=f"Read or reset the learning state in the state folder "
                       f"(default ${ENV_STATE_DIR}, else ./state).")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    show = actions.add_parser("show", help="print each strategy's throttle state, reason and metrics")
    show.add_argument("--state-dir", metavar="DIR", help=f"state folder (default ${ENV_STATE_DIR} or ./state)")
    show.add_argument("--json", action="store_true", help="print the stored state as JSON")
    show.set_defaults(run=run_show)

    reset = actions.add_parser("reset", help="operator reset: make STRATEGY ACTIVE, with a note that is recorded")
    reset.add_argument("strategy", metavar="STRATEGY")
    reset.add_argument("--note", required=True, help="why it is safe to trade again (recorded with the time)")
    reset.add_argument("--state-dir", metavar="DIR", help=f"state folder (default ${ENV_STATE_DIR} or ./state)")
    reset.set_defaults(run=run_reset)


def _folder(args: argparse.Namespace) -> Any:
    return resolve_state_dir(args.state_dir) if args.state_dir else default_state_dir()


def _permissive_loop(state: dict[str, Any] | None) -> LearningLoop:
    """A loop shaped like the stored one (its window and EWMA weight), so reading or
    resetting never trims a strategy's rolling window. The rules do not matter here:
    they judge future trades, and the bot applies its own configuration."""
    window, alpha = 20, "0.2"
    for entry in ((state or {}).get("strategies") or {}).values():
        if isinstance(entry, dict) and isinstance(entry.get("metrics"), dict):
            metrics = entry["metrics"]
            if isinstance(metrics.get("window"), int) and metrics["window"] >= 1:
                window = metrics["window"]
            if isinstance(metrics.get("ewma_alpha"), str):
                alpha = metrics["ewma_alpha"]
            break
    return LearningLoop(ThrottleRules(min_win_rate=None), window=window, ewma_alpha=alpha)


def run_show(args: argparse.Namespace) -> int:
    folder = _folder(args)
    path = folder / DEFAULT_FILENAME
    state = read_state_file(path)
    if state is None:
        print(f"no learning state at {path} (a bot would start fresh)")
        return 0
    loop = _permissive_loop(state)
    loop.load_from_dict(state)
    if args.json:
        print(json.dumps(loop.export_to_dict(), indent=2, sort_keys=True))
        return 0
    print(f"learning state {path}")
    if loop.fail_closed:
        print(f"FAIL CLOSED since {loop.fail_closed_at.isoformat() if loop.fail_closed_at else '?'}: "
              f"{loop.fail_closed_reason}; unknown strategies are refused until an operator resets them")
    if not loop.strategies:
        print("no strategies recorded yet")
    for name in loop.strategies:
        print(_describe(loop, name))
    return 0


def _money(value: Any) -> str:
    return f"${value:.2f}" if value is not None else "-"


def _describe(loop: LearningLoop, name: str) -> str:
    throttle = loop.throttle(name)
    m: ReliabilityMetrics = loop.metrics(name)
    head = f"{name}: {throttle.state}"
    if throttle.reason:
        head += f" ({throttle.reason}: {throttle.detail})"
    if throttle.since is not None:
        head += f" since {throttle.since.isoformat()}"
    lines = [head]
    if throttle.state == "THROTTLED":
        if throttle.release_at is not None:
            lines.append(f"  cooldown ends at {throttle.release_at.isoformat()}")
        elif throttle.release_after_session is not None:
            lines.append(f"  cooldown ends at the first session after {throttle.release_after_session}")
        elif throttle.awaiting_session:
            lines.append("  cooldown ends at the next session")
        else:
            lines.append("  no cooldown: only an operator reset releases it")
    elif throttle.state == "PROBATION":
        # the bot's own rules say how many clean trades end probation; this reader does not know them
        lines.append(f"  {throttle.probation_clean} clean probation trades so far")
    rate = m.rolling_win_rate
    lines.append(
        f"  trades {m.trades} (wins {m.wins}, losses {m.losses}), consecutive losses {m.consecutive_losses}, "
        f"rolling win rate {m.rolling_wins}/{m.rolling_trades}" + (f" = {rate:.0%}" if rate is not None else "")
    )
    lines.append(
        f"  net {_money(m.net_pnl_usd)} (gross {_money(m.gross_pnl_usd)}, commission {_money(m.commission_usd)}), "
        f"expectancy {_money(m.expectancy_usd)}, peak {_money(m.peak_net_pnl_usd)}, drawdown {_money(m.drawdown_usd)} "
        f"(max {_money(m.max_drawdown_usd)})"
    )
    mean = m.mean_slippage_error_ticks
    lines.append(
        f"  slippage error (realized - expected): mean {'-' if mean is None else f'{mean:.2f}'} ticks, "
        f"EWMA {m.slippage_error_ewma_ticks:.2f} ticks over {m.slippage_count} trades"
    )
    if throttle.resets:
        last = throttle.resets[-1]
        lines.append(f"  last operator reset {last['at']} from {last['from_state']}: {last['note']}")
    return "\n".join(lines)


def run_reset(args: argparse.Namespace) -> int:
    folder = _folder(args)
    if not folder.is_dir():
        raise ConfigError(f"no state folder at {folder}; give --state-dir or set ${ENV_STATE_DIR}")
    path = folder / DEFAULT_FILENAME
    now = dt.datetime.now(dt.timezone.utc)
    try:
        peek = read_state_file(path)
    except StateCorrupt:  # open() below moves it aside, fails closed and says so on stderr
        peek = None
    template = _permissive_loop(peek)
    # one failed save is enough for a person at a terminal: StateSaveFailed, exit 2
    with DurableLearningLoop.open(folder, now, rules=template.rules, window=template.window,
                                  ewma_alpha=template.ewma_alpha, max_consecutive_failures=1) as durable:
        if durable.startup_error is not None:
            print(f"statebot state: warning: {durable.startup_error} (moved aside to "
                  f"{durable.startup_error.moved_to}); every strategy is THROTTLED until reset", file=sys.stderr)
        change = durable.reset(args.strategy, args.note, now)
    print(f"{change.strategy}: {change.source} -> {change.dest} at {change.at.isoformat()}; note recorded: {change.note}")
    return 0
