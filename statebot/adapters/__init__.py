"""Broker edge: the ``BrokerAdapter`` protocol and the venues behind it.

The core never imports a venue; a venue imports ``statebot.adapters.base``.
"""

from statebot.adapters.base import BrokerAdapter
from statebot.adapters.sim import FaultPlan, FixedSlippage, RangeSlippage, SimBroker

# OBSERVE mode: a wrapper around any venue that lets no order out
from statebot.adapters.observe import Intent, ObserveOnly

__all__ = ["BrokerAdapter", "FaultPlan", "FixedSlippage", "RangeSlippage", "SimBroker"]
__all__ += ["Intent", "ObserveOnly"]
