"""The flatten coordinator: IDLE -> FLATTENING -> IDLE, one per runner.

Once a flatten is asked for (the session's flatten lead, the kill switch, an operator's
``flatten_now``, a fill that left a position where none may be held), the runner steps the
``Flattener`` once per bar or heartbeat, sends no entry and lets no strategy exit beside it,
until the venue answered flat and no position machine holds anything. Only then does the
coordinator return to IDLE: a venue that does not answer never ends a flatten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statebot.core.fsm.table import MachineSpec, TableMachine, Transition

IDLE = "IDLE"
FLATTENING = "FLATTENING"

FLATTEN_SPEC = MachineSpec(
    name="flatten",
    states=(IDLE, FLATTENING),
    initial=IDLE,
    description=(
        "The runner's flatten. Once asked, the flattener is stepped every bar or heartbeat, with no entry "
        "and no strategy exit beside it, until the venue answered flat and no machine holds anything."
    ),
    invariants=(
        "FLATTENING returns to IDLE only when the venue answered flat and no position machine holds anything",
        "no entry and no strategy exit is sent while FLATTENING",
        "a flatten asked while one is under way is the same flatten",
    ),
    transitions=(
        Transition(trigger="start", source=IDLE, dest=FLATTENING,
                   why="a flatten was asked (the session's flatten lead, the kill switch, an operator, a fill where "
                   "none may be held): no entries, no strategy exits; the flattener is stepped every bar"),
        Transition(trigger="start", source=FLATTENING, dest=FLATTENING,
                   why="asked again while flattening: the flatten under way covers it"),
        Transition(trigger="done", source=FLATTENING, dest=IDLE, guard="venue_and_book_flat",
                   why="the venue answered flat and no position machine holds anything"),
    ),
)


class FlattenCoordinator(TableMachine):
    """Whether a flatten is under way. ``start`` asks for one; ``finish`` ends it when flat."""

    SPEC = FLATTEN_SPEC

    @property
    def flattening(self) -> bool:
        return self._state == FLATTENING

    def start(self) -> bool:
        """Ask for a flatten; True when this began one (it was IDLE)."""
        route = self.fire("start")
        assert route is not None
        return route.source == IDLE

    def finish(self, *, venue_flat: bool, book_flat: bool) -> bool:
        """End the flatten when the venue answered flat and the book holds nothing; True when it ended.
        Raises ``InvalidTransition`` when no flatten is under way."""
        return self.fire("done", venue_flat=venue_flat, book_flat=book_flat) is not None

    def _guard_venue_and_book_flat(self, data: Mapping[str, Any]) -> bool:
        return data["venue_flat"] is True and data["book_flat"] is True
