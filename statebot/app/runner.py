"""BotRunner: config, session, positions, kill switch, learning, gates, sizing and the event log, composed.

``BotRunner(strategy, adapter, equity=...)`` trades one strategy in one
instrument (``config.instrument.symbol``) through any ``BrokerAdapter``.
``run_once(bar)`` handles one completed bar and returns a ``Decision``;
``run_heartbeat(now)`` moves time without a bar (live mode). Neither raises
for what a venue, a feed or a strategy does: every refused transition,
over-fill, adapter failure or bad signal becomes an event (and a kill-switch
trip where DESIGN.md says so), and the loop goes on.

The fixed order of one bar (``run_once``):

1. Validate: the bar is of the runner's symbol and ends after the last seen
   time (a ``LiveClock`` also refuses bars from the future). Else
   ``BAR_REJECTED {reason}``, a SKIP, and nothing else happens.
2. Advance the clock and the session machine. Every transition is logged
   (``SESSION_TRANSITION``). Entering FLATTENING first applies the adapter's
   reports (an entry filled just before belongs to its machine), then cancels
   working entry orders and flattens every position through the ``Flattener``
   (``SESSION_EXIT_FLATTEN {reason, minutes_remaining, positions, late}``).
   Entering CLOSED first applies the adapter's reports, then a position still
   held (by the machines or at the venue) trips the kill switch
   (``position_held_at_close``).
3. Drain the adapter and apply each report to the ``PositionBook``:
   ``ORDER_REJECTED`` / ``ORDER_CANCELLED``, ``FILL``, ``POSITION_TRANSITION``.
   Rejects count toward the kill switch's reject limit; an over-fill trips it.
   A closed round trip becomes a ``TradeOutcome`` net of its per-contract
   commission: ``TRADE_CLOSED``, then the learning loop (``LEARNING_UPDATE``,
   ``THROTTLE_TRANSITION``), then the kill switch's daily loss; a round trip
   the flattener's unowned order closed (the position's fill was reported
   after it) is such a trade too (``PositionBook``). A position
   left where none may be held (outside TRADING, or while tripped) is
   flattened too.
4. Reconcile at a quiet point (reports were applied since the last check and
   no order is live): a difference is ``POSITION_MISMATCH`` and a trip.
   Disconnects (the ``venue_connection`` machine): a call the venue cannot
   answer is ``VENUE_CONNECTION {connected: false}`` (logged once, however
   long it lasts: CONNECTED -> DISCONNECTED) and no entry is sent while it
   lasts; the first drain it answers again is ``VENUE_CONNECTION {connected:
   true}`` (RESYNCING) and entries stay refused (``SKIP reconciling``) until a
   reconciliation ran (CONNECTED). Flattening goes on being attempted while
   anything is held or working (the ``Flattener``'s rules; its first failure
   trips ``disconnect``); flat with nothing working, it waits for the venue.
   A position still held when the session closes trips the kill switch.
5. Learning ``on_time``: cooldowns that ended (``THROTTLE_TRANSITION``).
6. Kill switch and flatten: the effects a table declares are executed by
   type (``EFFECT_EXECUTORS``); while a flatten is under way (the ``flatten``
   machine FLATTENING: the session's, the kill switch's, an operator's) the
   ``Flattener`` is stepped once per bar or
   heartbeat, on its backoff, until the venue is flat (orders it sends:
   ``ORDER_SUBMITTED`` purpose flatten, logged as they leave). Every trip is a ``KILL_SWITCH {from, to, reason}`` event.
7. ``strategy.on_bar(bar, ctx)``, on every bar, so its indicators stay current.
8. An open position whose protective stop or target the bar reached is
   exited (``ORDER_SUBMITTED`` purpose exit), unless a flatten is under way:
   then the ``Flattener`` alone closes positions (HOLD ``flattening``), so
   nothing closes a position twice.
9. The signal: the side already held is a HOLD; the opposite side exits
   first (a reversal; the new entry comes once flat; while flattening, a
   HOLD ``flattening``). From flat, an entry
   passes, in order: the session (TRADING, before the entry cut-off), the kill
   switch (ARMED), the throttle (ACTIVE or PROBATION), the gates on the
   signal's DVS and EQS (``GATE_SKIP {gate, value, threshold}``) and sizing
   (``compute_position_size`` with the throttle's PROBATION cap); then
   ``send_entry`` (``ORDER_SUBMITTED`` purpose entry, written before the order
   leaves; under live durability the log is fsynced before every order, cancel
   and flatten step leaves the process: ``EventLog.commit``).
10. If positions, orders, equity or the kill switch changed, the runner
    snapshot is saved (under ``durability.mode = "simulation"`` only at a close
    after a day that changed something, and on ``close()``).

A ``StopsBot`` error (the event log cannot be written) is never swallowed:
``run_once``/``run_heartbeat`` trip the kill switch in memory, try one flatten
step under live durability and re-raise it; the process must stop.

``run_heartbeat(now)`` runs steps 2 to 6 and 10: no strategy, no entry.

The strategy runs before the gates because the scores the gates judge
arrive on its signal. A bar that changes nothing costs a few comparisons, the
strategy call and its context: no event, no Decimal arithmetic, no machine
trigger.

The pieces (``BotRunner`` is the façade that wires them; its public API is this class's):

- ``_run_bar`` / ``_heartbeat`` / ``_advance`` here: the pipeline, steps 1 to 10 in order,
  the steps 2 to 6 shared by bars and heartbeats;
- ``runner_effects.EffectExecutors``: session transitions, kill switch trips, the flatten
  (steps 2 and 6) and ``EFFECT_EXECUTORS``, the executor of each effect a table declares;
- ``runner_venue.VenueSync``: the venue's reports, its connection, reconciliation (3, 4);
- ``runner_trades.TradeAccounting``: a closed trade's money, equity, learning and its clock (3, 5);
- ``runner_signal.SignalHandling``: the strategy's call and what its signal leads to (7 to 9);
- ``brackets.Brackets``: stops, targets and exit orders (8), a class of its own built with
  the book, the venue and the runner's journal;
- ``entry_policy``: the entry's checks as an ordered tuple (``ENTRY_CHECKS``), sizing, the order (9);
- ``runner_operator.OperatorControls``: ``reset_kill_switch``, ``write_off_positions``,
  ``flatten_now``, ``set_equity``;
- ``runner_state.RunnerPersistence``: the checkpoint and the restart (10, and start-up);
- ``runner_base.RunnerBase``: the state every piece shares, declared once, and the journal
  (``_log``: every change is appended before it takes effect).

The mixins are pieces of one object rather than objects of their own so that a bar that
changes nothing costs what it did before the split: plain attribute reads and method calls
on the runner, no delegation per step.

Restart: a new ``BotRunner`` on the same state folder and event log continues
where the old one stopped: the log's ``seq`` goes on, positions and live
orders come back from the snapshot, a throttled strategy stays throttled, a
tripped kill switch stays tripped, a flatten under way goes on. A snapshot
that cannot be read, or an event log that ends before the head the snapshot
recorded, trips the kill switch (``state_untrusted``) and is logged loudly.
Reports the venue sent after the last snapshot and before a crash are not
sent again by every venue: reconciliation then finds the difference and trips.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from statebot.app.brackets import Brackets
from statebot.app.decision import (  # noqa: F401  (the action names and Decision: re-exported)
    ACTIONS,
    ENTER,
    EXIT_ACTION,
    FLATTEN,
    HEARTBEAT,
    HOLD,
    SKIP,
    STALE_HEARTBEAT,
    Decision,
)
from statebot.app.live_clock import LiveClock
from statebot.app.runner_effects import EffectExecutors
from statebot.app.runner_operator import OperatorControls
from statebot.app.runner_signal import SignalHandling
from statebot.app.runner_state import CHECKPOINT_FILENAME, RunnerPersistence
from statebot.app.runner_trades import TradeAccounting
from statebot.app.runner_venue import VenueSync
from statebot.config.model import Config
from statebot.core.engine.fold import Bracket
from statebot.core.engine.protection import ProtectionDesk
from statebot.core.fsm.connection import VenueConnection
from statebot.core.fsm.flatten import FlattenCoordinator
from statebot.core.fsm.killswitch import STATE_UNTRUSTED, TRIPPED
from statebot.core.fsm.session import SessionMachine
from statebot.core.instruments import InstrumentSpec, instrument
from statebot.core.money import to_money
from statebot.core.ports import BracketVenue, BrokerAdapter
from statebot.core.positions.book import PositionBook
from statebot.core.positions.flatten import Flattener
from statebot.core.strategy.protocol import Strategy
from statebot.core.time.calendar import TradingCalendar, get_calendar
from statebot.core.time.clock import Bar, require_aware
from statebot.core.time.schedule import TRADING
from statebot.errors import StopsBot, StrategyFailed
from statebot.journal.log import BAR_REJECTED, EventLog
from statebot.journal.seal import configured_key
from statebot.store.persistence import lock_state_dir, resolve_state_dir

log = logging.getLogger("statebot.runner")




class SimulatedVenue(Protocol):
    """A venue driven by the bars themselves (``SimBroker``): ``on_bar`` works its orders."""

    def on_bar(self, bar: Bar) -> object: ...


class BotRunner(SignalHandling, OperatorControls, EffectExecutors, VenueSync, TradeAccounting, RunnerPersistence):
    """One strategy in one instrument, run bar by bar through a broker adapter.

    ``equity`` (USD, Decimal/int/str) is the account value sizing starts from;
    realized net P&L is added as trades close (``set_equity`` overrides it,
    e.g. from the broker's account value). On a restart the equity saved in
    the snapshot wins over the argument. ``config`` defaults to
    ``Config()``; ``state_dir`` and ``event_log`` default to the config's
    (relative paths against the config file's folder). ``calendar`` overrides
    the config's calendar (e.g. a ``FixedHoursCalendar``); ``clock`` (a
    ``LiveClock``) gives wall time to ``run_heartbeat()`` and refuses bars from
    the future; ``start`` is the clock time of start-up records when the log is
    empty (default: wall time). ``commission`` is the configured commission
    model, for building the venue (``SimBroker(commission=...)``); trade P&L
    uses the commission the fills actually report.

    Raises ``ConfigError`` for a bad setting, ``StateInUse`` when another
    runner holds the state folder, ``EventLogError``/``ChainBroken`` for an
    event log that does not verify. Call ``close()`` (or use ``with``).
    """

    def __init__(
        self,
        strategy: Strategy,
        adapter: BrokerAdapter,
        *,
        equity: Decimal | int | str,
        config: Config | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        event_log: str | os.PathLike[str] | None = None,
        calendar: TradingCalendar | None = None,
        clock: LiveClock | None = None,
        instruments: Mapping[str, InstrumentSpec] | None = None,
        start: dt.datetime | None = None,
        stop_on_strategy_error: bool = False,
    ) -> None:
        c = config if config is not None else Config()
        # a backtest stops on the strategy's first exception (StrategyFailed); live skips the bar
        self.stop_on_strategy_error = stop_on_strategy_error
        self._strategy_errors_shown: set[str] = set()
        self._rejections_shown: set[str] = set()
        self.config = c
        self.config_hash = c.config_hash
        self.strategy = strategy
        self.name: str = strategy.name
        self.adapter = adapter
        self.clock = clock
        self.symbol = c.instrument.symbol
        self._instruments = {**c.instrument.specs(), **(instruments or {})}
        self.instrument = instrument(self.symbol, self._instruments)
        self.equity = to_money(equity, "equity")
        self.session = SessionMachine(
            calendar if calendar is not None
            else get_calendar(c.instrument.session_calendar(c.calendar.name, self._instruments)),
            flatten_lead=c.calendar.flatten_lead, entry_cutoff=c.calendar.entry_cutoff,
        )
        self.book = PositionBook(self._instruments)
        self.killswitch = c.kill_switch.build()
        self.commission = c.instrument.commission(c.commission, self._instruments)
        self._closed = False
        self.state_dir = resolve_state_dir(state_dir if state_dir is not None else c.resolve(c.persistence.state_dir))
        self.checkpoint_path = self.state_dir / CHECKPOINT_FILENAME
        self._snapshot_on_change = c.durability.mode == "live"
        self._fsync_checkpoints = c.durability.mode == "live"
        self._stopped_by: StopsBot | None = None
        self._lock_fd = lock_state_dir(self.state_dir)
        try:
            self.events = EventLog(event_log if event_log is not None else c.resolve(c.event_log.path),
                                   config_hash=self.config_hash, durability=c.durability.mode, seal_key=configured_key(c))
        except BaseException:
            self._release_lock()
            raise
        last = self.events.last
        self._start = require_aware(start, "start") if start is not None else (last.ts if last else LiveClock.wall_time())
        self._now: dt.datetime | None = None
        self._pending: list[tuple[str, dict[str, Any]]] | None = []
        self.learning = self._new_learning()
        self._run = 0  # the fold counts the runs the log records; this one is the next
        self._orders_sent = 0
        self._brackets: dict[tuple[str, str], Bracket] = {}
        self.protection = ProtectionDesk(self.book)
        self._ks_logged = 0
        self._dirty = False
        self._changed = False
        self.flatten_coordinator = FlattenCoordinator()
        self.connection = VenueConnection()
        self._reconcile_due = False
        self._stopping = False
        self._positions_logged: dict[tuple[str, str], str] = {}
        self._session_logged: str | None = None
        self._session_date_logged: dt.date | None = None
        self._throttles_logged: dict[str, str] = {}
        self.restored_from = "none"
        self.fold_anomalies = ()
        self._last_bar: Bar | None = None
        self._flatten_stepped_at: dt.datetime | None = None
        self._next_change: dt.datetime | None = None
        try:
            self._restore()
        except BaseException:
            self.close()
            raise
        tag = f"r{self._run}"
        self._id_prefix = tag
        self.flattener = Flattener(adapter, book=self.book, killswitch=self.killswitch, backoff=self.killswitch.backoff,
                                   id_prefix=f"{tag}-flatten", record=self._record)
        self.protection.on_lost = c.protection.on_lost
        self.protection.new_id = self._new_id
        self.brackets = Brackets(self._brackets, book=self.book, adapter=adapter, instrument=self.instrument, journal=self,
                                 protection=self.protection,
                                 venue_held=c.protection.enabled and isinstance(adapter, BracketVenue))
        self._machine = self.book.machine(self.name, self.symbol)
        self._key = (self.name, self.symbol)
        self._learning_wake: dt.datetime | None = None
        self._update_learning_watch()
        self._learning_poll = self._watch_learning  # restarted while THROTTLED: ask once at the first bar
        for m in self.book.machines():
            self._positions_logged[(m.strategy, m.symbol)] = m.state
        # a restart's trips were acted on before it; what goes on is the flatten
        self.killswitch.take_effects()
        if self.killswitch.state == TRIPPED or (self.book.expected_positions() and self.session.state != TRADING):
            # restarted while tripped, or mid-flatten: the flatten goes on
            self.flatten_coordinator.start()

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        strategy: Strategy,
        adapter: BrokerAdapter,
        equity: Decimal | int | str,
        **options: Any,
    ) -> BotRunner:
        """A runner whose state folder, event log, calendar and limits all come from ``config``.

        ``options`` go to the constructor (``calendar``, ``clock``, ``instruments``, ``start``).
        """
        return cls(strategy, adapter, equity=equity, config=config, **options)

    # queries --------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime | None:
        """The last accepted clock time (bar end or heartbeat), None before the first."""
        return self._now

    @property
    def position_qty(self) -> int:
        """The strategy's signed position as its machine has it."""
        return self._machine.qty

    @property
    def position_state(self) -> str:
        return self._machine.state

    @property
    def session_state(self) -> str:
        return self.session.state

    @property
    def throttle_state(self) -> str:
        """ACTIVE, THROTTLED or PROBATION."""
        return self.learning.throttle_state(self.name)

    @property
    def killswitch_state(self) -> str:
        return self.killswitch.state

    @property
    def flattening(self) -> bool:
        """True while a flatten is under way (the session's, the kill switch's or ``flatten_now``'s)."""
        return self.flatten_coordinator.flattening

    # the bar ----------------------------------------------------------------------

    def run_once(self, bar: Bar) -> Decision:
        """Handle one completed bar in the fixed order of the module docstring.

        Never raises for what the bar, the venue or the strategy do. An unexpected
        error inside the runner itself is logged (``RUNNER_ERROR`` stage ``bar``) and
        trips the kill switch (``state_untrusted``): its state may be half updated.
        """
        try:
            return self._run_bar(bar)
        except StrategyFailed:  # asked for by a backtest: the log has the error, the run ends here
            raise
        except StopsBot as exc:
            self._stop(bar.end, exc)
            raise
        except Exception as exc:  # the loop must go on; the trip stops trading until a person looks
            return self._crashed(bar.end, exc)

    def run_bars(self, bars: Iterable[Bar], venue: SimulatedVenue | None = None) -> int:
        """Run every bar of ``bars`` in order, as ``venue.on_bar(bar)`` then ``run_once(bar)``
        per bar (``venue`` None: ``run_once`` alone); returns the number of bars run.

        The log's bytes are those of that per-bar loop. Decisions are not kept (a year is
        about 100,000 of them); raises what ``run_once`` raises (``StopsBot``)."""
        run_once = self.run_once
        count = 0
        if venue is None:
            for bar in bars:
                run_once(bar)
                count += 1
            return count
        on_bar = venue.on_bar
        for bar in bars:
            on_bar(bar)
            run_once(bar)
            count += 1
        return count

    def _crashed(self, t: dt.datetime, exc: Exception) -> Decision:
        log.exception("runner: unexpected error at %s", t.isoformat())
        at = max(t, self._now) if self._now is not None else t
        try:
            self._error(at, "bar", exc)
            self._trip(STATE_UNTRUSTED, at, f"unexpected {type(exc).__name__} in the runner: {exc}")
        except StopsBot as stop:
            self._stop(at, stop)
            raise
        return Decision(action=SKIP, reason="runner_error", detail=str(exc))

    def _stop(self, t: dt.datetime, exc: StopsBot) -> None:
        """The bot must stop (``StopsBot``, e.g. the event log cannot be written): no more entries;
        under live durability one flatten step is tried, best effort, before the error goes on up."""
        log.critical("runner: stopping: %s", exc)
        self._stopped_by = exc
        if self.killswitch.allows_entries:
            self.killswitch.trip(STATE_UNTRUSTED, t, f"the bot stopped: {exc}")
        if self.config.durability.mode == "live":
            try:
                self.flattener.step(max(t, self._now) if self._now is not None else t)
            except Exception:  # best effort: the process stops either way, the operator is told
                log.exception("runner: flatten on stopping failed; check the positions at the venue")

    # the pipeline: one bar, one heartbeat ----------------------------------------------

    def _run_bar(self, bar: Bar) -> Decision:
        """One bar, in the order of the module docstring: validate (1), advance time (2-6), decide
        (7-9), checkpoint (10)."""
        t = bar.end
        now = self._now
        if (now is not None and t <= now) or bar.symbol != self.symbol or (self.clock is not None and self._from_future(bar)):
            return self._reject(bar)
        self._last_bar = bar
        acted = self._advance(t)
        decision = self._decide(bar, t)
        if acted is not None and decision.action == HOLD:
            decision = acted
        if self._dirty:
            self._save(t)
        return decision

    def _heartbeat(self, now: dt.datetime) -> Decision:
        """Time without a bar: advance time (2-6) and checkpoint (10); no strategy, no entry."""
        if self._now is not None and now <= self._now:
            return STALE_HEARTBEAT
        acted = self._advance(now)
        if self._dirty:
            self._save(now)
        return acted or HEARTBEAT

    def _advance(self, t: dt.datetime) -> Decision | None:
        """Steps 2 to 6, shared by bars and heartbeats, in this order: the start-up records (once);
        the venue's reports of before ``t`` and the session's transitions up to ``t`` (only when one
        is due); the venue's reports (``VenueSync``); reconciliation when due; the learning loop's
        clock while a cooldown can end (``TradeAccounting``); one flatten step while flattening
        (``EffectExecutors``). Returns the decision a transition or a flatten step made, if any."""
        self._now = t
        if self._pending is not None:
            self._flush_pending(t)
        acted: Decision | None = None
        nc = self._next_change
        if nc is None or t >= nc:
            # the reports of what happened before this time, logged before the session moves on
            self._process_adapter(t)
            acted = self._advance_session(t)
        self._process_adapter(t)
        if self._reconcile_due:
            self._reconcile(t)
        if self._watch_learning and self._learning_due(t):
            self._learning_time(t)
        if self.flatten_coordinator.flattening:
            acted = self._step_flatten(t) or acted
        return acted

    def run_heartbeat(self, now: dt.datetime | None = None) -> Decision:
        """Advance time without a bar (live mode): session, adapter reports, reconciliation,
        cooldowns and the flatten; the strategy is not called.

        ``now`` defaults to the ``LiveClock``'s wall time (``ConfigError`` without a clock).
        A time not after the last one changes nothing (HOLD ``heartbeat_not_after_previous``).
        Raises ``BarRejected`` for a naive ``now``.
        """
        if now is None:
            now = (self.clock or LiveClock).wall_time()
        require_aware(now, "heartbeat time")
        try:
            return self._heartbeat(now)
        except StopsBot as exc:
            self._stop(now, exc)
            raise
        except Exception as exc:  # as in run_once: logged, kill switch tripped, the loop goes on
            return self._crashed(now, exc)

    def close(self) -> None:
        """Write the checkpoint, release the state folder and close the event log (written and
        fsynced under both durability modes). Idempotent. After a ``StopsBot`` no checkpoint is
        written: the log may lack what the runner's state holds. Raises ``JournalWriteFailed``
        when the log's last write or the checkpoint fails."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._now is not None and self._stopped_by is None:
                self._save(self._now)
        finally:
            self._release_lock()
            self.events.close()

    def abandon(self) -> None:
        """Stop as a process killed between two steps would, for crash tests (the test kit's
        ``crash`` rule): every event appended so far is written out (as the OS keeps a dead
        process's completed writes; a test of a lost tail cuts the log itself), no checkpoint is
        written, the state folder is released and the log closed. A new runner on the same
        folder and log then restarts as after a crash. Idempotent; afterwards the runner is
        unusable and ``close()`` does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            self.events.sync()
        finally:
            self._release_lock()
            self.events.close()

    @property
    def has_pending(self) -> bool:
        """True while this runner's start-up records (``STATE_RESTORED`` and what restoring found)
        wait for its first clock time (a bar, a heartbeat or ``flatten_now``): until then the log
        holds nothing of this run, and checks of the log against the runner have nothing to compare."""
        return self._pending is not None

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> BotRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # 1. validation ------------------------------------------------------------------

    def _from_future(self, bar: Bar) -> bool:
        assert self.clock is not None
        return bar.end > self.clock.wall_time() + self.clock.max_bar_lead

    def _reject(self, bar: Bar) -> Decision:
        now = self._now
        if bar.symbol != self.symbol:
            reason, text = "wrong_symbol", f"bar of {bar.symbol}, the runner trades {self.symbol}"
        elif now is not None and bar.end <= now:
            reason, text = "not_after_previous", f"bar end {bar.end.isoformat()} is not after {now.isoformat()}"
        else:
            reason, text = "bar_from_future", f"bar end {bar.end.isoformat()} is ahead of wall time"
        self._log(now or bar.end, BAR_REJECTED, {"reason": reason, "detail": text, "bar_end": bar.end})
        if reason not in self._rejections_shown:  # once per reason: a loop fed old bars is not silent
            self._rejections_shown.add(reason)
            hint = (f"; the runner continues from its state in {self.state_dir}: a new run needs a new state folder"
                    if reason == "not_after_previous" else "")
            log.warning("bar rejected (%s): %s%s; further rejections of this kind are logged as BAR_REJECTED only",
                        reason, text, hint)
        if self._dirty and now is not None:
            self._save(now)
        return Decision(action=SKIP, reason="bar_rejected", detail=text)

    # 2-6: session and flatten (runner_effects), reports and reconciliation (runner_venue),
    # trades and learning (runner_trades)

    # 7-9: strategy, protective exits and the signal (runner_signal)

    # events and records --------------------------------------------------------------

    def _flush_pending(self, t: dt.datetime) -> None:
        """Start-up records, written at the first clock time (the log's times only move forward)."""
        pending, self._pending = self._pending or [], None
        for type, payload in pending:
            self._log(t, type, payload)
        self._sync_killswitch(t)
