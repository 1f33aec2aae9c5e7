"""Broker edge: the ``BrokerAdapter`` protocol and the venues behind it.

The core never imports a venue; a venue imports ``statebot.core.ports``.
"""

from statebot.core.ports import BrokerAdapter
from statebot.venues.sim import FaultPlan, FixedSlippage, RangeSlippage, SimBroker

# OBSERVE mode: a wrapper around any venue that lets no order out
from statebot.venues.observe import Intent, ObserveOnly

__all__ = ["BrokerAdapter", "FaultPlan", "FixedSlippage", "RangeSlippage", "SimBroker"]
__all__ += ["Intent", "ObserveOnly"]
