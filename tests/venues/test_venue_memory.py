"""A long run through SimBroker and the position book keeps every internal container bounded."""

from __future__ import annotations

import datetime as dt
import itertools

from statebot import (
    FLAT,
    OPEN,
    FaultPlan,
    KillSwitch,
    OrderRequest,
    PositionBook,
    SimBroker,
    send_entry,
    send_exit,
)
from statebot.core.positions.book import OWNER_CACHE_SIZE
from statebot.core.fsm.position import ENDED_ORDER_MEMORY, EXEC_ID_MEMORY
from tests.positions_helpers import T0, bar

BARS = 20_000
DAY_OF_BARS = 24 * 60


def _containers(sim: SimBroker, book: PositionBook) -> dict[str, int]:
    (m,) = book.machines()
    return {
        "sim ids": len(sim._recent_ids), "sim working": len(sim._working), "sim events": len(sim._events),
        "sim delayed": len(sim._delayed), "sim cancels": len(sim._cancels), "sim bars": len(sim._bars),
        "live": len(m._live), "ended": len(m._ended), "exec ids": len(m._exec_ids),
        "exec order": len(m._exec_order), "owner": len(book._owner), "machines": len(book._machines),
    }


def test_twenty_thousand_bars_of_order_churn_keep_every_container_bounded() -> None:
    """Invariant: what the broker, the book and the machine hold is bounded by what is working or
    undrained, the ids of the last day, and the documented memories; never by the run's length."""
    sim = SimBroker(start=T0, id_memory=dt.timedelta(days=1), latency_bars=1,
                    faults=FaultPlan(partial_p=0.2, delay_p=0.2, duplicate_p=0.2, stale_status_p=0.2))
    book, killswitch = PositionBook(), KillSwitch()
    m = book.machine("s1", "MES")
    ids = itertools.count(1)
    largest: dict[str, int] = {}
    closed = 0
    for i in range(1, BARS + 1):
        sim.on_bar(bar(i, o=5000.0 + (i % 7) * 0.25))
        applied = book.apply(sim.drain())
        assert applied.anomalies == () and applied.errors == ()
        closed += len(applied.closed)
        now = T0 + dt.timedelta(minutes=i)
        if m.state == FLAT and m.may_enter():
            entry = OrderRequest(client_order_id=f"e{next(ids)}", strategy="s1", symbol="MES", qty=1 + i % 3)
            send_entry(book, sim, entry, at=now, killswitch=killswitch, session_allows=True)
        elif m.state == OPEN and not m.live_orders():
            exit_ = OrderRequest(client_order_id=f"x{next(ids)}", strategy="s1", symbol="MES", qty=-m.qty,
                                 purpose="exit")
            send_exit(book, sim, exit_, at=now)
        for name, size in _containers(sim, book).items():
            largest[name] = max(largest.get(name, 0), size)
    assert next(ids) > 4 * DAY_OF_BARS and closed > 1000  # the run churned far past every memory
    assert largest["sim ids"] <= DAY_OF_BARS and largest["sim bars"] == 1 and largest["machines"] == 1
    assert max(largest[k] for k in ("sim working", "sim delayed", "sim cancels", "live")) <= 4
    assert largest["sim events"] <= 16
    assert largest["ended"] == ENDED_ORDER_MEMORY and largest["exec ids"] == largest["exec order"] == EXEC_ID_MEMORY
    assert largest["owner"] <= OWNER_CACHE_SIZE
