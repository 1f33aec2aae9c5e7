"""Interactive Brokers edge: ``IBKRAdapter`` and the parts that need no connection.

``bars`` (5-second real-time bars into N-minute bars), ``contracts`` (front
month and roll rule for MES/ES), ``executions`` (each fill and commission
applied once), ``backoff`` (reconnect delays) and
``client_library()`` (ib_insync, or ib_async in its place). Importing this
package never imports a client library; an ``IBKRAdapter`` does when it is
made, through ``client_library()``. Install one with the ``ibkr`` extra.
"""

from statebot.venues.ibkr._library import LIBRARY_NAMES, client_library
from statebot.venues.ibkr.adapter import (
    LIVE_PORT,
    PAPER_PORT,
    IBKRAdapter,
    order_ref,
    parse_order_ref,
)
from statebot.venues.ibkr.backoff import ReconnectBackoff
from statebot.venues.ibkr.bars import (
    REALTIME_BAR_SECONDS,
    AggregatedBar,
    BarAggregator,
    RealTimeBar,
)
from statebot.venues.ibkr.contracts import (
    QUARTERLY_MONTHS,
    ROLL_DAYS_BEFORE_EXPIRY,
    FuturesContract,
    front_month,
    last_trade_date,
    quarterly_contract,
    third_friday,
)
from statebot.venues.ibkr.executions import (
    CommissionChange,
    Execution,
    ExecutionChange,
    ExecutionLedger,
    exec_id_parts,
)
from statebot.venues.ibkr.settings import (
    LIVE,
    LIVE_ACKNOWLEDGEMENT,
    MODES,
    OBSERVE,
    PAPER,
    IBKRSettings,
)

__all__ = [
    "LIBRARY_NAMES",
    "LIVE",
    "LIVE_ACKNOWLEDGEMENT",
    "LIVE_PORT",
    "MODES",
    "OBSERVE",
    "PAPER",
    "PAPER_PORT",
    "QUARTERLY_MONTHS",
    "REALTIME_BAR_SECONDS",
    "ROLL_DAYS_BEFORE_EXPIRY",
    "AggregatedBar",
    "BarAggregator",
    "CommissionChange",
    "Execution",
    "ExecutionChange",
    "ExecutionLedger",
    "FuturesContract",
    "IBKRAdapter",
    "IBKRSettings",
    "RealTimeBar",
    "ReconnectBackoff",
    "client_library",
    "exec_id_parts",
    "front_month",
    "last_trade_date",
    "order_ref",
    "parse_order_ref",
    "quarterly_contract",
    "third_friday",
]
