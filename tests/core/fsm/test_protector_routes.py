"""Every report from every protector state: the exact route taken (trigger, source, destination, effects),
the state it leaves, what a refused report is refused with, and the snapshot field by field."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from statebot.core.fsm.effects import Effect
from statebot.core.fsm.protector import (
    CANCELLED,
    CANCELLING,
    PENDING,
    REJECTED,
    TRIGGERED,
    WORKING,
    ProtectorMachine,
)
from statebot.errors import InvalidTransition

OCA = (Effect.CANCEL_OCA_SIBLINGS,)
RESTORE = (Effect.RESTORE_PROTECTION,)


def pending() -> ProtectorMachine:
    return ProtectorMachine("e1-stop", -2)


def working() -> ProtectorMachine:
    m = pending()
    m.accepted()
    return m


def cancelling() -> ProtectorMachine:
    m = working()
    m.cancel_asked()
    return m


def part_triggered() -> ProtectorMachine:
    m = working()
    m.executed(1)
    return m


def all_triggered() -> ProtectorMachine:
    m = working()
    m.executed(2)
    return m


def cancelled() -> ProtectorMachine:
    m = cancelling()
    m.ended(needed=True)
    return m


def rejected() -> ProtectorMachine:
    m = pending()
    m.rejected(needed=False)
    return m


START: dict[str, Callable[[], ProtectorMachine]] = {
    "pending": pending, "working": working, "cancelling": cancelling, "part_triggered": part_triggered,
    "all_triggered": all_triggered, "cancelled": cancelled, "rejected": rejected,
}
STATE_OF = {"pending": PENDING, "working": WORKING, "cancelling": CANCELLING, "part_triggered": TRIGGERED,
            "all_triggered": TRIGGERED, "cancelled": CANCELLED, "rejected": REJECTED}


def report(m: ProtectorMachine, name: str):  # type: ignore[no-untyped-def]
    if name == "executed":
        return m.executed(1)
    if name in ("ended+", "ended-"):
        return m.ended(needed=name.endswith("+"))
    if name in ("rejected+", "rejected-"):
        return m.rejected(needed=name.endswith("+"))
    return getattr(m, name)()


# (start, report) -> (destination, effects); None: no route, nothing changes
ROUTES: dict[tuple[str, str], tuple[str, tuple[Effect, ...]] | None] = {
    ("pending", "accepted"): (WORKING, ()),
    ("pending", "executed"): (TRIGGERED, OCA),
    ("pending", "cancel_asked"): (CANCELLING, ()),
    ("pending", "ended+"): (CANCELLED, RESTORE),
    ("pending", "ended-"): (CANCELLED, ()),
    ("pending", "rejected+"): (REJECTED, RESTORE),
    ("pending", "rejected-"): (REJECTED, ()),
    ("working", "accepted"): None,
    ("working", "executed"): (TRIGGERED, OCA),
    ("working", "cancel_asked"): (CANCELLING, ()),
    ("working", "ended+"): (CANCELLED, RESTORE),
    ("working", "ended-"): (CANCELLED, ()),
    ("working", "rejected+"): (REJECTED, RESTORE),
    ("working", "rejected-"): (REJECTED, ()),
    ("cancelling", "accepted"): None,
    ("cancelling", "executed"): (TRIGGERED, OCA),
    ("cancelling", "cancel_asked"): None,
    ("cancelling", "ended+"): (CANCELLED, ()),
    ("cancelling", "ended-"): (CANCELLED, ()),
    ("cancelling", "rejected+"): (CANCELLED, ()),
    ("cancelling", "rejected-"): (CANCELLED, ()),
    ("part_triggered", "accepted"): None,
    ("part_triggered", "executed"): (TRIGGERED, OCA),
    ("part_triggered", "cancel_asked"): None,
    ("part_triggered", "ended+"): (CANCELLED, RESTORE),
    ("part_triggered", "ended-"): (CANCELLED, ()),
    ("part_triggered", "rejected+"): None,
    ("part_triggered", "rejected-"): None,
    ("all_triggered", "accepted"): None,
    ("all_triggered", "executed"): (TRIGGERED, OCA),
    ("all_triggered", "cancel_asked"): None,
    ("all_triggered", "ended+"): None,
    ("all_triggered", "ended-"): None,
    ("all_triggered", "rejected+"): None,
    ("all_triggered", "rejected-"): None,
    ("cancelled", "accepted"): None,
    ("cancelled", "executed"): (CANCELLED, OCA),
    ("cancelled", "cancel_asked"): None,
    ("cancelled", "ended+"): None,
    ("cancelled", "ended-"): None,
    ("cancelled", "rejected+"): None,
    ("cancelled", "rejected-"): None,
    ("rejected", "accepted"): None,
    ("rejected", "cancel_asked"): None,
    ("rejected", "ended+"): None,
    ("rejected", "ended-"): None,
    ("rejected", "rejected+"): None,
    ("rejected", "rejected-"): None,
}


@pytest.mark.parametrize(("start", "name"), sorted(ROUTES))
def test_each_report_from_each_state_takes_exactly_its_route(start: str, name: str) -> None:
    m = START[start]()
    filled = m.filled
    route = report(m, name)
    expected = ROUTES[(start, name)]
    if expected is None:
        assert route is None and m.state == STATE_OF[start]
        assert m.filled == filled
        return
    dest, effects = expected
    trigger = name.rstrip("+-")
    assert route is not None
    assert (route.trigger, route.source, route.dest, route.effects) == (trigger, STATE_OF[start], dest, effects)
    assert m.state == dest
    assert m.filled == filled + (1 if trigger == "executed" else 0)


def test_every_state_and_report_is_stated() -> None:
    assert {(s, n) for s in START for n in ("accepted", "executed", "cancel_asked", "ended+", "ended-",
                                            "rejected+", "rejected-")} - set(ROUTES) == {("rejected", "executed")}


def test_an_execution_after_a_refusal_is_refused_naming_machine_state_and_trigger() -> None:
    m = rejected()
    with pytest.raises(InvalidTransition) as caught:
        m.executed(1)
    assert (caught.value.machine, caught.value.state, caught.value.trigger) == ("protector", REJECTED, "executed")
    assert m.state == REJECTED and m.filled == 0


@pytest.mark.parametrize(("start", "live", "is_working"), [
    ("pending", True, True), ("working", True, True), ("cancelling", True, False), ("part_triggered", True, True),
    ("all_triggered", False, False), ("cancelled", False, False), ("rejected", False, False),
])
def test_whether_the_venue_may_still_execute_it_and_whether_it_protects(start: str, live: bool,
                                                                       is_working: bool) -> None:
    m = START[start]()
    assert (m.live, m.working) == (live, is_working)


def test_an_execution_counts_its_size_whatever_its_sign() -> None:
    m = ProtectorMachine("e1-stop", -3)
    m.executed(-1)
    assert m.filled == 1 and m.live
    m.executed(2)
    assert m.filled == 3 and not m.live


def test_a_long_positions_stop_is_live_until_its_whole_size_executed() -> None:
    m = ProtectorMachine("e1-stop", 2, TRIGGERED, 1)
    assert m.live
    m.filled = 2
    assert not m.live


def test_a_new_protector_starts_pending_with_nothing_executed() -> None:
    m = ProtectorMachine("e1-target", -1)
    assert (m.order_id, m.qty, m.state, m.filled) == ("e1-target", -1, PENDING, 0)


def test_the_snapshot_names_every_field() -> None:
    m = part_triggered()
    assert m.to_dict() == {"order_id": "e1-stop", "qty": -2, "state": TRIGGERED, "filled": 1}


def test_a_snapshot_gives_back_each_field() -> None:
    m = ProtectorMachine.from_dict({"order_id": "e7-target", "qty": "3", "state": CANCELLING, "filled": "1"})
    assert (m.order_id, m.qty, m.state, m.filled) == ("e7-target", 3, CANCELLING, 1)
    assert type(m.qty) is int and type(m.filled) is int
    assert (m.live, m.working) == (True, False)
