"""A fake TWS / IB Gateway for tests: the real TWS API socket protocol on 127.0.0.1.

This is a TEST TOOL. It lets the real client library (ib_insync 0.9.86, or
ib_async 2.x) connect, qualify contracts, place and cancel orders, receive
fills with their commission reports, read positions, open orders, executions
and account values, and stream historical and 5-second real-time bars, with
no Interactive Brokers account. Every message the client sends is recorded,
so a test can assert at the socket (for example "zero placeOrder messages").

Protocol
--------
The gateway announces server version ``SERVER_VERSION`` (176), the newest
version ib_insync 0.9.86 accepts (its client range is 157..176; ib_async 2.1
asks for 157..178 and also gets 176). A real, current gateway talking to
ib_insync negotiates exactly this version, so the message layouts here are
the ones ib_insync users meet in production. A client whose range excludes
176 is disconnected after the handshake, as TWS does.

Messages understood from the client (id, name, reply):

====  ========================  =============================================
  3   placeOrder                the order's script (default: openOrder +
                                orderStatus Submitted, or PreSubmitted for a
                                child of a bracket); see "Scripting orders".
                                An order with transmit=0 is held, silent,
                                until an order of its bracket (its child, or
                                a sibling child) arrives with transmit=1;
                                then each runs its script in placement order
  4   cancelOrder               orderStatus Cancelled + error 202 (children
                                of a parent are cancelled too); error 10147
                                for an unknown id, 10148 for a done order
  5   reqOpenOrders             openOrder + orderStatus per working order of
                                this client id, then openOrderEnd
  6   reqAccountUpdates         updateAccountValue per value, updatePortfolio
                                per position, updateAccountTime,
                                accountDownloadEnd
  7   reqExecutions             execDetails per stored execution (filtered by
                                client id and symbol), commissionReport for
                                those with a known commission, execDetailsEnd
  8   reqIds                    nextValidId
  9   reqContractDetails        contractDetails per matching contract, then
                                contractDetailsEnd; error 200 when none match
 15   reqAutoOpenOrders         recorded only
 16   reqAllOpenOrders          as reqOpenOrders, every client id
 17   reqManagedAccts           managedAccounts
 20   reqHistoricalData         historicalData with the scripted bars (dates
                                as epoch seconds when formatDate=2, else
                                "YYYYMMDD  HH:MM:SS" in the login time zone);
                                error 162 on a pacing violation when
                                ``enforce_pacing`` is set
 25   cancelHistoricalData      recorded only
 49   reqCurrentTime            currentTime from the gateway clock
 50   reqRealTimeBars           subscribes; ``realtime_bars_on_subscribe`` are
                                sent at once, more with ``push_realtime_bars``
 51   cancelRealTimeBars        unsubscribes
 58   reqGlobalCancel           cancels every working order
 59   reqMarketDataType         recorded only
 61   reqPositions              position per position, positionEnd; keeps a
                                subscription: fills push position updates
 64   cancelPositions           ends that subscription
 71   startApi                  nextValidId + managedAccounts; error 326 and
                                a closed socket if the client id is in use
 76   reqAccountUpdatesMulti    accountUpdateMulti per value, then
                                accountUpdateMultiEnd
 77   cancelAccountUpdatesMulti recorded only
 99   reqCompletedOrders        completedOrdersEnd (no completed orders)
====  ========================  =============================================

Any other message is recorded (name ``unknown:<id>``) and ignored; a test can
check ``gateway.unknown_messages()`` is empty.

Messages the gateway sends: 3 orderStatus, 4 error, 5 openOrder,
6 updateAccountValue, 7 updatePortfolio, 8 updateAccountTime, 9 nextValidId,
10 contractDetails, 11 execDetails, 15 managedAccounts, 17 historicalData,
49 currentTime, 50 realtimeBar, 52 contractDetailsEnd, 53 openOrderEnd,
54 accountDownloadEnd, 55 execDetailsEnd, 59 commissionReport, 61 position,
62 positionEnd, 73 accountUpdateMulti, 74 accountUpdateMultiEnd,
102 completedOrdersEnd.

Using it
--------
::

    with FakeGateway() as gw:                      # a thread, a random free port
        ib = IB(); ib.connect(gw.host, gw.port, clientId=7)
        gw.script_order(Accept(), Fill(price="5000.25"))
        trade = ib.placeOrder(mes, MarketOrder("BUY", 1))
        ...
        assert gw.count("placeOrder") == 1

The gateway runs its own asyncio loop in a background thread; every public
method is safe to call from the test thread and returns after the messages it
causes were written to the socket. Orders, executions and positions live in
the gateway, not in a connection: they survive a drop and a reconnect.

Scripting orders
----------------
``script_order(*steps, match=None)`` queues steps for the next placeOrder
(that satisfies ``match(order)``, if given); without a queued script the
``order_policy(order)`` decides (default: ``[Accept()]``). An empty script
leaves the order silent (PendingSubmit forever). Steps:

- ``Accept(status=None)``: openOrder + orderStatus (Submitted, PreSubmitted
  for a child order).
- ``Fill(price, qty=None, exec_id=None, commission="0.62", ...)``: one
  execution of ``qty`` (default: all that remains): execDetails, openOrder,
  orderStatus (Filled, or Submitted with the filled quantity on a partial
  fill) and, unless ``commission`` is None, a commissionReport. Positions
  move; a fully filled bracket child cancels its siblings, and so does any
  order fully filled that shares a non-empty ``ocaGroup`` (OCA); a parent's
  first fill activates its PreSubmitted children (orderStatus Submitted).
- ``Commission(commission, exec_id=None)``: a commissionReport on its own
  (default: for the order's last execution).
- ``RepeatExec(exec_id=None)``: the same execDetails again (same execId).
- ``CorrectExec(price, exec_id=None)``: an execution correction: a new
  execDetails whose execId has the next suffix (``.01`` -> ``.02``).
- ``Reject(code=201, message=...)``: an error for the order id.
- ``CancelByServer()``: orderStatus Cancelled + error 202, unasked.
- ``Drop()``: the gateway closes every client connection.

The same steps can be applied later to a placed order with
``apply(order_id, *steps, client_id=None)`` (it waits up to 5 s for that
placeOrder to arrive, so it may follow ``ib.placeOrder`` at once). Other controls: ``set_position``,
``set_account_value``, ``set_historical_bars``, ``serve_history`` (an archive
answered window by window, IB's pacing rules enforced), ``push_realtime_bars``,
``send_error``, ``drop``, ``set_accepting``, ``add_contract``, ``ack_cancels``.

Under freezegun, freeze with ``real_asyncio=True`` (as the IB client needs
anyway): the gateway's waits use its event loop's clock.

Inspection: ``received(name)``, ``count(name)``, ``wait_for(name, count,
timeout)`` (and ``wait_for_async``), ``sent(name)`` (what the gateway wrote),
``orders`` (``PlacedOrder`` by (client id, order id)), ``executions``.

Limits: one currency (USD); no market data ticks, no what-if orders, no
completed-order history, no combo (BAG) orders, no order conditions; order
modifications update quantity and prices only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import struct
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Self
from zoneinfo import ZoneInfo

SERVER_VERSION = 176
DEFAULT_ACCOUNT = "DU1234567"
UTC = dt.timezone.utc
UNSET_DOUBLE_WIRE = "1.7976931348623157E308"

CLIENT_MESSAGES: dict[int, str] = {
    1: "reqMktData",
    2: "cancelMktData",
    3: "placeOrder",
    4: "cancelOrder",
    5: "reqOpenOrders",
    6: "reqAccountUpdates",
    7: "reqExecutions",
    8: "reqIds",
    9: "reqContractDetails",
    15: "reqAutoOpenOrders",
    16: "reqAllOpenOrders",
    17: "reqManagedAccts",
    20: "reqHistoricalData",
    25: "cancelHistoricalData",
    49: "reqCurrentTime",
    50: "reqRealTimeBars",
    51: "cancelRealTimeBars",
    58: "reqGlobalCancel",
    59: "reqMarketDataType",
    61: "reqPositions",
    64: "cancelPositions",
    71: "startApi",
    76: "reqAccountUpdatesMulti",
    77: "cancelAccountUpdatesMulti",
    99: "reqCompletedOrders",
}

SERVER_MESSAGES: dict[int, str] = {
    3: "orderStatus",
    4: "error",
    5: "openOrder",
    6: "updateAccountValue",
    7: "updatePortfolio",
    8: "updateAccountTime",
    9: "nextValidId",
    10: "contractDetails",
    11: "execDetails",
    15: "managedAccounts",
    17: "historicalData",
    49: "currentTime",
    50: "realtimeBar",
    52: "contractDetailsEnd",
    53: "openOrderEnd",
    54: "accountDownloadEnd",
    55: "execDetailsEnd",
    59: "commissionReport",
    61: "position",
    62: "positionEnd",
    73: "accountUpdateMulti",
    74: "accountUpdateMultiEnd",
    102: "completedOrdersEnd",
}

DONE_STATES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class FakeContract:
    """A contract the gateway knows (what reqContractDetails can return)."""

    con_id: int
    symbol: str
    sec_type: str = "FUT"
    last_trade_date: str = ""  # YYYYMMDD
    multiplier: str = "5"
    exchange: str = "CME"
    currency: str = "USD"
    local_symbol: str = ""
    trading_class: str = ""
    min_tick: str = "0.25"
    long_name: str = ""
    time_zone_id: str = "US/Central"


@dataclass(frozen=True)
class HistBar:
    """A historical or real-time bar as the gateway sends it; ``start`` is aware."""

    start: dt.datetime
    open: Decimal | float | str
    high: Decimal | float | str
    low: Decimal | float | str
    close: Decimal | float | str
    volume: Decimal | float | str = 0
    wap: Decimal | float | str = 0
    count: int = 0


@dataclass
class PlacedOrder:
    """An order as the gateway holds it. Quantities and prices are Decimal."""

    client_id: int
    order_id: int
    perm_id: int
    contract: FakeContract
    action: str
    quantity: Decimal
    order_type: str
    lmt_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    oca_group: str
    account: str
    order_ref: str
    transmit: bool
    parent_id: int
    status: str = "PendingSubmit"
    filled: Decimal = Decimal(0)
    avg_fill_price: Decimal = Decimal(0)
    last_fill_price: Decimal = Decimal(0)
    exec_ids: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATES


@dataclass(frozen=True)
class ExecRecord:
    """One execution the gateway reported (or will report on reqExecutions)."""

    exec_id: str
    order: PlacedOrder
    side: str  # BOT or SLD
    shares: Decimal
    price: Decimal
    cum_qty: Decimal
    avg_price: Decimal
    time: dt.datetime
    commission: Decimal | None = None


@dataclass(frozen=True)
class ReceivedMessage:
    """One message from a client: its connection number, client id and fields."""

    connection: int
    client_id: int | None
    msg_id: int
    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class SentMessage:
    connection: int
    name: str
    fields: tuple[str, ...]


# ----------------------------------------------------------------------------- order steps


@dataclass(frozen=True)
class Accept:
    status: str | None = None


@dataclass(frozen=True)
class Fill:
    price: Decimal | str | int
    qty: Decimal | str | int | None = None
    exec_id: str | None = None
    commission: Decimal | str | None = "0.62"
    realized_pnl: Decimal | str | None = None


@dataclass(frozen=True)
class Commission:
    commission: Decimal | str
    exec_id: str | None = None
    realized_pnl: Decimal | str | None = None


@dataclass(frozen=True)
class RepeatExec:
    exec_id: str | None = None


@dataclass(frozen=True)
class CorrectExec:
    price: Decimal | str | int
    exec_id: str | None = None


@dataclass(frozen=True)
class Reject:
    code: int = 201
    message: str = "Order rejected - reason:fake gateway rejects this order"


@dataclass(frozen=True)
class CancelByServer:
    pass


@dataclass(frozen=True)
class Drop:
    pass


Step = Accept | Fill | Commission | RepeatExec | CorrectExec | Reject | CancelByServer | Drop
OrderPolicy = Callable[[PlacedOrder], Sequence[Step]]


def _third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    first_friday = first + dt.timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + dt.timedelta(weeks=2)


def default_contracts() -> list[FakeContract]:
    """MES and ES quarterly futures (H, M, U, Z) expiring 2025 through 2028."""
    codes = {3: "H", 6: "M", 9: "U", 12: "Z"}
    result = []
    con_ids = itertools.count(650000001)
    for symbol, multiplier, name in (("MES", "5", "Micro E-Mini S&P 500"), ("ES", "50", "E-mini S&P 500")):
        for year in range(2025, 2029):
            for month, code in codes.items():
                result.append(
                    FakeContract(
                        con_id=next(con_ids),
                        symbol=symbol,
                        last_trade_date=_third_friday(year, month).strftime("%Y%m%d"),
                        multiplier=multiplier,
                        local_symbol=f"{symbol}{code}{year % 10}",
                        trading_class=symbol,
                        long_name=name,
                    )
                )
    return result


def _wire(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _decimal(value: str) -> Decimal | None:
    return Decimal(value) if value not in ("", UNSET_DOUBLE_WIRE) and float(value) < 1e300 else None


def _fmt_decimal(value: Decimal) -> str:
    """A Decimal as TWS would print it: no exponent, no needless trailing zeros."""
    text = format(value.normalize(), "f")
    return text


# ----------------------------------------------------------------------------- sessions


class _Session:
    def __init__(self, number: int, writer: asyncio.StreamWriter) -> None:
        self.number = number
        self.writer = writer
        self.client_id: int | None = None
        self.positions_subscribed = False
        self.realtime_bars: dict[int, FakeContract | None] = {}
        self.closed = False


# ----------------------------------------------------------------------------- the gateway


class FakeGateway:
    """A scripted TWS/IB Gateway on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        accounts: Iterable[str] = (DEFAULT_ACCOUNT,),
        next_order_id: int = 1,
        contracts: Iterable[FakeContract] | None = None,
        login_time_zone: str = "America/New_York",
        clock: Callable[[], dt.datetime] | None = None,
        enforce_pacing: bool = False,
    ) -> None:
        self.accounts = list(accounts)
        self.host = "127.0.0.1"
        self.port = 0
        self.login_time_zone = login_time_zone
        self.enforce_pacing = enforce_pacing
        self.ack_cancels = True
        self.order_policy: OrderPolicy = lambda order: [Accept()]
        self.realtime_bars_on_subscribe: list[HistBar] = []
        self.orders: dict[tuple[int, int], PlacedOrder] = {}
        self.executions: list[ExecRecord] = []
        self._clock = clock or (lambda: dt.datetime.now(UTC))
        self._contracts = list(default_contracts() if contracts is None else contracts)
        self._next_order_id = next_order_id
        self._perm_ids = itertools.count(900000001)
        self._exec_seq = itertools.count(1)
        self._session_numbers = itertools.count(1)
        self._scripts: list[tuple[Callable[[PlacedOrder], bool] | None, tuple[Step, ...]]] = []
        self._untransmitted: list[PlacedOrder] = []  # placed with transmit=0, waiting for their bracket's last order
        self._positions: dict[tuple[str, int], tuple[FakeContract, Decimal, Decimal]] = {}
        self._account_values: dict[str, str] = {
            "NetLiquidation": "100000.00",
            "TotalCashValue": "100000.00",
            "AvailableFunds": "100000.00",
            "BuyingPower": "400000.00",
            "ExcessLiquidity": "100000.00",
        }
        self._historical_bars: list[HistBar] = []
        self._history_archive: dict[str, list[HistBar]] | None = None  # serve_history: local symbol -> bars
        self._history_pacing = False
        self._history_sent: list[tuple[float, tuple[str, ...], tuple[str, ...]]] = []  # (clock s, request, contract)
        self._pacing: dict[tuple[str, ...], float] = {}
        self._sessions: dict[int, _Session] = {}
        self._handlers: set[asyncio.Task[None]] = set()
        self._accepting = True
        self._received: list[ReceivedMessage] = []
        self._sent: list[SentMessage] = []
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Listen on a random free port of 127.0.0.1 in a background thread."""
        ready = threading.Event()
        failure: list[OSError] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(asyncio.start_server(self._handle, self.host, 0))
                self.port = self._server.sockets[0].getsockname()[1]
            except OSError as exc:  # reported to start()'s caller below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-ib-gateway", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every connection and the listening socket; join the thread."""
        if self._loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            await self._close_sessions()
            await self._server.wait_closed()
            if self._handlers:
                await asyncio.wait(list(self._handlers), timeout=5)

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` (a coroutine function) in the gateway loop and wait for it."""
        assert self._loop is not None, "start() the gateway first"
        return asyncio.run_coroutine_threadsafe(fn(), self._loop).result(10)

    # ------------------------------------------------------------------ scripting

    def script_order(self, *steps: Step, match: Callable[[PlacedOrder], bool] | None = None) -> None:
        """Queue ``steps`` for the next placeOrder (that ``match`` accepts)."""
        with self._cond:
            self._scripts.append((match, tuple(steps)))

    def apply(self, order_id: int, *steps: Step, client_id: int | None = None) -> None:
        """Run ``steps`` against an order already placed."""

        async def go() -> None:
            # the placeOrder may still be in flight from the client: wait for it
            loop = asyncio.get_running_loop()  # its clock stays real under freezegun's real_asyncio=True
            deadline = loop.time() + 5
            while (order := self._find_order(order_id, client_id)) is None:
                if loop.time() > deadline:
                    raise KeyError(f"fake gateway: no order {order_id} (client {client_id}) arrived in 5 s")
                await asyncio.sleep(0.002)
            await self._run_steps(order, steps)

        self._call(go)

    def add_contract(self, contract: FakeContract) -> None:
        with self._cond:
            self._contracts.append(contract)

    def contract(self, local_symbol: str) -> FakeContract:
        """The known contract with that local symbol (``MESZ6``)."""
        for c in self._contracts:
            if c.local_symbol == local_symbol:
                return c
        raise KeyError(local_symbol)

    def set_position(self, contract: FakeContract, quantity: int | Decimal, avg_cost: Decimal | str = "0", *, account: str | None = None, push: bool = True) -> None:
        """Replace the position in ``contract``; subscribed clients get an update when ``push``."""

        async def go() -> None:
            acct = account or self.accounts[0]
            self._positions[(acct, contract.con_id)] = (contract, Decimal(quantity), Decimal(avg_cost))
            if push:
                await self._push_position(acct, contract.con_id)

        self._call(go)

    def positions(self) -> dict[tuple[str, str], Decimal]:
        """Current positions as {(account, local symbol): signed quantity}, zeros left out."""
        return {(a, c.local_symbol): q for (a, _), (c, q, _) in self._positions.items() if q}

    def set_account_value(self, tag: str, value: str) -> None:
        with self._cond:
            self._account_values[tag] = value

    def set_historical_bars(self, bars: Iterable[HistBar]) -> None:
        """Bars every later reqHistoricalData answers with (stamped with their start)."""
        with self._cond:
            self._historical_bars = list(bars)

    def serve_history(self, archive: dict[str, Iterable[HistBar]], *, pacing: bool = True) -> None:
        """Answer reqHistoricalData from ``archive`` (local symbol -> bars stamped with their start), as IB does.

        Each request gets the bars of its contract whose start lies in its
        window: ``duration`` (``"N S"``) back from ``endDateTime`` (IB's
        ``"YYYYMMDD HH:MM:SS UTC"`` or ``"YYYYMMDD-HH:MM:SS"``, UTC). A window
        with none gets error 162 "HMDS query returned no data". With
        ``pacing``, IB's three historical data pacing rules are enforced on the
        gateway clock (``clock``, so a test's fake clock paces it): an identical
        request within 15 s, a sixth request for one contract, exchange and tick
        type within 2 s, or a 61st request within ten minutes gets error 162
        "Historical data request pacing violation" and no bars.
        """
        with self._cond:
            self._history_archive = {k: sorted(v, key=lambda b: b.start) for k, v in archive.items()}
            self._history_pacing = pacing
            self._history_sent = []

    def push_realtime_bars(self, bars: Iterable[HistBar], req_id: int | None = None) -> int:
        """Send 5-second bars to every real-time bar subscription (or one ``req_id``).

        Returns how many subscriptions they went to: 0 when the gateway has not yet
        read the client's reqRealTimeBars (the client registers it before sending).
        """
        bars = list(bars)

        async def go() -> int:
            sent = 0
            for session in list(self._sessions.values()):
                for rid in list(session.realtime_bars):
                    if req_id is None or rid == req_id:
                        sent += 1
                        for bar in bars:
                            await self._send(session, self._realtime_bar_fields(rid, bar))
            return sent

        return int(self._call(go))

    def send_error(self, req_id: int, code: int, message: str) -> None:
        """Send an error message (code and text) to every connected client."""

        async def go() -> None:
            for session in list(self._sessions.values()):
                await self._send(session, [4, 2, req_id, code, message, ""])

        self._call(go)

    def drop(self) -> None:
        """Close every client connection, as a gateway restart or a network cut would."""
        self._call(self._close_sessions)

    def set_accepting(self, accepting: bool) -> None:
        """When False, new connections are closed at once (a gateway that is down)."""
        with self._cond:
            self._accepting = accepting

    # ------------------------------------------------------------------ inspection

    def received(self, name: str | None = None) -> list[ReceivedMessage]:
        with self._cond:
            return [m for m in self._received if name is None or m.name == name]

    def count(self, name: str) -> int:
        return len(self.received(name))

    def unknown_messages(self) -> list[ReceivedMessage]:
        return [m for m in self.received() if m.name.startswith("unknown:")]

    def sent(self, name: str | None = None) -> list[SentMessage]:
        with self._cond:
            return [m for m in self._sent if name is None or m.name == name]

    def connected_client_ids(self) -> list[int]:
        with self._cond:
            return [s.client_id for s in self._sessions.values() if s.client_id is not None]

    def wait_for(self, name: str, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until ``count`` messages called ``name`` arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in self._received if m.name == name]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    names = [m.name for m in self._received]
                    raise AssertionError(f"fake gateway: {count} x {name} not received in {timeout}s; got {names}")
                self._cond.wait(left)

    async def wait_for_async(self, name: str, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """``wait_for`` for a test that runs in an asyncio loop (polls, never blocks the loop)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.received(name)
            if len(found) >= count:
                return found
            if loop.time() > deadline:
                names = [m.name for m in self.received()]
                raise AssertionError(f"fake gateway: {count} x {name} not received in {timeout}s; got {names}")
            await asyncio.sleep(0.005)

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until ``count`` clients have started the API."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len([s for s in self._sessions.values() if s.client_id is not None]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake gateway: {count} connection(s) not made in {timeout}s")
                self._cond.wait(left)

    # ------------------------------------------------------------------ socket

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(next(self._session_numbers), writer)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            if not self._accepting:
                return
            if await reader.readexactly(4) != b"API\0":
                return
            versions = (await self._read_message(reader))[0]
            low, _, high = versions.split(" ")[0].lstrip("v").partition("..")
            if not int(low) <= SERVER_VERSION <= int(high or low):
                return
            with self._cond:
                self._sessions[session.number] = session
            now = self._clock().astimezone(ZoneInfo(self.login_time_zone))
            await self._write(session, [SERVER_VERSION, f"{now:%Y%m%d %H:%M:%S} {self.login_time_zone}"])
            while not session.closed:
                fields = await self._read_message(reader)
                await self._dispatch(session, fields)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away; its session ends below
        finally:
            session.closed = True
            with self._cond:
                self._sessions.pop(session.number, None)
                self._cond.notify_all()
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass  # already reset by the peer: nothing left to close
            self._handlers.discard(task)

    @staticmethod
    async def _read_message(reader: asyncio.StreamReader) -> list[str]:
        size = struct.unpack(">I", await reader.readexactly(4))[0]
        payload = (await reader.readexactly(size)).decode()
        fields = payload.split("\0")
        if fields and fields[-1] == "":
            fields.pop()
        return fields

    async def _write(self, session: _Session, fields: Sequence[object]) -> None:
        if session.closed or session.writer.is_closing():
            return
        payload = "".join(_wire(f) + "\0" for f in fields).encode()
        session.writer.write(struct.pack(">I", len(payload)) + payload)
        await session.writer.drain()

    async def _send(self, session: _Session, fields: Sequence[object]) -> None:
        name = SERVER_MESSAGES.get(int(fields[0]), f"unknown:{fields[0]}")  # type: ignore[call-overload]
        with self._cond:
            self._sent.append(SentMessage(session.number, name, tuple(_wire(f) for f in fields)))
        await self._write(session, fields)

    async def _close_sessions(self) -> None:
        for session in list(self._sessions.values()):
            session.closed = True
            session.writer.close()
        with self._cond:
            self._sessions.clear()
            self._cond.notify_all()

    # ------------------------------------------------------------------ dispatch

    async def _dispatch(self, session: _Session, fields: list[str]) -> None:
        msg_id = int(fields[0])
        name = CLIENT_MESSAGES.get(msg_id, f"unknown:{msg_id}")
        with self._cond:
            self._received.append(ReceivedMessage(session.number, session.client_id, msg_id, name, tuple(fields)))
            self._cond.notify_all()
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            await handler(session, fields)

    async def _on_startApi(self, session: _Session, fields: list[str]) -> None:
        client_id = int(fields[2])
        if client_id in self.connected_client_ids():
            await self._send(session, [4, 2, -1, 326, f"Unable to connect as the client id {client_id} is already in use. Retry with a unique client id.", ""])
            session.closed = True
            session.writer.close()
            return
        with self._cond:
            session.client_id = client_id
            self._cond.notify_all()
        await self._send(session, [9, 1, self._next_valid_id()])
        await self._send(session, [15, 1, ",".join(self.accounts)])

    def _next_valid_id(self) -> int:
        used = [oid for (_, oid) in self.orders]
        return max([self._next_order_id, *(oid + 1 for oid in used)])

    async def _on_reqIds(self, session: _Session, fields: list[str]) -> None:
        await self._send(session, [9, 1, self._next_valid_id()])

    async def _on_reqManagedAccts(self, session: _Session, fields: list[str]) -> None:
        await self._send(session, [15, 1, ",".join(self.accounts)])

    async def _on_reqCurrentTime(self, session: _Session, fields: list[str]) -> None:
        await self._send(session, [49, 1, int(self._clock().timestamp())])

    async def _on_reqPositions(self, session: _Session, fields: list[str]) -> None:
        session.positions_subscribed = True
        for (account, con_id) in list(self._positions):
            await self._send(session, self._position_fields(account, con_id))
        await self._send(session, [62, 1])

    async def _on_cancelPositions(self, session: _Session, fields: list[str]) -> None:
        session.positions_subscribed = False

    async def _on_reqAccountUpdates(self, session: _Session, fields: list[str]) -> None:
        subscribe, account = fields[2] == "1", fields[3] or self.accounts[0]
        if not subscribe:
            return
        for tag, value in list(self._account_values.items()):
            await self._send(session, [6, 2, tag, value, "USD", account])
        for (acct, con_id), (c, qty, avg_cost) in list(self._positions.items()):
            if acct == account and qty:
                price = avg_cost / Decimal(c.multiplier or 1)
                await self._send(
                    session,
                    [7, 8, c.con_id, c.symbol, c.sec_type, c.last_trade_date, 0, "", c.multiplier, "", c.currency, c.local_symbol, c.trading_class,
                     _fmt_decimal(qty), _fmt_decimal(price), _fmt_decimal(qty * avg_cost), _fmt_decimal(avg_cost), 0, 0, acct],
                )
        await self._send(session, [8, 1, f"{self._clock():%H:%M}"])
        await self._send(session, [54, 1, account])

    async def _on_reqAccountUpdatesMulti(self, session: _Session, fields: list[str]) -> None:
        req_id, account, model = int(fields[2]), fields[3], fields[4]
        for tag, value in list(self._account_values.items()):
            await self._send(session, [73, 1, req_id, account, model, tag, value, "USD"])
        await self._send(session, [74, 1, req_id])

    async def _on_reqCompletedOrders(self, session: _Session, fields: list[str]) -> None:
        await self._send(session, [102])

    async def _on_reqOpenOrders(self, session: _Session, fields: list[str]) -> None:
        await self._send_open_orders(session, only_client=session.client_id)

    async def _on_reqAllOpenOrders(self, session: _Session, fields: list[str]) -> None:
        await self._send_open_orders(session, only_client=None)

    async def _send_open_orders(self, session: _Session, only_client: int | None) -> None:
        for order in list(self.orders.values()):
            if not order.is_done and order.status != "PendingSubmit" and (only_client is None or order.client_id == only_client):
                await self._send(session, self._open_order_fields(order))
                await self._send(session, self._order_status_fields(order))
        await self._send(session, [53, 1])

    async def _on_reqExecutions(self, session: _Session, fields: list[str]) -> None:
        req_id, client_filter, symbol_filter = int(fields[2]), fields[3], fields[6]
        chosen = [
            e for e in self.executions
            if (client_filter in ("", "0") or e.order.client_id == int(client_filter))
            and (not symbol_filter or e.order.contract.symbol == symbol_filter)
        ]
        for record in chosen:
            await self._send(session, self._exec_fields(req_id, record))
        for record in chosen:
            if record.commission is not None:
                await self._send(session, self._commission_fields(record.exec_id, record.commission, None))
        await self._send(session, [55, 1, req_id])

    async def _on_reqContractDetails(self, session: _Session, fields: list[str]) -> None:
        req_id = int(fields[2])
        matches = self._match_contracts(fields[3:15])
        if not matches:
            await self._send(session, [4, 2, req_id, 200, "No security definition has been found for the request", ""])
            return
        for c in matches:
            await self._send(session, self._contract_details_fields(req_id, c))
        await self._send(session, [52, 1, req_id])

    def _match_contracts(self, wanted: list[str]) -> list[FakeContract]:
        con_id, symbol, sec_type, last_trade, _strike, _right, multiplier, exchange, _primary, currency, local_symbol, trading_class = wanted
        if con_id not in ("", "0"):
            return [c for c in self._contracts if c.con_id == int(con_id)]
        result = []
        for c in self._contracts:
            if symbol and c.symbol != symbol:
                continue
            if sec_type and c.sec_type != sec_type:
                continue
            if last_trade and not c.last_trade_date.startswith(last_trade):
                continue
            if multiplier and c.multiplier != multiplier:
                continue
            if exchange and exchange != "SMART" and c.exchange != exchange:
                continue
            if currency and c.currency != currency:
                continue
            if local_symbol and c.local_symbol != local_symbol:
                continue
            if trading_class and c.trading_class != trading_class:
                continue
            result.append(c)
        return result

    async def _on_reqHistoricalData(self, session: _Session, fields: list[str]) -> None:
        # 20, reqId, contract(12), includeExpired, end, barSize, duration, useRTH, whatToShow, formatDate, ...
        req_id = int(fields[1])
        end, bar_size, duration, what, format_date = fields[15], fields[16], fields[17], fields[19], fields[20]
        if self._history_archive is not None:
            await self._answer_from_archive(session, fields)
            return
        if self.enforce_pacing:
            key = (*fields[2:14], end, bar_size, duration, what)
            now = time.monotonic()
            last = self._pacing.get(key)
            self._pacing[key] = now
            if last is not None and now - last < 15:
                await self._send(session, [4, 2, req_id, 162, "Historical Market Data Service error message:Historical data request pacing violation", ""])
                return
        daily = any(unit in bar_size for unit in ("day", "week", "month"))
        zone = ZoneInfo(self.login_time_zone)
        rows: list[object] = []
        for bar in self._historical_bars:
            if daily:
                date = f"{bar.start.astimezone(zone):%Y%m%d}"
            elif format_date == "2":
                date = str(int(bar.start.timestamp()))
            else:
                date = f"{bar.start.astimezone(zone):%Y%m%d  %H:%M:%S}"
            rows += [date, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.wap, bar.count]
        first = self._historical_bars[0].start if self._historical_bars else self._clock()
        last_start = self._historical_bars[-1].start if self._historical_bars else self._clock()
        start_s, end_s = (f"{t.astimezone(zone):%Y%m%d  %H:%M:%S}" for t in (first, last_start))
        await self._send(session, [17, req_id, start_s, end_s, len(self._historical_bars), *rows])

    async def _on_reqRealTimeBars(self, session: _Session, fields: list[str]) -> None:
        req_id = int(fields[2])
        matches = self._match_contracts(fields[3:15])
        session.realtime_bars[req_id] = matches[0] if len(matches) == 1 else None
        for bar in self.realtime_bars_on_subscribe:
            await self._send(session, self._realtime_bar_fields(req_id, bar))

    async def _on_cancelRealTimeBars(self, session: _Session, fields: list[str]) -> None:
        session.realtime_bars.pop(int(fields[2]), None)

    # ------------------------------------------------------------------ orders

    async def _on_placeOrder(self, session: _Session, fields: list[str]) -> None:
        order_id = int(fields[1])
        client_id = session.client_id if session.client_id is not None else 0
        existing = self.orders.get((client_id, order_id))
        if existing is not None:
            await self._modify(session, existing, fields)
            return
        matches = self._match_contracts(fields[2:14])
        if len(matches) != 1:
            await self._send(session, [4, 2, order_id, 200, "No security definition has been found for the request", ""])
            return
        order = PlacedOrder(
            client_id=client_id,
            order_id=order_id,
            perm_id=next(self._perm_ids),
            contract=matches[0],
            action=fields[16],
            quantity=Decimal(fields[17]),
            order_type=fields[18],
            lmt_price=_decimal(fields[19]),
            aux_price=_decimal(fields[20]),
            tif=fields[21],
            oca_group=fields[22],
            account=fields[23] or self.accounts[0],
            order_ref=fields[26],
            transmit=fields[27] != "0",
            parent_id=int(fields[28] or 0),
        )
        with self._cond:
            self.orders[(client_id, order_id)] = order
            if not order.transmit:
                self._untransmitted.append(order)
                return
            waiting = [o for o in self._untransmitted if o.client_id == client_id and order.parent_id
                       and (o.order_id == order.parent_id or o.parent_id == order.parent_id)]
            self._untransmitted = [o for o in self._untransmitted if o not in waiting]
            scripted = [(o, self._take_script(o)) for o in (*waiting, order)]
        for placed, steps in scripted:
            await self._run_steps(placed, steps)

    def _take_script(self, order: PlacedOrder) -> Sequence[Step]:
        for index, (match, steps) in enumerate(self._scripts):
            if match is None or match(order):
                del self._scripts[index]
                return steps
        return self.order_policy(order)

    async def _modify(self, session: _Session, order: PlacedOrder, fields: list[str]) -> None:
        order.quantity = Decimal(fields[17])
        order.lmt_price = _decimal(fields[19])
        order.aux_price = _decimal(fields[20])
        await self._broadcast_order(order)

    async def _on_cancelOrder(self, session: _Session, fields: list[str]) -> None:
        order_id = int(fields[2])
        order = self.orders.get((session.client_id or 0, order_id))
        if order is None:
            await self._send(session, [4, 2, order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found.", ""])
            return
        if order.is_done:
            await self._send(session, [4, 2, order_id, 10148, f"OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {order.status}.", ""])
            return
        if self.ack_cancels:
            await self._cancel(order)

    async def _on_reqGlobalCancel(self, session: _Session, fields: list[str]) -> None:
        for order in list(self.orders.values()):
            if not order.is_done:
                await self._cancel(order)

    async def _cancel(self, order: PlacedOrder) -> None:
        order.status = "Cancelled"
        await self._broadcast(self._order_status_fields(order), client_id=order.client_id)
        await self._broadcast([4, 2, order.order_id, 202, "Order Canceled - reason:", ""], client_id=order.client_id)
        for child in list(self.orders.values()):
            if child.parent_id == order.order_id and child.client_id == order.client_id and not child.is_done:
                await self._cancel(child)

    def _find_order(self, order_id: int, client_id: int | None) -> PlacedOrder | None:
        for (cid, oid), order in self.orders.items():
            if oid == order_id and (client_id is None or cid == client_id):
                return order
        return None

    async def _run_steps(self, order: PlacedOrder, steps: Sequence[Step]) -> None:
        for step in steps:
            if isinstance(step, Accept):
                parent = self._find_order(order.parent_id, order.client_id) if order.parent_id else None
                waiting = parent is not None and parent.filled == 0  # a child works once its parent executed
                order.status = step.status or ("PreSubmitted" if waiting else "Submitted")
                await self._broadcast_order(order)
            elif isinstance(step, Fill):
                await self._fill(order, step)
            elif isinstance(step, Commission):
                exec_id = step.exec_id or order.exec_ids[-1]
                self._set_commission(exec_id, Decimal(step.commission))
                await self._broadcast(self._commission_fields(exec_id, Decimal(step.commission), step.realized_pnl), client_id=order.client_id)
            elif isinstance(step, RepeatExec):
                record = self._exec(step.exec_id or order.exec_ids[-1])
                await self._broadcast(self._exec_fields(-1, record), client_id=order.client_id)
            elif isinstance(step, CorrectExec):
                original = self._exec(step.exec_id or order.exec_ids[-1])
                base, _, suffix = original.exec_id.rpartition(".")
                corrected = replace(original, exec_id=f"{base}.{int(suffix) + 1:02d}", price=Decimal(step.price), commission=None)
                self.executions.append(corrected)
                order.exec_ids.append(corrected.exec_id)
                await self._broadcast(self._exec_fields(-1, corrected), client_id=order.client_id)
            elif isinstance(step, Reject):
                await self._broadcast([4, 2, order.order_id, step.code, step.message, ""], client_id=order.client_id)
            elif isinstance(step, CancelByServer):
                await self._cancel(order)
            elif isinstance(step, Drop):
                await self._close_sessions()
            else:
                raise TypeError(f"fake gateway: unknown order step {step!r}")

    async def _fill(self, order: PlacedOrder, step: Fill) -> None:
        qty = order.remaining if step.qty is None else Decimal(step.qty)
        if qty <= 0 or qty > order.remaining:
            raise ValueError(f"fake gateway: cannot fill {qty} of order {order.order_id} with {order.remaining} remaining")
        price = Decimal(step.price)
        order.avg_fill_price = (order.avg_fill_price * order.filled + price * qty) / (order.filled + qty)
        order.filled += qty
        order.last_fill_price = price
        order.status = "Filled" if order.remaining == 0 else "Submitted"
        seq = next(self._exec_seq)
        exec_id = step.exec_id or f"0000e{seq:03x}.{order.perm_id:08x}.01.01"
        commission = None if step.commission is None else Decimal(step.commission)
        record = ExecRecord(
            exec_id=exec_id,
            order=order,
            side="BOT" if order.action == "BUY" else "SLD",
            shares=qty,
            price=price,
            cum_qty=order.filled,
            avg_price=order.avg_fill_price,
            time=self._clock(),
            commission=commission,
        )
        self.executions.append(record)
        order.exec_ids.append(exec_id)
        self._move_position(order, qty, price)
        await self._broadcast(self._exec_fields(-1, record), client_id=order.client_id)
        await self._broadcast_order(order)
        if commission is not None:
            await self._broadcast(self._commission_fields(exec_id, commission, step.realized_pnl), client_id=order.client_id)
        await self._push_position(order.account, order.contract.con_id)
        for child in list(self.orders.values()):
            if child.parent_id == order.order_id and child.client_id == order.client_id and child.status == "PreSubmitted":
                child.status = "Submitted"  # the parent executed: its children are active now
                await self._broadcast_order(child)
        if order.status == "Filled" and (order.parent_id or order.oca_group):
            for sibling in list(self.orders.values()):
                same_bracket = order.parent_id and sibling.parent_id == order.parent_id
                same_oca = order.oca_group and sibling.oca_group == order.oca_group
                if sibling is not order and (same_bracket or same_oca) and sibling.client_id == order.client_id and not sibling.is_done:
                    await self._cancel(sibling)

    def _move_position(self, order: PlacedOrder, qty: Decimal, price: Decimal) -> None:
        key = (order.account, order.contract.con_id)
        _, old_qty, old_cost = self._positions.get(key, (order.contract, Decimal(0), Decimal(0)))
        signed = qty if order.action == "BUY" else -qty
        new_qty = old_qty + signed
        cost = price * Decimal(order.contract.multiplier or 1)
        if new_qty == 0:
            new_cost = Decimal(0)
        elif old_qty == 0 or (old_qty > 0) != (new_qty > 0):
            new_cost = cost
        elif abs(new_qty) > abs(old_qty):
            new_cost = (old_cost * abs(old_qty) + cost * qty) / abs(new_qty)
        else:
            new_cost = old_cost
        self._positions[key] = (order.contract, new_qty, new_cost)

    async def _push_position(self, account: str, con_id: int) -> None:
        for session in list(self._sessions.values()):
            if session.positions_subscribed:
                await self._send(session, self._position_fields(account, con_id))

    def _exec(self, exec_id: str) -> ExecRecord:
        for record in reversed(self.executions):
            if record.exec_id == exec_id:
                return record
        raise KeyError(f"fake gateway: no execution {exec_id}")

    def _set_commission(self, exec_id: str, commission: Decimal) -> None:
        for index, record in enumerate(self.executions):
            if record.exec_id == exec_id:
                self.executions[index] = replace(record, commission=commission)

    async def _broadcast(self, fields: Sequence[object], client_id: int | None) -> None:
        """Send to the sessions of ``client_id`` (the order's owner); None: every session."""
        for session in list(self._sessions.values()):
            if client_id is None or session.client_id == client_id:
                await self._send(session, fields)

    async def _broadcast_order(self, order: PlacedOrder) -> None:
        await self._broadcast(self._open_order_fields(order), client_id=order.client_id)
        await self._broadcast(self._order_status_fields(order), client_id=order.client_id)

    # ------------------------------------------------------------------ message layouts (server version 176)

    @staticmethod
    def _contract_fields(c: FakeContract) -> list[object]:
        """conId .. tradingClass as execDetails, position and openOrder carry them (11 fields)."""
        return [c.con_id, c.symbol, c.sec_type, c.last_trade_date, 0, "", c.multiplier, c.exchange, c.currency, c.local_symbol, c.trading_class]

    def _position_fields(self, account: str, con_id: int) -> list[object]:
        c, qty, avg_cost = self._positions[(account, con_id)]
        return [61, 3, account, *self._contract_fields(c), _fmt_decimal(qty), _fmt_decimal(avg_cost)]

    @staticmethod
    def _order_status_fields(o: PlacedOrder) -> list[object]:
        return [3, o.order_id, o.status, _fmt_decimal(o.filled), _fmt_decimal(o.remaining), _fmt_decimal(o.avg_fill_price), o.perm_id, o.parent_id, _fmt_decimal(o.last_fill_price), o.client_id, "", 0]

    def _exec_fields(self, req_id: int, e: ExecRecord) -> list[object]:
        o = e.order
        stamp = f"{e.time.astimezone(ZoneInfo(self.login_time_zone)):%Y%m%d %H:%M:%S} {self.login_time_zone}"
        return [
            11, req_id, o.order_id, *self._contract_fields(o.contract),
            e.exec_id, stamp, o.account, o.contract.exchange, e.side, _fmt_decimal(e.shares), _fmt_decimal(e.price),
            o.perm_id, o.client_id, 0, _fmt_decimal(e.cum_qty), _fmt_decimal(e.avg_price), o.order_ref, "", "", "", 1,
        ]

    @staticmethod
    def _commission_fields(exec_id: str, commission: Decimal, realized_pnl: Decimal | str | None) -> list[object]:
        pnl = UNSET_DOUBLE_WIRE if realized_pnl is None else str(realized_pnl)
        return [59, 1, exec_id, _fmt_decimal(commission), "USD", pnl, UNSET_DOUBLE_WIRE, ""]

    @staticmethod
    def _realtime_bar_fields(req_id: int, bar: HistBar) -> list[object]:
        return [50, 3, req_id, int(bar.start.timestamp()), bar.open, bar.high, bar.low, bar.close, bar.volume, bar.wap, bar.count]

    @staticmethod
    def _contract_details_fields(req_id: int, c: FakeContract) -> list[object]:
        return [
            10, req_id, c.symbol, c.sec_type, c.last_trade_date, 0, "", c.exchange, c.currency, c.local_symbol,
            c.trading_class, c.trading_class, c.con_id, c.min_tick,
            c.multiplier, "ACTIVETIM,LMT,MKT,STP,STPLMT", c.exchange, 1, 0, c.long_name, "",
            c.last_trade_date[:6], "", "", "", c.time_zone_id, "", "", "", "",
            0,  # no secIdList
            1, "ES" if c.symbol in ("MES", "ES") else c.symbol, "IND", "67,67", c.last_trade_date, "",
            1, 1, 1,  # minSize, sizeIncrement, suggestedSizeIncrement
        ]

    def _open_order_fields(self, o: PlacedOrder) -> list[object]:
        lmt = "" if o.lmt_price is None else _fmt_decimal(o.lmt_price)
        aux = "" if o.aux_price is None else _fmt_decimal(o.aux_price)
        return [
            5, o.order_id, *self._contract_fields(o.contract),
            o.action, _fmt_decimal(o.quantity), o.order_type, lmt, aux, o.tif, o.oca_group, o.account, "", 0, o.order_ref,
            o.client_id, o.perm_id, 0, 0, 0, "",  # outsideRth, hidden, discretionaryAmt, goodAfterTime
            "",  # sharesAllocation (deprecated)
            "", "", "", "", "", "", "", "", "", 0, "", -1,  # faGroup .. exemptCode
            0, "", "", "", "", "",  # auctionStrategy .. stockRangeUpper
            "", 0, 0, 0, "", 3, 0, 0, "", o.parent_id, 0,  # displaySize .. triggerMethod
            "", "", "", "",  # volatility, volatilityType, deltaNeutralOrderType, deltaNeutralAuxPrice
            0, 0, "", "", "", "", "",  # continuousUpdate .. comboLegsDescrip
            0, 0, 0,  # combo legs, order combo legs, smart combo routing params
            "", "", "",  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
            "",  # hedgeType
            0, "", "", 0, 0,  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, no delta-neutral contract
            "",  # algoStrategy
            0, 0, o.status, "", "", "", "", "", "", "", "", "", "", "", "", "", "", 0, 0,  # solicited .. randomizePrice
            0,  # conditions
            "", "", "", "", "", "", "", 0, "", "", "", "", 0, 0, "", 0,  # adjustedOrderType .. usePriceMgmtAlgo
            "", "", 0,  # duration, postToAts, autoCancelParent
            "", "", "", "", "",  # minTradeQty .. midOffsetAtHalf
        ]

    # ------------------------------------------------------------------ historical data archive (serve_history)

    @staticmethod
    def _parse_history_end(text: str) -> dt.datetime:
        text = text.strip()
        for layout in ("%Y%m%d %H:%M:%S UTC", "%Y%m%d-%H:%M:%S", "%Y%m%d %H:%M:%S"):
            try:
                return dt.datetime.strptime(text, layout).replace(tzinfo=UTC)
            except ValueError:
                continue
        raise ValueError(f"fake gateway: endDateTime {text!r} is not in a layout this gateway reads")

    def _history_pacing_violation(self, request: tuple[str, ...], contract: tuple[str, ...]) -> bool:
        now = self._clock().timestamp()
        sent = self._history_sent
        identical = any(r == request and now - t < 15 for t, r, _ in sent)
        same_contract = sum(1 for t, _, c in sent if c == contract and now - t < 2) >= 5
        too_many = sum(1 for t, _, _ in sent if now - t < 600) >= 60
        sent.append((now, request, contract))
        return identical or same_contract or too_many

    async def _answer_from_archive(self, session: _Session, fields: list[str]) -> None:
        # 20, reqId, contract(12), includeExpired, end, barSize, duration, useRTH, whatToShow, formatDate, ...
        req_id = int(fields[1])
        end_text, bar_size, duration, what, format_date = fields[15], fields[16], fields[17], fields[19], fields[20]
        matches = self._match_contracts(fields[2:14])
        contract = matches[0] if len(matches) == 1 else None
        if contract is None:
            await self._send(session, [4, 2, req_id, 200, "No security definition has been found for the request", ""])
            return
        if self._history_pacing and self._history_pacing_violation(
                (str(contract.con_id), end_text, bar_size, duration, what), (str(contract.con_id), contract.exchange, what)):
            await self._send(session, [4, 2, req_id, 162, "Historical Market Data Service error message:Historical data request pacing violation", ""])
            return
        number, _, unit = duration.partition(" ")
        if unit != "S":
            await self._send(session, [4, 2, req_id, 321, f"Error validating request:-'bS' : cause - this fake gateway reads durations in S only, not {duration!r}", ""])
            return
        end = self._parse_history_end(end_text)
        start = end - dt.timedelta(seconds=int(number))
        assert self._history_archive is not None
        chosen = [b for b in self._history_archive.get(contract.local_symbol, []) if start <= b.start < end]
        if not chosen:
            await self._send(session, [4, 2, req_id, 162, f"Historical Market Data Service error message:HMDS query returned no data: {contract.local_symbol}@{contract.exchange} Trades", ""])
            return
        zone = ZoneInfo(self.login_time_zone)
        rows: list[object] = []
        for bar in chosen:
            date = str(int(bar.start.timestamp())) if format_date == "2" else f"{bar.start.astimezone(zone):%Y%m%d  %H:%M:%S}"
            rows += [date, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.wap, bar.count]
        start_s, end_s = (f"{t.astimezone(zone):%Y%m%d  %H:%M:%S}" for t in (start, end))
        await self._send(session, [17, req_id, start_s, end_s, len(chosen), *rows])
