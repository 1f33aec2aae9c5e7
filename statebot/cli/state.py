"""``statebot state``: read the learning state, and the operator reset.

``statebot state show [--state-dir D] [--events E] [--calendar C] [--json]`` prints every
strategy's throttle state, reason and metrics, times in the exchange's zone (``--calendar``,
XNYS by default) with their UTC offset; it never changes anything (a
corrupt file is reported, not moved). A bot's state folder holds its
checkpoint (``checkpoint.json``): the state is the checkpoint plus the fold of
the event log after its head (give the log with ``--events``; without it the
state is as of the checkpoint). A folder of a ``DurableLearningLoop`` holds
``learning_state.json`` instead.

``statebot state reset STRATEGY --note TEXT`` makes the strategy ACTIVE and
records the note and the time: for a bot (``--events E``) as a
``THROTTLE_TRANSITION`` appended to its event log, the bot's single source of
truth; for a ``DurableLearningLoop`` in its state file. Stop the bot first (the
folder and the log are locked while a bot runs). The state folder defaults to
``$STATEBOT_STATE_DIR`` or ``./state``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
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
    show.add_argument("--events", metavar="FILE", help="the bot's event log: fold what it holds after the checkpoint")
    show.add_argument("--calendar", default="XNYS", metavar="NAME",
                      help="show times in this exchange calendar's zone, with their UTC offset (default XNYS)")
    show.add_argument("--json", action="store_true", help="print the stored state as JSON (times in UTC)")
    show.set_defaults(run=run_show)

    reset = actions.add_parser("reset", help="operator reset: make STRATEGY ACTIVE, with a note that is recorded")
    reset.add_argument("strategy", metavar="STRATEGY")
    reset.add_argument("--note", required=True, help="why it is safe to trade again (recorded with the time)")
    reset.add_argument("--state-dir", metavar="DIR", help=f"state folder (default ${ENV_STATE_DIR} or ./state)")
    reset.add_argument("--events", metavar="FILE", help="the bot's event log (a bot's folder): the reset is appended to it")
    reset.add_argument("--calendar", default="XNYS", metavar="NAME",
                       help="show the reset's time in this exchange calendar's zone (default XNYS)")
    reset.set_defaults(run=run_reset)


def _zone(args: argparse.Namespace) -> dt.tzinfo:
    from statebot.core.time.calendar import get_calendar

    return get_calendar(args.calendar).tz


def _when(t: dt.datetime, tz: dt.tzinfo) -> str:
    """An instant in the exchange's zone, ISO-8601 with its offset (``2026-11-24T10:03:00-05:00``)."""
    return t.astimezone(tz).isoformat()


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


def _bot_learning(folder: Path, events: str | None, *, lock: bool) -> tuple[LearningLoop, Path, Any] | None:
    """The learning loop of the bot whose checkpoint is in ``folder`` (plus the fold of ``events``
    after its head), the checkpoint's path and the open log (``lock``: opened for appending);
    None when there is no checkpoint and no log to fold."""
    from statebot.app.runner_state import log_head_problem
    from statebot.store.checkpoint import CHECKPOINT_FILENAME, read_checkpoint, restore_checkpoint
    from statebot.config.model import Config
    from statebot.core.engine.fold import BotState, Fold
    from statebot.core.positions.book import PositionBook
    from statebot.journal.log import EventLog, iter_events

    path = folder / CHECKPOINT_FILENAME
    snap = read_checkpoint(path)
    if snap is None and events is None:
        return None
    config = Config()
    state = BotState(book=PositionBook(config.instrument.specs()), killswitch=config.kill_switch.build(),
                     learning=_permissive_loop(snap.get("learning") if snap else None))
    if snap is not None:
        restore_checkpoint(state, snap, config.instrument.specs())
    log = None
    if events is not None:
        log = EventLog(events, config_hash=config.config_hash) if lock else None
        head = log.head if log is not None else None
        tail = [(n, e) for n, e in iter_events(events) if e.seq > state.seq]
        last = tail[-1][1] if tail else None
        problem = log_head_problem(events, last.seq if last else state.seq, last.hash if last else state.hash,
                                   state.seq, state.hash) if snap is not None else None
        if problem is not None or (head is not None and last is not None and head.seq != last.seq):
            if log is not None:
                log.close()
            raise ConfigError(problem or f"event log {events} changed while it was read")
        Fold(state, strict_positions=False).apply_all(tail)
    return state.learning, path, log


