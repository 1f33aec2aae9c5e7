"""``BotStateMachine``: property-test your own strategy under generated bars, faults, crashes and restarts.

Subclass it, return your strategy from ``make_strategy`` (and, optionally, your config from
``make_config``), and expose its ``TestCase`` to pytest::

    class MyBot(BotStateMachine):
        def make_strategy(self):
            return get_strategy("sma-cross")

    TestMyBot = MyBot.TestCase

Hypothesis then drives one ``BotRunner`` on a ``SimBroker`` in a temporary folder: rules feed
bars (with gaps from one minute to a long weekend) and heartbeats, change the venue's fault
plan, restart the runner cleanly and crash it (no checkpoint); a new runner always resumes on
the same folder and log. After every step the runner's event log must keep every invariant of
``statebot.testing.invariants`` (checked against the runner's own calendar, flatten lead and
entry cut-off), and the fold of the log must equal the runner's live state. A failure shows
the shrunk sequence of steps and the first offending line.

Imports Hypothesis: load it only in tests.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from statebot.app.runner import BotRunner
from statebot.config.model import Config
from statebot.core.time.clock import Bar
from statebot.core.engine.fold import Fold
from statebot.journal.log import iter_events
from statebot.testing.invariants import check_log
from statebot.testing.strategies import bar_gaps, fault_plans, starts
from statebot.venues.sim import FaultPlan, SimBroker


class BotStateMachine(RuleBasedStateMachine):
    """A runner of your strategy under generated bars, faults, crashes and restarts; see the module."""

    equity = Decimal(20000)
    """The account value the runner sizes with."""

    def make_strategy(self) -> Any:
        """The strategy under test (a new one for every runner start). Subclasses must define it;
        without it the machine stops at its first rule with a ``TypeError`` naming the class."""
        raise TypeError(f"{type(self).__name__} must define make_strategy(): the strategy under test")

    def make_config(self) -> Config:
        """The bot's config (default: ``Config()``: MES on XNYS, flatten 5 minutes before the close)."""
        return Config()

    def make_broker(self, *, seed: int, faults: FaultPlan, start: dt.datetime, config: Config) -> SimBroker:
        """The venue (default: a ``SimBroker`` with the config's instruments and commission)."""
        return SimBroker(seed=seed, faults=faults, start=start, instruments=config.instrument.specs(),
                         commission=config.instrument.commission(config.commission))

    # -- the runner ---------------------------------------------------------------

    def _open(self) -> BotRunner:
        return BotRunner(self.make_strategy(), self.broker, equity=self.equity, config=self.config,
                         state_dir=self.folder / "state", event_log=self.folder / "events.jsonl")

    @initialize(seed=st.integers(0, 2**16), start=starts(), faults=fault_plans())
    def start_runner(self, seed: int, start: dt.datetime, faults: FaultPlan) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="statebot-machine-"))
        self.config = self.make_config()
        self.symbol = self.config.instrument.symbol
        self.spec = self.config.instrument.spec()
        self.broker = self.make_broker(seed=seed, faults=faults, start=start, config=self.config)
        self.runner = self._open()
        self.t = start
        self.ticks = 24000

    def teardown(self) -> None:
        runner = getattr(self, "runner", None)
        if runner is not None:
            runner.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- rules ----------------------------------------------------------------------

    @rule(gap_minutes=bar_gaps(), move=st.integers(-8, 8))
    def bar(self, gap_minutes: int, move: int) -> None:
        """A bar ending ``gap_minutes`` after the last one, its close ``move`` ticks from its open."""
        self.t += dt.timedelta(minutes=gap_minutes)
        spec = self.spec
        self.ticks = max(400, self.ticks + move)
        o, c = Decimal(self.ticks) * spec.tick_size, Decimal(self.ticks + move) * spec.tick_size
        b = Bar(symbol=self.symbol, end=self.t, open=o, high=max(o, c) + spec.tick_size,
                low=min(o, c) - spec.tick_size, close=c, volume=10)
        self.broker.on_bar(b)
        self.runner.run_once(b)

    @rule(seconds=st.integers(1, 7200))
    def heartbeat(self, seconds: int) -> None:
        """The live clock moves on without a bar (a feed outage)."""
        self.t += dt.timedelta(seconds=seconds)
        self.runner.run_heartbeat(self.t)

    @rule(faults=fault_plans())
    def change_faults(self, faults: FaultPlan) -> None:
        """The venue starts to misbehave differently."""
        self.broker.faults = faults

    @rule()
    def restart(self) -> None:
        """A clean stop (checkpoint written) and a new runner on the same folder and log."""
        self.runner.close()
        self.runner = self._open()

    @rule()
    def crash(self) -> None:
        """The process dies between two bars: the log holds what was appended, no checkpoint is written."""
        r = self.runner
        r.abandon()
        self.runner = self._open()

    # -- after every step -------------------------------------------------------------

    @invariant()
    def the_log_keeps_every_lifecycle_invariant(self) -> None:
        r = self.runner
        if r.has_pending:
            return  # this runner has seen no clock time yet: nothing of it is logged
        r.events.sync()
        result = check_log(r.events.path, r.session.schedule)
        failed = [f"{v.name}: line {v.line}: {v.detail}" for v in result.verdicts if not v.passed]
        assert not failed, "\n".join(failed)

    @invariant()
    def the_fold_of_the_log_is_the_live_state(self) -> None:
        r = self.runner
        if r.has_pending:
            return
        r.events.sync()
        state = r.fresh_state()
        fold = Fold(state)
        fold.apply_all(iter_events(r.events.path))
        assert state.view() == r.bot_state().view()
        assert fold.anomalies == [], fold.anomalies
