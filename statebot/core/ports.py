"""The broker adapter protocol: the whole surface statebot needs from a venue.

Small on purpose, so an Interactive Brokers adapter, the simulator and a
user's own venue all fit it. Calls are synchronous and never block for fills;
what the venue reports (order status, fills with commission) is buffered by
the adapter and handed over by ``drain()``, which the runner calls once per
bar or heartbeat. Order ids are the caller's ``client_order_id``.

Any call that needs the venue raises ``AdapterUnavailable`` when it cannot
reach it; nothing was done then. A venue's refusal of an order is not an
exception: it arrives as an ``OrderStatus`` REJECTED from ``drain()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from statebot.errors import AdapterUnavailable
from statebot.core.orders import BracketOrder, BrokerEvent, OrderRequest


@runtime_checkable
class BrokerAdapter(Protocol):
    """What every venue implements. See the module docstring for the contract."""

    def submit(self, order: OrderRequest) -> None:
        """Send ``order``. Its fate arrives from ``drain()`` (ACCEPTED, REJECTED, fills).

        Raises ``AdapterUnavailable`` when the venue cannot be reached (not sent).
        """
        ...

    def cancel(self, order_id: str) -> None:
        """Ask the venue to cancel ``order_id``; confirmation (or late fills) arrive from ``drain()``.

        Cancelling an order that already ended is not an error.
        """
        ...

    def cancel_all(self, symbol: str | None = None) -> None:
        """Ask to cancel every working order, or only those of ``symbol``."""
        ...

    def positions(self) -> Mapping[str, int]:
        """The venue's signed position per symbol (the truth); zero positions may be left out."""
        ...

    def open_orders(self) -> tuple[OrderRequest, ...]:
        """Orders the venue still works (not FILLED, CANCELLED or REJECTED)."""
        ...

    def drain(self) -> list[BrokerEvent]:
        """Every ``OrderStatus`` and ``Fill`` reported since the last call, in venue order.

        Fills may repeat (same ``exec_id``) and may follow a CANCELLED status;
        the position machines handle both.
        """
        ...


@runtime_checkable
class BracketVenue(BrokerAdapter, Protocol):
    """A venue that holds protective orders: brackets (entry, GTC stop, optional GTC target, one
    cancels the other) whose children it activates when the entry fills and keeps working whether
    or not the bot is still running. A venue without ``submit_bracket`` gets the runner's
    closed-bar stop check instead (the fallback)."""

    def submit_bracket(self, bracket: BracketOrder) -> None:
        """Send the entry and its protectors as one bracket. Each order's fate arrives from
        ``drain()`` like any order's (ACCEPTED, REJECTED, fills, CANCELLED when its OCA sibling
        filled or its entry ended unfilled).

        Raises ``AdapterUnavailable`` when the venue cannot be reached (nothing sent).
        """
        ...

    def modify(self, order: OrderRequest) -> None:
        """Replace the size and price of a working order with ``order``'s (same client order id), e.g. a
        protective stop shrunk to what its entry filled. An order no longer working is left alone (its
        end arrives from ``drain()``). Raises ``AdapterUnavailable`` when the venue cannot be reached.
        """
        ...


__all__ = ["AdapterUnavailable", "BracketVenue", "BrokerAdapter"]
