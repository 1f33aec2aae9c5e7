"""Crash-test driver for the runner: a deterministic simulation, acknowledged bar by bar.

Run as ``python -m tests.runner_crash_driver FOLDER SEED`` from the project root. It
prints ``READY`` once the runner is open, then ``ACK <n> <seq>`` after bar n was handled
(under live durability every event of bar n is in the log file by then; ``seq`` is the
log's head), and ``DONE`` at the end. The crash test SIGKILLs it at random moments.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from statebot import Bar, BotRunner, SimBroker, SmaCross, SyntheticBars
from statebot.config.model import parse_config
from statebot.core.costs import FixedCommission

CONFIG = '[throttle]\nmax_consecutive_losses = 2\ncooldown = "30m"\n[kill_switch]\ndaily_loss_limit_usd = 150\n'


def bars(seed: int) -> Iterator[Bar]:
    return iter(SyntheticBars(start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 27), seed=seed))


def open_runner(folder: Path, broker: SimBroker) -> BotRunner:
    return BotRunner(SmaCross(fast=3, slow=8), broker, equity=Decimal(20000), config=parse_config(CONFIG),
                     state_dir=folder / "state", event_log=folder / "events.jsonl",
                     start=dt.datetime(2026, 11, 2, 5, tzinfo=dt.timezone.utc))


def broker(seed: int) -> SimBroker:
    return SimBroker(seed=seed, commission=FixedCommission("1.25"))


def views(folder: Path, seed: int) -> list[tuple[int, dict[str, Any]]]:
    """The uninterrupted run: (log head seq, the state's view) after each bar."""
    venue = broker(seed)
    out = []
    with open_runner(folder, venue) as runner:
        for bar in bars(seed):
            venue.on_bar(bar)
            runner.run_once(bar)
            out.append((runner.events.head.seq, runner.bot_state().view()))
    return out


def main(folder: str, seed: str) -> None:
    venue = broker(int(seed))
    runner = open_runner(Path(folder), venue)
    script = list(bars(int(seed)))
    runner.session.schedule.session_at(script[0].end)  # the calendar is built before the clock starts
    print("READY", flush=True)
    for n, bar in enumerate(script):
        venue.on_bar(bar)
        runner.run_once(bar)
        print(f"ACK {n} {runner.events.head.seq}", flush=True)
    runner.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
