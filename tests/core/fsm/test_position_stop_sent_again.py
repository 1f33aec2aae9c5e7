"""A protective stop sent again for an open position (the one before it was lost): the position stays OPEN
with the new stop working beside it, and the stop's fill closes it; refused in FLAT and EXITING."""

from __future__ import annotations

import pytest

from statebot.core.fsm.position import EXITING, FLAT, OPEN
from statebot.core.orders import GTC, PROTECT, STOP, OrderRequest
from statebot.errors import InvalidTransition
from tests.positions_helpers import fill, held, machine, order


def stop(qty: int, oid: str = "again-1") -> OrderRequest:
    return OrderRequest(client_order_id=oid, strategy="s1", symbol="MES", qty=qty, kind=STOP, purpose=PROTECT,
                        stop_ticks=19990, tif=GTC, oca_group="oca-e1")



def test_a_stop_sent_again_rests_beside_the_open_position() -> None:
    m = held(2)
    m.submit_protectors((stop(-2),))
    assert m.state == OPEN and m.qty == 2
    assert m.working_protectors() == ("again-1",) and m.live_protectors() == ("again-1",)
    m.on_fill(fill(stop(-2), -2, ticks=19990))
    assert m.state == FLAT and m.qty == 0 and m.live_protectors() == ()


def test_a_stop_is_not_sent_for_a_flat_or_exiting_position() -> None:
    m = machine()
    with pytest.raises(InvalidTransition, match=r"^position: trigger 'protect' is not allowed in state FLAT$"):
        m.submit_protectors((stop(-1),))
    m = held(1)
    m.submit_exit(order(-1, "exit"))
    assert m.state == EXITING
    with pytest.raises(InvalidTransition, match=r"^position: trigger 'protect' is not allowed in state EXITING$"):
        m.submit_protectors((stop(-1),))
    assert m.live_protectors() == ()
