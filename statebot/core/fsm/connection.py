"""The venue connection: CONNECTED -> DISCONNECTED -> RESYNCING -> CONNECTED.

The runner learns the venue is unreachable when a call raises ``AdapterUnavailable`` (a
drain, an order, the flatten) and that it is back when a drain answers again. Back is not
yet trusted: while RESYNCING no entry is sent until the venue's positions were compared
with the machines' (a reconciliation; a mismatch trips the kill switch). Each change is
logged once (``VENUE_CONNECTION``); staying unreachable logs nothing more.
"""

from __future__ import annotations

from statebot.core.fsm.effects import Effect
from statebot.core.fsm.table import MachineSpec, Route, TableMachine, Transition

CONNECTED = "CONNECTED"
DISCONNECTED = "DISCONNECTED"
RESYNCING = "RESYNCING"

CONNECTION_SPEC = MachineSpec(
    name="venue_connection",
    states=(CONNECTED, DISCONNECTED, RESYNCING),
    initial=CONNECTED,
    description=(
        "Whether the venue answers, and whether its positions were compared with the machines' since it "
        "last came back. Entries only while CONNECTED."
    ),
    invariants=(
        "no entry is sent unless the venue connection is CONNECTED",
        "RESYNCING becomes CONNECTED only through a reconciliation of the venue's positions",
        "an outage logs each change of the connection once, not an error per bar",
        "a disconnect while flat with nothing working does not trip the kill switch",
    ),
    transitions=(
        Transition(trigger="lost", source=(CONNECTED, RESYNCING), dest=DISCONNECTED,
                   why="the venue did not answer (a drain, an order or the flatten raised): no entries; logged once"),
        Transition(trigger="lost", source=DISCONNECTED, dest=DISCONNECTED,
                   why="still unreachable: nothing new, nothing logged"),
        Transition(trigger="back", source=DISCONNECTED, dest=RESYNCING, actions=(Effect.RECONCILE_POSITIONS,),
                   why="the venue answered again: no entries until its positions were compared with the machines'"),
        Transition(trigger="reconciled", source=RESYNCING, dest=CONNECTED,
                   why="the venue's positions were compared with the machines' (a mismatch trips the kill switch): "
                   "entries allowed again"),
    ),
)


class VenueConnection(TableMachine):
    """The runner's view of the venue's reachability. ``lost``/``back``/``reconciled`` return
    the route taken (its ``effects`` for the engine), or None when nothing changed."""

    SPEC = CONNECTION_SPEC

    @property
    def allows_entries(self) -> bool:
        return self._state == CONNECTED

    @property
    def reachable(self) -> bool:
        return self._state != DISCONNECTED

    def lost(self) -> Route | None:
        """The venue did not answer; the route when this changed the state (else None)."""
        route = self.fire("lost")
        return route if route is not None and route.source != route.dest else None

    def back(self) -> Route | None:
        """The venue answered; the route (with ``reconcile_positions``) when it was DISCONNECTED."""
        if self._state != DISCONNECTED:
            return None
        return self.fire("back")

    def reconciled(self) -> Route | None:
        """The venue's positions were compared with the machines'; the route when RESYNCING ended."""
        if self._state != RESYNCING:
            return None
        return self.fire("reconciled")
