"""The runner's state, declared once, and its journal: how every change is appended to the log.

``RunnerBase`` is the base of ``BotRunner`` and of each of its pieces (the mixins
``VenueSync``, ``TradeAccounting``, ``EffectExecutors``, ``OperatorControls``,
``RunnerPersistence``): it declares the attributes ``BotRunner.__init__`` sets and the
methods one piece calls on another, so each module type-checks on its own while the
per-bar path stays plain attribute access and method calls on one object.

The journal methods (``_log`` and the helpers built on it) are the write-ahead half of
the runner: an event is appended before the change it records takes effect; a failed
append raises ``JournalWriteFailed`` (a ``StopsBot``) and nothing goes on as if it had
been written. An event of ``SNAPSHOT_TYPES`` marks the checkpoint due (at once under
``durability.mode = "live"``, at the next close under ``"simulation"``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from statebot.core.fsm.position import FLAT
from statebot.errors import JournalWriteFailed, StopsBot, StrategyFailed
from statebot.journal.log import (
    FILL,
    KILL_SWITCH,
    ORDER_CANCELLED,
    ORDER_REJECTED,
    ORDER_SUBMITTED,
    POSITION_MISMATCH,
    POSITION_TRANSITION,
    POSITION_WRITTEN_OFF,
    RUNNER_ERROR,
    STATE_LOAD_FAILED,
    TRADE_CLOSED,
    EventLog,
)

if TYPE_CHECKING:
    from statebot.app.brackets import Brackets
    from statebot.core.engine.protection import ProtectionDesk
    from statebot.app.decision import Decision
    from statebot.app.live_clock import LiveClock
    from statebot.config.model import Config
    from statebot.core.engine.fold import Anomaly, Bracket
    from statebot.core.fsm.connection import VenueConnection
    from statebot.core.fsm.effects import Effect
    from statebot.core.fsm.flatten import FlattenCoordinator
    from statebot.core.fsm.killswitch import KillSwitch
    from statebot.core.fsm.position import ClosedTrade, PositionMachine
    from statebot.core.fsm.session import SessionMachine
    from statebot.core.fsm.throttle import ThrottleTransition
    from statebot.core.instruments import InstrumentSpec
    from statebot.core.learning.loop import LearningLoop
    from statebot.core.orders import OrderRequest
    from statebot.core.ports import BrokerAdapter
    from statebot.core.positions.book import PositionBook
    from statebot.core.positions.flatten import Flattener
    from statebot.core.strategy.protocol import Strategy
    from statebot.core.time.clock import Bar

log = logging.getLogger("statebot.runner")

SNAPSHOT_TYPES = frozenset({ORDER_SUBMITTED, ORDER_REJECTED, ORDER_CANCELLED, FILL, POSITION_TRANSITION, TRADE_CLOSED,
                            KILL_SWITCH, POSITION_MISMATCH, POSITION_WRITTEN_OFF, STATE_LOAD_FAILED})
"""Events after which the checkpoint is due (positions, orders, equity or the kill switch
changed); a session transition alone needs none: a restart re-derives the session."""


class RunnerBase:
    """The attributes ``BotRunner.__init__`` sets (documented there) and the runner's journal."""

    # what the runner is --------------------------------------------------------------
    config: Config
    strategy: Strategy
    name: str
    symbol: str
    adapter: BrokerAdapter
    clock: LiveClock | None
    instrument: InstrumentSpec
    _instruments: dict[str, Any]
    _key: tuple[str, str]
    stop_on_strategy_error: bool
    _strategy_errors_shown: set[str]

    # its machines and pieces -----------------------------------------------------------
    session: SessionMachine
    book: PositionBook
    killswitch: KillSwitch
    learning: LearningLoop
    flatten_coordinator: FlattenCoordinator
    connection: VenueConnection
    flattener: Flattener
    brackets: Brackets
    _brackets: dict[tuple[str, str], Bracket]
    protection: ProtectionDesk
    _machine: PositionMachine
    equity: Decimal

    # the log, the checkpoint and the clock ---------------------------------------------
    events: EventLog
    checkpoint_path: Path
    _fsync_checkpoints: bool
    _snapshot_on_change: bool
    _dirty: bool
    _changed: bool
    _start: dt.datetime
    _now: dt.datetime | None
    _pending: list[tuple[str, dict[str, Any]]] | None
    _next_change: dt.datetime | None
    _last_bar: Bar | None
    _run: int
    _id_prefix: str
    _orders_sent: int
    _stopped_by: StopsBot | None
    _stopping: bool
    restored_from: str
    fold_anomalies: tuple[Anomaly, ...]

    # what the log was last told (so each change is logged once) -------------------------
    _ks_logged: int
    _positions_logged: dict[tuple[str, str], str]
    _session_logged: str | None
    _session_date_logged: dt.date | None
    _throttles_logged: dict[str, str]

    # the venue, the flatten and the learning clock --------------------------------------
    _reconcile_due: bool
    _flatten_stepped_at: dt.datetime | None
    _watch_learning: bool
    _learning_poll: bool
    _learning_wake: dt.datetime | None

    # methods one piece calls on another -------------------------------------------------
    EFFECT_EXECUTORS: ClassVar[Mapping[str, Mapping[Effect, str]]]
    _process_adapter: Callable[[dt.datetime], None]
    _venue_lost: Callable[[dt.datetime, str, str, str], None]
    _venue_idle: Callable[[], bool]
    _trade_closed: Callable[[ClosedTrade, dt.datetime], None]
    _update_learning_watch: Callable[[], None]
    _log_throttle: Callable[[tuple[ThrottleTransition, ...], dt.datetime], None]
    _trip: Callable[[str, dt.datetime, str], None]
    _sync_killswitch: Callable[[dt.datetime], None]
    _cancel_working_entries: Callable[[dt.datetime], None]
    _step_flatten: Callable[[dt.datetime], "Decision | None"]
    _flush_pending: Callable[[dt.datetime], None]
    _save: Callable[[dt.datetime], None]

    # the journal ------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._orders_sent += 1
        return f"{self._id_prefix}-{self._orders_sent}"

    def _log_order(self, t: dt.datetime, order: OrderRequest, extra: Mapping[str, Any] | None = None) -> None:
        self._log(t, ORDER_SUBMITTED, {"order_id": order.client_order_id, "strategy": order.strategy, "symbol": order.symbol,
                                       "side": "BUY" if order.qty > 0 else "SELL", "qty": order.qty,
                                       "purpose": order.purpose, **(extra or {})})

    def _log_positions(self, t: dt.datetime) -> None:
        logged = self._positions_logged
        for m in self.book.machines_view():
            state = m.state
            key = (m.strategy, m.symbol)
            before = logged.get(key, FLAT)
            if state != before:
                self._log(t, POSITION_TRANSITION, {"strategy": m.strategy, "symbol": m.symbol, "from": before,
                                                   "to": state, "qty": m.qty})
                logged[key] = state

    def _log(self, t: dt.datetime, type: str, payload: Mapping[str, Any]) -> None:
        """Append one event: the write-ahead record of a change. A write that fails raises
        ``JournalWriteFailed`` (a ``StopsBot``): a change the log does not hold must not take effect."""
        try:
            self.events.append(t, type, payload)
        except JournalWriteFailed as exc:  # an event not in the log did not happen: the bot stops
            log.critical("event log %s: %s event not written: %s", self.events.path, type, exc)
            raise
        if type in SNAPSHOT_TYPES:
            self._changed = True
            if self._snapshot_on_change:
                self._dirty = True

    def _strategy_error(self, t: dt.datetime, exc: Exception) -> None:
        """Logged as an event every time (with its session, so the fold counts it as the kill switch
        did); its traceback goes to the logger once per kind of error (type and message), not once
        per bar; raised as ``StrategyFailed`` when asked. Otherwise the bar is skipped and counted:
        ``[kill_switch] max_strategy_errors`` bars of one session trip the kill switch."""
        kind = f"{type(exc).__name__}: {exc}"
        session = self.session.session
        day = session.date if session is not None else t.date()
        self._log(t, RUNNER_ERROR, {"stage": "strategy", "error": kind, "session": day})
        if self.stop_on_strategy_error:
            self.events.commit()
            raise StrategyFailed(self.name, t, exc) from exc
        if kind not in self._strategy_errors_shown:
            self._strategy_errors_shown.add(kind)
            log.error("strategy %s raised at %s (the bar is skipped; shown once, counted as strategy_error)",
                      self.name, t.isoformat(), exc_info=exc)
        self.killswitch.record_strategy_error(day, t, kind)
        self._sync_killswitch(t)

    def _error(self, t: dt.datetime, stage: str, exc: BaseException) -> None:
        log.warning("runner %s: %s: %s", stage, type(exc).__name__, exc)
        self._log(t, RUNNER_ERROR, {"stage": stage, "error": f"{type(exc).__name__}: {exc}"})
