"""Historical bars from Interactive Brokers, in chunks that keep to IB's pacing rules.

``fetch_history`` asks TWS / IB Gateway (``reqHistoricalData``, TRADES, dates
as epoch seconds) for the bars of a futures contract between two exchange
dates, one request per 24 hours of the range (the longest duration IB gives in
seconds, ``86400 S``), newest window first, and returns them oldest first,
each stamped at its END (aware, UTC), duplicates across windows dropped.

The contract is the one the live adapter would trade: without ``expiry``, each
window asks for the front month of its exchange date (roll rule in
``statebot.venues.ibkr.contracts``), so a range across a roll is stitched
from the contracts traded on each day, unadjusted; with ``expiry``
(``YYYYMM``) that one contract throughout. Expired contracts are asked for with
``includeExpired``.

Pacing (``HistoryPacer``) follows IB's documented rules for historical data
("Historical Data Limitations", TWS API documentation,
interactivebrokers.github.io/tws-api/historical_limitations.html): a pacing
violation occurs on identical requests within 15 seconds, on six or more
requests for the same contract, exchange and tick type within two seconds,
and on more than 60 requests within any ten-minute period. The pacer waits
before each request until none of the three would be broken; its clock and
its sleep are parameters, so tests run a year of requests without waiting.

Errors, each one line (``AdapterUnavailable``, exit 4 on the command line):
TWS not reachable; IB's error 162 reporting a pacing violation (another
program on the same account may be fetching too); a window IB refuses with
another error; no bar at all in the range. A window IB answers with "no data"
(a weekend, a holiday) is empty, not an error.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from statebot.core.time.clock import Bar
from statebot.errors import AdapterUnavailable, ConfigError
from statebot.venues.ibkr.contracts import EXCHANGE, ROLL_DAYS_BEFORE_EXPIRY, front_month

MAX_REQUESTS = 60
"""At most this many historical data requests ..."""
REQUEST_WINDOW_S = 600.0
"""... in any ten minutes."""
IDENTICAL_GAP_S = 15.0
"""An identical request only after this many seconds."""
SAME_CONTRACT_MAX = 5
"""At most five requests for one contract, exchange and tick type (six is a violation) ..."""
SAME_CONTRACT_WINDOW_S = 2.0
"""... within two seconds."""
CHUNK = dt.timedelta(seconds=86400)
"""One request covers at most this much: IB's longest duration in seconds."""

BAR_SIZES: dict[int, str] = {60: "1 min", 120: "2 mins", 180: "3 mins", 300: "5 mins", 600: "10 mins",
                             900: "15 mins", 1200: "20 mins", 1800: "30 mins", 3600: "1 hour", 7200: "2 hours",
                             10800: "3 hours", 14400: "4 hours", 28800: "8 hours"}
"""IB's intraday bar size settings of a minute or more, by length in seconds."""

_UTC = dt.timezone.utc


def ib_bar_size(length: dt.timedelta) -> str:
    """IB's bar size setting for ``length`` (``"5 mins"``); ``ConfigError`` for a size IB does not offer."""
    seconds = length.total_seconds()
    if seconds not in BAR_SIZES:
        legal = ", ".join(f"{int(s // 60)}m" if s < 3600 else f"{int(s // 3600)}h" for s in BAR_SIZES)
        raise ConfigError(f"bar size {length} is not one IB offers for intraday history; use one of {legal}")
    return BAR_SIZES[int(seconds)]


