"""Stateful property test over the whole runner on the real XNYS calendar: the test kit's own
crash-and-restart harness (``statebot.testing.machine.BotStateMachine``), subclassed with a
scripted strategy whose signals are generated too.

Hypothesis drives random bars (any gap: a minute, an hour, a night, a long weekend),
heartbeats, stale bars, strategy signals, clean restarts and crashes (a new runner on the
same folder and log) and a SimBroker whose fault plan changes (rejects, partial, delayed and
duplicated fills, disconnects, slow cancels). After every step, besides the kit's own checks
(every lifecycle invariant of the log so far; the fold of the log is the runner's live state;
after each start, restart and crash, and at the end, the whole log read again agrees):

- each position machine's state agrees with its quantity (FLAT holds nothing, OPEN and EXITING
  hold something);
- the session state is the schedule's state at the runner's clock time;
- the log, as ``statebot replay`` reads it, gives the runner's own session, position, throttle
  and kill-switch states;
- at every session close the runner is flat or its kill switch is TRIPPED.

CI (the ``ci`` profile, tests/conftest.py) runs 150 examples of 50 steps; ``-m slow`` runs
1,000 of 100.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from statebot import Bar, FaultPlan, Signal, SimBroker
from statebot.config.model import Config
from statebot.core.costs import FixedCommission
from statebot.core.fsm.position import ENTERING, EXITING, FLAT, OPEN
from statebot.testing.machine import BotStateMachine, kit_settings
from tests.runner_helpers import Scripted, config

CFG = config('[calendar]\nentry_cutoff = "10m"\n'
             '[throttle]\nmax_consecutive_losses = 2\ncooldown = "20m"\n[kill_switch]\nmax_consecutive_rejects = 4\n')
STEPS = 50


class RunnerUnderFaults(BotStateMachine):
    want: Signal | None = None

    def make_strategy(self) -> Any:
        self.strat = Scripted(self.want)  # a restarted bot's strategy asks for what it asked for before
        return self.strat

    def make_config(self) -> Config:
        return CFG

    def make_broker(self, *, seed: int, faults: FaultPlan, start: dt.datetime, config: Config) -> SimBroker:
        return SimBroker(seed=seed, commission=FixedCommission("1.25"), faults=faults, start=start)

    @rule(want=st.sampled_from([None, "LONG", "SHORT"]), stop=st.sampled_from([2, 4, 8, 16]))
    def signal(self, want: str | None, stop: int) -> None:
        """What the strategy asks for on every bar from now on (until the next signal)."""
        self.want = None if want is None else Signal(side=want, stop_ticks=stop, dvs=Decimal(1), eqs=Decimal(1))
        self.strat.want = self.want

    @precondition(lambda self: self.runner.now is not None)
    @rule()
    def stale_bar(self) -> None:
        """A bar ending at the runner's own clock time again: refused, and nothing else happens."""
        price = Decimal(self.ticks) * self.spec.tick_size
        stale = Bar(symbol=self.symbol, end=self.runner.now, open=price, high=price, low=price, close=price, volume=1)
        assert self.runner.run_once(stale).reason == "bar_rejected"

    @invariant()
    def positions_agree_with_their_quantities(self) -> None:
        for m in self.runner.book.machines():
            if m.state == FLAT:
                assert m.qty == 0, (m.strategy, m.state, m.qty)
            elif m.state in (OPEN, EXITING):
                assert m.qty != 0, (m.strategy, m.state, m.qty)
            else:
                assert m.state == ENTERING

    @invariant()
    def session_follows_the_clock(self) -> None:
        now = self.runner.now
        if now is not None:
            assert self.runner.session_state == self.runner.session.schedule.state_at(now)

    @invariant()
    def the_log_says_the_runners_states(self) -> None:
        """Session, positions, throttle and kill switch as the log's transitions state them
        (what ``statebot replay`` prints) are the runner's own."""
        self.read_new_events()
        r, logged = self.runner, self.fold.state
        if r.has_pending:
            return  # a new runner's start is not logged yet
        if logged.session is not None:
            assert logged.session == r.session_state
        for m in r.book.machines():
            assert logged.positions.get((m.strategy, m.symbol), (FLAT, 0))[0] == m.state
        assert logged.throttles.get(r.name, "ACTIVE") == r.throttle_state
        assert logged.killswitch.state == r.killswitch_state

    @invariant()
    def flat_or_tripped_at_the_close(self) -> None:
        r = self.runner
        if r.session_state == "CLOSED" and r.killswitch_state == "ARMED" and not r.has_pending:
            assert r.book.expected_positions() == {}


RunnerUnderFaults.TestCase.settings = settings(kit_settings(), max_examples=settings.default.max_examples,
                                               stateful_step_count=STEPS)
test_runner_under_faults = pytest.mark.invariant(
    "under random bars, gaps, faults and restarts the log replays to the runner's states and nothing enters outside TRADING",
    machine="runner",
)(RunnerUnderFaults.TestCase)


@pytest.mark.slow
class TestRunnerUnderFaultsLong(RunnerUnderFaults.TestCase):  # type: ignore[name-defined,misc]
    settings = settings(kit_settings(), max_examples=1000, stateful_step_count=100)

