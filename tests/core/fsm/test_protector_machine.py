"""The protector lifecycle: one protective order held at the venue, moved only by the venue's reports
and the bot's own cancel; a loss the bot did not ask for while its position needs it restores protection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.core.fsm.effects import Effect
from statebot.core.fsm.protector import (
    CANCELLED,
    CANCELLING,
    PENDING,
    PROTECTOR_SPEC,
    REJECTED,
    TRIGGERED,
    WORKING,
    ProtectorMachine,
)
from statebot.errors import InvalidTransition


def working() -> ProtectorMachine:
    m = ProtectorMachine("e1-stop", -1)
    m.accepted()
    return m


def test_a_protector_is_pending_until_the_venue_acknowledges_it() -> None:
    m = ProtectorMachine("e1-stop", -1)
    assert m.state == PENDING and m.live and m.working
    route = m.accepted()
    assert route is not None and m.state == WORKING
    assert m.accepted() is None and m.state == WORKING  # a repeated acknowledgement changes nothing


def test_an_execution_asks_to_cancel_the_oca_siblings() -> None:
    m = working()
    route = m.executed(1)
    assert m.state == TRIGGERED and route.effects == (Effect.CANCEL_OCA_SIBLINGS,)
    assert not m.live and m.filled == 1


def test_a_partly_executed_protector_works_on_for_the_rest() -> None:
    m = ProtectorMachine("e1-stop", -2)
    m.accepted()
    m.executed(1)
    assert m.state == TRIGGERED and m.live
    m.executed(1)
    assert not m.live


def test_an_execution_before_the_acknowledgement_is_applied() -> None:
    m = ProtectorMachine("e1-stop", -1)
    m.executed(1)
    assert m.state == TRIGGERED


def test_a_cancel_the_bot_asked_for_ends_quietly() -> None:
    m = working()
    assert m.cancel_asked() is not None and m.state == CANCELLING
    assert m.live and not m.working  # it may still execute until the venue confirms
    route = m.ended(needed=True)
    assert route is not None and route.effects == () and m.state == CANCELLED


def test_a_protector_being_cancelled_may_still_execute() -> None:
    m = working()
    m.cancel_asked()
    m.executed(1)
    assert m.state == TRIGGERED


@pytest.mark.invariant("a protector cancelled or rejected unasked while its position is open trips the kill switch or is re-sent",
                       machine="protector")
@pytest.mark.parametrize("report", ["ended", "rejected"])
def test_an_unasked_loss_while_the_position_needs_it_restores_protection(report: str) -> None:
    m = working()
    route = getattr(m, report)(needed=True)
    assert route is not None and route.effects == (Effect.RESTORE_PROTECTION,)
    assert not m.live


@pytest.mark.parametrize("report", ["ended", "rejected"])
def test_an_unasked_end_with_nothing_to_protect_is_the_bracket_working(report: str) -> None:
    m = working()
    route = getattr(m, report)(needed=False)
    assert route is not None and route.effects == () and m.state in (CANCELLED, REJECTED)


def test_the_rest_of_a_partly_executed_stop_lost_while_contracts_remain_restores_protection() -> None:
    m = ProtectorMachine("e1-stop", -2)
    m.accepted()
    m.executed(1)
    route = m.ended(needed=True)
    assert route is not None and route.effects == (Effect.RESTORE_PROTECTION,) and m.state == CANCELLED
    assert not m.live and m.filled == 1


def test_a_reject_while_cancelling_ends_it_as_asked() -> None:
    m = working()
    m.cancel_asked()
    route = m.rejected(needed=True)
    assert route is not None and route.effects == () and m.state == CANCELLED


def test_reports_after_the_end_change_nothing() -> None:
    m = working()
    m.cancel_asked()
    m.ended(needed=False)
    assert m.ended(needed=True) is None and m.rejected(needed=True) is None and m.state == CANCELLED
    assert m.cancel_asked() is None


def test_a_late_execution_after_the_cancel_is_counted_and_cancels_the_siblings() -> None:
    m = working()
    m.cancel_asked()
    m.ended(needed=False)
    route = m.executed(1)
    assert route.effects == (Effect.CANCEL_OCA_SIBLINGS,) and m.state == CANCELLED and m.filled == 1


def test_a_refused_protector_never_executes() -> None:
    m = ProtectorMachine("e1-stop", -1)
    m.rejected(needed=False)
    with pytest.raises(InvalidTransition) as caught:
        m.executed(1)
    assert "protector" in str(caught.value) and REJECTED in str(caught.value)


def test_a_protector_round_trips_through_its_snapshot() -> None:
    m = ProtectorMachine("e1-stop", -2)
    m.accepted()
    m.executed(1)
    again = ProtectorMachine.from_dict(m.to_dict())
    assert (again.state, again.filled, again.qty, again.live) == (TRIGGERED, 1, -2, True)


REPORTS = st.sampled_from(["accepted", "executed", "cancel_asked", "ended+", "ended-", "rejected+", "rejected-"])


@given(st.lists(REPORTS, max_size=12))
def test_every_report_sequence_ends_in_a_state_of_the_table(reports: list[str]) -> None:
    """Whatever the venue reports, in any order, the machine only ever takes rows of its table, and once it
    ended (CANCELLED, REJECTED, or TRIGGERED in full) nothing makes it live again."""
    m = ProtectorMachine("p", -1)
    ended = False
    for report in reports:
        name, _, sign = report.partition("+") if "+" in report else report.partition("-")
        try:
            if name == "executed":
                if m.filled >= 1:
                    continue
                m.executed(1)
            elif name in ("ended", "rejected"):
                getattr(m, name)(needed="+" in report)
            else:
                getattr(m, name)()
        except InvalidTransition:
            assert m.state == REJECTED
        assert m.state in PROTECTOR_SPEC.states
        if ended:
            assert not m.live
        ended = ended or not m.live
