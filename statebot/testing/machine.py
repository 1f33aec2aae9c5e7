"""``BotStateMachine``: property-test your own strategy under generated bars, faults, crashes and restarts.

Subclass it, return your strategy from ``make_strategy`` (and, optionally, your config from
``make_config`` and your venue from ``make_broker``), and expose its ``TestCase`` to pytest::

    class MyBot(BotStateMachine):
        def make_strategy(self):
            return get_strategy("sma-cross")

    TestMyBot = MyBot.TestCase

Hypothesis then drives one ``BotRunner`` on a ``SimBroker`` in a temporary folder: rules feed
runs of bars (with gaps from one minute to a long weekend) and heartbeats, change the venue's fault
plan (rejects, which refuse a bracket's stop too; partial fills; delayed and repeated fill reports,
a stop's among them; disconnects; slow cancels), restart the runner cleanly and crash it (no
checkpoint); a new runner always resumes on the same folder and log. Protective orders get faults
of their own while a bracket works at the venue: the venue cancels a stop or target unasked
(the runner must trip or re-send, never hold the position naked), and the runner restarts or
crashes with the bracket working (the restored runner must go on following it).

After every step the events the runner appended since the last step are read (the chain
checked line by line) and fed to an ``InvariantChecker`` (every invariant of
``statebot.testing.invariants``, against the runner's own calendar, flatten lead and entry
cut-off) and to one ``Fold`` of the whole log; the fold must equal the runner's live state.
Nothing is read twice, so a step costs what the runner did in it, not the length of the log.
After each crash or restart (once the new runner logged its start) and at the end of each
example, the whole log is read again from its first line: ``check_log`` must pass and a fresh
fold must equal both the incremental one and the live state. A failure shows the shrunk
sequence of steps and the first offending line.

Imports Hypothesis: load it only in tests.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from statebot.app.runner import BotRunner
from statebot.config.model import Config
from statebot.core.engine.fold import Fold
from statebot.core.orders import PROTECT
from statebot.core.time.clock import Bar
from statebot.errors import ChainBroken
from statebot.journal.log import Event, Head, iter_events, parse_line
from statebot.testing.invariants import InvariantChecker, Verdict, check_log
from statebot.testing.strategies import bar_gaps, fault_plans, starts
from statebot.venues.sim import FaultPlan, SimBroker


class LogTail:
    """The events appended to the log at ``path`` since the last ``read()``, each checked to
    continue the chain of the one before (``ChainBroken`` otherwise, as ``iter_events`` raises).
    A last line without its newline yet is left for the next read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.line = 0
        self.head = Head()

    def read(self) -> list[tuple[int, Event]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        out: list[tuple[int, Event]] = []
        for raw in data[:end].split(b"\n")[:-1]:
            self.line += 1
            event = parse_line(raw, self.line)
            if event.seq != self.head.seq + 1 or event.prev_hash != self.head.hash:
                raise ChainBroken(f"line {self.line}: seq {event.seq} does not continue the chain after seq "
                                  f"{self.head.seq}", line=self.line)
            self.head = Head(seq=event.seq, hash=event.hash)
            out.append((self.line, event))
        self.offset += end
        return out


def _failures(verdicts: tuple[Verdict, ...]) -> str:
    return "\n".join(f"{v.name}: line {v.line}: {v.detail}" for v in verdicts if not v.passed)


def kit_settings() -> settings:
    """The Hypothesis settings every ``BotStateMachine`` subclass's ``TestCase`` starts with, on top of
    the active profile: 25 examples of up to 50 steps, no deadline, one failure reported (a broken
    bot often breaks two invariants at once: one shrunk example says it), and no ``explain`` phase
    (it replays the shrunk example hundreds of times to comment on it). Change them per machine with
    ``MyBot.TestCase.settings = settings(kit_settings(), max_examples=...)``."""
    return settings(max_examples=25, stateful_step_count=50, deadline=None, report_multiple_bugs=False,
                    phases=tuple(p for p in Phase if p is not Phase.explain),
                    suppress_health_check=[HealthCheck.too_slow])


class BotStateMachine(RuleBasedStateMachine):
    """A runner of your strategy under generated bars, faults, crashes and restarts; see the module."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TestCase.settings = kit_settings()

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
        runner = BotRunner(self.make_strategy(), self.broker, equity=self.equity, config=self.config,
                           state_dir=self.folder / "state", event_log=self.folder / "events.jsonl")
        self.refold_due = True
        return runner

    @initialize(seed=st.integers(0, 2**16), start=starts(), faults=fault_plans())
    def start_runner(self, seed: int, start: dt.datetime, faults: FaultPlan) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="statebot-machine-"))
        self.config = self.make_config()
        self.symbol = self.config.instrument.symbol
        self.spec = self.config.instrument.spec()
        self.broker = self.make_broker(seed=seed, faults=faults, start=start, config=self.config)
        self.runner = self._open()
        self.tail = LogTail(self.runner.events.path)
        self.checker = InvariantChecker(self.runner.session.schedule)
        self.fold = Fold(self.runner.fresh_state())
        self.t = start
        self.ticks = 24000

    def teardown(self) -> None:
        runner = getattr(self, "runner", None)
        if runner is None:
            return
        try:
            if sys.exc_info()[1] is None:  # the example ran to its end: judge the whole log
                self.read_new_events()
                failed = _failures(self.checker.finish())
                assert not failed, failed
                # the same verdicts from the whole log read again, its chain verified from the first line
                assert check_log(self.runner.events.path, self.runner.session.schedule).verdicts == \
                    self.checker.verdicts(), "the invariants judged step by step differ from one pass over the log"
                self._whole_log_agrees()
        finally:
            runner.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- rules ----------------------------------------------------------------------

    @rule(gap_minutes=bar_gaps(), moves=st.lists(st.integers(-4, 4), min_size=1, max_size=8))
    def bars(self, gap_minutes: int, moves: list[int]) -> None:
        """One-minute bars, the first ending ``gap_minutes`` after the last one, each closing ``move``
        ticks from its open (a run of bars per step, so an example trades, not only restarts)."""
        spec = self.spec
        for i, move in enumerate(moves):
            self.t += dt.timedelta(minutes=gap_minutes if i == 0 else 1)
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
        self.runner.abandon()
        self.runner = self._open()

    # -- protective orders under faults ----------------------------------------------------

    def _protectors_at_venue(self) -> tuple[str, ...]:
        """Ids of the protective orders the venue works now (none for a venue that cannot say)."""
        working = getattr(self.broker, "working", None)
        return tuple(o.client_order_id for o in working(PROTECT)) if working is not None else ()

    @precondition(lambda self: bool(self._protectors_at_venue()))
    @rule(pick=st.integers(0, 1))
    def venue_cancels_a_protector(self, pick: int) -> None:
        """The venue cancels a working stop or target on its own while its position is open (or its entry
        working): a lost stop trips the kill switch or is sent again (``[protection] on_lost``)."""
        ids = self._protectors_at_venue()
        self.broker.cancel_unasked(ids[pick % len(ids)], reason="cancelled by the venue (fault)")

    @precondition(lambda self: bool(self._protectors_at_venue()))
    @rule(crash=st.booleans())
    def restart_with_a_bracket_working(self, crash: bool) -> None:
        """The runner stops (cleanly, or as a crash) while a bracket's protectors work at the venue; the new
        runner must know them from the checkpoint and the log, and follow their fills and cancels."""
        if crash:
            self.crash()
        else:
            self.restart()

    # -- after every step -------------------------------------------------------------

    def _flush(self) -> None:
        """Make every appended line readable in the file: "simulation" durability buffers lines in
        memory; "live" writes each as it is appended (and fsyncs before orders: nothing to add)."""
        r = self.runner
        if r.config.durability.mode != "live":
            r.events.sync()

    def read_new_events(self) -> None:
        """Feed what the runner appended since the last call to ``checker`` (an ``InvariantChecker``)
        and ``fold`` (one ``Fold`` of the whole log). Each line is read once: a subclass's own
        invariant calls it before looking at ``fold.state`` (invariants run in no set order)."""
        self._flush()
        checker, fold = self.checker, self.fold
        for line, event in self.tail.read():
            checker.feed(line, event)
            fold.apply(event, line)

    def _whole_log_agrees(self) -> None:
        """The whole log, read again from its first line: a fresh fold of it is the incremental fold
        and the live state."""
        r = self.runner
        self._flush()
        fresh = Fold(r.fresh_state())
        fresh.apply_all(iter_events(r.events.path))
        assert fresh.anomalies == [], fresh.anomalies
        assert fresh.state.view() == self.fold.state.view(), "the fold kept step by step is not the fold of the whole log"
        if not r.has_pending:
            assert fresh.state.view() == r.bot_state().view()

    @invariant()
    def the_log_keeps_every_lifecycle_invariant_and_folds_to_the_live_state(self) -> None:
        self.read_new_events()
        failed = _failures(self.checker.verdicts())
        assert not failed, failed
        assert self.fold.anomalies == [], self.fold.anomalies
        r = self.runner
        if r.has_pending:
            return  # this runner has seen no clock time yet: its start is not logged
        if self.refold_due:  # after a start, a restart or a crash: from the log's first line
            self.refold_due = False
            self._whole_log_agrees()
        else:
            assert self.fold.state.view() == r.bot_state().view()

