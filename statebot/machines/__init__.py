"""The lifecycles, each a transition table (data) plus a small class that runs it."""

from statebot.machines._table import MachineSpec, TableMachine, Transition
from statebot.machines.session import SESSION_SPEC, SessionMachine, SessionTransition

# strategy throttle
from statebot.machines.throttle import THROTTLE_SPEC, ThrottleMachine, ThrottleRules, ThrottleTransition


def all_specs() -> tuple[MachineSpec, ...]:
    """Every lifecycle's spec, in the order the risk-review docs show them."""
    return (SESSION_SPEC, THROTTLE_SPEC)


__all__ = ["MachineSpec", "TableMachine", "Transition", "SESSION_SPEC", "SessionMachine", "SessionTransition", "all_specs"]
__all__ += ["THROTTLE_SPEC", "ThrottleMachine", "ThrottleRules", "ThrottleTransition"]