class HistoryPacer:
    """Waits before each historical data request until IB's pacing rules allow it.

    ``clock`` gives monotonic seconds and ``sleep(seconds)`` waits (both
    injected: tests pass a fake clock whose sleep only moves it).
    ``wait(request, contract)`` blocks until ``request`` (any hashable: the
    request's fields) may be sent, records it, and returns the seconds waited.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], object] = time.sleep,
                 *, max_requests: int = MAX_REQUESTS, window_s: float = REQUEST_WINDOW_S,
                 identical_gap_s: float = IDENTICAL_GAP_S, same_contract_max: int = SAME_CONTRACT_MAX,
                 same_contract_window_s: float = SAME_CONTRACT_WINDOW_S) -> None:
        if max_requests < 1 or same_contract_max < 1 or min(window_s, identical_gap_s, same_contract_window_s) < 0:
            raise ConfigError("pacing limits must be positive")
        self._clock, self._sleep = clock, sleep
        self.max_requests, self.window_s = max_requests, window_s
        self.identical_gap_s = identical_gap_s
        self.same_contract_max, self.same_contract_window_s = same_contract_max, same_contract_window_s
        self._sent: deque[float] = deque()
        self._by_contract: dict[Hashable, deque[float]] = {}
        self._last: dict[Hashable, float] = {}
        self.requests = 0
        self.waited_s = 0.0

    def earliest(self, request: Hashable, contract: Hashable) -> float:
        """The clock time from which ``request`` may be sent."""
        at = self._clock()
        if len(self._sent) >= self.max_requests:
            at = max(at, self._sent[-self.max_requests] + self.window_s)
        recent = self._by_contract.get(contract, ())
        if len(recent) >= self.same_contract_max:
            at = max(at, list(recent)[-self.same_contract_max] + self.same_contract_window_s)
        if request in self._last:
            at = max(at, self._last[request] + self.identical_gap_s)
        return at

    def wait(self, request: Hashable, contract: Hashable) -> float:
        """Sleep until ``request`` may be sent, then record it as sent; the seconds waited."""
        waited = 0.0
        while (delay := self.earliest(request, contract) - self._clock()) > 0:
            self._sleep(delay)
            waited += delay
        now = self._clock()
        self._sent.append(now)
        while self._sent and self._sent[0] <= now - self.window_s:
            self._sent.popleft()
        recent = self._by_contract.setdefault(contract, deque())
        recent.append(now)
        while recent and recent[0] <= now - self.same_contract_window_s:
            recent.popleft()
        self._last = {k: t for k, t in self._last.items() if t > now - self.identical_gap_s}
        self._last[request] = now
        self.requests += 1
        self.waited_s += waited
        return waited


def windows(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[start, end)`` cut into request windows of at most ``CHUNK``, newest first."""
    out = []
    right = end
    while right > start:
        left = max(start, right - CHUNK)
        out.append((left, right))
        right = left
    return out


def _is_no_data(message: str) -> bool:
    return "no data" in message.lower()


def _is_pacing(message: str) -> bool:
    return "pacing violation" in message.lower()


