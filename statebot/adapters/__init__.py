"""Broker edge: the ``BrokerAdapter`` protocol and the venues behind it.

The core never imports a venue; a venue imports ``statebot.adapters.base``.
"""

from statebot.adapters.base import BrokerAdapter
from statebot.adapters.sim import FaultPlan, FixedSlippage, RangeSlippage, SimBroker

__all__ = ["BrokerAdapter", "FaultPlan", "FixedSlippage", "RangeSlippage", "SimBroker"]
