"""Stateful property test over the whole runner on the real XNYS calendar.

Hypothesis drives random bars (any gap: a minute, an hour, a night, a long
weekend), heartbeats, stale bars, strategy signals, restarts (a new runner on
the same folder and log) and a SimBroker with every fault at once (rejects,
partial, delayed and duplicated fills, disconnects). After every step:

- each position machine's state agrees with its quantity (FLAT holds nothing,
  OPEN and EXITING hold something);
- the session state is the schedule's state at the runner's clock time;
- the event log verifies, and replaying it gives the runner's own session,
  position, throttle and kill-switch states;
- no entry order was ever submitted outside TRADING (or after the cut-off);
- at every session close the runner is flat or its kill switch is TRIPPED.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from statebot import ENTER, Bar, FaultPlan, Signal, SimBroker, replay
from statebot.core.costs import FixedCommission
from statebot.core.engine.fold import Fold
from statebot.journal.log import iter_events
from statebot.core.fsm.position import ENTERING, EXITING, FLAT, OPEN
from statebot.core.time.schedule import TRADING
from tests.runner_helpers import Scripted, config, make_runner

UTC = dt.UTC
STARTS = [
    dt.datetime(2026, 11, 24, 19, 40, tzinfo=UTC),  # an ordinary afternoon
    dt.datetime(2026, 11, 25, 20, 30, tzinfo=UTC),  # before Thanksgiving
    dt.datetime(2026, 11, 27, 17, 20, tzinfo=UTC),  # the 13:00 early close
    dt.datetime(2026, 3, 6, 20, 30, tzinfo=UTC),    # the Friday before the spring DST switch
    dt.datetime(2026, 11, 23, 14, 20, tzinfo=UTC),  # just before an open
]
CFG = config('[calendar]\nentry_cutoff = "10m"\n'
             '[throttle]\nmax_consecutive_losses = 2\ncooldown = "20m"\n[kill_switch]\nmax_consecutive_rejects = 4\n')


class RunnerUnderFaults(RuleBasedStateMachine):
    @initialize(
        seed=st.integers(0, 2**16),
        start=st.sampled_from(STARTS),
        reject_p=st.sampled_from([0.0, 0.1, 0.3]),
        partial_p=st.sampled_from([0.0, 0.5]),
        delay_p=st.sampled_from([0.0, 0.3]),
        duplicate_p=st.sampled_from([0.0, 0.3]),
        disconnect_p=st.sampled_from([0.0, 0.05]),
    )
    def setup(self, seed: int, start: dt.datetime, reject_p: float, partial_p: float, delay_p: float,
              duplicate_p: float, disconnect_p: float) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="runner-stateful-"))
        faults = FaultPlan(reject_p=reject_p, partial_p=partial_p, delay_p=delay_p, duplicate_p=duplicate_p,
                           disconnect_p=disconnect_p, disconnect_bars=2)
        self.sim = SimBroker(seed=seed, commission=FixedCommission("1.25"), faults=faults, start=start)
        self.strat = Scripted()
        self.runner = make_runner(self.tmp, self.strat, self.sim, cfg=CFG)
        self.t = start
        self.ticks = 24000
        self.used = False

    def teardown(self) -> None:
        runner = getattr(self, "runner", None)
        if runner is not None:
            runner.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _bar(self, move: int) -> Bar:
        self.ticks = max(400, self.ticks + move)
        o = Decimal(self.ticks) / 4
        c = Decimal(self.ticks + move) / 4
        return Bar(symbol="MES", end=self.t, open=o, high=max(o, c) + 1, low=min(o, c) - 1, close=c, volume=10)

    @rule(
        gap_minutes=st.sampled_from([1, 1, 1, 1, 2, 5, 13, 60, 600, 1000, 3 * 1440]),
        move=st.integers(-6, 6),
        want=st.sampled_from([None, "LONG", "SHORT"]),
        stop=st.sampled_from([2, 4, 8]),
    )
    def bar(self, gap_minutes: int, move: int, want: str | None, stop: int) -> None:
        self.t += dt.timedelta(minutes=gap_minutes)
        self.strat.want = None if want is None else Signal(side=want, stop_ticks=stop, dvs=Decimal(1), eqs=Decimal(1))
        b = self._bar(move)
        self.sim.on_bar(b)
        decision = self.runner.run_once(b)
        self.used = True
        if decision.action == ENTER:
            s = self.runner.session.schedule.session_at(b.end)
            assert s is not None and s.entries_allowed(b.end), f"entry at {b.end} outside TRADING"

    @rule(seconds=st.integers(1, 7200))
    def heartbeat(self, seconds: int) -> None:
        self.t += dt.timedelta(seconds=seconds)
        self.runner.run_heartbeat(self.t)

    @precondition(lambda self: self.used)
    @rule()
    def stale_bar(self) -> None:
        decision = self.runner.run_once(self._bar(0))
        assert decision.reason == "bar_rejected"

    @rule()
    def restart(self) -> None:
        self.runner.close()
        self.strat = Scripted()
        self.runner = make_runner(self.tmp, self.strat, self.sim, cfg=CFG)

    @rule()
    def crash(self) -> None:
        """The process dies: no checkpoint written, the log holds what was appended."""
        self.runner.abandon()
        self.used = False  # a bar that logged nothing is not known to the restarted runner
        self.strat = Scripted()
        self.runner = make_runner(self.tmp, self.strat, self.sim, cfg=CFG)

    @invariant()
    def the_fold_of_the_log_equals_the_live_state(self) -> None:
        """One source of truth: folding the whole log into fresh machines rebuilds exactly
        what the runner holds (positions and live orders, kill switch, learning, equity)."""
        r = self.runner
        if r.has_pending:
            return  # nothing logged yet: the start-up records wait for the first clock time
        r.events.sync()
        state = r.fresh_state()
        fold = Fold(state)
        fold.apply_all(iter_events(r.events.path))
        assert state.view() == r.bot_state().view()
        assert fold.anomalies == [], fold.anomalies

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
    def log_verifies_and_replays_to_the_runner_states(self) -> None:
        self.runner.events.sync()
        result = replay(self.runner.events.path)
        r = self.runner
        if result.session is not None:
            assert result.session == r.session_state
        for m in r.book.machines():
            view = result.positions.get((m.strategy, m.symbol))
            assert (view.state if view else FLAT) == m.state
        assert result.throttles.get(r.name, "ACTIVE") == r.throttle_state
        assert (result.kill_switch or "ARMED") == r.killswitch_state
        assert not [a for a in result.anomalies if "session" in a.message]

    @invariant()
    def entries_only_in_trading_and_flat_or_tripped_at_close(self) -> None:
        schedule = self.runner.session.schedule
        for _, event in iter_events(self.runner.events.path):
            if event.type == "ORDER_SUBMITTED" and event.payload["purpose"] == "entry":
                s = schedule.session_at(event.ts)
                assert s is not None and s.state_at(event.ts) == TRADING and s.entries_allowed(event.ts)
        if self.runner.session_state == "CLOSED" and self.runner.killswitch_state == "ARMED":
            assert self.runner.book.expected_positions() == {} or self.runner.now is None


RunnerUnderFaults.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)
test_runner_under_faults = pytest.mark.invariant(
    "under random bars, gaps, faults and restarts the log replays to the runner's states and nothing enters outside TRADING",
    machine="runner",
)(RunnerUnderFaults.TestCase)


@pytest.mark.slow
class TestRunnerUnderFaultsLong(RunnerUnderFaults.TestCase):  # type: ignore[name-defined,misc]
    settings = settings(max_examples=300, stateful_step_count=60, deadline=None)
