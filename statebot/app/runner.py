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
from typing import Any, ClassVar, Protocol


from statebot.core.ports import BrokerAdapter
from statebot.venues.observe import OBSERVED_REASON
from statebot.core.positions.book import PositionBook, send_entry, send_exit
from statebot.core.time.calendar import TradingCalendar, get_calendar
from statebot.app.live_clock import LiveClock
from statebot.core.time.clock import Bar, require_aware
from statebot.config.model import Config
from statebot.errors import (
    AdapterUnavailable,
    BarRejected,
    ConfigError,
    JournalWriteFailed,
    PositionMismatch,
    StatebotError,
    StrategyFailed,
    StopsBot,
)
from statebot.journal.log import (
    BAR_REJECTED,
    FILL,
    GATE_SKIP,
    KILL_SWITCH,
    EQUITY_SET,
    LEARNING_UPDATE,
    ORDER_CANCEL_REQUESTED,
    ORDER_CANCELLED,
    ORDER_REJECTED,
    ORDER_SUBMITTED,
    POSITION_MISMATCH,
    POSITION_TRANSITION,
    POSITION_WRITTEN_OFF,
    RUNNER_ERROR,
    SESSION_EXIT_FLATTEN,
    SESSION_TRANSITION,
    SESSIONS_WITHOUT_DATA,
    STATE_LOAD_FAILED,
    THROTTLE_TRANSITION,
    TRADE_CLOSED,
    VENUE_CONNECTION,
    EventLog,
    minutes,
)
from statebot.journal.seal import configured_key
from statebot.core.positions.flatten import Flattener
from statebot.core.risk.gates import check_quality
from statebot.core.instruments import InstrumentSpec, instrument
from statebot.core.fsm.killswitch import (
    ARMED,
    OVER_FILL,
    POSITION_HELD_AT_CLOSE,
    STATE_UNTRUSTED,
    TRIPPED,
)
from statebot.core.fsm.killswitch import POSITION_MISMATCH as MISMATCH_REASON
from statebot.core.fsm.position import FLAT, OPEN, ClosedTrade, PositionMachine
from statebot.core.fsm.connection import VenueConnection
from statebot.core.fsm.effects import Effect
from statebot.core.fsm.flatten import FlattenCoordinator
from statebot.core.fsm.session import SessionMachine, SessionTransition
from statebot.core.time.schedule import CLOSED, TRADING, SessionTimes
from statebot.core.fsm.throttle import THROTTLED as THROTTLED_STATE
from statebot.core.fsm.throttle import ThrottleTransition
from statebot.core.money import to_money
from statebot.core.orders import (
    CANCELLED,
    ENTRY,
    EXIT,
    REJECTED,
    Fill,
    OrderRequest,
    OrderStatus,
)
from statebot.core.learning.outcomes import TradeOutcome
from statebot.core.engine.fold import BotState, Bracket, update_bracket
from statebot.core.learning.loop import LearningLoop
from statebot.store.persistence import lock_state_dir, resolve_state_dir
from statebot.core.positions.reconcile import reconcile
from statebot.app.runner_state import CHECKPOINT_FILENAME, RunnerPersistence
from statebot.app.brackets import Brackets
from statebot.app.entry_policy import ENTRY_CHECKS, size_entry, submit_entry
from statebot.app.runner_trades import TradeAccounting
from statebot.app.runner_venue import VenueSync
from statebot.core.risk.sizing import compute_position_size
from statebot.core.strategy.protocol import FLAT as FLAT_SIDE, Signal, Strategy, StrategyContext
from statebot.app.decision import (  # noqa: F401  (the action names and Decision: re-exported)
    ACTIONS,
    ENTER,
    EXIT_ACTION,
    FLATTEN,
    HOLD,
    SKIP,
    Decision,
    FLATTENING_HOLD,
    HEARTBEAT,
    KILL_SWITCH_SKIP,
    NO_SIGNAL,
    STALE_HEARTBEAT,
    skip,
)

log = logging.getLogger("statebot.runner")


_SNAPSHOT_TYPES = frozenset({ORDER_SUBMITTED, ORDER_REJECTED, ORDER_CANCELLED, FILL, POSITION_TRANSITION, TRADE_CLOSED,
                             KILL_SWITCH, POSITION_MISMATCH, POSITION_WRITTEN_OFF, STATE_LOAD_FAILED})
"""Events after which the snapshot is saved (positions, orders, equity or the kill switch
changed); a session transition alone needs none: a restart re-derives the session."""


class SimulatedVenue(Protocol):
    """A venue driven by the bars themselves (``SimBroker``): ``on_bar`` works its orders."""

    def on_bar(self, bar: Bar) -> object: ...


