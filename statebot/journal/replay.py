"""Verify an event log's hash chain and rebuild the machines' final states from it.

``verify(path)`` checks every line (hash, ``seq`` 1, 2, 3 ..., ``prev_hash``)
and raises ``ChainBroken``/``TornTail`` naming the first bad line (1-based).
``replay(path)`` verifies and folds the events into the final states a risk
reviewer asks about: the session state, each (strategy, symbol) position
state and quantity, each strategy's throttle state and the kill switch.

Replay is the one fold of the log (``statebot.core.engine.fold``) following what the
log says: it trusts the events' ``to`` fields. Where an event's ``from`` disagrees
with the state replayed so far, or its ``ts`` is before the previous
event's, the disagreement is kept in ``anomalies`` (with its line number):
the log verifies, but the story it tells has a hole.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

import attrs

from statebot.core.engine.fold import BotState, Fold
from statebot.core.engine.history import RunHistory
from statebot.core.fsm.killswitch import KillSwitch
from statebot.core.learning.loop import LearningLoop
from statebot.core.positions.book import PositionBook
from statebot.errors import StatebotError
from statebot.journal.log import EVENT_LOG_TAIL_MOVED, Head, iter_events


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
    The states come from the one fold of the log (``statebot.core.engine.fold``), following
    what the log says (the configuration that wrote it is not needed).
    """
    state = BotState(book=PositionBook(), killswitch=KillSwitch(max_consecutive_rejects=None), learning=LearningLoop())
    fold = Fold(state, strict_positions=False, raise_malformed=True)
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    tails = 0
    for line, event in iter_events(path, canonical=canonical, key=seal_key):
        last = event.ts
        first = first or event.ts
        tails += event.type == EVENT_LOG_TAIL_MOVED
        fold.apply(event, line)
    return ReplayResult(
        verified=VerifyResult(events=state.events, head=Head(seq=state.seq, hash=state.hash), first_ts=first,
                              last_ts=last),
        config_hashes=tuple(state.config_hashes), session=state.session,
        session_date=state.session_date.isoformat() if state.session_date else None,
        positions={k: PositionView(state=s, qty=q) for k, (s, q) in state.positions.items()},
        throttles=dict(state.throttles),
        kill_switch=None if state.kill_reason is None else state.killswitch.state, kill_switch_reason=state.kill_reason,
        tails_moved=tails, anomalies=tuple(Anomaly(line=a.line, message=a.message) for a in fold.anomalies),
    )


@attrs.frozen(kw_only=True)
class RunRecord:
    """One pass of the fold over a log, keeping the record of the run that began after ``after_seq``.

    ``state`` is the fold's state (following what the log says, as ``replay``), ``history``
    the run's record (``statebot.core.engine.history.RunHistory``). ``error`` is empty when
    the whole log verified; otherwise it names why reading stopped, and ``state`` and
    ``history`` hold what was read before.
    """

    state: BotState
    history: RunHistory
    error: str = ""


def run_record(path: str | os.PathLike[str], *, after_seq: int = 0) -> RunRecord:
    """Fold the log at ``path`` once, keeping the record of the events after ``after_seq``: the
    source of a simulation's summary (``statebot.app.simulation``, ``statebot.app.simrun``).
    Never raises for a log that does not verify or cannot be read: ``error`` says so."""
    history = RunHistory(after_seq=after_seq)
    state = BotState(book=PositionBook(), killswitch=KillSwitch(max_consecutive_rejects=None), learning=LearningLoop(),
                     history=history)
    fold = Fold(state, strict_positions=False)
    try:
        for line, event in iter_events(path):
            fold.apply(event, line)
    except (StatebotError, OSError, ValueError) as exc:
        return RunRecord(state=state, history=history, error=f"{type(exc).__name__}: {exc}")
    return RunRecord(state=state, history=history)
