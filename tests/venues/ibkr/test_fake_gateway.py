"""The fake gateway, driven by the REAL client library (ib_insync, and ib_async when installed).

These tests pin down two things the IB adapter will rely on: that the fake
gateway speaks the TWS protocol well enough for the real library, and how that
library actually behaves (duplicate executions, separate commission reports,
time zones of bars, disconnects). They skip when neither library is installed
(the ``ibkr`` extra).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from statebot.venues.ibkr.executions import Execution, ExecutionLedger
from tests.venues.ibkr.fake_gateway import (
    DEFAULT_ACCOUNT,
    SERVER_VERSION,
    Accept,
    CancelByServer,
    Commission,
    CorrectExec,
    Drop,
    FakeGateway,
    Fill,
    HistBar,
    Reject,
    RepeatExec,
)

UTC = dt.timezone.utc
NY = ZoneInfo("America/New_York")
CLIENT_ID = 7


INSTALLED = [name for name in ("ib_insync", "ib_async") if importlib.util.find_spec(name) is not None]
if not INSTALLED:
    pytest.skip("neither ib_insync nor ib_async is installed (the ibkr extra)", allow_module_level=True)


@pytest.fixture(params=INSTALLED)
def lib(request: pytest.FixtureRequest) -> ModuleType:
    """The client library under test: each one that is installed."""
    return importlib.import_module(request.param)


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway() as gw:
        yield gw


def connect(lib: ModuleType, gateway: FakeGateway, client_id: int = CLIENT_ID, timeout: float = 5) -> Any:
    ib = lib.IB()
    ib.connect(gateway.host, gateway.port, clientId=client_id, timeout=timeout)
    return ib


@pytest.fixture
def ib(lib: ModuleType, gateway: FakeGateway) -> Iterator[Any]:
    client = connect(lib, gateway)
    yield client
    client.disconnect()


def until(ib: Any, condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Run the client's event loop until ``condition()`` holds (bounded wait, not a timing assertion).

    A socket drop raises ConnectionError out of whatever blocking call the
    library is running (its ``util.run`` cancels the call); the drop has been
    processed by then, so the wait goes on.
    """
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError("condition not reached while running the client loop")
        try:
            ib.sleep(0.005)
        except ConnectionError:
            pass  # see the docstring: the drop itself is what some tests wait for
        waited += 0.005


def mes(lib: ModuleType, ib: Any, month: str = "202612") -> Any:
    [contract] = ib.qualifyContracts(lib.Future("MES", month, exchange="CME"))
    return contract


def bar(start: dt.datetime, close: float, volume: int = 10) -> HistBar:
    return HistBar(start=start, open=close, high=close + 0.5, low=close - 0.25, close=close, volume=volume, wap=close, count=3)


# ----------------------------------------------------------------------------- connecting


def test_connect_with_a_client_id_negotiates_server_version_176(ib: Any, gateway: FakeGateway) -> None:
    assert ib.isConnected()
    assert ib.client.serverVersion() == SERVER_VERSION
    assert ib.managedAccounts() == [DEFAULT_ACCOUNT]
    assert gateway.connected_client_ids() == [CLIENT_ID]
    [start] = gateway.received("startApi")
    assert start.fields[2] == str(CLIENT_ID)


def test_connect_synchronises_positions_orders_account_and_executions(ib: Any, gateway: FakeGateway) -> None:
    names = {m.name for m in gateway.received()}
    assert {"startApi", "reqPositions", "reqOpenOrders", "reqAccountUpdates", "reqExecutions"} <= names
    assert gateway.unknown_messages() == []


