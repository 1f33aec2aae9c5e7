"""The lifecycle invariants, checked against an event log.

Each invariant is a plain function over ``(line, event)`` pairs (what
``statebot.journal.log.iter_events`` yields) and, where time matters, the exchange's
``SessionSchedule``; it returns a ``Verdict``: passed or not, how many events break it,
and the first offending line (1-based) with one sentence saying why.
``check_events`` runs them all in one pass; ``check_log`` also verifies the chain (and
the seal when keyed) with the reader ``statebot replay`` uses; ``InvariantChecker`` judges
a log as it grows, one event at a time.

The invariants (``INVARIANTS`` gives each its text):

- ``flat_at_close``: at every session close the log reached, every position is flat, or
  the kill switch is TRIPPED (at that instant or before);
- ``flatten_on_time``: each session's flatten is logged at the first clock time at or after
  ``close - flatten_lead``; ``late`` is true exactly when that time is after it, ``due``
  names it; no flatten before it. A jump over a whole session with nothing held needs none;
- ``entries_allowed``: no entry order outside TRADING (or after the entry cut-off), while the
  kill switch is TRIPPED or while the strategy is THROTTLED;
- ``net_pnl``: each closed trade's ``net_pnl = gross_pnl - commission``;
- ``position_is_fills``: each logged position quantity is the sum of the routed fills of its
  (strategy, symbol) since it was last written off; no order fills beyond its quantity, no
  execution id is logged twice;
- ``transitions_in_tables``: every session, throttle and kill-switch transition starts where
  the previous one ended and is a row of its machine's table (``MachineSpec``);
- ``restarts_resume``: each runner start (``STATE_RESTORED``) names as its head the last event
  of the log before it (start-up records aside), counts the runs upwards, and a start over
  a log with history does not start from nothing;
- ``one_story``: the fold of the log (``statebot replay``'s) finds no event whose ``from``
  disagrees with the state folded before it, nor a time that goes backwards;
- ``protected_while_open``: a position whose entry was sent as a bracket holds a working
  protective stop at the end of every instant (the events of one time) from its fill until
  it is flat, unless the bot is closing it (it asked to cancel the stop) or the kill switch is
  TRIPPED (a lost stop trips it);
- ``no_stray_protector``: no protector is left working, and not asked to cancel, for a
  position that was flat, with no entry live, at the end of two instants in a row (it could
  only open a new position);
- ``protectors_reconciled``: a protective order reconciliation found working for a flat
  position (``PROTECTOR_MISMATCH`` stray) is asked to cancel in the same instant.

Pure apart from ``check_log``, which reads the file.
"""

from __future__ import annotations

import abc

import datetime as dt
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from statebot.core.effects import (
    BAR_REJECTED,
    EVENT_LOG_TAIL_MOVED,
    FILL,
    KILL_SWITCH,
    ORDER_CANCEL_REQUESTED,
    ORDER_CANCELLED,
    ORDER_ENDED,
    ORDER_REJECTED,
    ORDER_SUBMITTED,
    POSITION_TRANSITION,
    PROTECTOR_MISMATCH,
    PROTECTOR_TRANSITION,
    POSITION_WRITTEN_OFF,
    RUNNER_ERROR,
    SESSION_EXIT_FLATTEN,
    SESSION_TRANSITION,
    STATE_LOAD_FAILED,
    STATE_RESTORED,
    THROTTLE_TRANSITION,
    TRADE_CLOSED,
)
from statebot.core.engine.fold import GENESIS, BotState, Fold, LoggedEvent
from statebot.core.fsm.killswitch import KILLSWITCH_SPEC, TRIPPED
from statebot.core.fsm.session import SESSION_SPEC
from statebot.core.fsm.table import MachineSpec
from statebot.core.fsm.throttle import THROTTLE_SPEC, THROTTLED
from statebot.core.learning.loop import LearningLoop
from statebot.core.fsm.killswitch import KillSwitch
from statebot.core.positions.book import PositionBook
from statebot.core.time.schedule import SessionSchedule, SessionTimes

Numbered = tuple[int, LoggedEvent]

