"""The protector invariants over an event log: protected while open, no stray protector, strays reconciled;
each passes on what the desk and the simulated venue log, and catches a log where it is broken."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statebot import FaultPlan, OrderRequest, SimBroker
from statebot.core.orders import BracketOrder
from statebot.testing.invariants import check_events, no_stray_protector, protected_while_open, protectors_reconciled
from tests.core.engine.protection_helpers import Desk, Event
from tests.positions_helpers import T0
from tests.positions_helpers import bar as _bar
from tests.testing.logs import xnys


def bar(i: int, *, o: float, h: float, low: float):  # type: ignore[no-untyped-def]
    return _bar(i, o=o, h=h, low=low, c=o)


def run(path: list[tuple[float, float, float]], on_lost: str = "trip", faults: FaultPlan | None = None) -> Desk:
    d = Desk(SimBroker(start=T0, faults=faults or FaultPlan(), seed=5), on_lost=on_lost)
    entry = OrderRequest(client_order_id="e1", strategy="s1", symbol="MES", qty=1)
    d.send(BracketOrder.around(entry, stop_ticks=19990, target_ticks=20020))
    d.pump()
    for i, (o, h, low) in enumerate(path, start=1):
        d.sim.on_bar(bar(i, o=o, h=h, low=low))
        d.pump()
    return d


def numbered(log: list[Event]) -> list[tuple[int, Event]]:
    return list(enumerate(log, start=1))


def later(d: Desk, minutes: int, type: str = "BAR_REJECTED", **payload: Any) -> None:
    d.log.append(Event(seq=len(d.log) + 1, ts=d.log[-1].ts + dt.timedelta(minutes=minutes), type=type,
                       payload=payload or {"reason": "test"}))


QUIET = (5000.0, 5000.5, 4999.5)
STOP_BAR = (4999.0, 4999.5, 4997.0)


def test_a_bracket_closed_by_its_stop_passes_every_protector_invariant() -> None:
    d = run([QUIET, QUIET, STOP_BAR])
    later(d, 5)
    events = numbered(d.log)
    assert protected_while_open(events, xnys()).passed
    assert no_stray_protector(events, xnys()).passed
    assert protectors_reconciled(events, xnys()).passed


def test_a_position_left_without_its_stop_is_caught() -> None:
    d = run([QUIET, QUIET])
    d.sim._cancel_now("e1-stop", reason="cancelled by the exchange")  # noqa: SLF001 - the venue's own cancel
    d.pump()
    later(d, 5)
    verdict = protected_while_open(numbered(d.log), xnys())
    assert not verdict.passed and "no working protective stop" in verdict.detail
    assert d.trips  # the desk asked to trip; once the log says it tripped, the naked moment is accounted for
    d.log.insert(-1, attrs.evolve(d.log[-2], type="KILL_SWITCH", payload={"from": "ARMED", "to": "TRIPPED",
                                                                            "reason": d.trips[0]}))
    assert protected_while_open(numbered(d.log), xnys()).passed


def test_a_resent_stop_keeps_the_position_protected() -> None:
    d = run([QUIET, QUIET], on_lost="resend")
    d.sim._cancel_now("e1-stop", reason="cancelled by the exchange")  # noqa: SLF001
    d.pump()
    later(d, 5)
    assert protected_while_open(numbered(d.log), xnys()).passed


def test_a_protector_left_working_after_flat_is_caught() -> None:
    d = run([QUIET, QUIET, STOP_BAR])
    later(d, 5)
    kept = [e for e in d.log if not (e.type == "PROTECTOR_TRANSITION" and e.payload["order_id"] == "e1-target")]
    verdict = no_stray_protector(numbered(kept), xnys())
    assert not verdict.passed and "e1-target" in verdict.detail


def test_a_stray_protector_reconciliation_does_not_cancel_is_caught() -> None:
    d = run([QUIET])
    later(d, 1, "PROTECTOR_MISMATCH", order_id="e1-stop", strategy="s1", symbol="MES", problem="stray")
    later(d, 1)
    assert not protectors_reconciled(numbered(d.log), xnys()).passed
    d.log.insert(-1, attrs.evolve(d.log[-2], type="ORDER_CANCEL_REQUESTED", payload={"order_id": "e1-stop"}))
    assert protectors_reconciled(numbered(d.log), xnys()).passed


PATHS = st.lists(st.tuples(st.integers(19970, 20030), st.integers(19970, 20030), st.integers(19970, 20030)).map(
    lambda t: (t[0] / 4, max(t) / 4, min(t) / 4)), min_size=1, max_size=10)


@pytest.mark.invariant("an OPEN position has a working protective stop at the venue from its fill until it is flat",
                       machine="protector")
@given(PATHS, st.sampled_from(["trip", "resend"]), st.sampled_from([FaultPlan(), FaultPlan(partial_p=0.5)]))
@settings(max_examples=60, deadline=None)
def test_a_bracketed_position_is_protected_from_its_fill_until_flat(path: list[tuple[float, float, float]], on_lost: str,
                                                                    faults: FaultPlan) -> None:
    """Whatever the bars and partial fills, every instant a bracketed position is held it has a working stop at
    the venue, and once it is flat no protector of it is left working."""
    d = run(path, on_lost, faults)
    later(d, 5)
    verdicts = {v.name: v for v in check_events(numbered(d.log), xnys())}
    assert verdicts["protected_while_open"].passed, verdicts["protected_while_open"].detail
    assert verdicts["no_stray_protector"].passed, verdicts["no_stray_protector"].detail
