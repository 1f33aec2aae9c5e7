"""The lifecycle invariants over an event log: each holds on a real simulation's log and
fails, at the first offending line, on a copy broken by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot.journal.log import Event
from statebot.testing import INVARIANTS, check_events
from statebot.testing import invariants as inv
from tests.testing.logs import Numbered, busy_days, edited, first, inserted, read, removed, simulate, xnys


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> list[Numbered]:
    return read(simulate(tmp_path_factory.mktemp("sim")))


def line_of(events: list[Numbered], index: int) -> int:
    return events[index][0]


def test_a_real_simulation_with_a_restart_keeps_every_invariant(good: list[Numbered]) -> None:
    verdicts = check_events(good, xnys())
    assert [v.name for v in verdicts] == list(INVARIANTS)
    assert all(v.passed for v in verdicts), [v for v in verdicts if not v.passed]
    notes = {v.name: v.note for v in verdicts}
    assert notes["flat_at_close"] == "2 close(s) reached"
    assert notes["flatten_on_time"] == "2 flatten(s), 0 late"
    assert notes["restarts_resume"] == "2 start(s)"


def test_a_position_held_at_the_close_with_the_kill_switch_armed_fails_at_the_close(good: list[Numbered]) -> None:
    close = first(good, "SESSION_TRANSITION", lambda e: e.payload["to"] == "CLOSED")
    fill = good[first(good, "FILL")][1].payload
    broken = inserted(good, close - 1, "FILL", {**fill, "exec_id": "extra", "order_id": "extra", "qty": 1})
    verdict = inv.flat_at_close(broken, xnys())
    assert not verdict.passed
    assert verdict.line == line_of(broken, close + 1)
    assert "holding sma-cross MES +1 with the kill switch ARMED" in verdict.detail


def test_a_position_at_the_close_is_allowed_once_the_kill_switch_tripped(good: list[Numbered]) -> None:
    close = first(good, "SESSION_TRANSITION", lambda e: e.payload["to"] == "CLOSED")
    fill = good[first(good, "FILL")][1].payload
    broken = inserted(good, close - 1, "FILL", {**fill, "exec_id": "extra", "order_id": "extra", "qty": 1})
    tripped = inserted(broken, close + 1, "KILL_SWITCH", {"from": "ARMED", "to": "TRIPPED", "reason": "position_held_at_close"})
    assert inv.flat_at_close(tripped, xnys()).passed


def test_a_flatten_marked_late_when_it_was_on_time_fails(good: list[Numbered]) -> None:
    i = first(good, "SESSION_EXIT_FLATTEN")
    verdict = inv.flatten_on_time(edited(good, i, late=True), xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))
    assert "says late=True" in verdict.detail


def test_a_missing_flatten_fails_at_the_first_clock_time_after_its_due_time(good: list[Numbered]) -> None:
    i = first(good, "SESSION_EXIT_FLATTEN")
    verdict = inv.flatten_on_time(removed(good, i), xnys())
    assert not verdict.passed
    assert "no flatten logged for session 2026-11-24" in verdict.detail


def test_a_log_checked_against_a_longer_flatten_lead_than_it_ran_with_fails(good: list[Numbered]) -> None:
    verdict = inv.flatten_on_time(good, xnys(lead_minutes=10))
    assert not verdict.passed
    assert verdict.detail == ("flatten of session 2026-11-24 at 2026-11-24T20:55:00+00:00 says late=False, but it was "
                              "due at 2026-11-24T20:50:00+00:00")


def test_a_flatten_whose_due_time_is_not_the_calendars_fails(good: list[Numbered]) -> None:
    i = first(good, "SESSION_EXIT_FLATTEN")
    verdict = inv.flatten_on_time(edited(good, i, due="2026-11-24T20:50:00+00:00"), xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))


def entry(e: Event) -> bool:
    return e.payload["purpose"] == "entry"


def test_an_entry_after_the_cutoff_fails(good: list[Numbered]) -> None:
    i = first(good, "ORDER_SUBMITTED", entry)
    verdict = inv.entries_allowed(good, xnys(cutoff=dt.timedelta(hours=7)))
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))
    assert "after the entry cut-off" in verdict.detail


def test_an_entry_while_the_kill_switch_is_tripped_fails(good: list[Numbered]) -> None:
    i = first(good, "ORDER_SUBMITTED", entry)
    broken = inserted(good, i, "KILL_SWITCH", {"from": "ARMED", "to": "TRIPPED", "reason": "daily_loss"})
    verdict = inv.entries_allowed(broken, xnys())
    assert (verdict.passed, verdict.line) == (False, i + 2)
    assert "while the kill switch is TRIPPED" in verdict.detail


def test_an_entry_while_throttled_fails(good: list[Numbered]) -> None:
    i = first(good, "ORDER_SUBMITTED", entry)
    broken = inserted(good, i, "THROTTLE_TRANSITION", {"strategy": "sma-cross", "from": "ACTIVE", "to": "THROTTLED",
                                                       "reason": "losses", "trigger": "breach"})
    verdict = inv.entries_allowed(broken, xnys())
    assert (verdict.passed, verdict.line) == (False, i + 2)
    assert "while sma-cross is THROTTLED" in verdict.detail


def test_a_trade_whose_net_is_not_gross_minus_commission_fails(good: list[Numbered]) -> None:
    i = first(good, "TRADE_CLOSED")
    p = good[i][1].payload
    verdict = inv.net_pnl(edited(good, i, net_pnl=p["gross_pnl"]), xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))


def test_a_fill_reported_twice_with_different_execution_ids_fails_as_an_over_fill(good: list[Numbered]) -> None:
    i = first(good, "FILL")
    fill = good[i][1].payload
    broken = inserted(good, i + 1, "FILL", {**fill, "exec_id": fill["exec_id"] + ".01"})
    verdict = inv.position_is_fills(broken, xnys())
    assert (verdict.passed, verdict.line) == (False, i + 2)
    assert f"order {fill['order_id']} for {fill['qty']:+d} has fills of {2 * fill['qty']:+d}" in verdict.detail


def test_an_execution_logged_twice_fails(good: list[Numbered]) -> None:
    i = first(good, "FILL")
    broken = inserted(good, i + 1, "FILL", dict(good[i][1].payload))
    verdict = inv.position_is_fills(broken, xnys())
    assert (verdict.passed, verdict.line) == (False, i + 2)
    assert "logged twice" in verdict.detail


def test_a_position_that_is_not_the_sum_of_its_fills_fails(good: list[Numbered]) -> None:
    i = first(good, "POSITION_TRANSITION", lambda e: e.payload["to"] == "OPEN")
    verdict = inv.position_is_fills(edited(good, i, qty=5), xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))
    assert "logged +5 (OPEN) but its routed fills sum to" in verdict.detail


def test_a_throttle_transition_that_is_not_a_row_of_its_table_fails(good: list[Numbered]) -> None:
    i = first(good, "THROTTLE_TRANSITION")
    broken = inserted(good, i, "THROTTLE_TRANSITION", {"strategy": "sma-cross", "from": "ACTIVE", "to": "PROBATION",
                                                       "reason": "x", "trigger": "cooldown_over"})
    verdict = inv.transitions_in_tables(broken, xnys())
    assert (verdict.passed, verdict.line) == (False, i + 1)
    assert "throttle sma-cross: ACTIVE -> PROBATION by cooldown_over is not a row of its table" == verdict.detail


def test_a_kill_switch_reset_that_was_never_tripped_fails(good: list[Numbered]) -> None:
    broken = inserted(good, 3, "KILL_SWITCH", {"from": "TRIPPED", "to": "ARMED", "reason": "manual_reset"})
    verdict = inv.transitions_in_tables(broken, xnys())
    assert (verdict.passed, verdict.line) == (False, 4)
    assert "starts ARMED" in verdict.detail


def test_a_session_transition_from_the_wrong_state_fails(good: list[Numbered]) -> None:
    i = first(good, "SESSION_TRANSITION", lambda e: e.payload["to"] == "FLATTENING")
    verdict = inv.transitions_in_tables(edited(good, i, **{"from": "PRE_OPEN"}), xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))
    assert "session: PRE_OPEN -> FLATTENING, but it was TRADING" == verdict.detail


def test_a_restart_that_resumes_before_the_end_of_the_log_fails(good: list[Numbered]) -> None:
    i = first(good, "STATE_RESTORED", lambda e: e.payload["run"] == 2)
    earlier = good[i - 5][1]
    broken = edited(good, i, head={"seq": earlier.seq, "hash": earlier.hash})
    verdict = inv.restarts_resume(broken, xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))
    assert "but the log went on past it" in verdict.detail


def test_a_restart_from_nothing_over_a_log_with_history_fails(good: list[Numbered]) -> None:
    i = first(good, "STATE_RESTORED", lambda e: e.payload["run"] == 2)
    broken = edited(good, i, head={"seq": 0, "hash": "0" * 64}, **{"from": "none"})
    verdict = inv.restarts_resume(broken, xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))
    assert "started from nothing over a log with history" in verdict.detail


def test_a_run_number_that_repeats_fails(good: list[Numbered]) -> None:
    i = first(good, "STATE_RESTORED", lambda e: e.payload["run"] == 2)
    verdict = inv.restarts_resume(edited(good, i, run=1), xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))


def test_a_position_transition_from_the_wrong_state_breaks_the_story(good: list[Numbered]) -> None:
    i = first(good, "POSITION_TRANSITION", lambda e: e.payload["to"] == "OPEN")
    verdict = inv.one_story(edited(good, i, **{"from": "EXITING"}), xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))


def test_a_payload_missing_a_key_is_a_violation_at_its_line_not_an_error(good: list[Numbered]) -> None:
    i = first(good, "FILL")
    verdict = inv.position_is_fills(edited(good, i, qty=None), xnys())
    assert (verdict.passed, verdict.line) == (False, line_of(good, i))
    assert "FILL cannot be read: KeyError" in verdict.detail


def test_a_log_judged_as_it_grows_shows_a_broken_story_at_its_line_and_ends_as_one_pass_does(
        good: list[Numbered]) -> None:
    i = first(good, "POSITION_TRANSITION", lambda e: e.payload["to"] == "OPEN")
    broken = edited(good, i, **{"from": "EXITING"})
    checker = inv.InvariantChecker(xnys())
    for pair in broken[:i]:
        checker.feed(*pair)
    assert all(v.passed for v in checker.verdicts())
    checker.feed(*broken[i])
    story = {v.name: v for v in checker.verdicts()}["one_story"]
    assert (story.passed, story.line) == (False, line_of(good, i))
    for pair in broken[i + 1:]:
        checker.feed(*pair)
    assert checker.finish() == check_events(broken, xnys())
    assert checker.finish() == check_events(broken, xnys())  # finishing twice judges nothing twice


def test_a_close_is_judged_at_the_first_event_after_it_or_when_the_log_ends(good: list[Numbered]) -> None:
    close = first(good, "SESSION_TRANSITION", lambda e: e.payload["to"] == "CLOSED")
    fill = good[first(good, "FILL")][1].payload
    broken = inserted(good, close - 1, "FILL", {**fill, "exec_id": "extra", "order_id": "extra", "qty": 1})
    cut = broken[:close + 2]  # the log ends with the close's own clock time
    checker = inv.InvariantChecker(xnys(), only="flat_at_close")
    for pair in cut:
        checker.feed(*pair)
    assert checker.verdicts()[0].passed
    assert not checker.finish()[0].passed


def test_every_invariant_has_a_function_named_for_it() -> None:
    for name in INVARIANTS:
        assert getattr(inv, name).__name__ == name


def test_the_busy_log_made_for_measuring_keeps_every_invariant(tmp_path: Path) -> None:
    path = busy_days(tmp_path / "busy.jsonl", start=dt.date(2026, 11, 20), end=dt.date(2026, 12, 1), trades_per_session=3)
    verdicts = check_events(read(path), xnys())
    assert [v for v in verdicts if not v.passed] == []
    assert {v.name: v.note for v in verdicts}["flatten_on_time"] == "7 flatten(s), 0 late"


def test_a_position_closed_by_the_flatteners_unowned_execution_keeps_position_is_fills(tmp_path: Path) -> None:
    """The runner books a late-reported entry against the flattener's unowned execution that closed
    it: the position the log states is the routed fills plus that execution, not a false alarm."""
    from tests.app.test_runner_unowned_close import (
        test_a_round_trip_closed_by_an_unowned_flatten_order_reaches_equity_learning_and_the_daily_loss as closed_by_unowned,
    )
    from statebot.core.fsm.session import SessionMachine
    from statebot.testing import check_log
    from statebot.core.time.calendar import get_calendar

    closed_by_unowned(tmp_path)
    schedule = SessionMachine(get_calendar("XNYS"), flatten_lead=dt.timedelta(minutes=5)).schedule
    result = check_log(tmp_path / "events.jsonl", schedule)
    assert [v for v in result.verdicts if not v.passed and v.name == "position_is_fills"] == []
