"""The runner's snapshot file: what a restarted ``BotRunner`` needs besides the learning state.

``<state dir>/runner_state.json`` (mode 0600), one line of canonical JSON in the
same checked envelope and written with the same atomic helper as the learning
state (``statebot.store.persistence.encode_envelope``, ``atomic_write``; fsynced unless
``persistence.fsync = false``)::

    {"checksum":"sha256:<hex>","format":"statebot.runner_state","saved_at":"<ISO-8601>",
     "schema_version":1,"state":{...}}

``state`` holds the position machines (quantities, live orders, open trips),
the kill switch (state, trips, reject streak, the day's net P&L), the clock,
equity, protective stops, and the event log's head (``seq``, ``hash``) when the
snapshot was written: a log that ends before that head was cut, and a restart
says so loudly.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from statebot.errors import StateCorrupt
from statebot.journal.log import (
    RUNNER_ERROR,
    STATE_LOAD_FAILED,
    STATE_SAVE_FAILED,
    iter_events,
)
from statebot.core.instruments import instrument
from statebot.core.fsm.killswitch import PERSISTENCE_FAILURES, STATE_UNTRUSTED
from statebot.core.fsm.position import PositionMachine
from statebot.core.money import to_money
from statebot.store.persistence import (
    atomic_write,
    decode_envelope,
    encode_envelope,
    move_aside,
)

if TYPE_CHECKING:
    from statebot.core.fsm.flatten import FlattenCoordinator
    from statebot.core.positions.book import PositionBook
    from statebot.config.model import Config
    from statebot.journal.log import EventLog
    from statebot.core.fsm.killswitch import KillSwitch
    from statebot.core.fsm.session import SessionMachine

log = logging.getLogger("statebot.runner")

RUNNER_STATE_FORMAT = "statebot.runner_state"
RUNNER_SCHEMA_VERSION = 1
RUNNER_STATE_FILENAME = "runner_state.json"


def encode_runner_state(state: dict[str, Any], saved_at: dt.datetime) -> bytes:
    """The file's bytes for ``state`` (plain JSON data, no floats)."""
    return encode_envelope(state, saved_at, format=RUNNER_STATE_FORMAT, version=RUNNER_SCHEMA_VERSION)