_new = object.__new__
_set = object.__setattr__


def _context(now: dt.datetime, symbol: str, tick_size: Decimal, qty: int, state: str, may_enter: bool,
             session: Any) -> StrategyContext:
    """A ``StrategyContext`` built without re-running its validators: every value here was
    validated already (the bar's aware end, the instrument's tick size), and this runs per bar."""
    ctx = _new(StrategyContext)
    _set(ctx, "now", now)
    _set(ctx, "symbol", symbol)
    _set(ctx, "tick_size", tick_size)
    _set(ctx, "position_qty", qty)
    _set(ctx, "session_state", state)
    _set(ctx, "may_enter", may_enter)
    _set(ctx, "session", session)
    return ctx


class BotRunner(VenueSync, TradeAccounting, RunnerPersistence):
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
        self.brackets = Brackets(self._brackets, book=self.book, adapter=adapter, instrument=self.instrument, journal=self)
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

    def _new_learning(self) -> LearningLoop:
        c = self.config
        return LearningLoop(rules=c.throttle.rules(), window=c.throttle.window, ewma_alpha=c.throttle.slippage_ewma_alpha,
                            strategies=(self.name,))

    def _fresh_state(self) -> BotState:
        """Empty machines built from this runner's configuration, for the fold to fill."""
        c = self.config
        return BotState(book=PositionBook(self._instruments), killswitch=c.kill_switch.build(),
                        learning=self._new_learning())

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

    def reset_kill_switch(self, note: str, now: dt.datetime | None = None) -> None:
        """A person re-arms the kill switch with a note (``KILL_SWITCH`` TRIPPED -> ARMED, reason manual_reset).

        Raises ``ConfigError`` for an empty note, ``InvalidTransition`` when ARMED, and, staying
        TRIPPED, ``PositionMismatch`` while the book differs from the broker's positions or
        ``AdapterUnavailable`` when the broker cannot be asked (the book is unverified).
        """
        at = now or self._now or self._start
        mismatches = reconcile(self.book.expected_positions(), self.adapter.positions())
        self.killswitch.reset(note, at, mismatches=mismatches)
        self._ks_logged = 0
        self._log(at, KILL_SWITCH, {"from": TRIPPED, "to": ARMED, "reason": "manual_reset", "detail": note})
        self._save(at)

    def write_off_positions(self, note: str, now: dt.datetime | None = None) -> tuple[tuple[str, str, int], ...]:
        """A person accepts that the venue holds none of what the machines still count: after a
        ``position_mismatch`` trip where the flattener closed the venue (e.g. with an unowned
        order while a fill report was still on its way), the machines keep a position the
        venue does not have, and ``reset_kill_switch`` refuses while they differ.

        For every machine holding a quantity, with no order live, in a symbol the venue
        reports flat with no order working: the position is written off (``POSITION_WRITTEN_OFF
        {strategy, symbol, qty, note}``, then ``POSITION_TRANSITION`` to FLAT); no order is sent.
        A symbol the venue still holds is left to the flattener. Returns the written-off
        ``(strategy, symbol, qty)``. Raises ``ConfigError`` for an empty note or while the kill
        switch is ARMED, ``AdapterUnavailable`` when the venue cannot be asked (nothing changes).
        Re-arm afterwards with ``reset_kill_switch``.
        """
        if not isinstance(note, str) or not note.strip():
            raise ConfigError("a position write-off needs a non-empty operator note")
        if self.killswitch.allows_entries:
            raise ConfigError("positions are written off only while the kill switch is TRIPPED (trading stopped)")
        at = now or self._now or self._start
        venue = self.adapter.positions()
        working = {o.symbol for o in self.adapter.open_orders()}
        chosen = [m for m in self.book.machines()
                  if m.qty and not m.live_orders() and not venue.get(m.symbol) and m.symbol not in working]
        done = []
        for m in chosen:
            qty = m.write_off()
            self.brackets.pop((m.strategy, m.symbol))
            self._log(at, POSITION_WRITTEN_OFF, {"strategy": m.strategy, "symbol": m.symbol, "qty": qty, "note": note.strip()})
            log.warning("position %s %s of %d written off by a person: %s", m.strategy, m.symbol, qty, note.strip())
            done.append((m.strategy, m.symbol, qty))
        self._log_positions(at)
        if done:
            self._save(at)
        return tuple(done)

    @property
    def flattening(self) -> bool:
        """True while a flatten is under way (the session's, the kill switch's or ``flatten_now``'s)."""
        return self.flatten_coordinator.flattening

    def flatten_now(self, reason: str, now: dt.datetime | None = None) -> Decision:
        """Stop entering and flatten every position, e.g. before a shutdown.

        Logs ``SESSION_EXIT_FLATTEN {reason}``, cancels working entries and
        steps the flatten at ``now`` (default: the ``LiveClock``'s wall time, or
        the last clock time); later ``run_heartbeat`` calls keep stepping it
        until the venue is flat (``flattening`` turns False). From then on this
        runner sends no entry (``SKIP stopping``). Raises ``BarRejected`` for a
        naive ``now``.
        """
        t = now if now is not None else (self.clock.wall_time() if self.clock is not None else (self._now or self._start))
        require_aware(t, "flatten time")
        t = max(t, self._now) if self._now is not None else t
        self._now = t
        if self._pending is not None:
            self._flush_pending(t)
        self._stopping = True
        self._process_adapter(t)
        self.brackets.note_exit_refs(self._last_bar)
        session = self.session.session
        remaining = max(dt.timedelta(0), session.close - t) if session is not None else dt.timedelta(0)
        self._log(t, SESSION_EXIT_FLATTEN, {"reason": reason, "session": session.date if session is not None else None,
                                            "minutes_remaining": minutes(remaining),
                                            "positions": dict(sorted(self.book.expected_positions().items())),
                                            "late": False})
        self._cancel_working_entries(t)
        self.flatten_coordinator.start()
        acted = self._step_flatten(t)
        if self._dirty:
            self._save(t)
        return acted or Decision(action=FLATTEN, reason=reason)

    def set_equity(self, equity: Decimal | int | str) -> None:
        """Replace the equity sizing uses (USD), e.g. with the broker's account value."""
        self.equity = to_money(equity, "equity")
        if self._now is not None:
            self._log(self._now, EQUITY_SET, {"equity": self.equity})
            self._changed = self._dirty = True
        elif self._pending is not None:
            self._pending.append((EQUITY_SET, {"equity": self.equity}))

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

    def _run_bar(self, bar: Bar) -> Decision:
        t = bar.end
        now = self._now
        if (now is not None and t <= now) or bar.symbol != self.symbol or (self.clock is not None and self._from_future(bar)):
            return self._reject(bar)
        self._now = t
        self._last_bar = bar
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
        decision = self._decide(bar, t)
        if acted is not None and decision.action == HOLD:
            decision = acted
        if self._dirty:
            self._save(t)
        return decision

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

    def _heartbeat(self, now: dt.datetime) -> Decision:
        if self._now is not None and now <= self._now:
            return STALE_HEARTBEAT
        self._now = now
        if self._pending is not None:
            self._flush_pending(now)
        acted: Decision | None = None
        nc = self._next_change
        if nc is None or now >= nc:
            # the reports of what happened before this time, logged before the session moves on
            self._process_adapter(now)
            acted = self._advance_session(now)
        self._process_adapter(now)
        if self._reconcile_due:
            self._reconcile(now)
        if self._watch_learning and self._learning_due(now):
            self._learning_time(now)
        if self.flatten_coordinator.flattening:
            acted = self._step_flatten(now) or acted
        if self._dirty:
            self._save(now)
        return acted or HEARTBEAT

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
        if self._dirty and now is not None:
            self._save(now)
        return Decision(action=SKIP, reason="bar_rejected", detail=text)

    # 2. session ---------------------------------------------------------------------

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

    # 3-5. adapter reports, reconciliation (runner_venue), trades and learning (runner_trades)

    # 6. kill switch and flatten ---------------------------------------------------------

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

    # 7-9. strategy, protective exits, the signal -------------------------------------

    def _decide(self, bar: Bar, t: dt.datetime) -> Decision:
        m = self._machine
        session = self.session
        may_enter = session.may_enter(t)
        try:
            ctx = _context(t, self.symbol, self.instrument.tick_size, m.qty, session.state, may_enter, session.session)
            signal = self.strategy.on_bar(bar, ctx)
        except Exception as exc:  # a strategy bug must not stop the loop; it is logged, the bar skipped
            self._strategy_error(t, exc)
            return Decision(action=SKIP, reason="strategy_error", detail=str(exc))
        # while flattening the flattener owns the venue until it reports flat: it closes by the
        # venue's quantity, and a strategy exit beside it (a stop, a reversal) could close twice
        if m.qty and m.state == OPEN and not self.flatten_coordinator.flattening:
            hit = self.brackets.hit(self._key, bar)
            if hit:
                return self.brackets.exit(m, bar, t, hit)
        if signal is None:
            return NO_SIGNAL
        if not isinstance(signal, Signal):
            self._strategy_error(t, TypeError(f"on_bar returned {signal!r}, not a Signal or None"))
            return Decision(action=SKIP, reason="strategy_error")
        held = (m.qty > 0) - (m.qty < 0)
        if signal.side == FLAT_SIDE:
            return self._go_flat(m, bar, t) if held else NO_SIGNAL
        if held == signal.side:
            return Decision(action=HOLD, reason="already_held")
        if held:
            if m.state != OPEN:
                return Decision(action=HOLD, reason="order_working", detail=m.state)
            if self.flatten_coordinator.flattening:
                return FLATTENING_HOLD
            return self.brackets.exit(m, bar, t, "reversal")
        if m.state != FLAT or not m.may_enter():
            return Decision(action=HOLD, reason="order_working", detail=m.state)
        return self._enter(m, signal, bar, t, may_enter)

    def _go_flat(self, m: PositionMachine, bar: Bar, t: dt.datetime) -> Decision:
        """The strategy asked to hold nothing: the same exit a reversal sends, through the position machine."""
        if m.state != OPEN:
            return Decision(action=HOLD, reason="order_working", detail=m.state)
        if self.flatten_coordinator.flattening:
            return FLATTENING_HOLD
        return self.brackets.exit(m, bar, t, "strategy_flat")

    def _enter(self, m: PositionMachine, signal: Signal, bar: Bar, t: dt.datetime, may_enter: bool) -> Decision:
        """From flat: the entry policy's checks in order (``statebot.app.entry_policy``), then the order."""
        for check in ENTRY_CHECKS:
            refused = check(self, signal, t, may_enter)
            if refused is not None:
                return refused
        size = size_entry(self, signal, t)
        if isinstance(size, Decision):
            return size
        return submit_entry(self, signal, size, bar, t, may_enter)

    def _new_id(self) -> str:
        self._orders_sent += 1
        return f"{self._id_prefix}-{self._orders_sent}"

    def _log_order(self, t: dt.datetime, order: OrderRequest, extra: Mapping[str, Any] | None = None) -> None:
        self._log(t, ORDER_SUBMITTED, {"order_id": order.client_order_id, "strategy": order.strategy, "symbol": order.symbol,
                                       "side": "BUY" if order.qty > 0 else "SELL", "qty": order.qty,
                                       "purpose": order.purpose, **(extra or {})})

    # events and records --------------------------------------------------------------

    def _log_positions(self, t: dt.datetime) -> None:
        logged = self._positions_logged
        for m in self.book.machines():
            key = (m.strategy, m.symbol)
            before = logged.get(key, FLAT)
            if m.state != before:
                self._log(t, POSITION_TRANSITION, {"strategy": m.strategy, "symbol": m.symbol, "from": before,
                                                   "to": m.state, "qty": m.qty})
                logged[key] = m.state

    def _log(self, t: dt.datetime, type: str, payload: Mapping[str, Any]) -> None:
        """Append one event: the write-ahead record of a change. A write that fails raises
        ``JournalWriteFailed`` (a ``StopsBot``): a change the log does not hold must not take effect."""
        try:
            self.events.append(t, type, payload)
        except JournalWriteFailed as exc:  # an event not in the log did not happen: the bot stops
            log.critical("event log %s: %s event not written: %s", self.events.path, type, exc)
            raise
        if type in _SNAPSHOT_TYPES:
            self._changed = True
            if self._snapshot_on_change:
                self._dirty = True

    def _strategy_error(self, t: dt.datetime, exc: Exception) -> None:
        """Logged as an event every time; its traceback goes to the logger once per kind of
        error (type and message), not once per bar; raised as ``StrategyFailed`` when asked."""
        self._log(t, RUNNER_ERROR, {"stage": "strategy", "error": f"{type(exc).__name__}: {exc}"})
        if self.stop_on_strategy_error:
            self.events.commit()
            raise StrategyFailed(self.name, t, exc) from exc
        kind = f"{type(exc).__name__}: {exc}"
        if kind not in self._strategy_errors_shown:
            self._strategy_errors_shown.add(kind)
            log.error("strategy %s raised at %s (the bar is skipped; shown once, counted as strategy_error)",
                      self.name, t.isoformat(), exc_info=exc)

    def _error(self, t: dt.datetime, stage: str, exc: BaseException) -> None:
        log.warning("runner %s: %s: %s", stage, type(exc).__name__, exc)
        self._log(t, RUNNER_ERROR, {"stage": stage, "error": f"{type(exc).__name__}: {exc}"})

    def _flush_pending(self, t: dt.datetime) -> None:
        """Start-up records, written at the first clock time (the log's times only move forward)."""
        pending, self._pending = self._pending or [], None
        for type, payload in pending:
            self._log(t, type, payload)
        self._sync_killswitch(t)
