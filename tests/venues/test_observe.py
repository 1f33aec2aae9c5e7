"""OBSERVE mode: the wrapper that lets no order leave the process (venue-independent)."""

from __future__ import annotations

import datetime as dt

from statebot.venues import BrokerAdapter, Intent, ObserveOnly, SimBroker
from statebot.venues.observe import OBSERVED_REASON
from statebot.core.orders import REJECTED, OrderRequest, OrderStatus

T = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)


def order(order_id: str = "o1", qty: int = 1) -> OrderRequest:
    return OrderRequest(client_order_id=order_id, strategy="s1", symbol="MES", qty=qty)


def test_the_wrapper_is_a_broker_adapter() -> None:
    assert isinstance(ObserveOnly(SimBroker(start=T)), BrokerAdapter)


def test_a_submission_never_reaches_the_venue_and_comes_back_rejected_as_observed() -> None:
    venue = SimBroker(start=T)
    observed = ObserveOnly(venue, clock=lambda: T)
    observed.submit(order())
    [status] = observed.drain()
    assert isinstance(status, OrderStatus)
    assert (status.order_id, status.status, status.reason, status.remaining) == ("o1", REJECTED, OBSERVED_REASON, 1)
    assert venue.open_orders() == ()


def test_every_write_is_recorded_as_an_intent_and_passed_on() -> None:
    seen: list[Intent] = []
    observed = ObserveOnly(SimBroker(start=T), on_intent=seen.append, clock=lambda: T)
    observed.submit(order(qty=-2))
    observed.cancel("o1")
    observed.cancel_all("MES")
    assert [(i.action, i.order_id, i.symbol) for i in seen] == [("submit", None, None), ("cancel", "o1", None), ("cancel_all", None, "MES")]
    assert seen == observed.intents
    assert seen[0].order == order(qty=-2)


def test_reads_come_from_the_venue() -> None:
    venue = SimBroker(start=T)
    observed = ObserveOnly(venue, clock=lambda: T)
    assert observed.positions() == venue.positions()
    assert observed.open_orders() == ()
