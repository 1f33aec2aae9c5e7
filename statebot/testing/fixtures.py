"""What the pytest plugin's fixtures build (``statebot.testing.pytest_plugin``): a simulated venue,
runners on a temporary folder, a frozen session clock, and the marker's check of their logs.

Usable without pytest too: ``RunnerFactory(folder, venue, config, start)`` opens runners and
``check_runners(factory)`` judges every log they wrote.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from statebot.app.runner import BotRunner
from statebot.config.model import Config
from statebot.core.time.clock import require_aware
from statebot.errors import ConfigError
from statebot.testing.invariants import check_log
from statebot.venues.sim import SimBroker

DEFAULT_START = dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.UTC)
"""The open of an ordinary XNYS session (Tuesday 2026-11-24, 09:30 New York)."""

DEFAULT_EQUITY = Decimal(20000)


def make_venue(config: Config, start: dt.datetime, *, seed: int = 0) -> SimBroker:
    """A ``SimBroker`` (no faults) for ``config``'s instruments and commission, starting at ``start``."""
    return SimBroker(seed=seed, start=start, instruments=config.instrument.specs(),
                     commission=config.instrument.commission(config.commission))


class RunnerFactory:
    """Opens ``BotRunner``s on one venue in one folder (``state/`` and ``events.jsonl``): call it
    with a strategy and any ``BotRunner`` option (``equity`` defaults to 20,000, ``start`` to the
    factory's). Opening another after ``close()`` is a restart on the same state and log."""

    def __init__(self, folder: str | os.PathLike[str], venue: Any, config: Config, start: dt.datetime) -> None:
        self.folder = Path(folder)
        self.venue = venue
        self.config = config
        self.start = require_aware(start, "start")
        self.runners: list[BotRunner] = []

    def __call__(self, strategy: Any, **options: Any) -> BotRunner:
        options.setdefault("equity", DEFAULT_EQUITY)
        options.setdefault("config", self.config)
        options.setdefault("state_dir", self.folder / "state")
        options.setdefault("event_log", self.folder / "events.jsonl")
        options.setdefault("start", self.start)
        runner = BotRunner(strategy, self.venue, **options)
        self.runners.append(runner)
        return runner

    def close(self) -> None:
        """Close every runner opened (a closed one is left as it is)."""
        for runner in self.runners:
            runner.close()


def check_runners(factory: RunnerFactory | None) -> str:
    """Close the factory's runners and check every event log they wrote against every lifecycle
    invariant, with each runner's own calendar, flatten lead and entry cut-off. Returns "" when
    every invariant holds, else one line per failure (and one when no runner was opened)."""
    if factory is None or not factory.runners:
        return (f"marked statebot_invariants, but the test opened no runner with the statebot_runner fixture: "
                "nothing was checked")
    factory.close()
    lines = []
    seen: set[Path] = set()
    for runner in factory.runners:
        path = Path(runner.events.path)
        if path in seen:
            continue
        seen.add(path)
        result = check_log(path, runner.session.schedule)
        lines += [f"{path.name}: {v.name}: line {v.line}: {v.detail}" for v in result.verdicts if not v.passed]
    return "\n".join(lines)


class SessionClock:
    """Wall time frozen at ``start`` with freezegun, until ``stop()``: everything that reads the
    time (``LiveClock``, ``run_heartbeat()`` without a time) reads ``now``."""

    def __init__(self, start: dt.datetime) -> None:
        try:
            from freezegun import freeze_time
        except ImportError:
            raise ConfigError("the statebot_clock fixture needs freezegun: install it with your test "
                              "dependencies (pip install freezegun)") from None
        self._freezer = freeze_time(require_aware(start, "start"))
        self._frozen: Any = self._freezer.start()

    @property
    def now(self) -> dt.datetime:
        """The frozen wall time, aware, in UTC."""
        return dt.datetime.now(dt.UTC)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move wall time ``delta`` forward; returns the new time."""
        self._frozen.tick(delta)
        return self.now

    def move_to(self, t: dt.datetime) -> dt.datetime:
        """Move wall time to ``t`` (aware); returns it."""
        self._frozen.move_to(require_aware(t, "clock time"))
        return self.now

    def stop(self) -> None:
        """Let wall time run again. Idempotent."""
        if self._frozen is not None:
            self._frozen = None
            self._freezer.stop()
