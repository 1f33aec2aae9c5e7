"""OBSERVE mode: a wrapper that lets no order leave the process, whatever venue it wraps.

``ObserveOnly(venue)`` is itself a ``BrokerAdapter``. Reads (``positions``,
``open_orders``, ``drain``) go to the venue; every write (``submit``,
``cancel``, ``cancel_all``) stops here, is recorded as an ``Intent`` (and
passed to ``on_intent``, e.g. to write an event), and a submission is answered
with a REJECTED status whose reason says it was observed, so the position
machines never believe an order is working.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import attrs

from statebot.core.ports import BrokerAdapter
from statebot.core.time.clock import require_aware
from statebot.core.orders import REJECTED, BrokerEvent, OrderRequest, OrderStatus

OBSERVED_REASON = "OBSERVE mode: not sent"

SUBMIT = "submit"
CANCEL = "cancel"
CANCEL_ALL = "cancel_all"


@attrs.frozen(kw_only=True)
class Intent:
    """A write the bot wanted to make: ``action`` (submit, cancel, cancel_all) at ``at`` (aware).

    ``order`` is set for a submission, ``order_id`` for a cancel, ``symbol``
    for a cancel_all of one symbol.
    """

    action: str = attrs.field(validator=attrs.validators.in_((SUBMIT, CANCEL, CANCEL_ALL)))
    at: dt.datetime
    order: OrderRequest | None = None
    order_id: str | None = None
    symbol: str | None = None

    def __attrs_post_init__(self) -> None:
        require_aware(self.at, "intent time")


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class ObserveOnly:
    """A ``BrokerAdapter`` that reads from ``venue`` and never writes to it."""

    def __init__(
        self,
        venue: BrokerAdapter,
        *,
        on_intent: Callable[[Intent], object] | None = None,
        clock: Callable[[], dt.datetime] = _wall,
    ) -> None:
        self.__venue = venue  # name-mangled: callers hold the wrapper, not the venue
        self._on_intent = on_intent
        self._clock = clock
        self._events: list[BrokerEvent] = []
        self.intents: list[Intent] = []

    def _record(self, intent: Intent) -> None:
        self.intents.append(intent)
        if self._on_intent is not None:
            self._on_intent(intent)

    def submit(self, order: OrderRequest) -> None:
        """Record the intent; a REJECTED status (reason ``OBSERVED_REASON``) follows from ``drain``."""
        at = self._clock()
        self._record(Intent(action=SUBMIT, at=at, order=order))
        self._events.append(OrderStatus(order_id=order.client_order_id, status=REJECTED, filled=0,
                                        remaining=abs(order.qty), at=at, reason=OBSERVED_REASON))

    def cancel(self, order_id: str) -> None:
        """Record the intent only."""
        self._record(Intent(action=CANCEL, at=self._clock(), order_id=order_id))

    def cancel_all(self, symbol: str | None = None) -> None:
        """Record the intent only."""
        self._record(Intent(action=CANCEL_ALL, at=self._clock(), symbol=symbol))

    def positions(self) -> Mapping[str, int]:
        return self.__venue.positions()

    def open_orders(self) -> tuple[OrderRequest, ...]:
        return self.__venue.open_orders()

    def drain(self) -> list[BrokerEvent]:
        """The venue's reports, then the observed submissions' REJECTED statuses."""
        events = self.__venue.drain()
        own, self._events = self._events, []
        return [*events, *own]