def run_show(args: argparse.Namespace) -> int:
    folder = _folder(args)
    bot = _bot_learning(folder, args.events, lock=False)
    if bot is not None:
        loop, path, _ = bot
        print_loop(loop, f"the bot's state ({path}" + (f" and {args.events})" if args.events else ")"), args.json,
                   _zone(args))
        return 0
    path = folder / DEFAULT_FILENAME
    state = read_state_file(path)
    if state is None:
        print(f"no checkpoint or learning state in {folder} (a bot would start fresh)")
        return 0
    loop = _permissive_loop(state)
    loop.load_from_dict(state)
    print_loop(loop, f"learning state {path}", args.json, _zone(args))
    return 0


def print_loop(loop: LearningLoop, title: str, as_json: bool, tz: dt.tzinfo = dt.timezone.utc) -> None:
    if as_json:
        print(json.dumps(loop.export_to_dict(), indent=2, sort_keys=True))
        return
    print(title)
    if loop.fail_closed:
        print(f"FAIL CLOSED since {_when(loop.fail_closed_at, tz) if loop.fail_closed_at else '?'}: "
              f"{loop.fail_closed_reason}; unknown strategies are refused until an operator resets them")
    if not loop.strategies:
        print("no strategies recorded yet")
    for name in loop.strategies:
        print(_describe(loop, name, tz))


def _money(value: Any) -> str:
    return f"${value:.2f}" if value is not None else "-"


def _describe(loop: LearningLoop, name: str, tz: dt.tzinfo) -> str:
    throttle = loop.throttle(name)
    m: ReliabilityMetrics = loop.metrics(name)
    head = f"{name}: {throttle.state}"
    if throttle.reason:
        head += f" ({throttle.reason}: {throttle.detail})"
    if throttle.since is not None:
        head += f" since {_when(throttle.since, tz)}"
    lines = [head]
    if throttle.state == "THROTTLED":
        if throttle.release_at is not None:
            lines.append(f"  cooldown ends at {_when(throttle.release_at, tz)}")
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
        at = dt.datetime.fromisoformat(last["at"]) if isinstance(last["at"], str) else last["at"]
        lines.append(f"  last operator reset {_when(at, tz)} from {last['from_state']}: {last['note']}")
    return "\n".join(lines)


def run_reset(args: argparse.Namespace) -> int:
    folder = _folder(args)
    args.zone = _zone(args)  # an unknown calendar is refused before anything changes
    if not folder.is_dir():
        raise ConfigError(f"no state folder at {folder}; give --state-dir or set ${ENV_STATE_DIR}")
    now = dt.datetime.now(dt.timezone.utc)
    if args.events is not None or (folder / "checkpoint.json").exists():
        return _reset_bot(folder, args, now)
    path = folder / DEFAULT_FILENAME
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
    print(f"{change.strategy}: {change.source} -> {change.dest} at {_when(change.at, args.zone)}; note recorded: {change.note}")
    return 0


def _reset_bot(folder: Path, args: argparse.Namespace, now: dt.datetime) -> int:
    """The operator reset of a bot: a THROTTLE_TRANSITION appended to its event log (with the
    throttle it leaves, as the runner logs it), so the bot's next start folds it in."""
    from statebot.journal.log import THROTTLE_TRANSITION
    from statebot.store.persistence import lock_state_dir

    if args.events is None:
        raise ConfigError(f"{folder} holds a bot's checkpoint: give its event log with --events (the reset is logged there)")
    fd = lock_state_dir(folder)
    try:
        bot = _bot_learning(folder, args.events, lock=True)
        assert bot is not None
        loop, _, log = bot
        try:
            if args.strategy not in loop.strategies:
                known = ", ".join(loop.strategies) or "none"
                raise ConfigError(f"unknown strategy {args.strategy!r}; known: {known}")
            at = max(now, log.last.ts) if log.last is not None else now
            change = loop.reset(args.strategy, args.note, at)
            log.append(at, THROTTLE_TRANSITION, {**change.event_payload(), "throttle": loop.throttle(args.strategy).to_dict()})
        finally:
            log.close()
    finally:
        if fd is not None:
            os.close(fd)
    print(f"{change.strategy}: {change.source} -> {change.dest} at {_when(change.at, args.zone)}; note recorded in {args.events}")
    return 0
