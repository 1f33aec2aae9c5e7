"""Verify an event log's hash chain and rebuild the machines' final states from it.

``verify(path)`` checks every line (hash, ``seq`` 1, 2, 3 ..., ``prev_hash``)
and raises ``ChainBroken``/``TornTail`` naming the first bad line (1-based).
``replay(path)`` verifies and folds the events into the final states a risk
reviewer asks about: the session state, each (strategy, symbol) position
state and quantity, each strategy's throttle state and the kill switch.

Replay trusts the events' ``to`` fields. Where an event's ``from`` disagrees
with the state replayed so far, or its ``ts`` is before the previous
event's, the disagreement is kept in ``anomalies`` (with its line number):
the log verifies, but the story it tells has a hole.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

import attrs

from statebot.errors import EventLogError
from statebot.journal.log import (
    EVENT_LOG_TAIL_MOVED,
    FILL,
    KILL_SWITCH,
    POSITION_TRANSITION,
    SESSION_TRANSITION,
    THROTTLE_TRANSITION,
    Head,
    iter_events,
)


@attrs.frozen(kw_only=True)
class VerifyResult:
    """A log that verified: how many events and where its chain ends."""

    events: int
    head: Head
    first_ts: dt.datetime | None
    last_ts: dt.datetime | None


def verify(path: str | os.PathLike[str]) -> VerifyResult:
    """Verify the whole chain of the log at ``path``.

    Raises ``ChainBroken`` (a modified, removed, reordered or invalid line;
    ``.line`` is its 1-based number), ``TornTail`` (a partial last line) or
    ``OSError`` (unreadable). An empty file verifies with 0 events.
    """
    count, head, first, last = 0, Head(), None, None
    for _, event in iter_events(path):
        count += 1
        head = Head(seq=event.seq, hash=event.hash)
        first = first or event.ts
        last = event.ts
    return VerifyResult(events=count, head=head, first_ts=first, last_ts=last)


@attrs.frozen(kw_only=True)
class PositionView:
    """A (strategy, symbol) position as the log last described it: ``state`` from its last
    ``POSITION_TRANSITION``, ``qty`` (signed) from that and every routed ``FILL`` since
    (a partial fill changes the quantity, not the state)."""

    state: str
    qty: int


@attrs.frozen(kw_only=True)
class Anomaly:
    """An event whose ``from`` does not match the state replayed before it."""

    line: int
    message: str


@attrs.frozen(kw_only=True)
class ReplayResult:
    """Final states rebuilt from a verified log.

    ``session`` is None when the log has no ``SESSION_TRANSITION``;
    ``kill_switch`` None when it has no ``KILL_SWITCH`` event (the machine's
    initial state, ARMED, then applies). ``positions`` is keyed by
    ``(strategy, symbol)``, ``throttles`` by strategy.
    """

    verified: VerifyResult
    config_hashes: tuple[str, ...]
    """Every distinct ``config_hash`` in the log, in order of first use."""
    session: str | None
    session_date: str | None
    positions: Mapping[tuple[str, str], PositionView]
    throttles: Mapping[str, str]
    kill_switch: str | None
    kill_switch_reason: str | None
    tails_moved: int
    anomalies: tuple[Anomaly, ...]


def replay(path: str | os.PathLike[str], *, canonical: bool = False, seal_key: bytes | None = None) -> ReplayResult:
    """Verify the log at ``path`` and rebuild the final states; raises like ``verify``.

    With ``canonical`` every line must be exactly the bytes the writer writes; with
    ``seal_key`` every line must carry its seal under that key (``ChainBroken`` names the line).
    """
    count, head, first, last = 0, Head(), None, None
    session: str | None = None
    session_date: str | None = None
    positions: dict[tuple[str, str], PositionView] = {}
    throttles: dict[str, str] = {}
    kill: str | None = None
    kill_reason: str | None = None
    tails = 0
    anomalies: list[Anomaly] = []

    def expect(line: int, what: str, before: str | None, claimed: object) -> None:
        if before is not None and claimed != before:
            anomalies.append(Anomaly(line=line, message=f"{what}: from {claimed} but replayed state was {before}"))

    hashes: dict[str, None] = {}
    for line, event in iter_events(path, canonical=canonical, key=seal_key):
        count += 1
        hashes.setdefault(event.config_hash)
        if last is not None and event.ts < last:
            anomalies.append(Anomaly(line=line, message=f"ts {event.ts.isoformat()} is before the previous event's {last.isoformat()}"))
        head = Head(seq=event.seq, hash=event.hash)
        first = first or event.ts
        last = event.ts
        p = event.payload
        if event.type == SESSION_TRANSITION:
            expect(line, "session", session, p["from"])
            session, session_date = str(p["to"]), str(p["session"])
        elif event.type == POSITION_TRANSITION:
            key = (str(p["strategy"]), str(p["symbol"]))
            before = positions.get(key)
            expect(line, f"position {key[0]} {key[1]}", before.state if before else None, p["from"])
            positions[key] = PositionView(state=str(p["to"]), qty=_qty(p["qty"], line, POSITION_TRANSITION))
        elif event.type == FILL and p.get("routed") is True:
            # a partial fill changes a machine's quantity without changing its state (no
            # POSITION_TRANSITION): the routed fills keep the replayed quantity current
            key = (str(p["strategy"]), str(p["symbol"]))
            before = positions.get(key)
            if before is not None:
                positions[key] = PositionView(state=before.state, qty=before.qty + _qty(p["qty"], line, FILL))
        elif event.type == THROTTLE_TRANSITION:
            strategy = str(p["strategy"])
            expect(line, f"throttle {strategy}", throttles.get(strategy), p["from"])
            throttles[strategy] = str(p["to"])
        elif event.type == KILL_SWITCH:
            expect(line, "kill switch", kill, p["from"])
            kill, kill_reason = str(p["to"]), str(p["reason"])
        elif event.type == EVENT_LOG_TAIL_MOVED:
            tails += 1
    return ReplayResult(
        verified=VerifyResult(events=count, head=head, first_ts=first, last_ts=last),
        config_hashes=tuple(hashes), session=session, session_date=session_date, positions=positions, throttles=throttles,
        kill_switch=kill, kill_switch_reason=kill_reason, tails_moved=tails, anomalies=tuple(anomalies),
    )


def _qty(value: object, line: int, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise EventLogError(f"line {line}: {what} qty {value!r} is not an integer", line=line)
