"""statebot: explicit, formally tested lifecycle state machines for intraday trading bots.

One import line gives a bot everything it needs::

    from statebot import BarClock, Bar, SessionMachine, ExchangeCalendar

Names load lazily (PEP 562): ``import statebot`` or importing one machine loads neither
the IBKR adapter, pandas nor the simulator until a name that needs them is used.
``__all__`` lists the public API; each name comes from the module shown in ``_EXPORTS``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, str]] = {
    "ACTIONS": ("statebot.app.runner", "ACTIONS"),
    "AdapterUnavailable": ("statebot.errors", "AdapterUnavailable"),
    "adopt_broker_positions": ("statebot.core.positions.reconcile", "adopt_broker_positions"),
    "Adopted": ("statebot.core.positions.reconcile", "Adopted"),
    "Applied": ("statebot.core.positions.book", "Applied"),
    "ARMED": ("statebot.core.fsm.killswitch", "ARMED"),
    "Backoff": ("statebot.core.fsm.killswitch", "Backoff"),
    "Bar": ("statebot.core.time.clock", "Bar"),
    "BarClock": ("statebot.core.time.clock", "BarClock"),
    "BarDataError": ("statebot.feeds", "BarDataError"),
    "BarRejected": ("statebot.errors", "BarRejected"),
    "BotRunner": ("statebot.app.runner", "BotRunner"),
    "BracketOrder": ("statebot.core.orders", "BracketOrder"),
    "BracketVenue": ("statebot.core.ports", "BracketVenue"),
    "BrokerAdapter": ("statebot.core.ports", "BrokerAdapter"),
    "BrokerEvent": ("statebot.core.orders", "BrokerEvent"),
    "BUILTIN_INSTRUMENTS": ("statebot.core.instruments", "BUILTIN_INSTRUMENTS"),
    "CalendarError": ("statebot.errors", "CalendarError"),
    "ChainBroken": ("statebot.errors", "ChainBroken"),
    "check_expectations": ("statebot.app.simrun", "check_expectations"),
    "check_gate": ("statebot.core.risk.gates", "check_gate"),
    "check_positions": ("statebot.core.positions.reconcile", "check_positions"),
    "check_quality": ("statebot.core.risk.gates", "check_quality"),
    "CLOSED": ("statebot.core.time.schedule", "CLOSED"),
    "ClosedTrade": ("statebot.core.fsm.position", "ClosedTrade"),
    "CommissionModel": ("statebot.core.costs", "CommissionModel"),
    "compute_position_size": ("statebot.core.risk.sizing", "compute_position_size"),
    "Config": ("statebot.config.model", "Config"),
    "config_hash": ("statebot.config.model", "config_hash"),
    "ConfigError": ("statebot.errors", "ConfigError"),
    "Decision": ("statebot.app.runner", "Decision"),
    "default_state_dir": ("statebot.store.persistence", "default_state_dir"),
    "default_toml": ("statebot.config.model", "default_toml"),
    "DocsError": ("statebot.errors", "DocsError"),
    "DurableLearningLoop": ("statebot.store.persistence", "DurableLearningLoop"),
    "ENTER": ("statebot.app.runner", "ENTER"),
    "ENTERING": ("statebot.core.fsm.position", "ENTERING"),
    "EntryRefused": ("statebot.errors", "EntryRefused"),
    "Event": ("statebot.journal.log", "Event"),
    "EVENT_TYPES": ("statebot.journal.log", "EVENT_TYPES"),
    "EventLog": ("statebot.journal.log", "EventLog"),
    "EventLogError": ("statebot.errors", "EventLogError"),
    "ExchangeCalendar": ("statebot.core.time.calendar", "ExchangeCalendar"),
    "EXIT": ("statebot.app.runner", "EXIT_ACTION"),
    "EXITING": ("statebot.core.fsm.position", "EXITING"),
    "FaultPlan": ("statebot.venues.sim", "FaultPlan"),
    "FeeSchedule": ("statebot.core.costs", "FeeSchedule"),
    "Fill": ("statebot.core.orders", "Fill"),
    "FileAccessError": ("statebot.errors", "FileAccessError"),
    "FixedCommission": ("statebot.core.costs", "FixedCommission"),
    "FixedHoursCalendar": ("statebot.core.time.calendar", "FixedHoursCalendar"),
    "FixedSlippage": ("statebot.venues.sim", "FixedSlippage"),
    "FLAT": ("statebot.core.fsm.position", "FLAT"),
    "FLATTEN": ("statebot.app.runner", "FLATTEN"),
    "flatten_positions": ("statebot.core.positions.flatten", "flatten_positions"),
    "FlattenAttempt": ("statebot.core.positions.flatten", "FlattenAttempt"),
    "Flattener": ("statebot.core.positions.flatten", "Flattener"),
    "FLATTENING": ("statebot.core.time.schedule", "FLATTENING"),
    "FlattenStep": ("statebot.core.positions.flatten", "FlattenStep"),
    "GateResult": ("statebot.core.risk.gates", "GateResult"),
    "GENESIS_HASH": ("statebot.journal.log", "GENESIS_HASH"),
    "get_calendar": ("statebot.core.time.calendar", "get_calendar"),
    "get_strategy": ("statebot.core.strategy.protocol", "get_strategy"),
    "HOLD": ("statebot.app.runner", "HOLD"),
    "IBKRConfig": ("statebot.config.model", "IBKRConfig"),
    "IBKRFuturesCommission": ("statebot.core.costs", "IBKRFuturesCommission"),
    "instrument": ("statebot.core.instruments", "instrument"),
    "InstrumentSpec": ("statebot.core.instruments", "InstrumentSpec"),
    "InvalidEvent": ("statebot.errors", "InvalidEvent"),
    "InvalidOutcome": ("statebot.errors", "InvalidOutcome"),
    "InvalidTransition": ("statebot.errors", "InvalidTransition"),
    "iter_events": ("statebot.journal.log", "iter_events"),
    "KillSwitch": ("statebot.core.fsm.killswitch", "KillSwitch"),
    "KILLSWITCH_SPEC": ("statebot.core.fsm.killswitch", "KILLSWITCH_SPEC"),
    "LearningLoop": ("statebot.core.learning.loop", "LearningLoop"),
    "LearningUpdate": ("statebot.core.learning.loop", "LearningUpdate"),
    "LiveClock": ("statebot.app.live_clock", "LiveClock"),
    "LiveSession": ("statebot.app.live", "LiveSession"),
    "load_config": ("statebot.config.model", "load_config"),
    "load_scenario": ("statebot.app.simrun", "load_scenario"),
    "LONG": ("statebot.core.strategy.protocol", "LONG"),
    "MachineSpec": ("statebot.core.fsm", "MachineSpec"),
    "Mismatch": ("statebot.core.positions.reconcile", "Mismatch"),
    "NEXT_SESSION": ("statebot.core.fsm.throttle", "NEXT_SESSION"),
    "OffTickPrice": ("statebot.errors", "OffTickPrice"),
    "OPEN": ("statebot.core.fsm.position", "OPEN"),
    "OpeningRangeBreakout": ("statebot.core.strategy.builtin", "OpeningRangeBreakout"),
    "OrderRequest": ("statebot.core.orders", "OrderRequest"),
    "OrderStatus": ("statebot.core.orders", "OrderStatus"),
    "OverFill": ("statebot.errors", "OverFill"),
    "parse_config": ("statebot.config.model", "parse_config"),
    "parse_duration": ("statebot.core.time.durations", "parse_duration"),
    "PersistenceEvent": ("statebot.store.persistence", "PersistenceEvent"),
    "POSITION_SPEC": ("statebot.core.fsm.position", "POSITION_SPEC"),
    "PositionBook": ("statebot.core.positions.book", "PositionBook"),
    "PositionMachine": ("statebot.core.fsm.position", "PositionMachine"),
    "PROTECTOR_SPEC": ("statebot.core.fsm.protector", "PROTECTOR_SPEC"),
    "ProtectorMachine": ("statebot.core.fsm.protector", "ProtectorMachine"),
    "PositionMismatch": ("statebot.errors", "PositionMismatch"),
    "PriceGuard": ("statebot.feeds", "PriceGuard"),
    "PRE_OPEN": ("statebot.core.time.schedule", "PRE_OPEN"),
    "RangeSlippage": ("statebot.venues.sim", "RangeSlippage"),
    "read_bars": ("statebot.feeds", "read_bars"),
    "read_bars_csv": ("statebot.feeds", "read_bars_csv"),
    "read_bars_parquet": ("statebot.feeds", "read_bars_parquet"),
    "read_events": ("statebot.journal.log", "read_events"),
    "reconcile": ("statebot.core.positions.reconcile", "reconcile"),
    "ReliabilityMetrics": ("statebot.core.learning.metrics", "ReliabilityMetrics"),
    "replay": ("statebot.journal.replay", "replay"),
    "ReplayResult": ("statebot.journal.replay", "ReplayResult"),
    "run_seeds": ("statebot.app.simrun", "run_seeds"),
    "run_setup": ("statebot.app.simrun", "run_setup"),
    "Scenario": ("statebot.app.simrun", "Scenario"),
    "send_entry": ("statebot.core.positions.book", "send_entry"),
    "send_exit": ("statebot.core.positions.book", "send_exit"),
    "Session": ("statebot.core.time.calendar", "Session"),
    "SESSION_SPEC": ("statebot.core.fsm", "SESSION_SPEC"),
    "SessionFlatten": ("statebot.app.simulation", "SessionFlatten"),
    "SessionMachine": ("statebot.core.fsm", "SessionMachine"),
    "SessionRow": ("statebot.app.simrun", "SessionRow"),
    "SessionSchedule": ("statebot.core.time.schedule", "SessionSchedule"),
    "SessionTimes": ("statebot.core.time.schedule", "SessionTimes"),
    "SessionTransition": ("statebot.core.fsm", "SessionTransition"),
    "SHORT": ("statebot.core.strategy.protocol", "SHORT"),
    "Signal": ("statebot.core.strategy.protocol", "Signal"),
    "SignalError": ("statebot.errors", "SignalError"),
    "SimBroker": ("statebot.venues.sim", "SimBroker"),
    "SimReport": ("statebot.app.simrun", "SimReport"),
    "SimSetup": ("statebot.app.simrun", "SimSetup"),
    "simulate": ("statebot.app.simulation", "simulate"),
    "SimulationResult": ("statebot.app.simulation", "SimulationResult"),
    "SizingError": ("statebot.errors", "SizingError"),
    "SizingResult": ("statebot.core.risk.sizing", "SizingResult"),
    "SKIP": ("statebot.app.runner", "SKIP"),
    "SmaCross": ("statebot.core.strategy.builtin", "SmaCross"),
    "StatebotError": ("statebot.errors", "StatebotError"),
    "StateCorrupt": ("statebot.errors", "StateCorrupt"),
    "StateInUse": ("statebot.errors", "StateInUse"),
    "StrategyFailed": ("statebot.errors", "StrategyFailed"),
    "StateSaveFailed": ("statebot.errors", "StateSaveFailed"),
    "Strategy": ("statebot.core.strategy.protocol", "Strategy"),
    "StrategyContext": ("statebot.core.strategy.protocol", "StrategyContext"),
    "price_ticks": ("statebot.core.strategy.protocol", "price_ticks"),
    "SyntheticBars": ("statebot.feeds", "SyntheticBars"),
    "THROTTLE_SPEC": ("statebot.core.fsm.throttle", "THROTTLE_SPEC"),
    "ThrottleConfig": ("statebot.config.throttle", "ThrottleConfig"),
    "ThrottleMachine": ("statebot.core.fsm.throttle", "ThrottleMachine"),
    "ThrottleRules": ("statebot.core.fsm.throttle", "ThrottleRules"),
    "ThrottleTransition": ("statebot.core.fsm.throttle", "ThrottleTransition"),
    "TornTail": ("statebot.errors", "TornTail"),
    "TradeOutcome": ("statebot.core.learning.outcomes", "TradeOutcome"),
    "TRADING": ("statebot.core.time.schedule", "TRADING"),
    "TradingCalendar": ("statebot.core.time.calendar", "TradingCalendar"),
    "Transition": ("statebot.core.fsm", "Transition"),
    "Trip": ("statebot.core.fsm.killswitch", "Trip"),
    "TRIP_REASONS": ("statebot.core.fsm.killswitch", "TRIP_REASONS"),
    "TRIPPED": ("statebot.core.fsm.killswitch", "TRIPPED"),
    "UnknownInstrument": ("statebot.errors", "UnknownInstrument"),
    "VENUE_CONNECTION": ("statebot.journal.log", "VENUE_CONNECTION"),
    "verify": ("statebot.journal.replay", "verify"),
    "VerifyResult": ("statebot.journal.replay", "VerifyResult"),
}
"""Public name -> (module, attribute)."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'statebot' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from statebot.app.live import LiveSession  # noqa: F401
    from statebot.app.live_clock import LiveClock  # noqa: F401
    from statebot.app.runner import ACTIONS, BotRunner, Decision, ENTER, EXIT_ACTION as EXIT, FLATTEN, HOLD, SKIP  # noqa: F401
    from statebot.app.simrun import Scenario, SessionRow, SimReport, SimSetup, check_expectations, load_scenario, run_seeds, run_setup  # noqa: F401
    from statebot.app.simulation import SessionFlatten, SimulationResult, simulate  # noqa: F401
    from statebot.config.model import Config, IBKRConfig, config_hash, default_toml, load_config, parse_config  # noqa: F401
    from statebot.config.throttle import ThrottleConfig  # noqa: F401
    from statebot.core.costs import CommissionModel, FeeSchedule, FixedCommission, IBKRFuturesCommission  # noqa: F401
    from statebot.core.fsm import MachineSpec, SESSION_SPEC, SessionMachine, SessionTransition, Transition  # noqa: F401
    from statebot.core.fsm.killswitch import ARMED, Backoff, KILLSWITCH_SPEC, KillSwitch, TRIPPED, TRIP_REASONS, Trip  # noqa: F401
    from statebot.core.fsm.position import ClosedTrade, ENTERING, EXITING, FLAT, OPEN, POSITION_SPEC, PositionMachine  # noqa: F401
    from statebot.core.fsm.protector import PROTECTOR_SPEC, ProtectorMachine  # noqa: F401
    from statebot.core.fsm.throttle import NEXT_SESSION, THROTTLE_SPEC, ThrottleMachine, ThrottleRules, ThrottleTransition  # noqa: F401
    from statebot.core.instruments import BUILTIN_INSTRUMENTS, InstrumentSpec, instrument  # noqa: F401
    from statebot.core.learning.loop import LearningLoop, LearningUpdate  # noqa: F401
    from statebot.core.learning.metrics import ReliabilityMetrics  # noqa: F401
    from statebot.core.learning.outcomes import TradeOutcome  # noqa: F401
    from statebot.core.orders import BracketOrder, BrokerEvent, Fill, OrderRequest, OrderStatus  # noqa: F401
    from statebot.core.ports import BracketVenue, BrokerAdapter  # noqa: F401
    from statebot.core.positions.book import Applied, PositionBook, send_entry, send_exit  # noqa: F401
    from statebot.core.positions.flatten import FlattenAttempt, FlattenStep, Flattener, flatten_positions  # noqa: F401
    from statebot.core.positions.reconcile import Adopted, Mismatch, adopt_broker_positions, check_positions, reconcile  # noqa: F401
    from statebot.core.risk.gates import GateResult, check_gate, check_quality  # noqa: F401
    from statebot.core.risk.sizing import SizingResult, compute_position_size  # noqa: F401
    from statebot.core.strategy.builtin import OpeningRangeBreakout, SmaCross  # noqa: F401
    from statebot.core.strategy.protocol import LONG, SHORT, Signal, Strategy, StrategyContext, get_strategy, price_ticks  # noqa: F401
    from statebot.core.time.calendar import ExchangeCalendar, FixedHoursCalendar, Session, TradingCalendar, get_calendar  # noqa: F401
    from statebot.core.time.clock import Bar, BarClock  # noqa: F401
    from statebot.core.time.durations import parse_duration  # noqa: F401
    from statebot.core.time.schedule import CLOSED, FLATTENING, PRE_OPEN, SessionSchedule, SessionTimes, TRADING  # noqa: F401
    from statebot.errors import AdapterUnavailable, BarRejected, CalendarError, ChainBroken, ConfigError, DocsError, EntryRefused, EventLogError, InvalidEvent, InvalidOutcome, InvalidTransition, OffTickPrice, OverFill, PositionMismatch, SignalError, SizingError, StateCorrupt, StateInUse, StateSaveFailed, StatebotError, StrategyFailed, TornTail, UnknownInstrument  # noqa: F401
    from statebot.feeds import BarDataError, PriceGuard, SyntheticBars, read_bars, read_bars_csv, read_bars_parquet  # noqa: F401
    from statebot.journal.log import EVENT_TYPES, Event, EventLog, GENESIS_HASH, VENUE_CONNECTION, iter_events, read_events  # noqa: F401
    from statebot.journal.replay import ReplayResult, VerifyResult, replay, verify  # noqa: F401
    from statebot.store.persistence import DurableLearningLoop, PersistenceEvent, default_state_dir  # noqa: F401
    from statebot.venues.sim import FaultPlan, FixedSlippage, RangeSlippage, SimBroker  # noqa: F401