def fetch_history(
    ib: Any,
    lib: Any,
    *,
    symbol: str,
    start: dt.date,
    end: dt.date,
    tz: dt.tzinfo,
    bar_size: dt.timedelta = dt.timedelta(minutes=1),
    expiry: str | None = None,
    use_rth: bool = False,
    roll_days: int = ROLL_DAYS_BEFORE_EXPIRY,
    pacer: HistoryPacer | None = None,
    timeout_s: float = 60.0,
    on_window: Callable[[str, dt.datetime, dt.datetime, int], object] | None = None,
) -> list[Bar]:
    """The bars of ``symbol`` from exchange date ``start`` to ``end`` (inclusive, days in ``tz``), oldest first.

    ``ib`` is a connected client (ib_insync's or ib_async's ``IB``) and ``lib``
    its module. ``on_window(local_symbol, window_start, window_end, bars)`` is
    told of each answered request (progress). Raises ``ConfigError`` for bad
    arguments and ``AdapterUnavailable`` as the module docstring says.
    """
    if end < start:
        raise ConfigError(f"--end {end} is before --start {start}")
    setting = ib_bar_size(bar_size)
    if expiry is not None and not (len(expiry) == 6 and expiry.isdigit() and 1 <= int(expiry[4:]) <= 12):
        raise ConfigError(f"expiry {expiry!r} must be the contract month as YYYYMM, e.g. 202612")
    if symbol not in EXCHANGE:
        raise ConfigError(f"futures symbol {symbol!r} is not one statebot fetches ({', '.join(sorted(EXCHANGE))})")
    pacer = pacer or HistoryPacer()
    first = dt.datetime.combine(start, dt.time(), tz).astimezone(_UTC)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz).astimezone(_UTC)
    contracts: dict[str, Any] = {}
    collected: dict[dt.datetime, Bar] = {}
    raise_errors = getattr(ib, "RaiseRequestErrors", False)
    ib.RaiseRequestErrors = True  # a refused request raises RequestError with IB's code and text
    try:
        for left, right in windows(first, last):
            month = expiry or front_month(symbol, (right - dt.timedelta(microseconds=1)).astimezone(tz).date(),
                                          roll_days=roll_days).contract_month
            contract = contracts.get(month)
            if contract is None:
                contract = contracts[month] = _qualify(ib, lib, symbol, month)
            duration = f"{int((right - left).total_seconds())} S"
            request = (contract.conId, right, duration, setting, use_rth)
            pacer.wait(request, (contract.conId, contract.exchange, "TRADES"))
            got = _request(ib, lib, contract, right, duration, setting, use_rth, timeout_s)
            count = 0
            for b in got:
                begin = b.date if isinstance(b.date, dt.datetime) else None
                if begin is None or not left <= begin < right:
                    continue
                bar_end = begin.astimezone(_UTC) + bar_size
                collected[bar_end] = Bar(symbol=symbol, end=bar_end, open=float(b.open), high=float(b.high),
                                         low=float(b.low), close=float(b.close), volume=max(int(b.volume), 0))
                count += 1
            if on_window is not None:
                on_window(contract.localSymbol, left, right, count)
    finally:
        ib.RaiseRequestErrors = raise_errors
    if not collected:
        raise AdapterUnavailable(f"IB has no {setting} bars of {symbol} from {start} to {end} "
                                 "(check the dates, --expiry and the account's market data permissions)")
    return [collected[k] for k in sorted(collected)]


def _qualify(ib: Any, lib: Any, symbol: str, month: str) -> Any:
    wanted = lib.Future(symbol, month, exchange=EXCHANGE[symbol], currency="USD", includeExpired=True)
    try:
        found = ib.qualifyContracts(wanted)
    except lib.RequestError:
        found = []
    except ConnectionError as exc:
        raise AdapterUnavailable(f"the connection to TWS dropped while qualifying {symbol} {month}: {exc}") from None
    if len(found) != 1 or not getattr(found[0], "conId", 0):
        raise AdapterUnavailable(f"IB did not qualify {symbol} {month} on {EXCHANGE[symbol]} (no such contract?)")
    return found[0]


def _request(ib: Any, lib: Any, contract: Any, right: dt.datetime, duration: str, setting: str, use_rth: bool,
             timeout_s: float) -> list[Any]:
    try:
        return list(ib.reqHistoricalData(contract, right, duration, setting, "TRADES", use_rth, formatDate=2,
                                         timeout=timeout_s))
    except lib.RequestError as exc:
        code, message = exc.code, str(getattr(exc, "message", exc))
        where = f"{contract.localSymbol} {duration} to {right.isoformat()}"
        if code == 162 and _is_no_data(message):
            return []
        if code == 162 and _is_pacing(message):
            raise AdapterUnavailable(f"IB refused {where} with error 162, a pacing violation (is another program "
                                     "fetching history on this account?); wait ten minutes and fetch again") from None
        raise AdapterUnavailable(f"IB refused {where} with error {code}: {message}") from None
    except ConnectionError as exc:
        raise AdapterUnavailable(f"the connection to TWS dropped during a historical data request: {exc}") from None

