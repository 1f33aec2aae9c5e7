"""The position lifecycle: entries, partial fills, exits, late and duplicate fills, over-fills."""

from __future__ import annotations

from decimal import Decimal

import pytest

from statebot import (
    ENTERING,
    EXITING,
    FLAT,
    OPEN,
    POSITION_SPEC,
    InvalidTransition,
    OverFill,
)
from statebot.core.fsm import all_specs
from tests.positions_helpers import fill, machine, order, status


def test_the_table_declares_the_four_states_starting_flat() -> None:
    assert POSITION_SPEC.states == (FLAT, ENTERING, OPEN, EXITING)
    assert POSITION_SPEC.initial == FLAT
    assert POSITION_SPEC in all_specs()


def test_full_round_trip_goes_flat_entering_open_exiting_flat() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    assert m.state == ENTERING
    m.on_fill(fill(entry, 2, ticks=20000))
    assert (m.state, m.qty) == (OPEN, 2)
    exit_ = order(-2, "exit")
    m.submit_exit(exit_)
    assert m.state == EXITING
    trade = m.on_fill(fill(exit_, -2, ticks=20004))
    assert (m.state, m.qty) == (FLAT, 0)
    assert trade is not None
    assert trade.qty == 2 and trade.avg_entry_ticks == 20000 and trade.avg_exit_ticks == 20004
    assert trade.gross_pnl == Decimal("10.00")
    assert trade.commission == Decimal("1.14")
    assert trade.net_pnl == Decimal("8.86")


def test_short_round_trip_gains_when_price_falls() -> None:
    m = machine()
    entry = order(-1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, -1, ticks=20000))
    exit_ = order(1, "exit")
    m.submit_exit(exit_)
    trade = m.on_fill(fill(exit_, 1, ticks=19990))
    assert trade is not None and trade.qty == -1 and trade.gross_pnl == Decimal("12.50")


@pytest.mark.invariant("an entry rejected or cancelled with nothing filled returns to FLAT", machine="position")
@pytest.mark.parametrize("ending", ["REJECTED", "CANCELLED"])
def test_entry_ended_with_no_fill_returns_to_flat(ending: str) -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_status(status(entry, "ACCEPTED"))
    assert m.state == ENTERING
    m.on_status(status(entry, ending))
    assert (m.state, m.qty) == (FLAT, 0)
    assert m.may_enter()


def test_partial_entry_fill_stays_entering_with_the_filled_quantity() -> None:
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    assert (m.state, m.qty) == (ENTERING, 1)


def test_partial_entry_then_cancel_confirmed_is_open_with_what_filled() -> None:
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    m.on_status(status(entry, "CANCELLED", filled=1))
    assert (m.state, m.qty) == (OPEN, 1)


def test_exit_during_partial_entry_cancels_the_rest_and_exits_the_filled_part() -> None:
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 2))
    to_cancel = m.submit_exit(order(-2, "exit"))
    assert to_cancel == (entry.client_order_id,)
    assert m.state == EXITING


def test_exit_from_entering_with_nothing_filled_is_invalid() -> None:
    m = machine()
    m.submit_entry(order(1))
    with pytest.raises(InvalidTransition, match="ENTERING.*|submit_exit"):
        m.submit_exit(order(-1, "exit"))


@pytest.mark.invariant("fills arriving after a cancel are applied, never dropped", machine="position")
def test_fill_after_cancel_confirmation_is_applied() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.cancel_entry()
    m.on_status(status(entry, "CANCELLED"))
    assert m.state == FLAT
    m.on_fill(fill(entry, 1))
    assert (m.state, m.qty) == (OPEN, 1)


def test_cancel_asked_with_nothing_filled_waits_in_entering_for_the_venue() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    assert m.cancel_entry() == (entry.client_order_id,)
    assert m.state == ENTERING
    assert not m.may_enter()


def test_filled_status_before_its_fills_keeps_the_order_live() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.on_status(status(entry, "FILLED", filled=2))
    assert (m.state, m.qty) == (ENTERING, 0)
    m.on_fill(fill(entry, 2))
    assert (m.state, m.qty) == (OPEN, 2)


