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
]