INVARIANTS: Mapping[str, str] = {
    "flat_at_close": "at every session close the log reached, every position is flat or the kill switch is TRIPPED",
    "flatten_on_time": "each session's flatten is logged at the first clock time at or after close - flatten_lead, "
                       "marked late exactly when after it",
    "entries_allowed": "no entry order outside TRADING, after the entry cut-off, while tripped or while throttled",
    "net_pnl": "every closed trade's net P&L is its gross P&L minus its commission",
    "position_is_fills": "every logged position equals the sum of its routed fills; no order over-fills, "
                         "no execution is logged twice",
    "transitions_in_tables": "session, throttle and kill-switch transitions follow their machines' tables, each "
                             "from where the last one ended",
    "restarts_resume": "every restart resumes at the head where the log ended",
    "one_story": "the fold of the log finds no event contradicting the state before it",
    "protected_while_open": "a bracketed position holds a working protective stop from its fill until flat, unless "
                            "the bot is closing it or the kill switch is TRIPPED",
    "no_stray_protector": "no protector is left working for a position flat with no entry live: none could open a "
                          "new position",
    "protectors_reconciled": "a protective order reconciliation finds working for a flat position is cancelled",
}
"""Every invariant ``check_events`` checks, by name, with its one-line text."""

# what a starting runner may log before its STATE_RESTORED (which waits for its first clock time:
# a stale first bar is rejected, and logged, before it)
_STARTUP_RECORDS = frozenset({RUNNER_ERROR, STATE_LOAD_FAILED, EVENT_LOG_TAIL_MOVED, BAR_REJECTED})


@attrs.frozen(kw_only=True)
class Verdict:
    """One invariant's result over a log: ``violations`` events break it; ``line``/``detail``
    name the first (``line`` 0 and ``detail`` "" when it holds). ``note`` says something a
    reviewer may want to know about a pass (e.g. how many flattens were late)."""

    name: str
    text: str
    violations: int
    line: int = 0
    detail: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.violations == 0


class _Check(abc.ABC):
    """One invariant fed event by event; ``types`` lists the event types it reads (None: all)."""

    name = ""
    types: frozenset[str] | None = None

    def __init__(self) -> None:
        self.violations = 0
        self.line = 0
        self.detail = ""
        self.note = ""

    def fail(self, line: int, detail: str) -> None:
        if not self.violations:
            self.line, self.detail = line, detail
        self.violations += 1

    @abc.abstractmethod
    def feed(self, line: int, event: LoggedEvent) -> None:
        """Judge one event of this check's ``types`` (line 1-based)."""

    def finish(self) -> None:
        """The log ended."""

    def verdict(self) -> Verdict:
        return Verdict(name=self.name, text=INVARIANTS[self.name], violations=self.violations, line=self.line,
                       detail=self.detail, note=self.note)


class _Positions:
    """Each (strategy, symbol)'s quantity as the routed fills say, and the kill switch as logged."""

    def __init__(self) -> None:
        self.qty: dict[tuple[str, str], int] = {}
        self.tripped = False

    def feed(self, event: LoggedEvent) -> None:
        p = event.payload
        if event.type == FILL and p.get("routed") is True:
            key = (str(p["strategy"]), str(p["symbol"]))
            self.qty[key] = self.qty.get(key, 0) + int(p["qty"])
        elif event.type == POSITION_TRANSITION:
            # the machines' own count wins here; ``position_is_fills`` judges whether they agree
            self.qty[(str(p["strategy"]), str(p["symbol"]))] = int(p["qty"])
        elif event.type == POSITION_WRITTEN_OFF:
            self.qty[(str(p["strategy"]), str(p["symbol"]))] = 0
        elif event.type == KILL_SWITCH:
            self.tripped = p.get("to") == TRIPPED

    def held(self) -> dict[tuple[str, str], int]:
        return {k: q for k, q in self.qty.items() if q}


