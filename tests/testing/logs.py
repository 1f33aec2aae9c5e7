"""Event logs for the checker's tests: real simulations, and hand-broken copies of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from statebot.app.simrun import SimSetup, run_setup
from statebot.core.time.calendar import get_calendar
from statebot.core.time.schedule import SessionSchedule
from statebot.journal.log import Event, EventLog, iter_events

Numbered = tuple[int, Event]


def simulate(folder: Path, **changes: Any) -> Path:
    """The event log of a real simulation (two days of the demo, sma-cross on MES, XNYS), one restart."""
    setup = SimSetup(start=dt.date(2026, 11, 24), end=dt.date(2026, 11, 25), restart_after_bars=(500,),
                     state_dir=folder / "state", event_log=folder / "events.jsonl")
    run_setup(attrs.evolve(setup, **changes), folder)
    return folder / "events.jsonl"


def xnys(lead_minutes: int = 5, cutoff: dt.timedelta | None = None) -> SessionSchedule:
    return SessionSchedule(get_calendar("XNYS"), flatten_lead=dt.timedelta(minutes=lead_minutes), entry_cutoff=cutoff)


def read(path: Path) -> list[Numbered]:
    return list(iter_events(path))


def first(events: Sequence[Numbered], type: str, where: Callable[[Event], bool] = lambda e: True) -> int:
    """Index in ``events`` of the first event of ``type`` for which ``where`` holds."""
    return next(i for i, (_, e) in enumerate(events) if e.type == type and where(e))


def edited(events: Sequence[Numbered], index: int, **payload: Any) -> list[Numbered]:
    """A copy of ``events`` with the payload of the one at ``index`` changed (``None`` removes a key)."""
    out = list(events)
    line, e = out[index]
    new = {k: v for k, v in {**e.payload, **payload}.items() if v is not None}
    out[index] = (line, attrs.evolve(e, payload=new))
    return out


def inserted(events: Sequence[Numbered], index: int, type: str, payload: dict[str, Any]) -> list[Numbered]:
    """A copy of ``events`` with one more event before the one at ``index`` (at its time); lines renumbered."""
    _, at = events[index]
    new = attrs.evolve(at, type=type, payload=payload)
    out = [*events[:index], (0, new), *events[index:]]
    return [(i, e) for i, (_, e) in enumerate(out, start=1)]


def removed(events: Sequence[Numbered], index: int) -> list[Numbered]:
    return [(i, e) for i, (_, e) in enumerate([*events[:index], *events[index + 1:]], start=1)]


def write(events: Sequence[Numbered], path: Path) -> Path:
    """Write ``events`` as a log whose chain verifies (re-chained: what a faulty writer would produce)."""
    log = EventLog(path, config_hash=events[0][1].config_hash, durability="simulation")
    for _, e in events:
        log.append(e.ts, e.type, e.payload)
    log.close()
    return path
