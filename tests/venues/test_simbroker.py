"""SimBroker: fill rules, slippage, commission, latency, faults, determinism."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from statebot import (
    AdapterUnavailable,
    BrokerAdapter,
    FaultPlan,
    Fill,
    FixedSlippage,
    OrderRequest,
    OrderStatus,
    RangeSlippage,
    SimBroker,
)
from statebot.core.costs import FixedCommission, IBKRFuturesCommission
from tests.positions_helpers import T0, bar, order

MINUTE = dt.timedelta(minutes=1)


def broker(**kw: object) -> SimBroker:
    return SimBroker(start=T0, **kw)  # type: ignore[arg-type]


def fills(events: list) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill)]


def statuses(events: list) -> list[str]:
    return [e.status for e in events if isinstance(e, OrderStatus)]


def test_simbroker_implements_the_adapter_protocol() -> None:
    assert isinstance(broker(), BrokerAdapter)


def test_market_order_fills_at_the_next_bar_open_plus_fixed_slippage() -> None:
    sim = broker(slippage=FixedSlippage(2))
    sim.submit(order(1, oid="b"))
    sim.submit(order(-1, oid="s"))
    (buy, sell) = sim.on_bar(bar(1, o=5000.0))
    assert buy.price_ticks == 20000 + 2 and sell.price_ticks == 20000 - 2


def test_market_order_waits_latency_bars() -> None:
    sim = broker(latency_bars=2)
    sim.submit(order(1))
    assert sim.on_bar(bar(1)) == () and sim.on_bar(bar(2)) == ()
    assert len(sim.on_bar(bar(3))) == 1


def test_buy_limit_fills_at_the_better_of_open_and_limit_when_low_reaches_it() -> None:
    sim = broker()
    sim.submit(OrderRequest(client_order_id="l", strategy="s1", symbol="MES", qty=1, kind="LIMIT", limit_ticks=19995))
    assert sim.on_bar(bar(1, low=4999.0)) == ()  # low 19996 above the limit
    (f,) = sim.on_bar(bar(2, o=4998.0, h=4999.0, low=4997.0, c=4998.0))
    assert f.price_ticks == 19992  # gapped below the limit: the open is better


def test_sell_stop_triggers_on_the_low_and_fills_at_the_worse_price_with_slippage() -> None:
    sim = broker(slippage=FixedSlippage(1))
    sim.submit(OrderRequest(client_order_id="st", strategy="s1", symbol="MES", qty=-1, kind="STOP", stop_ticks=19996))
    assert sim.on_bar(bar(1, low=4999.25)) == ()
    (f,) = sim.on_bar(bar(2, o=5000.0, low=4998.0))
    assert f.price_ticks == 19996 - 1


def test_range_slippage_grows_with_the_bar_range() -> None:
    slip = RangeSlippage(fraction=Decimal("0.5"), min_ticks=1)
    sim = broker(slippage=slip)
    sim.submit(order(1))
    (f,) = sim.on_bar(bar(1, o=5000.0, h=5002.0, low=4998.0))  # range 16 ticks
    assert f.price_ticks == 20000 + 1 + 8


def test_fills_carry_commission_per_contract_per_side() -> None:
    sim = broker(commission=IBKRFuturesCommission())
    sim.submit(order(3))
    (f,) = sim.on_bar(bar(1))
    assert f.commission == Decimal("0.62") * 3


def test_the_venue_book_follows_executions() -> None:
    sim = broker()
    sim.submit(order(2))
    sim.submit(order(-3))
    sim.on_bar(bar(1))
    assert sim.positions() == {"MES": -1}


def test_accepted_then_filled_statuses_and_the_fill_are_drained_once() -> None:
    sim = broker()
    sim.submit(order(1))
    sim.on_bar(bar(1))
    events = sim.drain()
    assert statuses(events) == ["ACCEPTED", "FILLED"] and len(fills(events)) == 1
    assert sim.drain() == []


def test_cancel_reports_cancelled_with_what_filled() -> None:
    sim = broker()
    sim.submit(order(1, oid="c"))
    sim.cancel("c")
    assert statuses(sim.drain()) == ["ACCEPTED", "CANCELLED"]
    assert sim.open_orders() == ()
    sim.cancel("c")  # ended already: not an error
    assert sim.drain() == []


def test_scheduled_rejects_reject_those_submissions() -> None:
    sim = broker(faults=FaultPlan(reject_submissions={2}))
    sim.submit(order(1))
    sim.submit(order(1))
    assert statuses(sim.drain()) == ["ACCEPTED", "REJECTED"]


def test_duplicate_client_order_id_is_rejected() -> None:
    sim = broker()
    sim.submit(order(1, oid="same"))
    sim.submit(order(1, oid="same"))
    events = sim.drain()
    assert statuses(events) == ["ACCEPTED", "REJECTED"] and "duplicate" in events[1].reason


def test_disconnect_window_makes_every_call_raise_but_working_orders_still_fill() -> None:
    window = (T0 + 1 * MINUTE, T0 + 3 * MINUTE)
    sim = broker(faults=FaultPlan(disconnect_windows=(window,)))
    sim.submit(order(1))
    sim.on_bar(bar(1))
    assert sim.book == {"MES": 1}
    with pytest.raises(AdapterUnavailable):
        sim.submit(order(1))
    with pytest.raises(AdapterUnavailable):
        sim.positions()
    sim.on_bar(bar(3))
    assert sim.positions() == {"MES": 1}


def test_partial_fills_leave_the_rest_working() -> None:
    sim = broker(seed=1, faults=FaultPlan(partial_p=1.0))
    sim.submit(order(5))
    (f,) = sim.on_bar(bar(1))
    assert 1 <= f.qty < 5
    assert len(sim.open_orders()) == 1


def test_delayed_fill_report_arrives_after_its_filled_status() -> None:
    sim = broker(faults=FaultPlan(delay_p=1.0, delay_bars=2))
    sim.submit(order(1))
    sim.on_bar(bar(1))
    assert statuses(sim.drain()) == ["ACCEPTED", "FILLED"] and sim.in_flight() == 1
    sim.on_bar(bar(2))
    assert fills(sim.drain()) == []
    sim.on_bar(bar(3))
    assert len(fills(sim.drain())) == 1


def test_duplicate_fill_reports_repeat_the_exec_id() -> None:
    sim = broker(faults=FaultPlan(duplicate_p=1.0))
    sim.submit(order(1))
    sim.on_bar(bar(1))
    reported = fills(sim.drain())
    assert len(reported) == 2 and reported[0].exec_id == reported[1].exec_id
    assert sim.book == {"MES": 1}


def _run(seed: int) -> list:
    sim = broker(seed=seed, slippage=RangeSlippage(jitter_ticks=3), faults=FaultPlan(
        reject_p=0.2, partial_p=0.5, delay_p=0.3, duplicate_p=0.3))
    out = []
    for i in range(1, 30):
        sim.submit(order(2 if i % 2 else -2, oid=f"d{i}"))
        sim.on_bar(bar(i))
        out.extend(sim.drain())
    return out


def test_same_seed_gives_the_same_events_and_another_seed_differs() -> None:
    assert _run(7) == _run(7)
    assert _run(7) != _run(8)


def test_no_global_random_state_is_used() -> None:
    import random

    random.seed(1)
    a = _run(3)
    random.seed(2)
    assert _run(3) == a


def test_commission_default_is_a_fixed_fee() -> None:
    assert isinstance(broker().commission, FixedCommission)


def test_a_submit_refused_before_venue_time_leaves_the_id_unused() -> None:
    from statebot import ConfigError

    sim = SimBroker()
    entry = order(1)
    with pytest.raises(ConfigError):
        sim.submit(entry)
    sim.on_bar(bar(0))
    sim.submit(entry)
    assert [e.status for e in sim.drain() if isinstance(e, OrderStatus)] == ["ACCEPTED"]


def test_a_cancel_with_latency_lands_after_the_next_bars_fills() -> None:
    sim = SimBroker(start=T0, latency_bars=1, faults=FaultPlan(cancel_latency_bars=1))
    entry = order(1)
    sim.submit(entry)
    sim.on_bar(bar(1))
    sim.cancel(entry.client_order_id)
    assert [o.client_order_id for o in sim.open_orders()] == [entry.client_order_id]  # still working
    fills = sim.on_bar(bar(2))
    assert len(fills) == 1 and sim.book == {"MES": 1}
    assert [e.status for e in sim.drain() if isinstance(e, OrderStatus)] == ["ACCEPTED", "FILLED"]


def test_a_cancel_with_latency_takes_effect_when_nothing_filled() -> None:
    sim = SimBroker(start=T0, latency_bars=5, faults=FaultPlan(cancel_latency_bars=2))
    entry = order(1)
    sim.submit(entry)
    sim.cancel(entry.client_order_id)
    sim.on_bar(bar(1))
    assert sim.open_orders() != ()
    sim.on_bar(bar(2))
    assert sim.open_orders() == ()
    assert [e.status for e in sim.drain() if isinstance(e, OrderStatus)] == ["ACCEPTED", "CANCELLED"]


def test_a_stale_status_fault_reports_accepted_after_the_terminal_status() -> None:
    sim = SimBroker(start=T0, faults=FaultPlan(stale_status_p=1.0))
    entry = order(1)
    sim.submit(entry)
    sim.cancel(entry.client_order_id)
    assert [e.status for e in sim.drain() if isinstance(e, OrderStatus)] == ["ACCEPTED", "CANCELLED", "ACCEPTED"]


DAY = dt.timedelta(days=1)


def _filled_and_drained(sim: SimBroker, entry: OrderRequest, minute: int) -> None:
    sim.submit(entry)
    sim.on_bar(bar(minute))
    sim.drain()


def test_an_id_reused_after_its_order_filled_is_rejected_within_the_id_memory() -> None:
    sim = broker()
    _filled_and_drained(sim, order(1, oid="same"), 1)
    sim.on_bar(bar(2 * 24 * 60))  # two days later: inside the default three days
    sim.submit(order(-1, oid="same"))
    (rejected,) = sim.drain()
    assert isinstance(rejected, OrderStatus) and rejected.status == "REJECTED" and "duplicate" in rejected.reason


def test_an_id_of_an_order_still_working_is_rejected_however_old() -> None:
    sim = broker(id_memory=DAY)
    resting = OrderRequest(client_order_id="rest", strategy="s1", symbol="MES", qty=1, kind="LIMIT", limit_ticks=1)
    sim.submit(resting)
    sim.on_bar(bar(3 * 24 * 60))
    sim.submit(order(1, oid="fresh"))  # a later submission forgets what is older than a day
    sim.submit(order(1, oid="rest"))
    assert statuses(sim.drain()) == ["ACCEPTED", "ACCEPTED", "REJECTED"]


def test_an_id_older_than_the_id_memory_of_an_ended_order_is_accepted_again() -> None:
    sim = broker(id_memory=DAY)
    _filled_and_drained(sim, order(1, oid="old"), 1)
    sim.on_bar(bar(24 * 60 + 2))
    sim.submit(order(-1, oid="old"))
    assert statuses(sim.drain()) == ["ACCEPTED"]


def test_an_id_memory_that_is_not_positive_is_refused() -> None:
    from statebot import ConfigError

    with pytest.raises(ConfigError, match="id_memory"):
        broker(id_memory=dt.timedelta(0))


def test_order_churn_over_many_days_keeps_every_internal_container_bounded() -> None:
    """Invariant: the broker's memory is what is working, undrained or delayed, plus the ids of the
    last ``id_memory``: counted after 20,000 bars with an order every 5 bars, under every fault."""
    plan = FaultPlan(partial_p=0.3, delay_p=0.3, duplicate_p=0.3, stale_status_p=0.3, cancel_latency_bars=2,
                     reject_p=0.05)
    sim = broker(id_memory=DAY, faults=plan, latency_bars=1)
    orders_per_day = 24 * 60 // 5
    largest: dict[str, int] = {}
    for i in range(1, 20_001):
        sim.on_bar(bar(i))
        if i % 5 == 0:
            sim.submit(order(1 if i % 10 else -1))
        if i % 7 == 0:
            sim.cancel_all()
        sim.drain()
        for name in ("_recent_ids", "_working", "_events", "_delayed", "_cancels", "_bars"):
            largest[name] = max(largest.get(name, 0), len(getattr(sim, name)))
    assert largest["_recent_ids"] <= orders_per_day + 1
    assert largest["_working"] <= 4 and largest["_cancels"] <= 8 and largest["_delayed"] <= 8
    assert largest["_events"] == 0 and largest["_bars"] == 1


def test_replacing_the_fault_plan_applies_its_disconnect_windows_at_once() -> None:
    sim = broker()
    sim.on_bar(bar(1))
    assert sim.connected
    sim.faults = FaultPlan(disconnect_windows=((T0, T0 + 5 * MINUTE),))
    assert not sim.connected
    sim.on_bar(bar(5))
    assert sim.connected


def test_a_disconnect_window_opens_and_closes_at_its_bounds_of_venue_time() -> None:
    sim = broker(faults=FaultPlan(disconnect_windows=((T0 + 2 * MINUTE, T0 + 4 * MINUTE),
                                                     (T0 + 3 * MINUTE, T0 + 6 * MINUTE))))
    seen = []
    for i in range(1, 8):
        sim.on_bar(bar(i))
        seen.append(sim.connected)
    assert seen == [True, False, False, False, False, True, True]


def test_a_random_disconnect_lasts_its_bars_then_reconnects() -> None:
    sim = broker(seed=1, faults=FaultPlan(disconnect_p=1.0, disconnect_bars=3))
    seen = []
    for i in range(1, 6):
        sim.on_bar(bar(i))
        seen.append(sim.connected)
    assert seen == [False, False, False, False, False]  # reconnects, and the next draw (p = 1) drops it again
    sim.faults = FaultPlan()
    sim.on_bar(bar(6))
    assert sim.connected is False  # the drawn disconnect still runs its bars
    sim.on_bar(bar(7))
    sim.on_bar(bar(8))
    assert sim.connected


def test_commission_tiers_count_the_volume_of_the_fills_calendar_month() -> None:
    model = IBKRFuturesCommission()
    sim = broker(commission=model)
    sim.submit(order(1500))
    sim.on_bar(bar(1))
    sim.submit(order(1))
    (same_month,) = sim.on_bar(bar(2))
    next_month_minute = 7 * 24 * 60  # T0 is 24 November: a week later is December
    sim.submit(order(1))
    (next_month,) = sim.on_bar(bar(next_month_minute))
    assert same_month.commission == model.per_side("MES", 1, month_volume=1500)
    assert next_month.commission == model.per_side("MES", 1, month_volume=0)