class FlatAtClose(_Check):
    name = "flat_at_close"

    def __init__(self, schedule: SessionSchedule) -> None:
        super().__init__()
        self.schedule = schedule
        self.book = _Positions()
        self.session: SessionTimes | None = None
        self.group: dt.datetime | None = None  # the first clock time at or after the watched close
        self.group_line = 0
        self.snapshot: dict[tuple[str, str], int] | None = None
        self.tripped_in_group = False
        self.closes = 0

    def feed(self, line: int, event: LoggedEvent) -> None:
        ts = event.ts
        if self.group is not None and ts > self.group:
            self._judge()
        if self.session is None:
            self.session = _watched(self.schedule, ts)
        if self.group is None and ts >= self.session.close:
            self.group, self.group_line = ts, line
            self.tripped_in_group = self.book.tripped
        self.book.feed(event)
        if self.group is not None:
            if event.type == KILL_SWITCH and event.payload.get("to") == TRIPPED:
                self.tripped_in_group = True
            if self.snapshot is None and event.type == SESSION_TRANSITION and event.payload.get("to") == "CLOSED":
                self.snapshot = self.book.held()

    def _judge(self) -> None:
        assert self.session is not None and self.group is not None
        held = self.snapshot if self.snapshot is not None else self.book.held()
        self.closes += 1
        if held and not self.tripped_in_group:
            what = ", ".join(f"{s} {sym} {q:+d}" for (s, sym), q in sorted(held.items()))
            self.fail(self.group_line, f"session {self.session.date} closed at {self.session.close.isoformat()} holding "
                                       f"{what} with the kill switch ARMED")
        self.session = self.schedule.next_after(self.session, self.group)
        while self.session.close <= self.group:
            self.session = self.schedule.next_after(self.session, self.group)
        self.group, self.snapshot, self.tripped_in_group = None, None, False

    def finish(self) -> None:
        if self.group is not None:
            self._judge()
        self.note = f"{self.closes} close(s) reached"


class FlattenOnTime(_Check):
    name = "flatten_on_time"

    def __init__(self, schedule: SessionSchedule) -> None:
        super().__init__()
        self.schedule = schedule
        self.book = _Positions()
        self.session: SessionTimes | None = None
        self.group: dt.datetime | None = None
        self.group_line = 0
        self.held_before = False
        self.found = False
        self.late = 0
        self.done: set[str] = set()

    def feed(self, line: int, event: LoggedEvent) -> None:
        ts = event.ts
        if self.group is not None and ts > self.group:
            self._judge()
        if self.session is None:
            self.session = _watched(self.schedule, ts)
        if self.group is None and ts >= self.session.flatten:
            self.group, self.group_line = ts, line
            self.held_before = bool(self.book.held())
        self.book.feed(event)
        if event.type != SESSION_EXIT_FLATTEN:
            return
        p = event.payload
        session = str(p.get("session"))
        if self.group is not None and session == self.session.date.isoformat() and not self.found:
            self.found = True
            self._judge_flatten(line, ts, p)
        elif session not in self.done:
            s = self._session_of(session, ts)
            if s is not None and ts < s.flatten:
                self.fail(line, f"flatten of session {session} at {ts.isoformat()}, before its flatten time "
                                f"{s.flatten.isoformat()}")

    def _session_of(self, date: str, ts: dt.datetime) -> SessionTimes | None:
        s = self.schedule.session_at(ts)
        return s if s is not None and s.date.isoformat() == date else None

    def _judge_flatten(self, line: int, ts: dt.datetime, p: Mapping[str, Any]) -> None:
        assert self.session is not None and self.group is not None
        due, late = self.session.flatten, ts > self.session.flatten
        self.done.add(self.session.date.isoformat())
        self.late += late
        if p.get("late") is not late:
            self.fail(line, f"flatten of session {self.session.date} at {ts.isoformat()} says late={p.get('late')}, "
                            f"but it was due at {due.isoformat()}")
        elif p.get("due") is not None and _time(p["due"]) != due:
            self.fail(line, f"flatten of session {self.session.date} says it was due at {p['due']}, but the "
                            f"calendar's flatten time is {due.isoformat()}")

    def _judge(self) -> None:
        assert self.session is not None and self.group is not None
        skipped_whole = self.group >= self.session.close
        if not self.found and not (skipped_whole and not self.held_before):
            self.fail(self.group_line, f"no flatten logged for session {self.session.date} at "
                                       f"{self.group.isoformat()}, the first clock time at or after its flatten time "
                                       f"{self.session.flatten.isoformat()}")
        self.session = self.schedule.next_after(self.session, self.group)
        while self.session.close <= self.group:
            self.session = self.schedule.next_after(self.session, self.group)
        self.group, self.found = None, False

    def finish(self) -> None:
        if self.group is not None:
            self._judge()
        self.note = f"{len(self.done)} flatten(s), {self.late} late"


