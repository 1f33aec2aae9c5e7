"""The kill switch: trips with reasons, re-arms only by a person with a note."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot import (
    ARMED,
    KILLSWITCH_SPEC,
    TRIP_REASONS,
    TRIPPED,
    Backoff,
    ConfigError,
    InvalidTransition,
    KillSwitch,
    Mismatch,
    PositionMismatch,
)
from statebot.core.fsm import all_specs
from tests.positions_helpers import at

DAY = dt.date(2026, 11, 24)


def test_the_table_is_armed_tripped_and_back_by_reset() -> None:
    assert KILLSWITCH_SPEC.states == (ARMED, TRIPPED) and KILLSWITCH_SPEC.initial == ARMED
    assert KILLSWITCH_SPEC in all_specs()
    assert {(r.trigger, r.source, r.dest) for r in KILLSWITCH_SPEC.transitions} == {
        ("trip", (ARMED,), TRIPPED), ("trip", (TRIPPED,), TRIPPED), ("reset", (TRIPPED,), ARMED)
    }


@pytest.mark.invariant("no entries are allowed while the kill switch is TRIPPED", machine="killswitch")
def test_tripping_forbids_entries() -> None:
    ks = KillSwitch()
    assert ks.allows_entries
    assert ks.trip("manual", at(), "operator pressed stop") is True
    assert ks.state == TRIPPED and not ks.allows_entries


def test_tripping_again_records_the_extra_reason() -> None:
    ks = KillSwitch()
    ks.trip("disconnect", at())
    assert ks.trip("position_mismatch", at(1)) is False
    assert [t.reason for t in ks.trips] == ["disconnect", "position_mismatch"]


def test_unknown_reason_is_refused() -> None:
    with pytest.raises(ValueError):
        KillSwitch().trip("bored", at())


@pytest.mark.invariant("TRIPPED returns to ARMED only by a reset with a non-empty operator note", machine="killswitch")
@pytest.mark.parametrize("note", ["", "   "])
def test_reset_without_a_note_is_refused_and_stays_tripped(note: str) -> None:
    ks = KillSwitch()
    ks.trip("manual", at())
    with pytest.raises(ConfigError, match="operator note"):
        ks.reset(note, at(1))
    assert ks.state == TRIPPED


def test_reset_with_a_note_rearms_and_keeps_the_note() -> None:
    ks = KillSwitch()
    ks.trip("manual", at())
    ks.reset("checked positions at broker, all flat", at(5))
    assert ks.state == ARMED and ks.allows_entries and ks.trips == ()
    assert ks.resets == ((at(5), "checked positions at broker, all flat"),)


def test_reset_while_armed_raises_invalid_transition() -> None:
    with pytest.raises(InvalidTransition, match="reset.*ARMED"):
        KillSwitch().reset("note", at())


def test_consecutive_rejects_trip_at_the_limit_and_an_accept_resets_the_count() -> None:
    ks = KillSwitch(max_consecutive_rejects=3)
    ks.record_reject(at())
    ks.record_reject(at())
    ks.record_accept()
    assert not ks.record_reject(at()) and not ks.record_reject(at())
    assert ks.record_reject(at(1)) is True
    assert ks.trips[0].reason == "consecutive_rejects"


def test_daily_loss_limit_trips_on_the_days_net_and_a_new_day_starts_at_zero() -> None:
    ks = KillSwitch(daily_loss_limit=Decimal(100))
    assert not ks.record_trade(Decimal(-60), DAY, at())
    assert not ks.record_trade(Decimal(-50), DAY + dt.timedelta(days=1), at(1))
    assert ks.record_trade(Decimal(-50), DAY + dt.timedelta(days=1), at(2)) is True
    assert ks.trips[0].reason == "daily_loss_limit"


def test_daily_loss_limit_refuses_floats() -> None:
    with pytest.raises(ConfigError):
        KillSwitch(daily_loss_limit=100.0)  # type: ignore[arg-type]


def test_backoff_doubles_from_first_and_stops_at_the_cap() -> None:
    b = Backoff(first=dt.timedelta(seconds=5), factor=2, cap=dt.timedelta(seconds=30))
    assert [b.delay(n).total_seconds() for n in range(6)] == [0, 5, 10, 20, 30, 30]



@given(first=st.integers(0, 3600), factor=st.integers(1, 1000), extra=st.integers(0, 3600),
       failures=st.integers(0, 10**6))
def test_backoff_delay_never_exceeds_the_cap_for_any_failure_count(first: int, factor: int, extra: int,
                                                                    failures: int) -> None:
    """For any valid schedule and any failure count, the delay is between 0 and the cap (never overflows)."""
    b = Backoff(first=dt.timedelta(seconds=first), factor=factor, cap=dt.timedelta(seconds=first + extra))
    assert dt.timedelta(0) <= b.delay(failures) <= b.cap


def test_a_fast_growing_backoff_stops_at_the_cap_after_many_failures() -> None:
    b = Backoff(first=dt.timedelta(seconds=5), factor=10, cap=dt.timedelta(seconds=60))
    assert b.delay(20) == b.delay(10**9) == dt.timedelta(seconds=60)


@pytest.mark.parametrize("first, cap", [(-5, 60), (30, 10)])
def test_backoff_refuses_a_negative_first_or_a_cap_below_it(first: int, cap: int) -> None:
    with pytest.raises(ConfigError):
        Backoff(first=dt.timedelta(seconds=first), cap=dt.timedelta(seconds=cap))

@given(reasons=st.lists(st.sampled_from(TRIP_REASONS), min_size=1, max_size=10))
def test_any_sequence_of_trips_keeps_every_reason_and_forbids_entries(reasons: list[str]) -> None:
    """After any non-empty sequence of trips: TRIPPED, entries refused, every reason recorded in order."""
    ks = KillSwitch()
    for i, reason in enumerate(reasons):
        ks.trip(reason, at(i))
    assert ks.state == TRIPPED and not ks.allows_entries
    assert [t.reason for t in ks.trips] == reasons


@pytest.mark.invariant("the kill switch is not re-armed while reconciliation reports a mismatch", machine="killswitch")
def test_reset_is_refused_while_a_reconcile_reports_mismatches_and_stays_tripped() -> None:
    ks = KillSwitch()
    ks.trip("manual", at(0))
    with pytest.raises(PositionMismatch, match="MES expected 2 broker 0"):
        ks.reset("checked", at(1), mismatches=(Mismatch(symbol="MES", expected=2, actual=0),))
    assert ks.state == TRIPPED and ks.resets == ()
    ks.reset("checked", at(2), mismatches=())
    assert ks.state == ARMED


def test_a_late_trade_of_an_earlier_day_does_not_reset_the_current_days_loss() -> None:
    ks = KillSwitch(daily_loss_limit="100")
    today, yesterday = dt.date(2026, 11, 24), dt.date(2026, 11, 23)
    ks.record_trade(Decimal("-60"), today, at(0))
    ks.record_trade(Decimal("5"), yesterday, at(1))
    assert ks.record_trade(Decimal("-60"), today, at(2)) is True
    assert ks.day_net_pnl == Decimal("-120")
