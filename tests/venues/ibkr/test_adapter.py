"""IBKRAdapter against the fake gateway, with the real client library (each one installed)."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import time
from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from statebot.core.ports import BrokerAdapter
from statebot.errors import AdapterUnavailable, ConfigError
from statebot.core.orders import (
    ACCEPTED,
    CANCELLED,
    FILLED,
    LIMIT,
    PARTIALLY_FILLED,
    REJECTED,
    Fill,
    OrderRequest,
    OrderStatus,
)
from tests.venues.ibkr.fake_gateway import (
    Accept,
    Commission,
    CorrectExec,
    Drop,
    FakeGateway,
    HistBar,
    Reject,
    RepeatExec,
)
from tests.venues.ibkr.fake_gateway import Fill as GatewayFill

INSTALLED = [name for name in ("ib_insync", "ib_async") if importlib.util.find_spec(name) is not None]
if not INSTALLED:
    pytest.skip("neither ib_insync nor ib_async is installed (the ibkr extra)", allow_module_level=True)

from statebot.venues.ibkr.adapter import IBKRAdapter, order_ref, parse_order_ref
from statebot.venues.ibkr.settings import (
    LIVE,
    LIVE_ACKNOWLEDGEMENT,
    OBSERVE,
    PAPER,
    IBKRSettings,
)

UTC = dt.timezone.utc
SESSION = dt.date(2026, 11, 24)
T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture(params=INSTALLED)
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway() as gw:
        yield gw


def make(lib: ModuleType, gateway: FakeGateway, **kwargs: Any) -> IBKRAdapter:
    adapter = IBKRAdapter(host=gateway.host, port=gateway.port, client_id=11, ib=lib.IB(), **kwargs)
    adapter.connect(SESSION)
    return adapter


@pytest.fixture
def adapter(lib: ModuleType, gateway: FakeGateway) -> Iterator[IBKRAdapter]:
    a = make(lib, gateway)
    yield a
    a.disconnect()


def drain_until(adapter: Any, predicate: Any, rounds: int = 400) -> list[Any]:
    """Drain repeatedly (each drain runs the client loop once) until ``predicate(events so far)``."""
    events: list[Any] = []
    for _ in range(rounds):
        events += adapter.drain()
        if predicate(events):
            return events
        time.sleep(0.005)  # let TWS's messages reach the socket; the next drain reads them
    raise AssertionError(f"not reached; events: {events}")


def buy(order_id: str = "o1", qty: int = 1, **kwargs: Any) -> OrderRequest:
    return OrderRequest(client_order_id=order_id, strategy="s1", symbol="MES", qty=qty, **kwargs)


def fills(events: list[Any]) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill)]


def statuses(events: list[Any]) -> list[str]:
    return [e.status for e in events if isinstance(e, OrderStatus)]


def test_the_adapter_implements_the_broker_protocol(adapter: IBKRAdapter) -> None:
    assert isinstance(adapter, BrokerAdapter)


def test_connect_trades_the_front_month_of_the_session_date(lib: ModuleType, gateway: FakeGateway) -> None:
    a = IBKRAdapter(host=gateway.host, port=gateway.port, client_id=11, ib=lib.IB())
    a.connect(dt.date(2026, 12, 10))
    try:
        assert a.contract("MES").localSymbol == "MESH7"
    finally:
        a.disconnect()


def test_order_ref_round_trips_purpose_strategy_and_id() -> None:
    order = buy(purpose="flatten")
    assert parse_order_ref(order_ref(order)) == ("flatten", "s1", "o1")
    assert parse_order_ref("manual order") is None


def test_a_market_entry_gives_accepted_one_fill_with_commission_and_filled(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.script_order(Accept(), GatewayFill(price="5000.25", commission="0.62"))
    adapter.submit(buy())
    events = drain_until(adapter, lambda ev: fills(ev) and FILLED in statuses(ev))
    [fill] = fills(events)
    assert (fill.order_id, fill.strategy, fill.symbol, fill.qty, fill.price_ticks, fill.commission) == ("o1", "s1", "MES", 1, 20001, Decimal("0.62"))
    assert fill.at.tzinfo is not None
    assert statuses(events)[0] == ACCEPTED
    [placed] = gateway.received("placeOrder")
    assert placed.fields[26] == "statebot:entry:s1:o1"


def test_a_fill_is_held_until_its_commission_arrives(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.script_order(Accept(), GatewayFill(price="5000.25", commission=None))
    adapter.submit(buy())
    events = drain_until(adapter, lambda ev: FILLED in statuses(ev))
    assert fills(events) == []
    gateway.apply(adapter.ib_order_id("o1"), Commission("0.62"))
    [fill] = fills(drain_until(adapter, fills))
    assert fill.commission == Decimal("0.62")


def test_a_fill_whose_commission_does_not_come_is_released_after_the_wait(lib: ModuleType, gateway: FakeGateway) -> None:
    adapter = make(lib, gateway, commission_wait_s=0)
    try:
        gateway.script_order(Accept(), GatewayFill(price="5000.25", commission=None))
        adapter.submit(buy())
        [fill] = fills(drain_until(adapter, fills))
        assert fill.commission == 0
        gateway.apply(adapter.ib_order_id("o1"), Commission("0.62"))
        drain_until(adapter, lambda ev: adapter.late_commissions)
        assert adapter.late_commissions == [(fill.exec_id, Decimal("0.62"))]
    finally:
        adapter.disconnect()


@pytest.mark.invariant("a fill repeated by IB, or replayed after a reconnect, reaches the position machines once", machine="position")
def test_repeated_and_replayed_executions_give_one_fill(lib: ModuleType, gateway: FakeGateway) -> None:
    adapter = make(lib, gateway)
    gateway.script_order(Accept(), GatewayFill(price="5000.25"), RepeatExec())
    adapter.submit(buy())
    events = drain_until(adapter, lambda ev: fills(ev) and FILLED in statuses(ev))
    gateway.drop()
    with pytest.raises(AdapterUnavailable):
        drain_until(adapter, lambda ev: False)
    assert adapter.reconnect_if_due(T0)
    events += drain_until(adapter, lambda ev: True)
    adapter.disconnect()
    assert len(fills(events)) == 1


def test_a_price_only_correction_is_kept_aside_not_filled_twice(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.script_order(Accept(), GatewayFill(price="5000.25"), CorrectExec(price="5000.50"))
    adapter.submit(buy())
    events = drain_until(adapter, lambda ev: fills(ev) and adapter.price_corrections)
    assert len(fills(events)) == 1
    [correction] = adapter.price_corrections
    assert correction.execution.price == Decimal("5000.50")


def test_partial_fill_then_cancel(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.script_order(Accept(), GatewayFill(price="5000.00", qty=1))
    adapter.submit(buy(qty=3, kind=LIMIT, limit_ticks=20000))
    events = drain_until(adapter, lambda ev: fills(ev) and PARTIALLY_FILLED in statuses(ev))
    adapter.cancel("o1")
    events += drain_until(adapter, lambda ev: CANCELLED in statuses(ev))
    cancelled = [e for e in events if isinstance(e, OrderStatus) and e.status == CANCELLED][-1]
    assert (cancelled.filled, cancelled.remaining) == (1, 2)
    assert [f.qty for f in fills(events)] == [1]
    assert adapter.open_orders() == ()


def test_a_reject_is_a_rejected_status_with_the_reason(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.script_order(Reject(201, "Order rejected - reason:margin"))
    adapter.submit(buy())
    events = drain_until(adapter, lambda ev: REJECTED in statuses(ev))
    rejected = next(e for e in events if isinstance(e, OrderStatus) and e.status == REJECTED)
    assert "margin" in rejected.reason


def test_a_duplicate_client_order_id_is_rejected_without_reaching_ib(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    adapter.submit(buy())
    adapter.submit(buy())
    events = drain_until(adapter, lambda ev: {REJECTED, ACCEPTED} <= set(statuses(ev)))
    assert [e.order_id for e in events if isinstance(e, OrderStatus) and e.status == REJECTED] == ["o1"]
    gateway.wait_for("placeOrder")
    adapter.ib.reqCurrentTime()  # a round trip: anything sent before it has reached the gateway
    assert gateway.count("placeOrder") == 1


def test_while_disconnected_nothing_is_sent_and_calls_raise(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.drop()
    with pytest.raises(AdapterUnavailable):
        drain_until(adapter, lambda ev: False)
    with pytest.raises(AdapterUnavailable):
        adapter.submit(buy())
    with pytest.raises(AdapterUnavailable):
        adapter.positions()
    assert gateway.count("placeOrder") == 0
    assert adapter.disconnects == 1


def test_reconnect_waits_out_the_backoff_between_failed_attempts(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.set_accepting(False)
    gateway.drop()
    with pytest.raises(AdapterUnavailable):
        drain_until(adapter, lambda ev: False)
    assert not adapter.reconnect_if_due(T0)  # attempt 1, at once: refused
    assert not adapter.reconnect_if_due(T0 + dt.timedelta(seconds=0.5))  # within the 1 s backoff: no attempt
    assert adapter.reconnect_attempts == 1
    gateway.set_accepting(True)
    assert adapter.reconnect_if_due(T0 + dt.timedelta(seconds=1))
    assert adapter.connected and adapter.reconnect_attempts == 0


def test_working_orders_are_rebuilt_from_their_order_ref_after_a_reconnect(lib: ModuleType, gateway: FakeGateway) -> None:
    adapter = make(lib, gateway)
    order = buy(kind=LIMIT, limit_ticks=19600)
    adapter.submit(order)
    drain_until(adapter, lambda ev: ACCEPTED in statuses(ev))
    adapter.disconnect()
    fresh = make(lib, gateway)
    try:
        assert fresh.open_orders() == (order,)
    finally:
        fresh.disconnect()


def test_an_order_filled_while_disconnected_is_reported_once_after_the_reconnect(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    adapter.submit(buy(kind=LIMIT, limit_ticks=20000))
    drain_until(adapter, lambda ev: ACCEPTED in statuses(ev))
    order_id = adapter.ib_order_id("o1")
    gateway.drop()
    with pytest.raises(AdapterUnavailable):
        drain_until(adapter, lambda ev: False)
    gateway.apply(order_id, GatewayFill(price="5000.00"))
    assert adapter.reconnect_if_due(T0)
    events = drain_until(adapter, lambda ev: fills(ev) and FILLED in statuses(ev))
    assert [f.qty for f in fills(events)] == [1]
    assert adapter.positions() == {"MES": 1}


def test_a_position_the_bot_did_not_make_shows_after_a_reconnect(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.drop()
    with pytest.raises(AdapterUnavailable):
        drain_until(adapter, lambda ev: False)
    gateway.set_position(gateway.contract("MESZ6"), -2, "25000")
    assert adapter.reconnect_if_due(T0)
    assert adapter.positions() == {"MES": -2}


def test_cancel_all_of_a_symbol_cancels_its_working_orders(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    for n in range(2):
        adapter.submit(buy(order_id=f"o{n}", kind=LIMIT, limit_ticks=19600 - n))
    drain_until(adapter, lambda ev: statuses(ev).count(ACCEPTED) == 2)
    adapter.cancel_all("MES")
    drain_until(adapter, lambda ev: statuses(ev).count(CANCELLED) == 2)
    assert gateway.count("cancelOrder") == 2


def test_real_time_bars_become_one_minute_bars_ending_on_the_minute(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    adapter.subscribe_bars("MES", 1)
    gateway.wait_for("reqRealTimeBars")
    starts = [T0 + dt.timedelta(seconds=5 * i) for i in range(12)]
    gateway.push_realtime_bars([HistBar(start=s, open=5000.0, high=5000.5, low=4999.75, close=5000.25, volume=2) for s in starts])
    got: list[Any] = []
    for _ in range(400):
        adapter.drain()
        got += adapter.bars()
        if got:
            break
        adapter.ib.sleep(0.005)
    [one] = got
    assert (one.bar.end, one.bar.volume, one.complete) == (T0 + dt.timedelta(minutes=1), 24, True)


def test_historical_bars_are_stamped_at_their_end_in_utc(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.set_historical_bars([HistBar(start=T0, open=5000.0, high=5001.0, low=4999.0, close=5000.5, volume=7)])
    [bar] = adapter.historical_bars("MES", bar_size="5 mins")
    assert bar.end == T0 + dt.timedelta(minutes=5)
    assert bar.close == 5000.5


@pytest.mark.invariant("in OBSERVE mode no order, cancel or global cancel reaches the venue's socket", machine="position")
def test_observe_mode_sends_zero_order_messages_at_the_socket(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    from statebot.venues.observe import OBSERVED_REASON, ObserveOnly

    gateway.set_position(gateway.contract("MESZ6"), 1, "25000")
    observed = ObserveOnly(adapter)
    observed.submit(buy(purpose="entry"))
    observed.submit(buy(order_id="f1", qty=-1, purpose="flatten"))
    observed.cancel("o1")
    observed.cancel_all()
    events = drain_until(observed, lambda ev: statuses(ev).count(REJECTED) == 2)
    assert {e.reason for e in events if isinstance(e, OrderStatus)} == {OBSERVED_REASON}
    assert observed.positions() == {"MES": 1}
    assert [i.action for i in observed.intents] == ["submit", "submit", "cancel", "cancel_all"]
    for name in ("placeOrder", "cancelOrder", "reqGlobalCancel"):
        assert gateway.count(name) == 0


def test_a_read_only_connection_refuses_orders_locally(lib: ModuleType, gateway: FakeGateway) -> None:
    adapter = make(lib, gateway, readonly=True)
    try:
        adapter.submit(buy())
        adapter.cancel_all()
        [status] = drain_until(adapter, lambda ev: ev)
        assert (status.status, status.reason) == (REJECTED, "read-only connection: orders are not sent")
        assert gateway.count("placeOrder") == gateway.count("reqGlobalCancel") == 0
    finally:
        adapter.disconnect()


def test_paper_mode_refuses_a_live_account(lib: ModuleType) -> None:
    with FakeGateway(accounts=["U7654321"]) as gateway:
        adapter = IBKRAdapter(host=gateway.host, port=gateway.port, client_id=11, ib=lib.IB(), expect_paper=True)
        with pytest.raises(ConfigError, match="U7654321"):
            adapter.connect(SESSION)
        assert not adapter.connected
        assert gateway.count("placeOrder") == 0


def test_settings_build_an_observing_adapter_that_sends_nothing(lib: ModuleType, gateway: FakeGateway) -> None:
    venue, ib_adapter = IBKRSettings(mode=OBSERVE, port=gateway.port, client_id=12).adapter(ib=lib.IB())
    ib_adapter.connect(SESSION)
    try:
        venue.submit(buy())
        assert statuses(drain_until(venue, lambda ev: ev)) == [REJECTED]
        assert gateway.count("placeOrder") == 0
        assert ib_adapter.readonly
    finally:
        ib_adapter.disconnect()


@pytest.mark.parametrize(
    "settings",
    [
        {"mode": LIVE},
        {"mode": LIVE, "live_flag": True},
        {"mode": LIVE, "live_flag": True, "live_acknowledgement": "yes"},
        {"mode": LIVE, "live_flag": True, "live_acknowledgement": LIVE_ACKNOWLEDGEMENT, "port": 7497},
        {"mode": PAPER, "port": 7496},
        {"mode": PAPER, "live_flag": True},
    ],
    ids=["live without flag", "live without acknowledgement", "live with a wrong acknowledgement", "live on the paper port", "paper on the live port", "--live in paper mode"],
)
def test_unsafe_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        IBKRSettings(**settings)


def test_live_mode_with_flag_and_acknowledgement_defaults_to_the_live_port() -> None:
    assert IBKRSettings(mode=LIVE, live_flag=True, live_acknowledgement=LIVE_ACKNOWLEDGEMENT).resolved_port == 7496
    assert IBKRSettings(mode=PAPER).resolved_port == 7497


def test_a_flatten_order_cut_off_by_a_drop_is_reported_cancelled_after_the_reconnect(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    """The order reached TWS but no status came back before the drop, and TWS does not work it:
    the bot learns it ended (CANCELLED, so the flatten sends again) and nothing is sent twice."""
    gateway.script_order(Drop())
    adapter.submit(buy(order_id="f1", qty=-1, purpose="flatten"))
    with pytest.raises(AdapterUnavailable):
        drain_until(adapter, lambda ev: False)
    assert adapter.reconnect_if_due(T0)
    events = drain_until(adapter, lambda ev: CANCELLED in statuses(ev))
    cancelled = next(e for e in events if isinstance(e, OrderStatus) and e.status == CANCELLED)
    assert (cancelled.order_id, cancelled.reason) == ("f1", "no longer working at IB after a reconnect")
    assert gateway.count("placeOrder") == 1


def test_a_flatten_order_working_at_tws_across_a_drop_is_adopted_and_its_fill_arrives(adapter: IBKRAdapter, gateway: FakeGateway) -> None:
    gateway.script_order(Accept(), Drop())
    adapter.submit(buy(order_id="f1", qty=-1, purpose="flatten"))
    with pytest.raises(AdapterUnavailable):
        drain_until(adapter, lambda ev: False)
    assert adapter.reconnect_if_due(T0)
    assert [o.client_order_id for o in adapter.open_orders()] == ["f1"]
    gateway.apply(adapter.ib_order_id("f1"), GatewayFill(price="5000.00"))
    events = drain_until(adapter, lambda ev: fills(ev) and FILLED in statuses(ev))
    assert [(f.order_id, f.qty) for f in fills(events)] == [("f1", -1)]
    assert gateway.count("placeOrder") == 1