class EntriesAllowed(_Check):
    name = "entries_allowed"
    types = frozenset({ORDER_SUBMITTED, KILL_SWITCH, THROTTLE_TRANSITION})

    def __init__(self, schedule: SessionSchedule) -> None:
        super().__init__()
        self.schedule = schedule
        self.tripped = False
        self.throttled: set[str] = set()
        self.entries = 0

    def feed(self, line: int, event: LoggedEvent) -> None:
        p = event.payload
        if event.type == KILL_SWITCH:
            self.tripped = p.get("to") == TRIPPED
        elif event.type == THROTTLE_TRANSITION:
            (self.throttled.add if p.get("to") == THROTTLED else self.throttled.discard)(str(p["strategy"]))
        elif p.get("purpose") == "entry":
            self.entries += 1
            ts, strategy = event.ts, str(p.get("strategy"))
            s = self.schedule.session_at(ts)
            order = f"entry {p.get('order_id')} at {ts.isoformat()}"
            if s is None or not s.entries_allowed(ts):
                state = "CLOSED" if s is None else s.state_at(ts)
                why = "after the entry cut-off" if state == "TRADING" else f"in {state}"
                self.fail(line, f"{order} {why}")
            elif self.tripped:
                self.fail(line, f"{order} while the kill switch is TRIPPED")
            elif strategy in self.throttled:
                self.fail(line, f"{order} while {strategy} is THROTTLED")

    def finish(self) -> None:
        self.note = f"{self.entries} entr{'y' if self.entries == 1 else 'ies'}"


class NetPnl(_Check):
    name = "net_pnl"
    types = frozenset({TRADE_CLOSED})

    def __init__(self) -> None:
        super().__init__()
        self.trades = 0

    def feed(self, line: int, event: LoggedEvent) -> None:
        p = event.payload
        self.trades += 1
        try:
            gross, commission, net = (Decimal(str(p[k])) for k in ("gross_pnl", "commission", "net_pnl"))
        except (KeyError, InvalidOperation):
            self.fail(line, "trade without a decimal gross_pnl, commission and net_pnl")
            return
        if net != gross - commission:
            trade = f"trade {p['trade_id']}" if p.get("trade_id") else "trade"
            self.fail(line, f"{trade}: net {net} != gross {gross} - commission {commission}")

    def finish(self) -> None:
        self.note = f"{self.trades} trade(s)"


class PositionIsFills(_Check):
    name = "position_is_fills"
    types = frozenset({ORDER_SUBMITTED, FILL, POSITION_TRANSITION, POSITION_WRITTEN_OFF})

    def __init__(self) -> None:
        super().__init__()
        self.sums: dict[tuple[str, str], int] = {}
        self.ordered: dict[str, int] = {}
        self.filled: dict[str, int] = {}
        self.exec_ids: set[str] = set()
        # the flattener's unowned executions, per symbol, not yet matched to a machine's position
        # (one closes a position whose own fill is reported after it: the runner books the trade)
        self.unowned: dict[str, int] = {}

    def feed(self, line: int, event: LoggedEvent) -> None:
        p = event.payload
        if event.type == ORDER_SUBMITTED:
            self.ordered[str(p["order_id"])] = int(p["qty"])
        elif event.type == FILL:
            exec_id, order_id, qty = str(p["exec_id"]), str(p["order_id"]), int(p["qty"])
            if exec_id in self.exec_ids:
                self.fail(line, f"execution {exec_id} logged twice")
            self.exec_ids.add(exec_id)
            if p.get("routed") is True:
                key = (str(p["strategy"]), str(p["symbol"]))
                self.sums[key] = self.sums.get(key, 0) + qty
            elif not p.get("strategy") and "flatten-" in order_id:
                symbol = str(p["symbol"])
                self.unowned[symbol] = self.unowned.get(symbol, 0) + qty
            ordered = self.ordered.get(order_id)
            filled = self.filled[order_id] = self.filled.get(order_id, 0) + qty
            if ordered is not None and (abs(filled) > abs(ordered) or filled * ordered < 0):
                self.fail(line, f"order {order_id} for {ordered:+d} has fills of {filled:+d} (execution {exec_id})")
        elif event.type == POSITION_TRANSITION:
            key = (str(p["strategy"]), str(p["symbol"]))
            qty, fills = int(p["qty"]), self.sums.get(key, 0)
            pool = self.unowned.get(key[1], 0)
            if qty != fills and pool and (qty - fills) * pool > 0 and abs(qty - fills) <= abs(pool):
                # an unowned flatten execution closed (part of) this position
                self.unowned[key[1]] = pool - (qty - fills)
                self.sums[key] = fills = qty
            if qty != fills:
                self.fail(line, f"position {key[0]} {key[1]} logged {qty:+d} ({p.get('to')}) but its routed fills sum "
                                f"to {fills:+d}")
                self.sums[key] = qty  # judge what follows from the position the log now states
        else:
            key = (str(p["strategy"]), str(p["symbol"]))
            self.sums[key] = self.sums.get(key, 0) - int(p["qty"])