def test_a_second_connection_with_the_same_client_id_is_refused(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    with pytest.raises((ConnectionError, TimeoutError)):
        connect(lib, gateway, client_id=CLIENT_ID, timeout=1)
    assert [m.fields[3] for m in gateway.sent("error")] == ["326"]
    assert ib.isConnected()


def test_a_gateway_that_is_down_fails_the_connect(lib: ModuleType, gateway: FakeGateway) -> None:
    gateway.set_accepting(False)
    with pytest.raises((ConnectionError, TimeoutError)):
        connect(lib, gateway, timeout=1)


def test_account_values_arrive_with_the_connect(ib: Any) -> None:
    values = {v.tag: v.value for v in ib.accountValues() if v.currency == "USD"}
    assert values["NetLiquidation"] == "100000.00"


# ----------------------------------------------------------------------------- contracts and positions


def test_positions_returns_the_scripted_positions(lib: ModuleType, gateway: FakeGateway) -> None:
    gateway.set_position(gateway.contract("MESZ6"), -2, "25000.00")
    ib = connect(lib, gateway)
    try:
        [position] = ib.positions()
        assert (position.contract.localSymbol, position.position, position.avgCost) == ("MESZ6", -2.0, 25000.0)
        assert position.account == DEFAULT_ACCOUNT
    finally:
        ib.disconnect()


def test_a_position_set_while_connected_is_pushed_to_the_client(ib: Any, gateway: FakeGateway) -> None:
    gateway.set_position(gateway.contract("MESZ6"), 3, "25000.00")
    until(ib, lambda: ib.positions())
    assert ib.positions()[0].position == 3.0


def test_qualify_contracts_completes_an_mes_future(lib: ModuleType, ib: Any) -> None:
    contract = mes(lib, ib, "202612")
    assert (contract.localSymbol, contract.lastTradeDateOrContractMonth, contract.multiplier) == ("MESZ6", "20261218", "5")
    assert contract.conId > 0


def test_contract_details_without_a_month_list_every_quarterly_expiry(lib: ModuleType, ib: Any) -> None:
    details = ib.reqContractDetails(lib.Future("MES", exchange="CME"))
    expiries = sorted(d.contract.lastTradeDateOrContractMonth for d in details)
    assert len(expiries) == 16
    assert expiries[:4] == ["20250321", "20250620", "20250919", "20251219"]


def test_an_unknown_contract_is_answered_with_error_200(lib: ModuleType, ib: Any) -> None:
    errors: list[int] = []
    ib.errorEvent += lambda req_id, code, *rest: errors.append(code)
    assert ib.reqContractDetails(lib.Future("NOPE", "202612", exchange="CME")) == []
    assert errors == [200]


# ----------------------------------------------------------------------------- orders and fills


def test_market_order_fills_and_the_commission_report_is_attached_to_the_fill(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    contract = mes(lib, ib)
    gateway.script_order(Accept(), Fill(price="5000.25", commission="0.62"))
    trade = ib.placeOrder(contract, lib.MarketOrder("BUY", 1, orderRef="entry:s1"))
    until(ib, lambda: trade.orderStatus.status == "Filled" and trade.fills and trade.fills[0].commissionReport.commission)
    [fill] = trade.fills
    assert (fill.execution.side, fill.execution.shares, fill.execution.price) == ("BOT", 1.0, 5000.25)
    assert fill.execution.orderRef == "entry:s1"
    assert fill.commissionReport.execId == fill.execution.execId
    assert fill.commissionReport.commission == 0.62
    assert fill.execution.time.tzinfo is not None
    [placed] = gateway.received("placeOrder")
    action, quantity, order_type = placed.fields[16:19]
    assert (action, float(quantity), order_type) == ("BUY", 1.0, "MKT")


def test_commission_report_may_arrive_long_after_its_fill(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    contract = mes(lib, ib)
    gateway.script_order(Accept(), Fill(price="5000.25", commission=None))
    trade = ib.placeOrder(contract, lib.MarketOrder("BUY", 1))
    until(ib, lambda: trade.orderStatus.status == "Filled")
    assert trade.fills[0].commissionReport.execId == ""
    reports: list[Any] = []
    ib.commissionReportEvent += lambda trade, fill, report: reports.append(report)
    gateway.apply(trade.order.orderId, Commission("0.62"))
    until(ib, lambda: reports)
    assert trade.fills[0].commissionReport.commission == 0.62


def test_a_repeated_exec_details_goes_over_the_wire_twice_but_the_library_reports_one_fill(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    """ib_insync and ib_async drop an execId they have seen on this connection; the
    adapter must still dedupe, because the memory is lost on reconnect (next test)."""
    contract = mes(lib, ib)
    seen: list[str] = []
    ib.execDetailsEvent += lambda trade, fill: seen.append(fill.execution.execId)
    gateway.script_order(Accept(), Fill(price="5000.25", exec_id="0000e001.00000001.01.01"), RepeatExec())
    trade = ib.placeOrder(contract, lib.MarketOrder("BUY", 1))
    until(ib, lambda: len(gateway.sent("execDetails")) == 2 and trade.orderStatus.status == "Filled")
    ib.sleep(0.05)
    assert [m.fields[14] for m in gateway.sent("execDetails")] == ["0000e001.00000001.01.01"] * 2
    assert seen == ["0000e001.00000001.01.01"]
    assert len(trade.fills) == 1


def test_executions_already_seen_are_reported_again_after_a_reconnect(lib: ModuleType, gateway: FakeGateway) -> None:
    ib = connect(lib, gateway)
    trade = ib.placeOrder(mes(lib, ib), lib.MarketOrder("BUY", 1))
    gateway.apply(trade.order.orderId, Fill(price="5000.25"))
    until(ib, lambda: trade.orderStatus.status == "Filled")
    exec_id = trade.fills[0].execution.execId
    ib.disconnect()
    ib = connect(lib, gateway)
    try:
        assert [f.execution.execId for f in ib.fills()] == [exec_id]
    finally:
        ib.disconnect()


def test_an_execution_correction_is_appended_by_the_library_as_one_more_fill(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    contract = mes(lib, ib)
    gateway.script_order(Accept(), Fill(price="5000.25", exec_id="0000e001.00000001.01.01"), CorrectExec(price="5000.50"))
    trade = ib.placeOrder(contract, lib.MarketOrder("BUY", 1))
    until(ib, lambda: len(trade.fills) == 2)
    assert [(f.execution.execId, f.execution.price) for f in trade.fills] == [
        ("0000e001.00000001.01.01", 5000.25),
        ("0000e001.00000001.01.02", 5000.50),
    ]
    assert sum(f.execution.shares for f in trade.fills) == 2  # one contract bought: the adapter must replace, not add


def test_the_execution_ledger_turns_what_the_library_reports_into_one_fill_and_one_commission(lib: ModuleType, gateway: FakeGateway) -> None:
    """Live fills, a repeat, a correction, a late commission and the replay after a reconnect."""
    ledger = ExecutionLedger()
    shares, fees = 0, Decimal(0)

    def take_fill(fill: Any) -> None:
        nonlocal shares, fees
        change, fee = ledger.on_execution(Execution.from_ib(fill.execution))
        shares += change.quantity_delta if change else 0
        fees += fee.delta if fee else 0

    def take_commission(report: Any) -> None:
        nonlocal fees
        if not report.execId:
            return  # a fill whose commission has not come yet carries an empty report
        fee = ledger.on_commission(report.execId, Decimal(repr(report.commission)))
        fees += fee.delta if fee else 0

    ib = connect(lib, gateway)
    ib.execDetailsEvent += lambda trade, fill: take_fill(fill)
    ib.commissionReportEvent += lambda trade, fill, report: take_commission(report)
    gateway.script_order(Accept(), Fill(price="5000.25", commission=None), RepeatExec(), CorrectExec(price="5000.50"), Commission("0.62"))
    trade = ib.placeOrder(mes(lib, ib), lib.MarketOrder("BUY", 1))
    until(ib, lambda: fees)
    ib.disconnect()
    ib = connect(lib, gateway)
    try:
        for fill in ib.fills():
            take_fill(fill)
            take_commission(fill.commissionReport)
    finally:
        ib.disconnect()
    assert trade.orderStatus.status == "Filled"
    assert (shares, fees, ledger.net_shares()) == (1, Decimal("0.62"), 1)


def test_partial_fill_then_cancel_keeps_the_filled_quantity(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    contract = mes(lib, ib)
    gateway.script_order(Accept(), Fill(price="5000.00", qty=1))
    trade = ib.placeOrder(contract, lib.LimitOrder("BUY", 3, 5000.00))
    until(ib, lambda: trade.orderStatus.filled == 1)
    assert (trade.orderStatus.status, trade.orderStatus.remaining) == ("Submitted", 2.0)
    ib.cancelOrder(trade.order)
    until(ib, lambda: trade.orderStatus.status == "Cancelled")
    assert (trade.orderStatus.filled, trade.orderStatus.remaining) == (1.0, 2.0)
    assert gateway.count("cancelOrder") == 1


def test_cancel_order_gives_cancelled(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    trade = ib.placeOrder(mes(lib, ib), lib.LimitOrder("BUY", 1, 4900.00))
    until(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.cancelOrder(trade.order)
    until(ib, lambda: trade.orderStatus.status == "Cancelled")
    assert trade.isDone()


def test_a_reject_ends_the_trade_as_cancelled_with_the_error_code_in_its_log(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    gateway.script_order(Reject(201, "Order rejected - reason:margin"))
    trade = ib.placeOrder(mes(lib, ib), lib.MarketOrder("BUY", 1))
    until(ib, lambda: trade.isDone())
    assert trade.orderStatus.status == "Cancelled"
    assert trade.log[-1].errorCode == 201


def test_a_cancel_by_the_server_reaches_the_client(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    trade = ib.placeOrder(mes(lib, ib), lib.LimitOrder("SELL", 1, 5100.00))
    until(ib, lambda: trade.orderStatus.status == "Submitted")
    gateway.apply(trade.order.orderId, CancelByServer())
    until(ib, lambda: trade.orderStatus.status == "Cancelled")


def test_a_filled_bracket_child_cancels_its_sibling(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    contract = mes(lib, ib)
    parent, take_profit, stop_loss = ib.bracketOrder("BUY", 1, 5000.00, 5010.00, 4990.00)
    trades = [ib.placeOrder(contract, order) for order in (parent, take_profit, stop_loss)]
    until(ib, lambda: trades[2].orderStatus.status == "PreSubmitted")
    gateway.apply(parent.orderId, Fill(price="5000.00"))
    gateway.apply(take_profit.orderId, Fill(price="5010.00"))
    until(ib, lambda: trades[2].orderStatus.status == "Cancelled")
    assert [t.orderStatus.status for t in trades] == ["Filled", "Filled", "Cancelled"]
    assert gateway.positions() == {}


def test_global_cancel_cancels_every_working_order(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    contract = mes(lib, ib)
    trades = [ib.placeOrder(contract, lib.LimitOrder("BUY", 1, 4900.00 - i)) for i in range(3)]
    until(ib, lambda: all(t.orderStatus.status == "Submitted" for t in trades))
    ib.reqGlobalCancel()
    until(ib, lambda: all(t.orderStatus.status == "Cancelled" for t in trades))


def test_fills_move_the_gateway_position_and_push_it_to_the_client(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    contract = mes(lib, ib)
    gateway.script_order(Accept(), Fill(price="5000.00"))
    ib.placeOrder(contract, lib.MarketOrder("SELL", 2))
    until(ib, lambda: ib.positions())
    assert ib.positions()[0].position == -2.0
    assert gateway.positions() == {(DEFAULT_ACCOUNT, "MESZ6"): -2}


def test_working_orders_are_reported_again_after_a_reconnect(lib: ModuleType, gateway: FakeGateway) -> None:
    ib = connect(lib, gateway)
    trade = ib.placeOrder(mes(lib, ib), lib.LimitOrder("BUY", 1, 4900.00, orderRef="entry:s1"))
    until(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.disconnect()
    ib = connect(lib, gateway)
    try:
        [again] = ib.openTrades()
        assert (again.order.orderId, again.order.orderRef, again.orderStatus.status) == (trade.order.orderId, "entry:s1", "Submitted")
    finally:
        ib.disconnect()


def test_a_client_that_only_reads_sends_zero_place_order_messages(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    gateway.set_historical_bars([bar(dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC), 5000.0)])
    contract = mes(lib, ib)
    ib.reqHistoricalData(contract, "", "1 D", "1 min", "TRADES", False, formatDate=2)
    ib.positions()
    assert gateway.count("placeOrder") == 0
    assert gateway.count("cancelOrder") == 0


# ----------------------------------------------------------------------------- bars


def test_historical_bars_with_epoch_dates_come_back_as_aware_utc_starts(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    starts = [dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC) + dt.timedelta(minutes=i) for i in range(3)]
    gateway.set_historical_bars([bar(s, 5000.0 + i) for i, s in enumerate(starts)])
    bars = ib.reqHistoricalData(mes(lib, ib), "", "1 D", "1 min", "TRADES", False, formatDate=2)
    assert [b.date for b in bars] == starts
    assert [b.close for b in bars] == [5000.0, 5001.0, 5002.0]
    [request] = gateway.received("reqHistoricalData")
    assert request.fields[20] == "2"


def test_historical_bars_without_epoch_dates_are_naive_times_of_the_login_zone(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    """The pitfall formatDate=2 avoids: formatDate=1 gives naive wall times in the TWS login zone."""
    start = dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    gateway.set_historical_bars([bar(start, 5000.0)])
    [got] = ib.reqHistoricalData(mes(lib, ib), "", "1 D", "1 min", "TRADES", False, formatDate=1)
    assert got.date.tzinfo is None
    assert got.date == start.astimezone(NY).replace(tzinfo=None)


def test_an_identical_historical_request_within_15_seconds_is_a_pacing_violation(lib: ModuleType) -> None:
    with FakeGateway(enforce_pacing=True) as gateway:
        gateway.set_historical_bars([bar(dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC), 5000.0)])
        ib = connect(lib, gateway)
        try:
            errors: list[int] = []
            ib.errorEvent += lambda req_id, code, *rest: errors.append(code)
            contract = mes(lib, ib)
            assert len(ib.reqHistoricalData(contract, "", "1 D", "1 min", "TRADES", False, formatDate=2)) == 1
            assert len(ib.reqHistoricalData(contract, "", "1 D", "1 min", "TRADES", False, formatDate=2)) == 0
            assert errors == [162]
        finally:
            ib.disconnect()


def test_real_time_bars_stream_five_second_bars_stamped_with_their_utc_start(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    bars = ib.reqRealTimeBars(mes(lib, ib), 5, "TRADES", False)
    gateway.wait_for("reqRealTimeBars")
    starts = [dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC) + dt.timedelta(seconds=5 * i) for i in range(3)]
    gateway.push_realtime_bars([bar(s, 5000.0 + i) for i, s in enumerate(starts)])
    until(ib, lambda: len(bars) == 3)
    assert [b.time for b in bars] == starts
    assert [b.close for b in bars] == [5000.0, 5001.0, 5002.0]


def test_cancelling_real_time_bars_ends_the_subscription_at_the_gateway(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    bars = ib.reqRealTimeBars(mes(lib, ib), 5, "TRADES", False)
    gateway.wait_for("reqRealTimeBars")
    ib.cancelRealTimeBars(bars)
    gateway.wait_for("cancelRealTimeBars")
    gateway.push_realtime_bars([bar(dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC), 5000.0)])
    ib.sleep(0.05)
    assert gateway.sent("realtimeBar") == []


# ----------------------------------------------------------------------------- disconnects


def test_a_server_drop_fires_the_disconnected_event(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    dropped: list[bool] = []
    ib.disconnectedEvent += lambda: dropped.append(True)
    gateway.drop()
    until(ib, lambda: dropped)
    assert not ib.isConnected()
    assert dropped == [True]


def test_a_drop_scripted_after_an_order_cuts_the_connection_before_any_status(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    dropped: list[bool] = []
    ib.disconnectedEvent += lambda: dropped.append(True)
    gateway.script_order(Drop())
    trade = ib.placeOrder(mes(lib, ib), lib.MarketOrder("SELL", 1))
    until(ib, lambda: dropped)
    assert trade.orderStatus.status == "PendingSubmit"


def test_the_client_can_reconnect_after_a_drop(lib: ModuleType, ib: Any, gateway: FakeGateway) -> None:
    gateway.drop()
    until(ib, lambda: not ib.isConnected())
    ib.connect(gateway.host, gateway.port, clientId=CLIENT_ID, timeout=5)
    assert ib.isConnected()
    assert gateway.count("startApi") == 2



def test_under_frozen_time_with_real_asyncio_the_client_and_gateway_still_talk(lib: ModuleType) -> None:
    """Adapter tests freeze the clock; asyncio must keep real time (freezegun's real_asyncio=True)."""
    freezegun = pytest.importorskip("freezegun")
    frozen = dt.datetime(2026, 11, 24, 20, 54, 30, tzinfo=UTC)
    with freezegun.freeze_time(frozen, real_asyncio=True), FakeGateway() as gateway:
        ib = connect(lib, gateway)
        try:
            gateway.script_order(Accept(), Fill(price="5000.25"))
            trade = ib.placeOrder(mes(lib, ib), lib.MarketOrder("SELL", 1))
            until(ib, lambda: trade.orderStatus.status == "Filled")
            assert trade.fills[0].execution.time == frozen
        finally:
            ib.disconnect()
