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
    """Write ``events`` as a log whose chain verifies (re-chained: what a faulty writer would produce);
    each restart's head names the re-chained line it named before."""
    log = EventLog(path, config_hash=events[0][1].config_hash, durability="simulation")
    heads: dict[str, dict[str, Any]] = {"0" * 64: {"seq": 0, "hash": "0" * 64}}
    for _, e in events:
        payload = e.payload
        if e.type == "STATE_RESTORED" and payload["head"]["hash"] in heads:
            payload = {**payload, "head": heads[payload["head"]["hash"]]}
        new = log.append(e.ts, e.type, payload)
        heads[e.hash] = {"seq": new.seq, "hash": new.hash}
    log.close()
    return path


def busy_days(path: Path, *, start: dt.date, end: dt.date, trades_per_session: int) -> Path:
    """A log that keeps every invariant: each XNYS session from ``start`` to ``end`` with its session
    transitions and flatten on time, and ``trades_per_session`` flat-to-flat trades of one MES
    contract in its first trading minute (13 lines each). For measuring ``statebot check``."""
    schedule = xnys()
    log = EventLog(path, config_hash="0" * 64, durability="simulation")
    n = 0

    def session(fr: str, to: str, s: Any, trigger: str, at: dt.datetime) -> None:
        log.append(at, "SESSION_TRANSITION", {"from": fr, "to": to, "session": s.date.isoformat(), "trigger": trigger,
                                              "due": at.isoformat(), "late": False})

    sessions = schedule.between(start, end)
    log.append(sessions[0].day_start, "STATE_RESTORED",
               {"from": "none", "head": {"seq": 0, "hash": "0" * 64}, "run": 1, "equity": "20000"})
    for s in sessions:
        session("CLOSED", "PRE_OPEN", s, "start_day", s.day_start)
        session("PRE_OPEN", "TRADING", s, "open", s.open)
        at = s.open + dt.timedelta(minutes=1)
        for _ in range(trades_per_session):
            n += 1
            entry, exit_ = f"r1-{2 * n - 1}", f"r1-{2 * n}"
            who = {"strategy": "sma-cross", "symbol": "MES"}
            log.append(at, "ORDER_SUBMITTED", {"order_id": entry, **who, "side": "BUY", "qty": 1, "purpose": "entry"})
            log.append(at, "POSITION_TRANSITION", {**who, "from": "FLAT", "to": "ENTERING", "qty": 0})
            log.append(at, "FILL", {"order_id": entry, "exec_id": f"x{2 * n - 1}", **who, "side": "BUY", "qty": 1,
                                    "price": "6000.00", "commission": "1.25", "routed": True})
            log.append(at, "POSITION_TRANSITION", {**who, "from": "ENTERING", "to": "OPEN", "qty": 1})
            log.append(at, "ORDER_SUBMITTED", {"order_id": exit_, **who, "side": "SELL", "qty": -1, "purpose": "exit"})
            log.append(at, "POSITION_TRANSITION", {**who, "from": "OPEN", "to": "EXITING", "qty": 1})
            log.append(at, "FILL", {"order_id": exit_, "exec_id": f"x{2 * n}", **who, "side": "SELL", "qty": -1,
                                    "price": "6000.25", "commission": "1.25", "routed": True})
            log.append(at, "POSITION_TRANSITION", {**who, "from": "EXITING", "to": "FLAT", "qty": 0})
            log.append(at, "TRADE_CLOSED", {**who, "qty": 1, "gross_pnl": "1.25", "commission": "2.50",
                                            "net_pnl": "-1.25", "slippage_ticks": "0", "slippage_expected_ticks": "0",
                                            "session": s.date.isoformat()})
            for _ in range(4):
                log.append(at, "LEARNING_UPDATE", {"strategy": "sma-cross", "trades": n})
        session("TRADING", "FLATTENING", s, "flatten", s.flatten)
        log.append(s.flatten, "SESSION_EXIT_FLATTEN", {"reason": "flatten_lead", "session": s.date.isoformat(),
                                                       "minutes_remaining": "5.00", "positions": {}, "late": False,
                                                       "due": s.flatten.isoformat()})
        session("FLATTENING", "CLOSED", s, "close", s.close)
    log.close()
    return path