@pytest.mark.invariant("a duplicate execution report (same exec_id) is applied once", machine="position")
def test_duplicate_execution_report_is_applied_once() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    first = fill(entry, 1, exec_id="E1")
    m.on_fill(first)
    assert m.on_fill(first) is None
    assert m.qty == 1 and m.seen("E1")


def test_exit_partially_filled_stays_exiting_then_exit_cancel_returns_to_open() -> None:
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 3))
    exit_ = order(-3, "exit")
    m.submit_exit(exit_)
    m.on_fill(fill(exit_, -1))
    assert (m.state, m.qty) == (EXITING, 2)
    m.on_status(status(exit_, "CANCELLED", filled=1))
    assert (m.state, m.qty) == (OPEN, 2)


def test_exit_rejected_returns_to_open() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    m.on_status(status(exit_, "REJECTED", reason="no margin"))
    assert (m.state, m.qty) == (OPEN, 1)


def test_late_entry_fill_after_exit_leaves_open_position_to_exit_again() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    trade = m.on_fill(fill(exit_, -1))
    assert trade is not None and m.state == ENTERING  # the entry's cancel is not confirmed yet
    m.on_fill(fill(entry, 1))
    m.on_status(status(entry, "CANCELLED", filled=2))
    assert (m.state, m.qty) == (OPEN, 1)


@pytest.mark.invariant("an over-fill is applied to the position and raised, never absorbed", machine="position")
def test_over_fill_is_applied_then_raised() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    with pytest.raises(OverFill) as info:
        m.on_fill(fill(entry, 2))
    assert info.value.kind == "over_fill"
    assert m.qty == 2 and m.state == OPEN


def test_exit_fill_reversing_the_position_is_raised_and_closes_the_trip() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1, ticks=100))
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    with pytest.raises(OverFill) as info:
        m.on_fill(fill(exit_, -3, ticks=104))
    assert info.value.kind == "over_fill"
    assert info.value.closed is not None and info.value.closed.gross_pnl == Decimal("5.00")
    assert m.qty == -2 and m.state == OPEN


def test_fill_of_unknown_order_is_applied_and_raised() -> None:
    m = machine()
    stranger = order(1, oid="not-mine")
    with pytest.raises(OverFill) as info:
        m.on_fill(fill(stranger, 1))
    assert info.value.kind == "unknown_order"
    assert m.qty == 1 and m.state == OPEN


@pytest.mark.invariant("an invalid trigger raises InvalidTransition naming state and trigger", machine="position")
def test_second_entry_while_open_raises_naming_state_and_trigger() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    with pytest.raises(InvalidTransition, match="submit_entry.*OPEN"):
        m.submit_entry(order(1))
    assert m.state == OPEN and m.qty == 1


def test_entry_while_a_cancelled_order_is_live_is_refused() -> None:
    m = machine()
    stale = order(2)
    m.submit_entry(stale)
    m.cancel_entry()
    m.on_status(status(stale, "CANCELLED", filled=1))  # one fill still on its way
    assert m.state == ENTERING and not m.may_enter()
    with pytest.raises(InvalidTransition):
        m.submit_entry(order(1))
    m.on_fill(fill(stale, 1))
    assert (m.state, m.qty) == (OPEN, 1)


def test_entries_are_allowed_again_once_exit_and_entry_cancel_are_confirmed() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)  # the entry's rest is being cancelled
    m.on_fill(fill(exit_, -1))
    m.on_status(status(entry, "CANCELLED", filled=1))
    assert m.state == FLAT and m.may_enter()


def test_exit_larger_than_the_position_is_refused() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    with pytest.raises(ValueError, match="does not close"):
        m.submit_exit(order(-2, "exit"))


def test_order_of_another_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="s2/MES"):
        machine().submit_entry(order(1, strategy="s2"))


def test_average_entry_is_quantity_weighted_in_ticks() -> None:
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1, ticks=100))
    m.on_fill(fill(entry, 2, ticks=103))
    assert m.avg_entry_ticks == Decimal(306) / 3


def test_exits_never_stack_past_what_is_held() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 2))
    m.submit_exit(order(-1, "exit"))
    m.submit_exit(order(-1, "exit"))
    with pytest.raises(ValueError, match="already working"):
        m.submit_exit(order(-1, "exit"))
