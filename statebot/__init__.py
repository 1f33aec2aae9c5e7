"""statebot: explicit, formally tested lifecycle state machines for intraday trading bots.

One import line gives a bot everything it needs::

    from statebot import BarClock, Bar, SessionMachine, ExchangeCalendar
"""

from statebot.calendar import ExchangeCalendar, FixedHoursCalendar, Session, TradingCalendar, get_calendar
from statebot.clock import Bar, BarClock, LiveClock
from statebot.durations import parse_duration
from statebot.errors import BarRejected, CalendarError, ConfigError, InvalidTransition, StateCorrupt, StatebotError
from statebot.machines import SESSION_SPEC, MachineSpec, SessionMachine, SessionTransition, Transition
from statebot.schedule import CLOSED, FLATTENING, PRE_OPEN, TRADING, SessionSchedule, SessionTimes

# -- config, event log, replay, sizing, gates, strategies --
from statebot.config import Config, config_hash, default_toml, load_config, parse_config
from statebot.errors import ChainBroken, EventLogError, InvalidEvent, SignalError, SizingError, TornTail
from statebot.events import EVENT_TYPES, GENESIS_HASH, Event, EventLog, read_events
from statebot.gates import GateResult, check_gate, check_quality
from statebot.replay import ReplayResult, VerifyResult, replay, verify
from statebot.sizing import SizingResult, compute_position_size
from statebot.strategies import OpeningRangeBreakout, SmaCross
from statebot.strategy import LONG, SHORT, Signal, Strategy, StrategyContext, get_strategy

# risk-review docs
from statebot.errors import DocsError

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
]
