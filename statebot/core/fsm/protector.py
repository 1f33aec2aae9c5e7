"""The protector lifecycle: one protective order (a bracket's stop or target) held at the venue.

PENDING -> WORKING -> TRIGGERED, or -> CANCELLING -> CANCELLED, or REJECTED.

A protector is sent with its entry as a bracket child (``BracketOrder``), good-till-cancelled,
so the venue keeps it whether or not the bot runs. It is PENDING until the venue acknowledges
it, WORKING while the venue holds it (a child waits for its entry's fill at the venue, then
works; either way only the venue's reports move it), TRIGGERED once it executed (the stop or
target closed, or reduced, the position: its one-cancels-other siblings are cancelled),
CANCELLING from the moment the bot asks to cancel it until the venue confirms (it may still
execute meanwhile, and then it is TRIGGERED), CANCELLED once the venue ended it, REJECTED when
the venue refused it.

A cancel or reject the bot did not ask for while the protector is ``needed`` (its position is
open, or its entry may still fill) leaves the position without its venue-held stop: the row
asks for ``restore_protection`` (the engine trips the kill switch or re-sends the stop, as
configured). The same report with nothing to protect (the OCA sibling already closed the
position, the entry ended unfilled) is the bracket working as designed.

Whether a protector is still working (``live``) counts its fills: a partly executed one in
TRIGGERED works on for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statebot.core.fsm.effects import Effect
from statebot.core.fsm.table import MachineSpec, Route, TableMachine, Transition

PENDING = "PENDING"
WORKING = "WORKING"
CANCELLING = "CANCELLING"
TRIGGERED = "TRIGGERED"
CANCELLED = "CANCELLED"
REJECTED = "REJECTED"

PROTECTOR_SPEC = MachineSpec(
    name="protector",
    states=(PENDING, WORKING, CANCELLING, TRIGGERED, CANCELLED, REJECTED),
    initial=PENDING,
    description=(
        "One protective order (a bracket's stop or target) held at the venue, good-till-cancelled, one-cancels-other "
        "with its sibling. Only the venue's reports and the bot's own cancel move it; a loss the bot did not ask for "
        "while its position needs it restores the protection (trip or re-send, as configured)."
    ),
    invariants=(
        "an OPEN position has a working protective stop at the venue from its fill until it is flat",
        "no protector survives its position: once flat, no stop is left that could open a new position",
        "a protector cancelled or rejected unasked while its position is open trips the kill switch or is re-sent",
        "a stop never fills better than its stop price",
        "one-cancels-other: the stop and the target of one bracket never both execute",
        "reconciliation compares working protective orders; one held for a position the book thinks flat is cancelled",
        "protective orders are recognised after a restart by their order reference",
        "a protector's state is the fold of the event log",
        "once its entry ended, no stop or target is larger than the position it protects",
        "once its entry filled, the stop and target keep the signal's distances from the average entry fill",
    ),
    transitions=(
        Transition(trigger="accepted", source=PENDING, dest=WORKING,
                   why="the venue holds it (a bracket child waits there for its entry's fill, then works)"),
        Transition(trigger="executed", source=(PENDING, WORKING, CANCELLING, TRIGGERED), dest=TRIGGERED,
                   actions=Effect.CANCEL_OCA_SIBLINGS,
                   why="the stop or target executed (also before its acknowledgement, or after a cancel was asked): "
                       "the position is closed or reduced at the venue; its OCA siblings are cancelled"),
        Transition(trigger="cancel_asked", source=(PENDING, WORKING), dest=CANCELLING,
                   why="the bot asked to cancel it (a flatten, an exit, a position gone flat): it may still execute "
                       "until the venue confirms"),
        Transition(trigger="ended", source=CANCELLING, dest=CANCELLED,
                   why="the venue confirmed the cancel the bot asked for"),
        Transition(trigger="ended", source=(PENDING, WORKING), dest=CANCELLED, guard="needed",
                   actions=Effect.RESTORE_PROTECTION,
                   why="the venue ended it unasked while its position is open (or its entry may still fill): the "
                       "position is naked: trip the kill switch or re-send the stop, as configured"),
        Transition(trigger="ended", source=(PENDING, WORKING), dest=CANCELLED, unless="needed",
                   why="ended with nothing to protect: its OCA sibling closed the position, or its entry ended unfilled"),
        Transition(trigger="ended", source=TRIGGERED, dest=CANCELLED, guard="needed",
                   actions=Effect.RESTORE_PROTECTION,
                   why="the rest of a partly executed protector ended while contracts remain: protect them again"),
        Transition(trigger="ended", source=TRIGGERED, dest=CANCELLED, unless="needed",
                   why="the rest of a partly executed protector ended with nothing left to protect"),
        Transition(trigger="executed", source=CANCELLED, dest=CANCELLED, actions=Effect.CANCEL_OCA_SIBLINGS,
                   why="a late report of an execution from before the cancel (venues report out of order): the "
                       "position machine applies it; the protector stays ended and its siblings are cancelled"),
        Transition(trigger="rejected", source=(PENDING, WORKING), dest=REJECTED, guard="needed",
                   actions=Effect.RESTORE_PROTECTION,
                   why="the venue refused the protector while its position is open or its entry may fill: "
                       "trip the kill switch or re-send the stop, as configured"),
        Transition(trigger="rejected", source=(PENDING, WORKING), dest=REJECTED, unless="needed",
                   why="the venue refused a protector with nothing to protect any more"),
        Transition(trigger="rejected", source=CANCELLING, dest=CANCELLED,
                   why="refused while its cancel was under way: it is not working, as the bot asked"),
    ),
)

LIVE_STATES = frozenset({PENDING, WORKING, CANCELLING})
"""States in which the venue may still execute the protector (TRIGGERED too while part remains)."""


class ProtectorMachine(TableMachine):
    """One protective order's lifecycle. ``order_id`` is its client order id, ``qty`` its signed size,
    ``filled`` the contracts executed so far (unsigned). Triggers the table does not allow raise
    ``InvalidTransition`` naming state and trigger, and change nothing."""

    SPEC = PROTECTOR_SPEC

    def __init__(self, order_id: str, qty: int, initial: str | None = None, filled: int = 0) -> None:
        super().__init__(initial)
        self.order_id = order_id
        self.qty = qty
        self.filled = filled

    @property
    def live(self) -> bool:
        """True while the venue may still execute it: PENDING, WORKING, CANCELLING, or TRIGGERED with a rest."""
        return self._state in LIVE_STATES or (self._state == TRIGGERED and self.filled < abs(self.qty))

    @property
    def working(self) -> bool:
        """True while it protects: the venue holds it and the bot did not ask to cancel it."""
        return self.live and self._state != CANCELLING

    def accepted(self) -> Route | None:
        """The venue acknowledged it; the route when it was PENDING (later acknowledgements change nothing)."""
        return self.fire("accepted") if self._state == PENDING else None

    def executed(self, qty: int) -> Route:
        """``qty`` contracts (unsigned) of it executed; the route asks to cancel its OCA siblings.
        Raises ``InvalidTransition`` after a REJECTED (a refused order never executes)."""
        route = self.fire("executed")
        assert route is not None
        self.filled += abs(qty)
        return route

    def cancel_asked(self) -> Route | None:
        """The bot is about to send a cancel; the route when it was still PENDING or WORKING."""
        return self.fire("cancel_asked") if self._state in (PENDING, WORKING) else None

    def ended(self, *, needed: bool) -> Route | None:
        """The venue reports it ended (cancelled); ``needed``: its position is open or its entry may still fill.
        None when it had already ended (a repeated or stale report)."""
        if self._state in (CANCELLED, REJECTED) or not self.live:
            return None
        return self.fire("ended", needed=needed)

    def rejected(self, *, needed: bool) -> Route | None:
        """The venue refused it; None when it had already ended."""
        if self._state not in (PENDING, WORKING, CANCELLING):
            return None
        return self.fire("rejected", needed=needed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state for a checkpoint."""
        return {"order_id": self.order_id, "qty": self.qty, "state": self._state, "filled": self.filled}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProtectorMachine:
        """The machine ``to_dict`` described."""
        return cls(str(data["order_id"]), int(data["qty"]), str(data["state"]), int(data["filled"]))

    def _guard_needed(self, data: Mapping[str, Any]) -> bool:
        return data["needed"] is True
