"""Interactive Brokers edge: the parts that need no connection.

``bars`` (5-second real-time bars into N-minute bars), ``contracts`` (front
month and roll rule for MES/ES), ``backoff`` (reconnect delays) and
``client_library()`` (ib_insync, or ib_async in its place). Importing this
package never imports a client library; only the adapter that talks to IB does,
through ``client_library()``. Install one with the ``ibkr`` extra.
"""

from statebot.adapters.ibkr._library import LIBRARY_NAMES, client_library
from statebot.adapters.ibkr.backoff import ReconnectBackoff
from statebot.adapters.ibkr.bars import (
    REALTIME_BAR_SECONDS,
    AggregatedBar,
    BarAggregator,
    RealTimeBar,
)
from statebot.adapters.ibkr.contracts import (
    QUARTERLY_MONTHS,
    ROLL_DAYS_BEFORE_EXPIRY,
    FuturesContract,
    front_month,
    last_trade_date,
    quarterly_contract,
    third_friday,
)

__all__ = [
    "LIBRARY_NAMES",
    "QUARTERLY_MONTHS",
    "REALTIME_BAR_SECONDS",
    "ROLL_DAYS_BEFORE_EXPIRY",
    "AggregatedBar",
    "BarAggregator",
    "FuturesContract",
    "RealTimeBar",
    "ReconnectBackoff",
    "client_library",
    "front_month",
    "last_trade_date",
    "quarterly_contract",
    "third_friday",
]
