"""Brackets at IB: parent/child orders with transmit on the last child, one OCA group, GTC children,
recognised after a restart by their order reference; with the real client library against the fake gateway."""

from __future__ import annotations

from decimal import Decimal
from types import ModuleType

import pytest

from statebot.core.orders import ACCEPTED, CANCELLED, FILLED, PARTIALLY_FILLED, BracketOrder, OrderRequest, OrderStatus
from statebot.core.ports import BracketVenue
from statebot.errors import AdapterUnavailable
from tests.venues.ibkr.fake_gateway import FakeGateway
from tests.venues.ibkr.fake_gateway import Fill as GatewayFill
from tests.venues.ibkr.test_adapter import INSTALLED, T0, adapter, drain_until, fills, gateway, lib, make, statuses

__all__ = ["INSTALLED", "adapter", "gateway", "lib"]  # fixtures used by name

# MES: 5000.00 is 20000 ticks of 0.25


def bracket(qty: int = 1, target: bool = True) -> BracketOrder:
    entry = OrderRequest(client_order_id="e1", strategy="s1", symbol="MES", qty=qty, kind="LIMIT", limit_ticks=20000)
    return BracketOrder.around(entry, stop_ticks=19980, target_ticks=20040 if target else None)


def status_of(events: list, order_id: str) -> list[str]:  # type: ignore[type-arg]
    return [e.status for e in events if isinstance(e, OrderStatus) and e.order_id == order_id]


def test_the_ibkr_adapter_holds_brackets(adapter) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(adapter, BracketVenue)


def test_a_bracket_is_a_parent_and_gtc_children_in_one_oca_group_transmitted_by_the_last(adapter, gateway: FakeGateway) -> None:  # type: ignore[no-untyped-def]
    adapter.submit_bracket(bracket())
    events = drain_until(adapter, lambda ev: all(ACCEPTED in status_of(ev, o) for o in ("e1", "e1-stop", "e1-target")))
    placed = sorted(gateway.orders.values(), key=lambda o: o.order_id)
    parent, stop, target = placed
    assert [o.transmit for o in placed] == [False, False, True]
    assert stop.parent_id == target.parent_id == parent.order_id and parent.parent_id == 0
    assert (stop.order_type, stop.aux_price, target.order_type, target.lmt_price) == ("STP", Decimal("4995"), "LMT", Decimal("5010"))
    assert stop.tif == target.tif == "GTC" and parent.tif == "DAY"
    assert stop.oca_group == target.oca_group == "oca-e1"
    assert stop.order_ref == "statebot:protect:s1:e1-stop"
    assert (stop.status, target.status) == ("PreSubmitted", "PreSubmitted")  # held until the entry fills
    assert not fills(events)


def test_children_are_activated_by_a_partial_fill_of_the_parent(adapter, gateway: FakeGateway) -> None:  # type: ignore[no-untyped-def]
    adapter.submit_bracket(bracket(qty=2))
    drain_until(adapter, lambda ev: ACCEPTED in status_of(ev, "e1-target"))
    gateway.apply(adapter.ib_order_id("e1"), GatewayFill(price="5000.00", qty=1))
    events = drain_until(adapter, lambda ev: fills(ev) and PARTIALLY_FILLED in status_of(ev, "e1"))
    assert [f.qty for f in fills(events)] == [1]
    stop = gateway.orders[(11, adapter.ib_order_id("e1-stop"))]
    assert stop.status == "Submitted"
    assert adapter.positions() == {"MES": 1}


def test_the_stop_executing_cancels_the_target_oca(adapter, gateway: FakeGateway) -> None:  # type: ignore[no-untyped-def]
    adapter.submit_bracket(bracket())
    drain_until(adapter, lambda ev: ACCEPTED in status_of(ev, "e1-target"))
    gateway.apply(adapter.ib_order_id("e1"), GatewayFill(price="5000.00"))
    gateway.apply(adapter.ib_order_id("e1-stop"), GatewayFill(price="4994.75"))
    events = drain_until(adapter, lambda ev: CANCELLED in status_of(ev, "e1-target") and len(fills(ev)) == 2)
    assert [(f.order_id, f.qty, f.price_ticks) for f in fills(events)] == [("e1", 1, 20000), ("e1-stop", -1, 19979)]
    assert FILLED in status_of(events, "e1-stop")
    assert adapter.positions() == {} and adapter.open_orders() == ()


