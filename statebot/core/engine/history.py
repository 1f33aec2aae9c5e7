"""What a run did, as its event log tells it: the record the fold keeps for summaries.

``RunHistory`` rides along the one fold (``Fold(state)`` with ``state.history`` set):
each event after ``after_seq`` (the log's head when the run began) is noted here as
the fold applies it, so a simulation's summary, a report and the live run's own result
come from the same pass over the log that rebuilds the state. Nothing here changes
state; a checkpoint does not carry it (it is the story of one run, not what a restart
needs).

Kept, in log order: closed trades (``TRADE_CLOSED``, each with the entry that set its
bracket), the config hashes the events carry, flattens started
(``SESSION_EXIT_FLATTEN``), the lifecycle transitions a timeline draws (session,
position, throttle, kill switch), each session's close and whether it was flat, bars
rejected by reason and bars flagged, and the sessions passed over without data. Pure:
events in, records out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from statebot.core.effects import (
    BAR_FLAGGED,
    BAR_REJECTED,
    KILL_SWITCH,
    ORDER_SUBMITTED,
    POSITION_TRANSITION,
    SESSION_EXIT_FLATTEN,
    SESSION_TRANSITION,
    SESSIONS_WITHOUT_DATA,
    THROTTLE_TRANSITION,
    TRADE_CLOSED,
)
from statebot.core.fsm.killswitch import POSITION_HELD_AT_CLOSE
from statebot.core.orders import ENTRY
from statebot.core.time.schedule import CLOSED

TIMELINE_TYPES = frozenset({SESSION_TRANSITION, POSITION_TRANSITION, THROTTLE_TRANSITION, KILL_SWITCH})
"""The transitions ``RunHistory.transitions`` keeps."""


class _Event(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> dt.datetime: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


@attrs.define(kw_only=True)
class RunHistory:
    """The run's record: every list is ``(ts, payload)`` in log order, only events after ``after_seq``.

    ``events`` counts them; ``transitions`` holds ``(ts, type, payload)`` of the types in
    ``TIMELINE_TYPES``; ``bars_rejected`` counts ``BAR_REJECTED`` by reason in order of
    first appearance; ``sessions_without_data`` lists each passed-over session date (ISO).
    """

    after_seq: int = 0
    events: int = 0
    trades: list[tuple[dt.datetime, Mapping[str, Any]]] = attrs.field(factory=list)
    flattens: list[tuple[dt.datetime, Mapping[str, Any]]] = attrs.field(factory=list)
    transitions: list[tuple[dt.datetime, str, Mapping[str, Any]]] = attrs.field(factory=list)
    bars_rejected: dict[str, int] = attrs.field(factory=dict)
    bars_flagged: int = 0
    sessions_without_data: list[str] = attrs.field(factory=list)
    trade_entries: list[Mapping[str, Any] | None] = attrs.field(factory=list)
    """Beside each of ``trades``: the ``ORDER_SUBMITTED`` payload of the last entry with a stop
    of its strategy and symbol before it (its bracket), or None."""
    config_hashes: dict[str, None] = attrs.field(factory=dict)
    """The config hashes the run's events carry, in order of first appearance."""
    closes: list[tuple[str, bool]] = attrs.field(factory=list)
    """Each ``SESSION_TRANSITION`` into CLOSED as ``(session date ISO, flat)``: flat unless the
    runner's check at that close tripped the kill switch (``position_held_at_close``: a position
    held by the machines or at the venue), which it logs before the session moves on."""
    _closing: bool = attrs.field(default=False, alias="_closing")
    _entries: dict[tuple[str, str], Mapping[str, Any]] = attrs.field(factory=dict, alias="_entries")

    def record(self, event: _Event) -> None:
        """Note one event the fold applies (before ``after_seq``: ignored)."""
        if event.seq <= self.after_seq:
            return
        self.events += 1
        config_hash = getattr(event, "config_hash", None)
        if config_hash is not None:
            self.config_hashes.setdefault(config_hash)
        kind, p = event.type, event.payload
        if kind == TRADE_CLOSED:
            self.trades.append((event.ts, p))
            self.trade_entries.append(self._entries.pop((str(p["strategy"]), str(p["symbol"])), None))
        elif kind == ORDER_SUBMITTED:
            if p.get("purpose") == ENTRY and p.get("stop_ticks") is not None:
                self._entries[(str(p["strategy"]), str(p["symbol"]))] = p
        elif kind in TIMELINE_TYPES:
            self.transitions.append((event.ts, kind, p))
            if kind == SESSION_TRANSITION:
                self._closing = p.get("to") == CLOSED
                if self._closing:
                    self.closes.append((str(p.get("session") or ""), True))
            elif kind == KILL_SWITCH and self._closing and p.get("reason") == POSITION_HELD_AT_CLOSE:
                self.closes[-1] = (self.closes[-1][0], False)
        elif kind == SESSION_EXIT_FLATTEN:
            self.flattens.append((event.ts, p))
        elif kind == BAR_REJECTED:
            reason = str(p.get("reason", ""))
            self.bars_rejected[reason] = self.bars_rejected.get(reason, 0) + 1
        elif kind == BAR_FLAGGED:
            self.bars_flagged += 1
        elif kind == SESSIONS_WITHOUT_DATA:
            self.sessions_without_data.extend(str(s) for s in p["sessions"])

    def of_type(self, kind: str) -> list[tuple[dt.datetime, Mapping[str, Any]]]:
        """The ``(ts, payload)`` of the kept transitions of one type (e.g. ``KILL_SWITCH``), in order."""
        return [(ts, p) for ts, k, p in self.transitions if k == kind]