def read_runner_state(path: Path) -> dict[str, Any] | None:
    """The checked ``state`` in the file at ``path``; None when there is no file.

    Raises ``StateCorrupt`` (reason ``empty``, ``not_json``, ``wrong_type``,
    ``unknown_schema``, ``unknown_version`` or ``checksum_mismatch``).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return decode_envelope(raw, str(path), format=RUNNER_STATE_FORMAT, version=RUNNER_SCHEMA_VERSION, what="runner state")


@attrs.define
class Bracket:
    """The protective exits of the open position: distances from the signal, prices once filled."""

    side: int
    stop_ticks: int
    target_ticks: int | None
    expected_slippage_ticks: Decimal
    entry_ref_ticks: int | None
    exit_ref_ticks: int | None = None
    stop_price: float | None = None
    target_price: float | None = None


class RunnerPersistence:
    """The snapshot half of ``BotRunner``: what is saved, how failures escalate, how a
    restart restores it. Kept apart so the runner module reads as the bar's order."""

    # provided by BotRunner
    config: Config
    book: PositionBook
    killswitch: KillSwitch
    session: SessionMachine
    events: EventLog
    equity: Decimal
    snapshot_path: Path
    _start: dt.datetime
    _now: dt.datetime | None
    _run: int
    _orders_sent: int
    _brackets: dict[tuple[str, str], Bracket]
    _ks_logged: int
    _save_failures: int
    _max_save_failures: int
    _dirty: bool
    _changed: bool
    flatten_coordinator: FlattenCoordinator
    _reconcile_due: bool
    _pending: list[tuple[str, dict[str, Any]]] | None
    _next_change: dt.datetime | None
    _instruments: dict[str, Any]

    _sync_killswitch: Callable[[dt.datetime], None]
    _update_bracket: Callable[[PositionMachine], None]

    # snapshot ------------------------------------------------------------------------

    def _snapshot(self, t: dt.datetime) -> dict[str, Any]:
        ks = self.killswitch
        head = self.events.head
        return {
            "run": self._run,
            "clock": t.isoformat(),
            "event_log": {"seq": head.seq, "hash": head.hash},
            "equity": str(self.equity),
            "orders_sent": self._orders_sent,
            "positions": [m.to_dict() for m in self.book.machines() if m.qty or m.live_orders()],
            "brackets": [
                {"strategy": k[0], "symbol": k[1], "side": b.side, "stop_ticks": b.stop_ticks, "target_ticks": b.target_ticks,
                 "expected_slippage_ticks": str(b.expected_slippage_ticks), "entry_ref_ticks": b.entry_ref_ticks,
                 "exit_ref_ticks": b.exit_ref_ticks}
                for k, b in self._brackets.items()
            ],
            "killswitch": {
                "state": ks.state,
                "trips": [{"reason": tr.reason, "at": tr.at.isoformat(), "detail": tr.detail} for tr in ks.trips],
                "rejects": ks.consecutive_rejects,
                "day": ks.day.isoformat() if ks.day is not None else None,
                "day_net": str(ks.day_net_pnl),
            },
            "session": {"state": self.session.state,
                        "date": self.session.session.date.isoformat() if self.session.session is not None else None},
        }

    def _save(self, t: dt.datetime) -> None:
        data = encode_runner_state(self._snapshot(t), t)
        error: OSError | None = None
        for _ in range(2):
            try:
                atomic_write(self.snapshot_path, data, fsync=self.config.persistence.fsync)
            except OSError as exc:
                error = exc
                continue
            self._save_failures = 0
            self._dirty = self._changed = False
            return
        self._save_failed(t, f"runner state save to {self.snapshot_path} failed: {error}")

    def _save_failed(self, t: dt.datetime, detail: str, log_event: bool = True) -> None:
        self._save_failures += 1
        log.warning("%s (%d in a row)", detail, self._save_failures)
        if log_event:
            try:
                self.events.append(t, STATE_SAVE_FAILED, {"error": detail, "file": RUNNER_STATE_FILENAME,
                                                          "consecutive_failures": self._save_failures})
            except OSError as exc:
                log.error("event log %s: STATE_SAVE_FAILED not written: %s", self.events.path, exc)
        if self._save_failures >= self._max_save_failures and self.killswitch.allows_entries:
            self.killswitch.trip(PERSISTENCE_FAILURES, t, f"{detail} ({self._save_failures} in a row)")
            if log_event:
                self._sync_killswitch(t)
            self.flatten_coordinator.start()

    def _restore(self) -> None:
        start = self._start
        try:
            snap = read_runner_state(self.snapshot_path)
        except StateCorrupt as exc:
            moved = move_aside(self.snapshot_path, start)
            detail = f"{exc}; moved aside to {moved.name}: positions and orders unknown until reconciled"
            log.error("runner state corrupt: %s", detail)
            self._pending.append(  # type: ignore[union-attr]
                (STATE_LOAD_FAILED, {"error": str(exc), "moved_to": moved.name}))
            self.killswitch.trip(STATE_UNTRUSTED, start, detail)
            self._reconcile_due = True
            return
        if snap is None:
            return
        try:
            self._restore_from(snap)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            detail = f"runner state {self.snapshot_path} cannot be restored: {exc!r}"
            log.error("%s", detail)
            self._pending.append(  # type: ignore[union-attr]
                (RUNNER_ERROR, {"stage": "restore", "error": detail}))
            self.killswitch.trip(STATE_UNTRUSTED, start, detail)
            self._reconcile_due = True

    def _restore_from(self, snap: dict[str, Any]) -> None:
        start = self._start
        self._run = int(snap["run"]) + 1
        self.equity = to_money(snap["equity"], "equity")
        for data in snap["positions"]:
            m = PositionMachine.from_dict(data, instrument(str(data["symbol"]), self._instruments))
            self.book.restore(m)
        for b in snap["brackets"]:
            self._brackets[(str(b["strategy"]), str(b["symbol"]))] = Bracket(
                side=int(b["side"]), stop_ticks=int(b["stop_ticks"]), target_ticks=b["target_ticks"],
                expected_slippage_ticks=Decimal(b["expected_slippage_ticks"]), entry_ref_ticks=b["entry_ref_ticks"],
                exit_ref_ticks=b["exit_ref_ticks"],
            )
        for key, b in self._brackets.items():
            m = self.book.machine(*key)
            self._update_bracket(m)
        ks = self.killswitch
        k = snap["killswitch"]
        for trip in k["trips"]:
            ks.trip(str(trip["reason"]), dt.datetime.fromisoformat(trip["at"]), str(trip["detail"]))
        self._ks_logged = len(ks.trips)
        rejects = int(k["rejects"])
        if ks.max_consecutive_rejects is None or rejects < ks.max_consecutive_rejects:
            for _ in range(rejects):
                ks.record_reject(start)
        if k["day"] is not None:
            ks.restore_day(dt.date.fromisoformat(k["day"]), Decimal(k["day_net"]))
        clock = dt.datetime.fromisoformat(snap["clock"])
        last = self.events.last
        if last is not None and last.ts > clock:
            clock = last.ts
        # place the session machine where it was; transitions up to here were logged before the restart
        self.session.advance(clock)
        self._next_change = self.session.next_change
        self._now = clock
        self._reconcile_due = True
        self._check_log_head(snap["event_log"])

    def _check_log_head(self, head: Mapping[str, Any]) -> None:
        seq, digest = int(head["seq"]), str(head["hash"])
        log_head = self.events.head
        problem = None
        if log_head.seq < seq:
            problem = (f"event log {self.events.path} ends at seq {log_head.seq} but the runner state recorded seq {seq}: "
                       f"the log was cut or replaced")
        elif seq and log_head.seq == seq and log_head.hash != digest:
            problem = f"event log {self.events.path} seq {seq} has another hash than the runner state recorded: replaced"
        elif seq and log_head.seq > seq:
            for _, event in iter_events(self.events.path):
                if event.seq == seq:
                    if event.hash != digest:
                        problem = f"event log {self.events.path} seq {seq} has another hash than the runner state recorded"
                    break
        if problem is not None:
            log.error("%s", problem)
            self._pending.append(  # type: ignore[union-attr]
                (RUNNER_ERROR, {"stage": "restore", "error": problem}))
            self.killswitch.trip(STATE_UNTRUSTED, self._start, problem)

