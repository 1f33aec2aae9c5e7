"""statebot: explicit, formally tested lifecycle state machines for intraday trading bots.

One import line gives a bot everything it needs::

    from statebot import BarClock, Bar, SessionMachine, ExchangeCalendar
"""

from statebot.core.time.calendar import ExchangeCalendar, FixedHoursCalendar, Session, TradingCalendar, get_calendar
from statebot.core.time.clock import Bar, BarClock, LiveClock
from statebot.core.time.durations import parse_duration
from statebot.errors import BarRejected, CalendarError, ConfigError, InvalidTransition, StateCorrupt, StatebotError
from statebot.core.fsm import SESSION_SPEC, MachineSpec, SessionMachine, SessionTransition, Transition
from statebot.core.time.schedule import CLOSED, FLATTENING, PRE_OPEN, TRADING, SessionSchedule, SessionTimes

# -- config, event log, replay, sizing, gates, strategies --
from statebot.config.model import Config, config_hash, default_toml, load_config, parse_config
from statebot.errors import ChainBroken, EventLogError, InvalidEvent, SignalError, SizingError, TornTail
from statebot.journal.log import EVENT_TYPES, GENESIS_HASH, Event, EventLog, read_events
from statebot.core.risk.gates import GateResult, check_gate, check_quality
from statebot.journal.replay import ReplayResult, VerifyResult, replay, verify
from statebot.core.risk.sizing import SizingResult, compute_position_size
from statebot.core.strategy.builtin import OpeningRangeBreakout, SmaCross
from statebot.core.strategy.protocol import LONG, SHORT, Signal, Strategy, StrategyContext, get_strategy

# positions, orders, broker edge, kill switch
from statebot.core.ports import BrokerAdapter
from statebot.venues.sim import FaultPlan, FixedSlippage, RangeSlippage, SimBroker
from statebot.core.positions.book import Applied, PositionBook, send_entry, send_exit
from statebot.errors import AdapterUnavailable, EntryRefused, OffTickPrice, OverFill, PositionMismatch, UnknownInstrument
from statebot.core.positions.flatten import FlattenAttempt, Flattener, FlattenStep, flatten_positions
from statebot.core.instruments import BUILTIN_INSTRUMENTS, InstrumentSpec, instrument
from statebot.core.fsm.killswitch import ARMED, KILLSWITCH_SPEC, TRIP_REASONS, TRIPPED, Backoff, KillSwitch, Trip
from statebot.core.fsm.position import ENTERING, EXITING, FLAT, OPEN, POSITION_SPEC, ClosedTrade, PositionMachine
from statebot.core.orders import BrokerEvent, Fill, OrderRequest, OrderStatus
from statebot.core.positions.reconcile import Adopted, Mismatch, adopt_broker_positions, check_positions, reconcile

# learning: trade outcomes, reliability metrics, strategy throttle, crash-safe state
from statebot.errors import InvalidOutcome, StateInUse, StateSaveFailed
from statebot.core.learning.loop import LearningLoop, LearningUpdate
from statebot.core.fsm.throttle import (
    NEXT_SESSION,
    THROTTLE_SPEC,
    ThrottleMachine,
    ThrottleRules,
    ThrottleTransition,
)
from statebot.core.learning.metrics import ReliabilityMetrics
from statebot.core.learning.outcomes import TradeOutcome
from statebot.store.persistence import DurableLearningLoop, PersistenceEvent, default_state_dir
from statebot.config.throttle import ThrottleConfig

# commission models, bar feeds
from statebot.core.costs import CommissionModel, FeeSchedule, FixedCommission, IBKRFuturesCommission
from statebot.journal.log import iter_events
from statebot.feeds import BarDataError, PriceGuard, SyntheticBars, read_bars_csv
from statebot.errors import FileAccessError

# risk-review docs
from statebot.errors import DocsError

# the runner: everything composed, and the small simulation loop
from statebot.app.runner import ACTIONS, ENTER, FLATTEN, HOLD, SKIP, BotRunner, Decision
from statebot.app.runner import EXIT_ACTION as EXIT
from statebot.app.simulation import SessionFlatten, SimulationResult, simulate

__version__ = "0.1.0"