@pytest.mark.invariant("protective orders are recognised after a restart by their order reference", machine="protector")
def test_protective_orders_are_recognised_after_a_restart(lib: ModuleType, gateway: FakeGateway) -> None:
    first = make(lib, gateway)
    b = bracket()
    first.submit_bracket(b)
    drain_until(first, lambda ev: ACCEPTED in status_of(ev, "e1-target"))
    gateway.apply(first.ib_order_id("e1"), GatewayFill(price="5000.00"))
    drain_until(first, lambda ev: len(fills(ev)) == 1)
    first.disconnect()
    restarted = make(lib, gateway)
    try:
        rebuilt = {o.client_order_id: o for o in restarted.open_orders()}
        assert set(rebuilt) == {"e1-stop", "e1-target"}
        for child in b.protectors:
            got = rebuilt[child.client_order_id]
            assert (got.purpose, got.kind, got.qty, got.stop_ticks, got.limit_ticks, got.tif, got.oca_group) == (
                "protect", child.kind, child.qty, child.stop_ticks, child.limit_ticks, "GTC", "oca-e1")
        assert restarted.positions() == {"MES": 1}
    finally:
        restarted.disconnect()


def test_a_bot_gone_with_an_open_position_is_closed_later_by_its_venue_held_stop(adapter, gateway: FakeGateway) -> None:  # type: ignore[no-untyped-def]
    """The client disconnects (the bot died) holding one contract; the gateway keeps the GTC stop and fills it when
    the market trades through 4995.00 at 4994.50 (at the stop or worse); the target is cancelled (OCA). The bot,
    back, learns of the fill once and holds nothing."""
    adapter.submit_bracket(bracket())
    drain_until(adapter, lambda ev: ACCEPTED in status_of(ev, "e1-target"))
    gateway.apply(adapter.ib_order_id("e1"), GatewayFill(price="5000.00"))
    drain_until(adapter, lambda ev: len(fills(ev)) == 1)
    stop_id, target_id = adapter.ib_order_id("e1-stop"), adapter.ib_order_id("e1-target")
    gateway.drop()
    with pytest.raises(AdapterUnavailable):
        drain_until(adapter, lambda ev: False)
    assert gateway.connected_client_ids() == []
    gateway.apply(stop_id, GatewayFill(price="4994.50"), client_id=11)
    assert gateway.orders[(11, target_id)].status == "Cancelled" and gateway.positions() == {}
    assert adapter.reconnect_if_due(T0)
    events = drain_until(adapter, lambda ev: any(f.order_id == "e1-stop" for f in fills(ev)))
    [stop_fill] = [f for f in fills(events) if f.order_id == "e1-stop"]
    assert stop_fill.qty == -1 and stop_fill.price_ticks == 19978 <= 19980
    assert adapter.positions() == {} and adapter.open_orders() == ()


def test_children_shrunk_to_a_partial_fill_of_the_parent_close_the_position_and_no_more(adapter, gateway: FakeGateway) -> None:  # type: ignore[no-untyped-def]
    """The entry for 2 fills 1; the runner shrinks the stop and the target to 1 (``modify``: the same IB order id
    placed again, parent and OCA group kept): the stop's execution then closes the position exactly."""
    b = bracket(qty=2)
    adapter.submit_bracket(b)
    drain_until(adapter, lambda ev: ACCEPTED in status_of(ev, "e1-target"))
    gateway.apply(adapter.ib_order_id("e1"), GatewayFill(price="5000.00", qty=1))
    drain_until(adapter, lambda ev: fills(ev) and PARTIALLY_FILLED in status_of(ev, "e1"))
    stop_id, target_id = adapter.ib_order_id("e1-stop"), adapter.ib_order_id("e1-target")
    for child in b.protectors:
        adapter.modify(OrderRequest(client_order_id=child.client_order_id, strategy="s1", symbol="MES", qty=-1,
                                    kind=child.kind, purpose="protect", stop_ticks=child.stop_ticks,
                                    limit_ticks=child.limit_ticks, tif="GTC", parent_id="e1", oca_group=child.oca_group))
    gateway.wait_for("placeOrder", count=5)
    stop, target = gateway.orders[(11, stop_id)], gateway.orders[(11, target_id)]
    assert (stop.quantity, target.quantity) == (1, 1)
    assert stop.parent_id == target.parent_id == adapter.ib_order_id("e1") and stop.oca_group == target.oca_group == "oca-e1"
    assert (stop.aux_price, target.lmt_price) == (Decimal("4995"), Decimal("5010"))
    assert [o.qty for o in adapter.open_orders() if o.purpose == "protect"] == [-1, -1]
    gateway.apply(stop_id, GatewayFill(price="4994.75"))
    events = drain_until(adapter, lambda ev: CANCELLED in status_of(ev, "e1-target") and fills(ev))
    assert [(f.order_id, f.qty) for f in fills(events)] == [("e1-stop", -1)]
    assert adapter.positions() == {}
