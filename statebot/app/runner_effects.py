"""The effects the tables declare, executed: session transitions, kill switch trips, the flatten.

Step 2 and 6 of a bar (``statebot.app.runner``'s docstring). ``_advance_session`` moves
the session machine to the bar's time and logs each transition (``SESSION_TRANSITION``;
whole sessions without data while nothing is at stake are one ``SESSIONS_WITHOUT_DATA``);
the effects a transition's table row declares run through ``EFFECT_EXECUTORS`` by type
(cancel working entries, start the flatten, check flat at the close), the venue's
reports applied first. ``_sync_killswitch`` logs each new trip (``KILL_SWITCH``) and
executes the kill switch's effects; ``_step_flatten`` steps the ``Flattener`` once per
bar or heartbeat while the ``flatten`` machine is FLATTENING, until the venue is flat.

A mixin of ``BotRunner`` on the runner's own attributes (``RunnerBase``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from statebot.app.decision import FLATTEN, Decision
from statebot.app.runner_base import RunnerBase
from statebot.core.fsm.effects import Effect
from statebot.core.fsm.killswitch import ARMED, POSITION_HELD_AT_CLOSE, TRIPPED
from statebot.core.fsm.session import SessionTransition
from statebot.core.time.schedule import CLOSED, SessionTimes
from statebot.errors import AdapterUnavailable, BarRejected, JournalWriteFailed, StatebotError
from statebot.journal.log import (
    KILL_SWITCH,
    ORDER_CANCEL_REQUESTED,
    RUNNER_ERROR,
    SESSION_EXIT_FLATTEN,
    SESSION_TRANSITION,
    SESSIONS_WITHOUT_DATA,
    minutes,
)

log = logging.getLogger("statebot.runner")


class EffectExecutors(RunnerBase):
    """Session transitions, kill switch trips and the flatten of ``BotRunner``."""

    def _advance_session(self, t: dt.datetime) -> Decision | None:
        # whole sessions the data never reached are passed over only when nothing can be at stake
        # in them: held or working (by the machines or at the venue) or being flattened walks
        # each one (its late flatten, the trip)
        idle = (not self.flatten_coordinator.flattening and not self.book.expected_positions()
                and not any(m.live_orders() for m in self.book.machines()) and self._venue_idle())
        try:
            fired = self.session.advance(t, skip_missed=idle)
        except (BarRejected, StatebotError) as exc:
            self._error(t, "session", exc)
            return None
        self._next_change = self.session.next_change
        skipped = self.session.skipped
        if fired or skipped:
            self._learning_poll = True  # a new session may end a "next session" cooldown
        if skipped and not any(tr.dest == CLOSED for tr in fired):
            self._sessions_without_data(skipped, t)  # passed over from CLOSED, before the walk
        acted = None
        for tr in fired:
            acted = self._on_session(tr, t) or acted
            if skipped and tr.dest == CLOSED:
                self._sessions_without_data(skipped, t)  # passed over right after this close
                skipped = ()
        return acted

    def _sessions_without_data(self, skipped: tuple[SessionTimes, ...], t: dt.datetime) -> None:
        dates = [s.date for s in skipped]
        self._log(t, SESSIONS_WITHOUT_DATA, {"sessions": dates, "count": len(dates), "first": dates[0], "last": dates[-1]})
        log.warning("no data for %d whole session(s) from %s to %s: passed over with nothing held or working",
                    len(dates), dates[0].isoformat(), dates[-1].isoformat())

    EFFECT_EXECUTORS: ClassVar[Mapping[str, Mapping[Effect, str]]] = {
        "session": {
            Effect.CANCEL_ENTRY_ORDERS: "_session_cancel_entries",
            Effect.FLATTEN_ALL_POSITIONS: "_session_flatten",
            Effect.CHECK_FLAT_AT_CLOSE: "_check_flat_at_close",
        },
        "killswitch": {
            Effect.CANCEL_ENTRY_ORDERS: "_cancel_working_entries",
            Effect.FLATTEN_ALL_POSITIONS: "_killswitch_flatten",
        },
        "venue_connection": {
            Effect.RECONCILE_POSITIONS: "_reconcile_soon",
        },
    }
    """Which method executes each effect a machine's table declares, by machine name: session
    executors take ``(transition, t)``, the others ``(t)``. The machines' own effects (the
    throttle's) are executed by the machines."""

    def _on_session(self, tr: SessionTransition, t: dt.datetime) -> Decision | None:
        self._log(t, SESSION_TRANSITION, {"from": tr.source, "to": tr.dest, "session": tr.session,
                                          "trigger": tr.trigger, "due": tr.due, "late": tr.late})
        self._session_logged, self._session_date_logged = tr.dest, tr.session
        acted = None
        if tr.actions:
            # the venue's reports first: an entry that filled just before the flatten must reach its
            # machine, or the flattener sees a venue position no machine accounts for and closes it
            # with an unowned order while the machine still believes it holds it (a mismatch)
            self._process_adapter(t)
        executors = self.EFFECT_EXECUTORS["session"]
        for effect in tr.actions:
            acted = getattr(self, executors[effect])(tr, t) or acted
        return acted

    def _session_cancel_entries(self, tr: SessionTransition, t: dt.datetime) -> None:
        self._cancel_working_entries(t)

    def _session_flatten(self, tr: SessionTransition, t: dt.datetime) -> Decision:
        session = self.session.session
        remaining = max(dt.timedelta(0), session.close - t) if session is not None else dt.timedelta(0)
        self.brackets.note_exit_refs(self._last_bar)
        self._log(t, SESSION_EXIT_FLATTEN, {
            "reason": "flatten_lead", "session": tr.session, "minutes_remaining": minutes(remaining),
            "positions": dict(sorted(self.book.expected_positions().items())), "late": tr.late,
            "due": tr.due, "minutes_late": minutes(max(dt.timedelta(0), t - tr.due)),
        })
        self.flatten_coordinator.start()
        self._step_flatten(t)
        return Decision(action=FLATTEN, reason="session_flatten", detail=f"late={tr.late}")

    def _cancel_working_entries(self, t: dt.datetime) -> None:
        for m in self.book.machines():
            for oid in m.working_entries():
                # logged and noted before the cancel leaves: a cancel the venue never got is
                # harmless (the entry still ends with its fills), one it got but the log
                # missed would leave the fold of the log behind the machine
                self._log(t, ORDER_CANCEL_REQUESTED, {"order_id": oid})
                m.request_cancel(oid)
                self.events.commit()
                try:
                    self.adapter.cancel(oid)
                except (AdapterUnavailable, StatebotError) as exc:
                    self._error(t, "cancel_entry", exc)
        self._log_positions(t)

    def _check_flat_at_close(self, tr: SessionTransition, t: dt.datetime) -> None:
        held = self.book.expected_positions()
        try:
            venue = {s: q for s, q in self.adapter.positions().items() if q}
        except AdapterUnavailable:
            venue = {}
        if held or venue:
            detail = f"session {tr.session.isoformat()} closed holding {held or venue} (machines {held}, venue {venue})"
            log.error("%s", detail)
            self._trip(POSITION_HELD_AT_CLOSE, t, detail)
        self._dirty = self._dirty or self._changed

    def _trip(self, reason: str, t: dt.datetime, detail: str) -> None:
        self.killswitch.trip(reason, t, detail)
        self._sync_killswitch(t)

    def _sync_killswitch(self, t: dt.datetime) -> None:
        """Log the kill switch's new trips, then execute the effects its table asked for."""
        ks = self.killswitch
        trips = ks.trips
        if len(trips) > self._ks_logged:
            for i in range(self._ks_logged, len(trips)):
                trip = trips[i]
                self._log(t, KILL_SWITCH, {"from": ARMED if i == 0 else TRIPPED, "to": TRIPPED, "reason": trip.reason,
                                           "detail": trip.detail, "at": trip.at})
                log.error("kill switch tripped: %s (%s)", trip.reason, trip.detail)
            self._ks_logged = len(trips)
        elif not trips:
            self._ks_logged = 0
        effects = ks.take_effects()
        if effects:
            executors = self.EFFECT_EXECUTORS["killswitch"]
            for effect in effects:
                getattr(self, executors[effect])(t)

    def _killswitch_flatten(self, t: dt.datetime) -> None:
        if self.flatten_coordinator.start():
            self.brackets.note_exit_refs(self._last_bar)

    def _step_flatten(self, t: dt.datetime) -> Decision | None:
        if t == self._flatten_stepped_at:
            return None  # once per bar or heartbeat: the venue's answer to this step comes with the next drain
        if not self.connection.reachable and not self._anything_at_stake():
            # flat with nothing working: wait for the venue (the reconnect reconciles) rather than
            # trip the kill switch on its silence
            return None
        self._flatten_stepped_at = t
        self.events.commit()
        try:
            step = self.flattener.step(t)
        except (StatebotError, ValueError) as exc:
            self._error(t, "flatten", exc)
            self._log_positions(t)
            return None
        decision = None
        if step.attempt is not None:
            # each closing order was logged (``_record``) before it left
            self._orders_sent += len(step.attempt.submitted)
            if step.attempt.submitted:
                first = step.attempt.submitted[0]
                decision = Decision(action=FLATTEN, reason="flatten_orders", order_id=first.client_order_id, qty=first.qty)
        if step.unreachable:
            self._venue_lost(t, "flatten", step.error, step.error)
        elif step.error:
            self._log(t, RUNNER_ERROR, {"stage": "flatten", "error": step.error})
        self._log_positions(t)
        self._sync_killswitch(t)
        if step.flat:
            self.flatten_coordinator.finish(venue_flat=True, book_flat=not self.book.expected_positions())
        return decision

    def _record(self, type: str, payload: Mapping[str, Any]) -> None:
        """The flattener's journal: what it is about to do to a machine or the venue, logged first.
        Once the bot is stopping because the log cannot be written, closing what is held comes
        first: the flatten goes out unlogged (the venue's own records have it)."""
        try:
            self._log(self._now or self._start, type, payload)
        except JournalWriteFailed:
            if self._stopped_by is None:
                raise
            log.critical("flattening while the event log cannot be written: %s %s not logged", type, dict(payload))

    def _anything_at_stake(self) -> bool:
        """A position or a live order the machines know of, or a closing order the flattener sent."""
        if self.flattener.in_flight or self.book.expected_positions():
            return True
        return any(m.live_orders() for m in self.book.machines())