__all__ = [
    "Bar",
    "BarClock",
    "BarRejected",
    "CLOSED",
    "CalendarError",
    "ConfigError",
    "DocsError",
    "ExchangeCalendar",
    "FLATTENING",
    "FixedHoursCalendar",
    "InvalidTransition",
    "LiveClock",
    "MachineSpec",
    "PRE_OPEN",
    "SESSION_SPEC",
    "Session",
    "SessionMachine",
    "SessionSchedule",
    "SessionTimes",
    "SessionTransition",
    "StateCorrupt",
    "StatebotError",
    "TRADING",
    "TradingCalendar",
    "Transition",
    "get_calendar",
    "parse_duration",
    # -- config, event log, replay, sizing, gates, strategies --
    "ChainBroken",
    "Config",
    "EVENT_TYPES",
    "Event",
    "EventLog",
    "EventLogError",
    "GENESIS_HASH",
    "GateResult",
    "InvalidEvent",
    "LONG",
    "OpeningRangeBreakout",
    "ReplayResult",
    "SHORT",
    "Signal",
    "SignalError",
    "SizingError",
    "SizingResult",
    "SmaCross",
    "Strategy",
    "StrategyContext",
    "TornTail",
    "VerifyResult",
    "check_gate",
    "check_quality",
    "compute_position_size",
    "config_hash",
    "default_toml",
    "get_strategy",
    "load_config",
    "parse_config",
    "read_events",
    "replay",
    "verify",

    # positions, orders, broker edge, kill switch
    "ARMED",
    "AdapterUnavailable",
    "Adopted",
    "Applied",
    "BUILTIN_INSTRUMENTS",
    "Backoff",
    "BrokerAdapter",
    "BrokerEvent",
    "ClosedTrade",
    "ENTERING",
    "EXITING",
    "EntryRefused",
    "FLAT",
    "FaultPlan",
    "Fill",
    "FixedSlippage",
    "FlattenAttempt",
    "FlattenStep",
    "Flattener",
    "InstrumentSpec",
    "KILLSWITCH_SPEC",
    "KillSwitch",
    "Mismatch",
    "OPEN",
    "OffTickPrice",
    "OrderRequest",
    "OrderStatus",
    "OverFill",
    "POSITION_SPEC",
    "PositionBook",
    "PositionMachine",
    "PositionMismatch",
    "RangeSlippage",
    "SimBroker",
    "TRIPPED",
    "TRIP_REASONS",
    "Trip",
    "UnknownInstrument",
    "adopt_broker_positions",
    "check_positions",
    "flatten_positions",
    "instrument",
    "reconcile",
    "send_entry",
    "send_exit",
]

__all__ += [
    "DurableLearningLoop",
    "InvalidOutcome",
    "LearningLoop",
    "LearningUpdate",
    "NEXT_SESSION",
    "PersistenceEvent",
    "ReliabilityMetrics",
    "StateInUse",
    "StateSaveFailed",
    "THROTTLE_SPEC",
    "ThrottleConfig",
    "ThrottleMachine",
    "ThrottleRules",
    "ThrottleTransition",
    "TradeOutcome",
    "default_state_dir",
    # commission models, bar feeds
    "BarDataError",
    "CommissionModel",
    "FileAccessError",
    "PriceGuard",
    "FeeSchedule",
    "FixedCommission",
    "IBKRFuturesCommission",
    "SyntheticBars",
    "iter_events",
    "read_bars_csv",
]

__all__ += [
    "ACTIONS",
    "BotRunner",
    "Decision",
    "ENTER",
    "EXIT",
    "FLATTEN",
    "HOLD",
    "SKIP",
    "SessionFlatten",
    "SimulationResult",
    "simulate",
]

# live trading on Interactive Brokers (importing it never imports a client library)
from statebot.config.model import IBKRConfig  # noqa: E402
from statebot.journal.log import VENUE_CONNECTION  # noqa: E402
from statebot.app.live import LiveSession  # noqa: E402

__all__ += ["IBKRConfig", "LiveSession", "VENUE_CONNECTION"]

# simulations from sims/: setups, scenarios with expectations, reports
from statebot.app.simrun import (  # noqa: E402
    Scenario,
    SessionRow,
    SimReport,
    SimSetup,
    check_expectations,
    load_scenario,
    run_seeds,
    run_setup,
)

__all__ += [
    "Scenario",
    "SessionRow",
    "SimReport",
    "SimSetup",
    "check_expectations",
    "load_scenario",
    "run_seeds",
    "run_setup",
]
