"""``IBKRAdapter``: the ``BrokerAdapter`` protocol over TWS / IB Gateway.

The only statebot module that imports a client library (ib_insync, or
ib_async in its place, through ``client_library()``). It uses the library's
blocking API on the caller's thread: every call runs the library's event loop
briefly, and ``drain()`` lets it read whatever TWS sent since the last call.

What it guarantees on top of the library:

- Orders carry their purpose: ``orderRef`` is
  ``statebot:<purpose>:<strategy>:<client_order_id>``, so after a reconnect (or
  a restart) the orders TWS still works are recognised and rebuilt, protective
  ones (purpose ``protect``) with their time in force and OCA group.
- Brackets (``submit_bracket``) are IB parent/child orders: the entry first
  with ``transmit=False``, then the stop and the target with ``parentId`` the
  entry's IB order id, one ``ocaGroup`` (``ocaType`` 2: a fill reduces the
  sibling, with overfill protection), good-till-cancelled; only the last one
  placed has ``transmit=True``, so TWS sends the three together and no entry
  can fill before its stop exists. TWS activates the children when the entry
  fills and keeps them working whether or not the bot is connected.
  ``modify`` changes a working order's size and price in place (the same
  order id placed again), as the runner does to shrink a bracket's children
  to what a partly filled entry filled.
- Every execution is applied once (``ExecutionLedger``): repeats, the replay of
  the day's executions after a reconnect and corrections (a correction that
  changes the quantity becomes a ``Fill`` of the difference; one that changes
  only the price cannot be expressed as a ``Fill`` and is kept in
  ``price_corrections`` for the event log).
- A ``Fill`` carries its commission, which IB reports separately: a fill is
  held until its commission report arrives, at most ``commission_wait_s``
  seconds of wall time; then it is released with commission 0 and the late
  report, if it ever comes, is kept in ``late_commissions``.
- A dropped connection is noticed (the library's ``disconnectedEvent``), every
  call that needs TWS then raises ``AdapterUnavailable``, and
  ``reconnect_if_due(now)`` reconnects on the ``ReconnectBackoff`` schedule,
  replaying positions, open orders and executions through the same paths.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from statebot.venues.ibkr._library import client_library
from statebot.venues.ibkr.backoff import ReconnectBackoff
from statebot.venues.ibkr.bars import AggregatedBar, BarAggregator, RealTimeBar
from statebot.venues.ibkr.contracts import ROLL_DAYS_BEFORE_EXPIRY, front_month
from statebot.venues.ibkr.executions import (
    Execution,
    ExecutionChange,
    ExecutionLedger,
)
from statebot.core.time.clock import Bar, require_aware
from statebot.errors import AdapterUnavailable, BarRejected, ConfigError
from statebot.core.instruments import InstrumentSpec, instrument
from statebot.core.orders import (
    ACCEPTED,
    CANCELLED,
    DAY,
    FILLED,
    GTC,
    LIMIT,
    MARKET,
    PARTIALLY_FILLED,
    PROTECT,
    PURPOSES,
    REJECTED,
    STOP,
    SUBMITTED,
    BracketOrder,
    BrokerEvent,
    Fill,
    OrderRequest,
    OrderStatus,
)

PAPER_PORT = 7497
LIVE_PORT = 7496
ORDER_REF_PREFIX = "statebot"
OCA_REDUCE_WITH_BLOCK = 2
"""IB ``ocaType``: a fill of one order of the group reduces the others by its size, with overfill protection."""
NOT_A_REJECT = frozenset({0, 202, 10147, 10148})
"""Error codes on a cancelled trade that do not make it a reject (cancel acknowledgements)."""

_IB_STATUS = {
    "PendingSubmit": SUBMITTED,
    "ApiPending": SUBMITTED,
    "PreSubmitted": ACCEPTED,
    "Submitted": ACCEPTED,
    "PendingCancel": ACCEPTED,
    "Filled": FILLED,
    "Cancelled": CANCELLED,
    "ApiCancelled": CANCELLED,
    "Inactive": REJECTED,
}


def wall_time() -> dt.datetime:
    """Now, aware, UTC (freezegun freezes it)."""
    return dt.datetime.now(dt.timezone.utc)


def is_paper_account(account: str) -> bool:
    """IB paper-trading account ids start with ``D`` (``DU1234567``); live ones do not."""
    return account.startswith("D")


def order_ref(order: OrderRequest) -> str:
    """The ``orderRef`` that tags an IB order with its statebot purpose, strategy and id."""
    return f"{ORDER_REF_PREFIX}:{order.purpose}:{order.strategy}:{order.client_order_id}"


def parse_order_ref(ref: str) -> tuple[str, str, str] | None:
    """``(purpose, strategy, client_order_id)`` from a statebot ``orderRef``; None for any other."""
    prefix, _, rest = ref.partition(":")
    purpose, _, rest = rest.partition(":")
    strategy, _, client_order_id = rest.partition(":")
    if prefix != ORDER_REF_PREFIX or purpose not in PURPOSES or not client_order_id:
        return None
    return purpose, strategy, client_order_id


class IBKRAdapter:
    """A ``BrokerAdapter`` on TWS or IB Gateway at ``host``:``port`` as ``client_id``.

    ``symbols`` are the statebot symbols traded (MES, ES, ...); each is traded
    in its front month on the session date given to ``connect`` (roll rule in
    ``statebot.venues.ibkr.contracts``). ``readonly`` connects read-only
    (TWS's own guard; also set "Read-Only API" in TWS for OBSERVE) and
    refuses every write locally. ``expect_paper`` (True or False) makes
    ``connect`` refuse, with ``ConfigError``, an account of the other kind.
    ``ib`` may be passed to use an
    existing client object (tests); otherwise one is made from the installed
    library (``MissingDependency`` when there is none).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = PAPER_PORT,
        client_id: int = 1,
        symbols: tuple[str, ...] = ("MES",),
        timeout_s: float = 4.0,
        account: str = "",
        roll_days: int = ROLL_DAYS_BEFORE_EXPIRY,
        instruments: Mapping[str, InstrumentSpec] | None = None,
        backoff: ReconnectBackoff | None = None,
        commission_wait_s: float = 5.0,
        readonly: bool = False,
        expect_paper: bool | None = None,
        clock: Callable[[], dt.datetime] = wall_time,
        ib: Any = None,
    ) -> None:
        if isinstance(client_id, bool) or not isinstance(client_id, int) or client_id < 0:
            raise ConfigError(f"client id {client_id!r} must be an integer >= 0")
        if timeout_s <= 0 or commission_wait_s < 0:
            raise ConfigError(f"timeout_s {timeout_s!r} must be > 0 and commission_wait_s {commission_wait_s!r} >= 0")
        self.host, self.port, self.client_id = host, port, client_id
        self.symbols = tuple(symbols)
        self.timeout_s = timeout_s
        self.account = account
        self.roll_days = roll_days
        self._instruments = dict(instruments or {})
        self._specs = {s: instrument(s, self._instruments) for s in self.symbols}
        self.backoff = backoff or ReconnectBackoff()
        self.commission_wait_s = commission_wait_s
        self.readonly = readonly
        self.expect_paper = expect_paper
        self._clock = clock
        # the library of a client object passed in (ib_insync or ib_async) also makes the orders and contracts
        self._lib = client_library() if ib is None else importlib.import_module(type(ib).__module__.partition(".")[0])
        self.ib = ib if ib is not None else self._lib.IB()
        self._contracts: dict[str, Any] = {}  # statebot symbol -> qualified IB contract
        self._orders: dict[str, OrderRequest] = {}  # client_order_id -> request
        self._trades: dict[str, Any] = {}  # client_order_id -> IB trade
        self._client_ids: dict[int, str] = {}  # IB order id -> client_order_id (a bracket child names its parent so)
        self._last_status: dict[str, tuple[str, int, int]] = {}
        self._ledger = ExecutionLedger()
        self._held: dict[str, tuple[ExecutionChange, dt.datetime]] = {}  # exec_id -> fill waiting for its commission
        self._exec_symbol: dict[str, str] = {}  # exec_id -> statebot symbol (the contract's symbol)
        self._events: list[BrokerEvent] = []
        self._aggregators: dict[int, BarAggregator] = {}  # id(real-time bar list) -> aggregator
        self._bar_lists: list[Any] = []
        self._bars: list[AggregatedBar] = []
        self.price_corrections: list[ExecutionChange] = []
        self.late_commissions: list[tuple[str, Decimal]] = []
        self.rejected_bars: list[BarRejected] = []
        self.disconnects = 0
        self._attempt = 0
        self._next_attempt: dt.datetime | None = None
        self._session_date: dt.date | None = None
        self._wire_events()

    # ------------------------------------------------------------------ connection

    @property
    def reconnect_attempts(self) -> int:
        """Failed or pending attempts since the connection was last up (0 while connected)."""
        return self._attempt

    @property
    def connected(self) -> bool:
        """True while the API connection is up (the library's own flag can lag a drop; this one does not)."""
        return bool(self.ib.isConnected()) and self._up

    def connect(self, session_date: dt.date) -> None:
        """Connect, qualify the front month of every symbol for ``session_date``, replay what TWS holds.

        Raises ``AdapterUnavailable`` when TWS cannot be reached or the
        contracts cannot be qualified (the connection is closed again; try
        later), ``ConfigError`` when the account is not of the expected kind
        (``expect_paper``; do not retry).
        """
        self._session_date = session_date
        self._up = False
        try:
            self.ib.connect(self.host, self.port, clientId=self.client_id, timeout=self.timeout_s, readonly=self.readonly, account=self.account)
        except (OSError, TimeoutError, ConnectionError) as exc:
            raise AdapterUnavailable(f"cannot connect to TWS at {self.host}:{self.port} as client {self.client_id}: {exc!r}") from None
        self._up = True
        self._check_accounts()
        try:
            for symbol in self.symbols:
                self._contracts[symbol] = self._qualify(symbol, session_date)
        except AdapterUnavailable:
            self.ib.disconnect()
            self._up = False
            raise
        self._attempt, self._next_attempt = 0, None
        self._replay()

    def disconnect(self) -> None:
        """Close the connection (working orders stay at IB)."""
        self._up = False
        self.ib.disconnect()

    def reconnect_if_due(self, now: dt.datetime) -> bool:
        """While disconnected, try to reconnect when the backoff says so; True when connected afterwards.

        The first try after a drop is immediate, then ``backoff`` delays
        (from ``now``, aware) apply between failures.
        """
        require_aware(now, "now")
        if self.connected:
            return True
        if self._next_attempt is not None and now < self._next_attempt:
            return False
        assert self._session_date is not None, "connect() first"
        self._attempt += 1
        try:
            self.connect(self._session_date)
        except AdapterUnavailable:
            self._next_attempt = now + dt.timedelta(seconds=self.backoff.delay_s(self._attempt))
            return False
        return True

    def _check_accounts(self) -> None:
        """With ``expect_paper`` set, refuse (disconnect, ``ConfigError``) an account of the other kind."""
        if self.expect_paper is None:
            return
        accounts = [self.account] if self.account else list(self.ib.managedAccounts())
        wrong = [a for a in accounts if is_paper_account(a) != self.expect_paper]
        if wrong or not accounts:
            self.ib.disconnect()
            self._up = False
            kind = "paper" if self.expect_paper else "live"
            raise ConfigError(f"expected {kind} account(s) on {self.host}:{self.port}, but TWS manages {', '.join(accounts) or 'none'}")

    def _qualify(self, symbol: str, on: dt.date) -> Any:
        wanted = front_month(symbol, on, roll_days=self.roll_days)
        lib = self._library()
        try:
            found = self.ib.qualifyContracts(lib.Future(symbol, wanted.contract_month, exchange=wanted.exchange, currency="USD"))
        except ConnectionError as exc:
            raise AdapterUnavailable(f"connection dropped while qualifying {wanted.local_symbol}: {exc!r}") from None
        if len(found) != 1 or found[0] is None or not getattr(found[0], "conId", 0):
            raise AdapterUnavailable(f"IB did not qualify {wanted.local_symbol} ({symbol} {wanted.contract_month} on {wanted.exchange})")
        return found[0]

    def _library(self) -> Any:
        return self._lib

    def ib_order_id(self, order_id: str) -> int:
        """IB's order id of statebot order ``order_id`` (for logs); KeyError when never sent."""
        return int(self._trades[order_id].order.orderId)

    def contract(self, symbol: str) -> Any:
        """The qualified IB contract traded for ``symbol``."""
        return self._contracts[symbol]

    def _pump(self, call: str) -> None:
        """Let the library read what TWS has sent; ``AdapterUnavailable`` if the connection is (or goes) down."""
        self._require_connected(call)
        try:
            self.ib.sleep(0)
        except ConnectionError:
            self._on_disconnected()
            raise AdapterUnavailable(f"the connection to TWS dropped during {call}; buffered reports stay for the next drain") from None
        self._require_connected(call)

    def _require_connected(self, call: str) -> None:
        if not self.connected:
            raise AdapterUnavailable(f"IBKR adapter is disconnected; {call} was not sent")

    def _wire_events(self) -> None:
        self._up = False
        self.ib.orderStatusEvent += self._on_order_status
        self.ib.execDetailsEvent += self._on_exec
        self.ib.commissionReportEvent += self._on_commission
        self.ib.disconnectedEvent += self._on_disconnected

    def _on_disconnected(self) -> None:
        if self._up:
            self.disconnects += 1
        self._up = False

    def _replay(self) -> None:
        """After (re)connecting: adopt the orders TWS still works and every execution of the day, once.

        A statebot order that was working before and that TWS no longer works
        ended while we were away: FILLED when the day's executions cover it,
        else CANCELLED (reason says so); its fills come from the executions.
        """
        working: set[str] = set()
        for fill in self.ib.fills():
            self._take_execution(fill)
            report = fill.commissionReport
            if report.execId:
                self._take_commission(report.execId, report.commission)
        for trade in self.ib.openTrades():
            parsed = parse_order_ref(trade.order.orderRef or "")
            if parsed is None:
                continue
            purpose, strategy, client_order_id = parsed
            self._trades[client_order_id] = trade
            self._client_ids[int(trade.order.orderId)] = client_order_id
            if client_order_id not in self._orders:
                rebuilt = self._rebuild(trade, purpose, strategy, client_order_id)
                if rebuilt is not None:
                    self._orders[client_order_id] = rebuilt
            working.add(client_order_id)
            self._on_order_status(trade)
        for order_id, trade in list(self._trades.items()):
            order = self._orders.get(order_id)
            if order_id in working or order is None or trade.isDone() or self._last_status.get(order_id, ("",))[0] in (FILLED, CANCELLED, REJECTED):
                continue
            filled = sum(e.shares for e in self._ledger.executions() if (parse_order_ref(e.order_ref) or ("", "", ""))[2] == order_id)
            status = FILLED if filled >= abs(order.qty) else CANCELLED
            self._last_status[order_id] = (status, filled, abs(order.qty) - filled)
            self._events.append(OrderStatus(order_id=order_id, status=status, filled=min(filled, abs(order.qty)),
                                            remaining=max(abs(order.qty) - filled, 0), at=self._clock(),
                                            reason="" if status == FILLED else "no longer working at IB after a reconnect"))

    def _rebuild(self, trade: Any, purpose: str, strategy: str, client_order_id: str) -> OrderRequest | None:
        symbol = trade.contract.symbol
        if symbol not in self._specs:
            return None
        spec = self._specs[symbol]
        qty = int(trade.order.totalQuantity) * (1 if trade.order.action == "BUY" else -1)
        kind = {"MKT": MARKET, "LMT": LIMIT, "STP": STOP}.get(trade.order.orderType, MARKET)
        limit = spec.to_ticks(Decimal(repr(trade.order.lmtPrice))) if kind == LIMIT else None
        stop = spec.to_ticks(Decimal(repr(trade.order.auxPrice))) if kind == STOP else None
        if purpose == PROTECT and kind == MARKET:
            return None  # not an order statebot sends: leave it to reconciliation
        parent = self._client_ids.get(int(trade.order.parentId or 0)) if purpose == PROTECT else None
        return OrderRequest(client_order_id=client_order_id, strategy=strategy, symbol=symbol, qty=qty, kind=kind,
                            purpose=purpose, limit_ticks=limit, stop_ticks=stop,
                            tif=GTC if trade.order.tif == GTC else DAY, parent_id=parent,
                            oca_group=(trade.order.ocaGroup or None) if purpose == PROTECT else None)

    # ------------------------------------------------------------------ BrokerAdapter

    def submit(self, order: OrderRequest) -> None:
        """Place ``order`` on its symbol's front month; ``AdapterUnavailable`` when disconnected.

        A duplicate ``client_order_id`` or an unknown symbol is reported as a
        REJECTED status from ``drain()``, never sent.
        """
        self._require_connected("submit")
        reason = ""
        if self.readonly:
            reason = "read-only connection: orders are not sent"
        elif order.client_order_id in self._orders:
            reason = f"duplicate client_order_id {order.client_order_id!r}"
        elif order.symbol not in self._contracts:
            reason = f"symbol {order.symbol!r} is not traded by this adapter ({', '.join(self.symbols)})"
        if reason:
            self._events.append(OrderStatus(order_id=order.client_order_id, status=REJECTED, filled=0,
                                            remaining=abs(order.qty), at=self._clock(), reason=reason))
            return
        self._orders[order.client_order_id] = order
        trade = self.ib.placeOrder(self._contracts[order.symbol], self._ib_order(order))
        self._trades[order.client_order_id] = trade
        self._client_ids[int(trade.order.orderId)] = order.client_order_id

    def submit_bracket(self, bracket: BracketOrder) -> None:
        """Place ``bracket`` as IB parent/child orders (see the module docstring); ``AdapterUnavailable`` when
        disconnected. A refusal (read-only, a duplicate id, an unknown symbol) refuses every order of it, each
        reported REJECTED from ``drain()``, none sent."""
        self._require_connected("submit_bracket")
        orders = bracket.orders
        reason = ""
        if self.readonly:
            reason = "read-only connection: orders are not sent"
        elif any(o.client_order_id in self._orders for o in orders):
            reason = f"duplicate client_order_id in bracket {bracket.entry.client_order_id!r}"
        elif bracket.entry.symbol not in self._contracts:
            reason = f"symbol {bracket.entry.symbol!r} is not traded by this adapter ({', '.join(self.symbols)})"
        if reason:
            for o in orders:
                self._events.append(OrderStatus(order_id=o.client_order_id, status=REJECTED, filled=0,
                                                remaining=abs(o.qty), at=self._clock(), reason=reason))
            return
        contract = self._contracts[bracket.entry.symbol]
        parent = self._ib_order(bracket.entry)
        parent.orderId = self.ib.client.getReqId()
        ib_orders = [parent]
        for child in bracket.protectors:
            placed = self._ib_order(child)
            placed.parentId = parent.orderId
            placed.ocaGroup = child.oca_group or ""
            placed.ocaType = OCA_REDUCE_WITH_BLOCK
            ib_orders.append(placed)
        for placed in ib_orders:
            placed.transmit = placed is ib_orders[-1]
        for order, placed in zip(orders, ib_orders):
            self._orders[order.client_order_id] = order
            trade = self.ib.placeOrder(contract, placed)
            self._trades[order.client_order_id] = trade
            self._client_ids[int(trade.order.orderId)] = order.client_order_id

    def modify(self, order: OrderRequest) -> None:
        """Send ``order``'s size and price for the working order of the same client id (IB's modify: the same
        order placed again with its order id, parent and OCA group unchanged); an order already ended (or
        unknown) is left alone. ``AdapterUnavailable`` when disconnected."""
        self._require_connected("modify")
        trade = self._trades.get(order.client_order_id)
        if self.readonly or trade is None or trade.isDone():
            return
        spec = self._specs[order.symbol]
        placed = trade.order
        placed.totalQuantity = abs(order.qty)
        if order.kind == STOP and order.stop_ticks is not None:
            placed.auxPrice = float(spec.from_ticks(order.stop_ticks))
        elif order.kind == LIMIT and order.limit_ticks is not None:
            placed.lmtPrice = float(spec.from_ticks(order.limit_ticks))
        placed.transmit = True
        self._orders[order.client_order_id] = order
        self.ib.placeOrder(trade.contract, placed)

    def _ib_order(self, order: OrderRequest) -> Any:
        lib = self._library()
        spec = self._specs[order.symbol]
        action, qty = ("BUY" if order.qty > 0 else "SELL"), abs(order.qty)
        tags = {"orderRef": order_ref(order), "tif": order.tif}
        if self.account:
            tags["account"] = self.account
        if order.kind == LIMIT:
            assert order.limit_ticks is not None
            return lib.LimitOrder(action, qty, float(spec.from_ticks(order.limit_ticks)), **tags)
        if order.kind == STOP:
            assert order.stop_ticks is not None
            return lib.StopOrder(action, qty, float(spec.from_ticks(order.stop_ticks)), **tags)
        return lib.MarketOrder(action, qty, **tags)

    def cancel(self, order_id: str) -> None:
        """Ask IB to cancel ``order_id``; an order already ended (or unknown) is not an error."""
        self._require_connected("cancel")
        if self.readonly:
            return
        trade = self._trades.get(order_id)
        if trade is not None and not trade.isDone():
            self.ib.cancelOrder(trade.order)

    def cancel_all(self, symbol: str | None = None) -> None:
        """Cancel every working statebot order (of ``symbol``); with no symbol, also every other order (global cancel)."""
        self._require_connected("cancel_all")
        if self.readonly:
            return
        if symbol is None:
            self.ib.reqGlobalCancel()
            return
        for order_id, order in list(self._orders.items()):
            if order.symbol == symbol:
                self.cancel(order_id)

    def positions(self) -> dict[str, int]:
        """Signed position per statebot symbol, every contract month of a symbol summed (read fresh)."""
        self._pump("positions")
        out: dict[str, int] = {}
        for p in self.ib.positions():
            if self.account and p.account != self.account:
                continue
            out[p.contract.symbol] = out.get(p.contract.symbol, 0) + int(p.position)
        return {s: q for s, q in out.items() if q}

    def open_orders(self) -> tuple[OrderRequest, ...]:
        self._pump("open_orders")
        ended = (FILLED, CANCELLED, REJECTED)
        # an order that ended while we were away keeps its old trade object: its synthesized end counts too
        return tuple(self._orders[oid] for oid, trade in self._trades.items()
                     if not trade.isDone() and oid in self._orders and self._last_status.get(oid, ("",))[0] not in ended)

    def drain(self) -> list[BrokerEvent]:
        """Let the library read what TWS sent, then return every status and fill since the last call."""
        self._pump("drain")
        now = self._clock()
        for exec_id, (change, since) in list(self._held.items()):
            if (now - since).total_seconds() >= self.commission_wait_s:
                del self._held[exec_id]
                self._emit_fill(change, Decimal(0))
        events, self._events = self._events, []
        return events

    # ------------------------------------------------------------------ library events

    def _on_order_status(self, trade: Any) -> None:
        parsed = parse_order_ref(trade.order.orderRef or "")
        if parsed is None:
            return
        order_id = parsed[2]
        st = trade.orderStatus
        status = _IB_STATUS.get(st.status, ACCEPTED)
        filled, remaining = int(st.filled), int(st.remaining)
        reason = ""
        if status == ACCEPTED and filled > 0:
            status = PARTIALLY_FILLED
        if status in (CANCELLED, REJECTED) and trade.log:
            last = trade.log[-1]
            reason = last.message
            if status == CANCELLED and last.errorCode not in NOT_A_REJECT:
                status = REJECTED
        if status == REJECTED:
            remaining = max(remaining, int(trade.order.totalQuantity) - filled)
        key = (status, filled, remaining)
        if self._last_status.get(order_id) == key:
            return
        self._last_status[order_id] = key
        self._events.append(OrderStatus(order_id=order_id, status=status, filled=filled, remaining=remaining,
                                        at=self._clock(), reason=reason))

    def _on_exec(self, trade: Any, fill: Any) -> None:
        self._take_execution(fill)

    def _on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        self._take_commission(report.execId, report.commission)

    def _take_execution(self, fill: Any) -> None:
        self._exec_symbol.setdefault(fill.execution.execId, fill.contract.symbol)
        change, fee = self._ledger.on_execution(Execution.from_ib(fill.execution))
        if change is None:
            return
        if change.quantity_delta == 0:
            self.price_corrections.append(change)
            return
        if fee is not None:
            self._emit_fill(change, fee.commission)
        else:
            self._held[change.execution.exec_id] = (change, self._clock())

    def _take_commission(self, exec_id: str, commission: float) -> None:
        fee = self._ledger.on_commission(exec_id, Decimal(repr(float(commission))))
        if fee is None:
            return
        held = self._held.pop(fee.execution.exec_id, None)
        if held is not None:
            self._emit_fill(held[0], fee.delta)
        else:
            self.late_commissions.append((exec_id, fee.delta))

    def _emit_fill(self, change: ExecutionChange, commission: Decimal) -> None:
        ex = change.execution
        parsed = parse_order_ref(ex.order_ref)
        order_id, strategy = (parsed[2], parsed[1]) if parsed else (f"ib:{ex.perm_id}", "")
        symbol = self._exec_symbol[ex.exec_id]
        spec = self._specs.get(symbol) or instrument(symbol, self._instruments)
        self._events.append(Fill(exec_id=ex.exec_id, order_id=order_id, strategy=strategy, symbol=symbol,
                                 qty=change.quantity_delta, price_ticks=spec.to_ticks(ex.price, strict=True),
                                 commission=commission, at=ex.time))

    # ------------------------------------------------------------------ bars

    def historical_bars(self, symbol: str, *, duration: str = "1 D", bar_size: str = "1 min", use_rth: bool = False) -> list[Bar]:
        """Completed historical bars of ``symbol``'s front month, each stamped at its END, aware UTC.

        Asks IB for epoch dates (``formatDate=2``). ``bar_size`` is IB's
        setting in seconds, minutes or hours (``"5 mins"``, ``"1 hour"``).
        """
        self._require_connected("historical_bars")
        length = _bar_length(bar_size)
        got = self.ib.reqHistoricalData(self._contracts[symbol], "", duration, bar_size, "TRADES", use_rth, formatDate=2)
        return [Bar(symbol=symbol, end=b.date + length, open=b.open, high=b.high, low=b.low, close=b.close,
                    volume=max(b.volume, 0)) for b in got]

    def subscribe_bars(self, symbol: str, minutes: int, *, late_after: dt.timedelta = dt.timedelta(seconds=10)) -> None:
        """Stream 5-second real-time bars of ``symbol`` into ``minutes``-minute bars (collect them with ``bars``)."""
        self._require_connected("subscribe_bars")
        stream = self.ib.reqRealTimeBars(self._contracts[symbol], 5, "TRADES", False)
        aggregator = BarAggregator(symbol, minutes, late_after=late_after)
        self._aggregators[id(stream)] = aggregator

        def on_update(bars: Any, has_new: bool) -> None:
            b = bars[-1]
            try:
                rt = RealTimeBar(start=b.time, open=b.open_, high=b.high, low=b.low, close=b.close, volume=max(b.volume, 0))
                self._bars.extend(aggregator.add(rt))
            except BarRejected as exc:
                self.rejected_bars.append(exc)  # kept for the event log; the stream goes on

        stream.updateEvent += on_update
        self._bar_lists.append(stream)

    def open_bar_end(self) -> dt.datetime | None:
        """The earliest end (UTC) of an N-minute bar still being built, None when none is.

        A live loop keeps its heartbeats before this time, so the bar is not
        refused as older than the clock when its last 5-second bar arrives.
        """
        ends = [e for e in (a.open_end for a in self._aggregators.values()) if e is not None]
        return min(ends) if ends else None

    def bars(self, now: dt.datetime | None = None) -> list[AggregatedBar]:
        """N-minute bars completed since the last call, oldest first; with ``now``, also those overdue."""
        if now is not None:
            for aggregator in self._aggregators.values():
                late = aggregator.close_due(now)
                if late is not None:
                    self._bars.append(late)
        out, self._bars = self._bars, []
        return sorted(out, key=lambda a: a.bar.end)


def _bar_length(bar_size: str) -> dt.timedelta:
    number, _, unit = bar_size.strip().partition(" ")
    seconds = {"sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600}.get(unit)
    if seconds is None or not number.isdigit():
        raise ConfigError(f"bar size {bar_size!r} must be IB's '<n> secs|mins|hours' (daily bars have no end time here)")
    return dt.timedelta(seconds=int(number) * seconds)
