"""The lifecycles, each a transition table (data) plus a small class that runs it."""

from statebot.core.fsm.table import MachineSpec, TableMachine, Transition
from statebot.core.fsm.session import SESSION_SPEC, SessionMachine, SessionTransition

# positions and kill switch
from statebot.core.fsm.killswitch import KILLSWITCH_SPEC, KillSwitch
from statebot.core.fsm.position import POSITION_SPEC, ClosedTrade, PositionMachine

# the runner's phases
from statebot.core.fsm.connection import CONNECTION_SPEC, VenueConnection
from statebot.core.fsm.effects import Effect
from statebot.core.fsm.flatten import FLATTEN_SPEC, FlattenCoordinator

# protective orders held at the venue
from statebot.core.fsm.protector import PROTECTOR_SPEC, ProtectorMachine

# strategy throttle
from statebot.core.fsm.throttle import THROTTLE_SPEC, ThrottleMachine, ThrottleRules, ThrottleTransition


def all_specs() -> tuple[MachineSpec, ...]:
    """Every lifecycle's spec, in the order the risk-review docs show them."""
    return (SESSION_SPEC, POSITION_SPEC, PROTECTOR_SPEC, THROTTLE_SPEC, KILLSWITCH_SPEC, FLATTEN_SPEC, CONNECTION_SPEC)


__all__ = ["MachineSpec", "TableMachine", "Transition", "SESSION_SPEC", "SessionMachine", "SessionTransition", "all_specs",
           "KILLSWITCH_SPEC", "KillSwitch", "POSITION_SPEC", "ClosedTrade", "PositionMachine"]
__all__ += ["THROTTLE_SPEC", "ThrottleMachine", "ThrottleRules", "ThrottleTransition"]
__all__ += ["CONNECTION_SPEC", "VenueConnection", "Effect", "FLATTEN_SPEC", "FlattenCoordinator"]
__all__ += ["PROTECTOR_SPEC", "ProtectorMachine"]
