"""The runner's checkpoint and its restart: the event log is the truth, the checkpoint a cache of its fold.

``<state dir>/checkpoint.json`` (mode 0600) is one line of canonical JSON in the
checked envelope of ``statebot.store.persistence`` (``encode_envelope``, written
with ``atomic_write``: temp file, flush, fsync, ``os.replace``, fsync of the folder;
the fsyncs under ``durability.mode = "live"``). The event log is written and fsynced
first: a checkpoint never records a head the log does not hold::

    {"checksum":"sha256:<hex>","format":"statebot.checkpoint","saved_at":"<ISO-8601>",
     "schema_version":1,"state":{...}}

``state`` is the fold of the event log up to ``event_log`` (``seq``, ``hash``): the
position machines, the flattener's unowned executions not yet matched to one, the kill switch (trips, reject streak, each kept day's net), the
learning loop (metrics and throttles), equity, protective stops, the run count and the
clock. A checkpoint is written after the events it reflects, never before.

Restart (``_restore``):

- a checkpoint whose head the log holds: the checkpoint, then the fold of the log after
  its head (``STATE_RESTORED {from: checkpoint}``);
- no checkpoint, or a corrupt one (moved aside, ``STATE_LOAD_FAILED``), while the log has
  history: the fold of the whole log (``STATE_RESTORED {from: log}``): a tripped kill
  switch stays tripped, a throttled strategy throttled, positions and live orders come back;
- a log that ends before the checkpoint's head, or holds another event there: the log was
  cut or replaced; the checkpoint is restored and the kill switch TRIPPED (``state_untrusted``);
- the clock starts at the later of the checkpoint's and the log's last time: a bar at or
  before it is rejected, and time in a log never goes backwards.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from statebot.app.runner_base import RunnerBase
from statebot.core.engine.fold import BotState, Fold, update_bracket
from statebot.core.learning.loop import LearningLoop
from statebot.core.positions.book import PositionBook
from statebot.core.fsm.killswitch import STATE_UNTRUSTED
from statebot.errors import JournalWriteFailed, StateCorrupt
from statebot.journal.log import RUNNER_ERROR, STATE_LOAD_FAILED, STATE_RESTORED, iter_events
from statebot.store.checkpoint import (  # noqa: F401  (CHECKPOINT_FILENAME, read_checkpoint: re-exported)
    CHECKPOINT_FILENAME,
    checkpoint_state,
    encode_checkpoint,
    read_checkpoint,
    restore_checkpoint,
)
from statebot.store.persistence import atomic_write, move_aside

log = logging.getLogger("statebot.runner")


class RunnerPersistence(RunnerBase):
    """The checkpoint half of ``BotRunner``: what is saved, and how a restart rebuilds the
    state from checkpoint and log. Kept apart so the runner module reads as the bar's order."""

    # the fold's view of this runner ----------------------------------------------------

    def _new_learning(self) -> LearningLoop:
        c = self.config
        return LearningLoop(rules=c.throttle.rules(), window=c.throttle.window, ewma_alpha=c.throttle.slippage_ewma_alpha,
                            strategies=(self.name,))

    def fresh_state(self) -> BotState:
        """Empty machines built from this runner's configuration, for a fold to fill: ``Fold(runner.fresh_state())``
        folds a log into state comparable with ``bot_state()`` (as a restart does)."""
        c = self.config
        return BotState(book=PositionBook(self._instruments), killswitch=c.kill_switch.build(),
                        learning=self._new_learning())

    def bot_state(self) -> BotState:
        """This runner's state as the fold describes it (its own machines, not copies)."""
        head = self.events.head
        return BotState(book=self.book, killswitch=self.killswitch, learning=self.learning, equity=self.equity,
                        brackets=self._brackets, seq=head.seq, hash=head.hash, clock=self._now, run=self._run,
                        session=self._session_logged, session_date=self._session_date_logged,
                        throttles=dict(self._throttles_logged), protection=self.protection)

    # checkpoint ------------------------------------------------------------------------

    def _save(self, t: dt.datetime) -> None:
        """Write the checkpoint of everything logged so far (after the events, never before).

        A failed write raises ``JournalWriteFailed`` (the bot stops): nothing the log holds
        is lost, but the bot must not go on as if its cache were current."""
        self.events.sync()  # write-ahead: the head this checkpoint records is on disk first
        data = encode_checkpoint(checkpoint_state(self.bot_state(), clock=t), t)
        try:
            atomic_write(self.checkpoint_path, data, fsync=self._fsync_checkpoints)
        except OSError as exc:
            raise JournalWriteFailed(self.checkpoint_path, exc) from exc
        self._dirty = self._changed = False

    # restart ---------------------------------------------------------------------------

    def _restore(self) -> None:
        start = self._start
        pending = self._pending
        assert pending is not None
        snap: dict[str, Any] | None = None
        source = "none"
        try:
            snap = read_checkpoint(self.checkpoint_path)
        except StateCorrupt as exc:
            moved = move_aside(self.checkpoint_path, start)
            log.error("checkpoint corrupt: %s; moved aside to %s; rebuilding from the event log", exc, moved.name)
            pending.append((STATE_LOAD_FAILED, {"error": str(exc), "moved_to": moved.name}))
        state = self.fresh_state()
        head_problem = None
        if snap is not None:
            try:
                restore_checkpoint(state, snap, self._instruments)
                source = "checkpoint"
            except (KeyError, TypeError, ValueError, ArithmeticError, StateCorrupt) as exc:
                detail = f"checkpoint {self.checkpoint_path} cannot be restored: {exc!r}; rebuilding from the event log"
                log.error("%s", detail)
                pending.append((RUNNER_ERROR, {"stage": "restore", "error": detail}))
                state = self.fresh_state()
            else:
                head_problem = self._check_log_head(state.seq, state.hash)
        fold = Fold(state)
        if head_problem is None:
            tail = [(line, e) for line, e in iter_events(self.events.path) if e.seq > state.seq]
            if tail and source == "none":
                source = "log"
            fold.apply_all(tail)
        self.fold_anomalies = tuple(fold.anomalies)
        for anomaly in fold.anomalies:
            log.warning("event log line %d: %s", anomaly.line, anomaly.message)
        self._adopt(state)
        self.restored_from = source
        if head_problem is not None:
            log.error("%s", head_problem)
            pending.append((RUNNER_ERROR, {"stage": "restore", "error": head_problem}))
            self.killswitch.trip(STATE_UNTRUSTED, start, head_problem)
        if source != "none":
            self._reconcile_due = True
        head = self.events.head
        pending.append((STATE_RESTORED, {"from": source, "head": {"seq": head.seq, "hash": head.hash}, "run": self._run,
                                         "equity": self.equity}))

    def _adopt(self, state: BotState) -> None:
        """Take over the folded state: its machines are this runner's from here on."""
        self.book = state.book
        # a restart remembers live orders only (the checkpoint's), whether it came from the checkpoint or
        # the log: the fold forgets ended orders at this run's STATE_RESTORED too
        self.book.forget_ended()
        self.killswitch = state.killswitch
        self.learning = state.learning
        self._brackets = state.brackets
        self.protection = state.protection
        for key, bracket in self._brackets.items():
            update_bracket(bracket, self.book.machine(*key))
        self._ks_logged = len(self.killswitch.trips)
        # the trips folded in were acted on when they happened: a restart flattens on its own rule
        self.killswitch.take_effects()
        self._run = state.run + 1
        if state.equity is not None:
            self.equity = state.equity
        self._session_logged, self._session_date_logged = state.session, state.session_date
        self._throttles_logged = dict(state.throttles)
        last = self.events.last
        clock = state.clock
        if last is not None and (clock is None or last.ts > clock):
            clock = last.ts
        if clock is not None:
            # place the session machine where it was; transitions up to here were logged before the restart
            self.session.advance(clock)
            self._next_change = self.session.next_change
            self._now = clock

    def _check_log_head(self, seq: int, digest: str) -> str | None:
        return log_head_problem(self.events.path, self.events.head.seq, self.events.head.hash, seq, digest)


def log_head_problem(path: Path | str, log_seq: int, log_hash: str, seq: int, digest: str) -> str | None:
    """Why the log at ``path`` (ending at ``log_seq``/``log_hash``) does not hold the checkpoint's
    head (``seq``, ``digest``), or None when it does: a log that ends before the head was cut,
    one with another event there was replaced."""
    if log_seq < seq:
        return (f"event log {path} ends at seq {log_seq} but the checkpoint recorded seq {seq}: "
                f"the log was cut or replaced")
    if seq and log_seq == seq and log_hash != digest:
        return f"event log {path} seq {seq} has another hash than the checkpoint recorded: replaced"
    if seq and log_seq > seq:
        for _, event in iter_events(path):
            if event.seq == seq:
                if event.hash != digest:
                    return f"event log {path} seq {seq} has another hash than the checkpoint recorded"
                break
    return None
