"""A position with protective orders at the venue: they rest beside it (OPEN, not EXITING), their fills
close it, and no exit stacks on them nor entry follows them until the venue confirms they ended."""

from __future__ import annotations

import pytest

from statebot.core.fsm.position import ENTERING, EXITING, FLAT, OPEN, PositionMachine
from statebot.core.orders import CANCELLED, BracketOrder, OrderRequest
from statebot.errors import InvalidTransition, OverFill
from tests.positions_helpers import fill, machine, order, status


def bracket(qty: int = 1, oid: str = "e1", target: bool = True) -> BracketOrder:
    entry = OrderRequest(client_order_id=oid, strategy="s1", symbol="MES", qty=qty)
    stop, tgt = (19990, 20020) if qty > 0 else (20010, 19980)
    return BracketOrder.around(entry, stop_ticks=stop, target_ticks=tgt if target else None)


def opened(b: BracketOrder | None = None) -> tuple[PositionMachine, BracketOrder]:
    b = b or bracket()
    m = machine()
    m.submit_entry(b.entry)
    m.submit_protectors(b.protectors)
    m.on_fill(fill(b.entry, b.entry.qty))
    return m, b


def test_protectors_rest_beside_an_open_position() -> None:
    m, b = opened()
    assert m.state == OPEN and m.qty == 1
    assert set(m.working_protectors()) == {b.stop.client_order_id, b.target.client_order_id}  # type: ignore[union-attr]


def test_the_stop_fill_closes_the_position_and_the_round_trip() -> None:
    m, b = opened()
    closed = m.on_fill(fill(b.stop, -1, ticks=19990))
    assert m.state == FLAT and m.qty == 0 and closed is not None and closed.avg_exit_ticks == 19990


def test_no_new_entry_while_a_protector_of_the_last_one_may_still_fill() -> None:
    m, b = opened(bracket(target=False))
    m.on_fill(fill(b.stop, -1))
    assert m.state == FLAT and m.may_enter()  # the stop filled in full: nothing of it is live
    m2, b2 = opened()
    m2.on_fill(fill(b2.stop, -1))
    assert not m2.may_enter()  # the target still works at the venue until its OCA cancel is reported
    m2.on_status(status(b2.target, CANCELLED))  # type: ignore[arg-type]
    assert m2.may_enter()


def test_an_exit_waits_until_the_protectors_cancels_are_confirmed() -> None:
    m, b = opened()
    exit_order = order(-1, "exit")
    with pytest.raises(ValueError, match="does not close"):
        m.submit_exit(exit_order)
    for p in b.protectors:
        m.request_cancel(p.client_order_id)
    with pytest.raises(ValueError, match="does not close"):
        m.submit_exit(exit_order)  # being cancelled, they may still fill
    for p in b.protectors:
        m.on_status(status(p, CANCELLED))
    m.submit_exit(exit_order)
    assert m.state == EXITING


def test_a_protector_fill_that_would_open_a_new_position_is_raised() -> None:
    m, b = opened(bracket(target=False))
    m.on_status(status(b.stop, CANCELLED))
    m.submit_exit(x := order(-1, "exit"))
    m.on_fill(fill(x, -1))
    assert m.state == FLAT
    with pytest.raises(OverFill):
        m.on_fill(fill(b.stop, -1))  # a late stop fill after the flat: applied and raised, never silent


def test_protectors_are_sent_with_the_entry_or_for_held_contracts_only() -> None:
    m = machine()
    b = bracket()
    with pytest.raises(InvalidTransition):
        m.submit_protectors(b.protectors)  # FLAT: nothing to protect
    m.submit_entry(b.entry)
    too_big = OrderRequest(client_order_id="big", strategy="s1", symbol="MES", qty=-2, kind="STOP", stop_ticks=1,
                           purpose="protect", tif="GTC")
    with pytest.raises(ValueError, match="does not close"):
        m.submit_protectors((too_big,))
    m.submit_protectors(b.protectors)
    assert m.state == ENTERING


def test_protectors_survive_a_snapshot() -> None:
    m, b = opened()
    again = PositionMachine.from_dict(m.to_dict(), m.instrument)
    assert again.state == OPEN and set(again.working_protectors()) == set(m.working_protectors())
    assert again.order(b.stop.client_order_id) == b.stop