class TransitionsInTables(_Check):
    name = "transitions_in_tables"
    types = frozenset({SESSION_TRANSITION, THROTTLE_TRANSITION, KILL_SWITCH})

    _SPECS: Mapping[str, MachineSpec] = {SESSION_TRANSITION: SESSION_SPEC, THROTTLE_TRANSITION: THROTTLE_SPEC,
                                         KILL_SWITCH: KILLSWITCH_SPEC}

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[tuple[str, str], str] = {}
        self.rows = {t: _rows_of(spec) for t, spec in self._SPECS.items()}

    def feed(self, line: int, event: LoggedEvent) -> None:
        p = event.payload
        spec = self._SPECS[event.type]
        who = str(p.get("strategy", "")) if event.type == THROTTLE_TRANSITION else ""
        key = (event.type, who)
        source, dest, trigger = str(p.get("from")), str(p.get("to")), p.get("trigger")
        name = f"{spec.name}{' ' + who if who else ''}"
        before = self.states.get(key)
        if before is not None and before != source:
            self.fail(line, f"{name}: {source} -> {dest}, but it was {before}")
        elif before is None and event.type != SESSION_TRANSITION and source != spec.initial:
            self.fail(line, f"{name}: {source} -> {dest} as its first transition, but it starts {spec.initial}")
        elif not any(r_src == source and r_dest == dest and (trigger is None or r_trig == trigger)
                     for r_trig, r_src, r_dest in self.rows[event.type]):
            how = f" by {trigger}" if trigger is not None else ""
            self.fail(line, f"{name}: {source} -> {dest}{how} is not a row of its table")
        self.states[key] = dest


class RestartsResume(_Check):
    name = "restarts_resume"

    def __init__(self) -> None:
        super().__init__()
        self.recent: deque[tuple[int, str, str]] = deque(maxlen=64)
        self.run = 0
        self.starts = 0

    def feed(self, line: int, event: LoggedEvent) -> None:
        if event.type == STATE_RESTORED:
            self._restored(line, event)
        self.recent.append((event.seq, event.hash, event.type))

    def _restored(self, line: int, event: LoggedEvent) -> None:
        p = event.payload
        self.starts += 1
        head = p.get("head") or {}
        seq, hash_ = int(head.get("seq", -1)), str(head.get("hash", ""))
        run = p.get("run")
        if run is not None and int(run) <= self.run:
            # a start that saw no clock time logs nothing, so runs may skip a number, never repeat
            self.fail(line, f"run {run} follows run {self.run}")
        if run is not None:
            self.run = int(run)
        if seq == 0:
            history = [s for s, _, t in self.recent if t not in _STARTUP_RECORDS]
            if history or (self.recent and self.recent[0][0] > 1):
                self.fail(line, f"run {run} started from nothing over a log with history (from {p.get('from')})")
            elif hash_ != GENESIS:
                self.fail(line, f"run {run} names head seq 0 with a hash that is not the genesis")
            return
        after = None
        for i, (s, h, _) in enumerate(self.recent):
            if s == seq:
                after = (h, [t for _, _, t in list(self.recent)[i + 1:]])
        if after is None:
            self.fail(line, f"run {run} resumed at seq {seq}, which is not where the log ended (seq {event.seq - 1})")
        elif after[0] != hash_:
            self.fail(line, f"run {run} resumed at seq {seq} with hash {hash_[:16]}, but that line's hash is "
                            f"{after[0][:16]}")
        elif any(t not in _STARTUP_RECORDS for t in after[1]):
            self.fail(line, f"run {run} resumed at seq {seq}, but the log went on past it to seq {event.seq - 1}")
        elif p.get("from") == "none":
            self.fail(line, f"run {run} started from nothing over a log with history up to seq {seq}")

    def finish(self) -> None:
        self.note = f"{self.starts} start(s)"


