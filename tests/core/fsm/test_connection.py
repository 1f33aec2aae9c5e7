"""The venue connection: lost once, back into RESYNCING, CONNECTED only through a reconciliation."""

from __future__ import annotations

from statebot.core.fsm.connection import CONNECTED, DISCONNECTED, RESYNCING, VenueConnection
from statebot.core.fsm.effects import Effect


def test_losing_the_venue_changes_the_state_once_however_long_it_stays_down() -> None:
    c = VenueConnection()
    assert c.lost() is not None
    assert [c.lost() for _ in range(5)] == [None] * 5
    assert c.state == DISCONNECTED and not c.reachable and not c.allows_entries


def test_the_venue_back_asks_for_a_reconciliation_and_allows_no_entry_yet() -> None:
    c = VenueConnection()
    c.lost()
    route = c.back()
    assert route is not None and route.effects == (Effect.RECONCILE_POSITIONS,)
    assert c.state == RESYNCING and c.reachable and not c.allows_entries


def test_only_a_reconciliation_ends_resyncing() -> None:
    c = VenueConnection()
    c.lost()
    c.back()
    assert c.back() is None and c.state == RESYNCING
    assert c.reconciled() is not None
    assert c.state == CONNECTED and c.allows_entries


def test_a_reconciliation_while_connected_changes_nothing() -> None:
    c = VenueConnection()
    assert c.reconciled() is None and c.state == CONNECTED


def test_losing_the_venue_while_resyncing_goes_back_to_disconnected() -> None:
    c = VenueConnection()
    c.lost()
    c.back()
    assert c.lost() is not None and c.state == DISCONNECTED