class OneStory(_Check):
    name = "one_story"

    def __init__(self) -> None:
        super().__init__()
        self.fold = Fold(BotState(book=PositionBook(), killswitch=KillSwitch(max_consecutive_rejects=None),
                                  learning=LearningLoop()), strict_positions=False)

    def feed(self, line: int, event: LoggedEvent) -> None:
        anomalies = self.fold.anomalies
        seen = len(anomalies)
        self.fold.apply(event, line)
        for a in anomalies[seen:]:
            self.fail(a.line, a.message)


_PROTECTING = frozenset({"PENDING", "WORKING"})


class _Protectors:
    """Per (strategy, symbol): its protectors' states as the log tells them, whether its last entry was
    bracketed and is still live; judged at the end of each instant (the events of one time)."""

    def __init__(self) -> None:
        self.positions = _Positions()
        self.protectors: dict[str, dict[str, Any]] = {}  # order id -> key, kind, qty, state, filled
        self.bracketed: dict[tuple[str, str], bool] = {}
        self.entry: dict[tuple[str, str], dict[str, Any]] = {}  # the last entry: id, qty, filled, ended
        self.closing: set[tuple[str, str]] = set()
        self.ts: dt.datetime | None = None
        self.line = 0

    def feed(self, line: int, event: LoggedEvent) -> bool:
        """Take one event; True when it began a new instant (judge the one before first)."""
        new = self.ts is not None and event.ts != self.ts
        self.ts, self.line = event.ts, line
        return new

    def take(self, event: LoggedEvent) -> None:
        p = event.payload
        self.positions.feed(event)
        if event.type == ORDER_SUBMITTED and p.get("strategy"):
            key = (str(p["strategy"]), str(p["symbol"]))
            if p["purpose"] == "entry":
                self.entry[key] = {"id": str(p["order_id"]), "qty": abs(int(p["qty"])), "filled": 0, "ended": False}
                self.bracketed[key] = False
            elif p["purpose"] == "protect":
                self.protectors[str(p["order_id"])] = {"key": key, "kind": p.get("kind"), "qty": abs(int(p["qty"])),
                                                       "state": "PENDING", "filled": 0}
                entry = self.entry.get(key)
                if entry is not None and p.get("parent_id") == entry["id"] and p.get("kind") == "STOP":
                    self.bracketed[key] = True
        elif event.type == PROTECTOR_TRANSITION and str(p["order_id"]) in self.protectors:
            found = self.protectors[str(p["order_id"])]
            found["state"] = str(p["to"])
            found["filled"] = int(p.get("filled", found["filled"]))
            if p["trigger"] == "cancel_asked":
                self.closing.add(found["key"])
        elif event.type == ORDER_CANCEL_REQUESTED and str(p["order_id"]) in self.protectors:
            self.closing.add(self.protectors[str(p["order_id"])]["key"])  # the flattener cancels it to close
        elif event.type == FILL:
            for entry in self.entry.values():
                if entry["id"] == p["order_id"]:
                    entry["filled"] += abs(int(p["qty"]))
        elif event.type in (ORDER_CANCELLED, ORDER_REJECTED, ORDER_ENDED):
            for entry in self.entry.values():
                if entry["id"] == p["order_id"]:
                    entry["ended"] = True

    def working(self, key: tuple[str, str], stops_only: bool) -> list[str]:
        out = []
        for oid, pr in self.protectors.items():
            if pr["key"] != key or (stops_only and pr["kind"] != "STOP"):
                continue
            if pr["state"] in _PROTECTING or (pr["state"] == "TRIGGERED" and pr["filled"] < pr["qty"]):
                out.append(oid)
        return out

    def entry_live(self, key: tuple[str, str]) -> bool:
        entry = self.entry.get(key)
        return entry is not None and not entry["ended"] and entry["filled"] < entry["qty"]

    def keys(self) -> set[tuple[str, str]]:
        return {*self.positions.qty, *self.entry, *(pr["key"] for pr in self.protectors.values())}


class ProtectedWhileOpen(_Check):
    name = "protected_while_open"

    def __init__(self) -> None:
        super().__init__()
        self.p = _Protectors()

    def feed(self, line: int, event: LoggedEvent) -> None:
        last = self.p.line
        if self.p.feed(line, event):
            self._judge(last)
        self.p.take(event)

    def _judge(self, line: int) -> None:
        held = self.p.positions.held()
        for key in sorted(self.p.keys()):
            if key not in held:
                self.p.closing.discard(key)
                continue
            if (self.p.bracketed.get(key) and key not in self.p.closing and not self.p.positions.tripped
                    and not self.p.working(key, stops_only=True)):
                self.fail(line, f"{key[0]} {key[1]} holds {held[key]} with no working protective stop")

    def finish(self) -> None:
        if self.p.ts is not None:
            self._judge(self.p.line)


class NoStrayProtector(_Check):
    name = "no_stray_protector"

    def __init__(self) -> None:
        super().__init__()
        self.p = _Protectors()
        self.flat_before: set[tuple[str, str]] = set()

    def feed(self, line: int, event: LoggedEvent) -> None:
        last = self.p.line
        if self.p.feed(line, event):
            self._judge(last)
        self.p.take(event)

    def _judge(self, line: int) -> None:
        held = self.p.positions.held()
        flat_now = {key for key in self.p.keys() if key not in held and not self.p.entry_live(key)}
        for key in sorted(flat_now & self.flat_before):
            stray = self.p.working(key, stops_only=False)
            if stray:
                self.fail(line, f"{key[0]} {key[1]} is flat with no entry live but protector {stray[0]} still works")
        self.flat_before = flat_now

    def finish(self) -> None:
        if self.p.ts is not None:
            self._judge(self.p.line)


class ProtectorsReconciled(_Check):
    name = "protectors_reconciled"
    types = frozenset({PROTECTOR_MISMATCH, ORDER_CANCEL_REQUESTED})

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[str, int] = {}
        self.ts: dt.datetime | None = None

    def feed(self, line: int, event: LoggedEvent) -> None:
        if self.ts is not None and event.ts != self.ts:
            self._judge()
        self.ts = event.ts
        p = event.payload
        if event.type == PROTECTOR_MISMATCH and p["problem"] == "stray":
            self.waiting[str(p["order_id"])] = line
        elif event.type == ORDER_CANCEL_REQUESTED:
            self.waiting.pop(str(p["order_id"]), None)

    def _judge(self) -> None:
        for oid, line in self.waiting.items():
            self.fail(line, f"stray protective order {oid} was not asked to cancel")
        self.waiting = {}

    def finish(self) -> None:
        self._judge()


def _rows_of(spec: MachineSpec) -> tuple[tuple[str, str, str], ...]:
    return tuple((t.trigger, s, t.dest) for t in spec.transitions for s in t.source)


def _watched(schedule: SessionSchedule, ts: dt.datetime) -> SessionTimes:
    """The first session whose close is after ``ts``: the one a log starting at ``ts`` must reach."""
    s = schedule.session_at(ts)
    while s is None or s.close <= ts:
        s = schedule.next_after(s, ts)
    return s


def _time(value: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _checks(schedule: SessionSchedule, only: str | None = None) -> list[_Check]:
    every = [FlatAtClose(schedule), FlattenOnTime(schedule), EntriesAllowed(schedule), NetPnl(), PositionIsFills(),
             TransitionsInTables(), RestartsResume(), OneStory(), ProtectedWhileOpen(), NoStrayProtector(),
             ProtectorsReconciled()]
    return [c for c in every if only is None or c.name == only]


class InvariantChecker:
    """Every invariant in ``INVARIANTS`` fed one event at a time, as a log grows (``check_events``
    is one pass of it). ``verdicts()`` may be asked at any point: a violation counts from the
    event that shows it; a close or a flatten is judged at the first event after its clock
    time, and the last one when ``finish()`` says the log ended. ``schedule`` and ``only`` as
    for ``check_events``."""

    def __init__(self, schedule: SessionSchedule, *, only: str | None = None) -> None:
        self._checks = _checks(schedule, only)
        self._everything = [c for c in self._checks if c.types is None]
        self._by_type: dict[str, list[_Check]] = {}
        for c in self._checks:
            for t in c.types or ():
                self._by_type.setdefault(t, []).append(c)
        self.finished = False

    def feed(self, line: int, event: LoggedEvent) -> None:
        """Judge the next event of the log (``line`` 1-based)."""
        for c in self._everything:
            _feed(c, line, event)
        for c in self._by_type.get(event.type, ()):
            _feed(c, line, event)

    def finish(self) -> tuple[Verdict, ...]:
        """The log ended: judge what waited for a later event; returns the final verdicts. Once only."""
        if not self.finished:
            self.finished = True
            for c in self._checks:
                c.finish()
        return self.verdicts()

    def verdicts(self) -> tuple[Verdict, ...]:
        """One verdict per invariant, as judged so far."""
        return tuple(c.verdict() for c in self._checks)


def check_events(events: Iterable[Numbered], schedule: SessionSchedule, *, only: str | None = None) -> tuple[Verdict, ...]:
    """Every invariant in ``INVARIANTS`` over ``(line, event)`` pairs in log order, in one pass.

    ``schedule`` is the exchange calendar with the bot's flatten lead and entry cut-off; ``only``
    names one invariant to check alone. A payload missing a key an invariant reads counts as a
    violation at its line.
    """
    checker = InvariantChecker(schedule, only=only)
    for line, event in events:
        checker.feed(line, event)
    return checker.finish()


def _feed(check: _Check, line: int, event: LoggedEvent) -> None:
    try:
        check.feed(line, event)
    except (KeyError, ValueError, TypeError) as exc:
        check.fail(line, f"{event.type} cannot be read: {type(exc).__name__}: {exc}")


def _one(name: str) -> Callable[[Iterable[Numbered], SessionSchedule], Verdict]:
    def check(events: Iterable[Numbered], schedule: SessionSchedule) -> Verdict:
        return check_events(events, schedule, only=name)[0]

    check.__name__ = name
    check.__doc__ = f"The ``{name}`` invariant over ``(line, event)`` pairs: {INVARIANTS[name]}."
    return check


flat_at_close = _one("flat_at_close")
flatten_on_time = _one("flatten_on_time")
entries_allowed = _one("entries_allowed")
net_pnl = _one("net_pnl")
position_is_fills = _one("position_is_fills")
transitions_in_tables = _one("transitions_in_tables")
restarts_resume = _one("restarts_resume")
one_story = _one("one_story")
protected_while_open = _one("protected_while_open")
no_stray_protector = _one("no_stray_protector")
protectors_reconciled = _one("protectors_reconciled")


@attrs.frozen(kw_only=True)
class LogCheck:
    """A log that verified (``events`` lines, its last ``seq``) and its verdict per invariant."""

    events: int
    verdicts: tuple[Verdict, ...]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def check_log(path: str | os.PathLike[str], schedule: SessionSchedule, *, seal_key: bytes | None = None) -> LogCheck:
    """Verify the log at ``path`` as ``statebot replay`` does (chain; seal under ``seal_key``) and
    check every invariant over it. Raises what ``statebot.journal.log.iter_events`` raises
    (``ChainBroken``, ``TornTail``, ``OSError``) before any verdict."""
    from statebot.journal.log import iter_events

    count = 0

    def counted() -> Iterable[Numbered]:
        nonlocal count
        for pair in iter_events(path, key=seal_key):
            count += 1
            yield pair

    verdicts = check_events(counted(), schedule)
    return LogCheck(events=count, verdicts=verdicts)
