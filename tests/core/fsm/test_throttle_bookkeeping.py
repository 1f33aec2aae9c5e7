"""What each throttle transition returns and leaves in the machine, field by field: the cooldown
it starts (a duration, a known session, a session still to be seen), the probation, the hold, the
operator reset and its bounded history, and the aware time every transition needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from statebot import NEXT_SESSION, ConfigError, ThrottleRules
from statebot.core.fsm.throttle import ACTIVE, PROBATION, THROTTLED, ThrottleMachine, ThrottleTransition
from statebot.core.learning.metrics import ReliabilityMetrics
from statebot.errors import InvalidOutcome

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)
DAY1, DAY2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
LOSS = ReliabilityMetrics(strategy="orb", consecutive_losses=1)
CLEAN = ReliabilityMetrics(strategy="orb")
BREACH_DETAIL = "1 consecutive losses >= limit 1"


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def machine(cooldown: dt.timedelta | str = dt.timedelta(minutes=30), *, initial: str | None = None) -> ThrottleMachine:
    rules = ThrottleRules(max_consecutive_losses=1, min_win_rate=None, max_drawdown_usd=None, max_slippage_error_ticks=None,
                          cooldown=cooldown, probation_trades=3, probation_size_cap=2)
    return ThrottleMachine("orb", rules, initial=initial)


def record(m: ThrottleMachine, **changes: Any) -> dict[str, Any]:
    """``m.to_dict()`` as a fresh ACTIVE machine has it, with ``changes``."""
    fresh = {"state": ACTIVE, "reason": None, "detail": None, "since": None, "release_at": None,
             "release_after_session": None, "awaiting_session": False, "probation_clean": 0, "resets": []}
    return {**fresh, **changes}


def transition(source: str, dest: str, trigger: str, reason: str, detail: str, at: dt.datetime,
               note: str | None = None) -> ThrottleTransition:
    return ThrottleTransition(strategy="orb", source=source, dest=dest, trigger=trigger, reason=reason, detail=detail,
                              at=at, note=note)


def in_probation(clean: int = 0, cooldown: dt.timedelta = dt.timedelta(0)) -> ThrottleMachine:
    m = machine(cooldown)
    m.check_trade(LOSS, T0)
    m.on_time(T0 + cooldown)
    for i in range(clean):
        m.check_trade(CLEAN, minutes(2 + i))
    assert (m.state, m.probation_clean) == (PROBATION, clean)
    return m


def test_a_new_throttle_is_active_with_nothing_recorded() -> None:
    m = machine()
    assert m.strategy == "orb"
    assert m.to_dict() == record(m)
    assert (m.allows_entry, m.size_cap, m.manual_only) == (True, None, False)


def test_a_throttle_built_in_a_given_state_starts_there() -> None:
    assert machine(initial=THROTTLED).state == THROTTLED
    m = machine(initial=PROBATION)
    assert (m.state, m.allows_entry, m.size_cap, m.manual_only) == (PROBATION, True, 2, False)


def test_a_breach_with_a_duration_records_why_since_when_and_the_release_time() -> None:
    m = machine()
    assert m.check_trade(LOSS, T0, DAY1) == transition(ACTIVE, THROTTLED, "breach", "consecutive_losses", BREACH_DETAIL, T0)
    assert m.to_dict() == record(m, state=THROTTLED, reason="consecutive_losses", detail=BREACH_DETAIL,
                                 since=T0.isoformat(), release_at=minutes(30).isoformat())
    assert (m.allows_entry, m.size_cap, m.manual_only) == (False, 0, False)


def test_a_duration_ends_exactly_at_its_release_time_whatever_the_session() -> None:
    m = machine()
    m.check_trade(LOSS, T0)
    assert m.on_time(minutes(30) - dt.timedelta(microseconds=1), DAY2) is None
    assert m.release_after_session is None and m.awaiting_session is False
    assert m.on_time(minutes(30), DAY1) == transition(THROTTLED, PROBATION, "cooldown_over", "cooldown", "cooldown ended",
                                                      minutes(30))
    assert m.to_dict() == record(m, state=PROBATION, reason="probation", detail="size capped at 2 until 3 clean trades",
                                 since=minutes(30).isoformat())
    assert (m.allows_entry, m.size_cap, m.manual_only) == (True, 2, False)


def test_a_next_session_cooldown_with_a_known_session_waits_for_a_later_date() -> None:
    m = machine(NEXT_SESSION)
    m.check_trade(LOSS, T0, DAY1)
    assert m.to_dict() == record(m, state=THROTTLED, reason="consecutive_losses", detail=BREACH_DETAIL,
                                 since=T0.isoformat(), release_after_session="2026-03-02")
    assert m.manual_only is False
    assert m.on_time(minutes(60), DAY1) is None
    assert m.on_time(minutes(60)) is None
    assert m.on_time(minutes(60), dt.date(2026, 3, 1)) is None
    assert m.on_time(minutes(1000), DAY2) == transition(THROTTLED, PROBATION, "cooldown_over", "cooldown", "cooldown ended",
                                                        minutes(1000))
    assert (m.release_at, m.release_after_session) == (None, None)


def test_a_next_session_cooldown_without_a_session_adopts_the_first_one_seen() -> None:
    m = machine(NEXT_SESSION)
    m.check_trade(LOSS, T0)
    assert m.to_dict() == record(m, state=THROTTLED, reason="consecutive_losses", detail=BREACH_DETAIL,
                                 since=T0.isoformat(), awaiting_session=True)
    assert m.manual_only is False
    assert m.on_time(minutes(1)) is None
    assert (m.awaiting_session, m.release_after_session) == (True, None)
    assert m.on_time(minutes(2), DAY1) is None
    assert m.awaiting_session is False
    assert m.release_after_session == DAY1
    assert m.on_time(minutes(3), DAY2) is not None and m.state == PROBATION


def test_on_time_outside_throttled_changes_nothing() -> None:
    m = machine(NEXT_SESSION)
    assert m.on_time(T0, DAY1) is None
    p = in_probation()
    before = p.to_dict()
    assert p.on_time(minutes(100), DAY2) is None
    assert p.to_dict() == before


def test_trades_while_throttled_change_nothing() -> None:
    m = machine()
    m.check_trade(LOSS, T0)
    before = m.to_dict()
    assert m.check_trade(LOSS, minutes(1)) is None
    assert m.check_trade(CLEAN, minutes(2)) is None
    assert m.to_dict() == before


def test_a_clean_trade_while_active_changes_nothing() -> None:
    m = machine()
    assert m.check_trade(CLEAN, T0) is None
    assert m.to_dict() == record(m)


def test_probation_counts_clean_trades_and_ends_after_the_last_one() -> None:
    m = in_probation()
    assert m.check_trade(CLEAN, minutes(5)) is None
    assert m.probation_clean == 1
    assert m.check_trade(CLEAN, minutes(6)) is None
    assert (m.state, m.probation_clean) == (PROBATION, 2)
    assert m.check_trade(CLEAN, minutes(7)) == transition(PROBATION, ACTIVE, "probation_passed", "probation",
                                                         "3 probation trades without a breach", minutes(7))
    assert m.to_dict() == record(m, since=minutes(7).isoformat())


def test_a_breach_in_probation_starts_a_new_cooldown_and_forgets_the_clean_trades() -> None:
    m = in_probation(clean=2, cooldown=dt.timedelta(minutes=10))
    assert m.check_trade(LOSS, minutes(20)) == transition(PROBATION, THROTTLED, "breach", "consecutive_losses",
                                                          BREACH_DETAIL, minutes(20))
    assert m.to_dict() == record(m, state=THROTTLED, reason="consecutive_losses", detail=BREACH_DETAIL,
                                 since=minutes(20).isoformat(), release_at=minutes(30).isoformat())


def test_a_hold_throttles_with_no_cooldown_and_forgets_any_release() -> None:
    m = in_probation(clean=1)
    assert m.hold("state_corrupt", "file was truncated", minutes(10)) == transition(
        PROBATION, THROTTLED, "hold", "state_corrupt", "file was truncated", minutes(10))
    assert m.to_dict() == record(m, state=THROTTLED, reason="state_corrupt", detail="file was truncated",
                                 since=minutes(10).isoformat())
    assert m.manual_only is True
    assert m.on_time(minutes(10_000), DAY2) is None


@pytest.mark.parametrize("cooldown", [dt.timedelta(minutes=30), NEXT_SESSION])
@pytest.mark.parametrize("session", [DAY1, None])
def test_a_hold_of_a_cooling_throttle_drops_its_cooldown(cooldown: dt.timedelta | str, session: dt.date | None) -> None:
    m = machine(cooldown)
    m.check_trade(LOSS, T0, session)
    assert m.manual_only is False
    m.hold("operator_hold", "looking at the fills", minutes(1))
    assert (m.release_at, m.release_after_session, m.awaiting_session) == (None, None, False)
    assert m.manual_only is True


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: machine(), None),
        (lambda: in_probation(clean=2), "probation"),
    ],
)
def test_a_reset_makes_the_throttle_active_and_records_note_time_and_what_it_left(build: Any, reason: str | None) -> None:
    m = build()
    source = m.state
    at = minutes(50)
    assert m.reset("  fills checked  ", at) == transition(source, ACTIVE, "reset", "operator_reset", "fills checked", at,
                                                          note="fills checked")
    assert m.to_dict() == record(m, reason="operator_reset", detail="fills checked", since=at.isoformat(), resets=[
        {"at": at.isoformat(), "note": "fills checked", "from_state": source, "from_reason": reason},
    ])


@pytest.mark.parametrize("cooldown", [dt.timedelta(minutes=30), NEXT_SESSION])
@pytest.mark.parametrize("session", [DAY1, None])
def test_a_reset_of_a_cooling_throttle_drops_its_cooldown(cooldown: dt.timedelta | str, session: dt.date | None) -> None:
    m = machine(cooldown)
    m.check_trade(LOSS, T0, session)
    m.reset("fills checked", minutes(1))
    assert m.to_dict() == record(m, reason="operator_reset", detail="fills checked", since=minutes(1).isoformat(), resets=[
        {"at": minutes(1).isoformat(), "note": "fills checked", "from_state": THROTTLED, "from_reason": "consecutive_losses"},
    ])


def test_the_reset_history_keeps_the_last_fifty() -> None:
    m = machine()
    for i in range(52):
        m.reset(f"note {i}", minutes(i))
    assert len(m.resets) == 50
    assert (m.resets[0]["note"], m.resets[-1]["note"]) == ("note 2", "note 51")


@pytest.mark.parametrize(("note", "shown"), [(5, "5"), ("  ", "'  '"), ("", "''"), (None, "None")])
def test_a_reset_without_a_note_is_refused_naming_the_strategy(note: object, shown: str) -> None:
    m = machine()
    m.check_trade(LOSS, T0)
    before = m.to_dict()
    with pytest.raises(ConfigError) as caught:
        m.reset(note, minutes(1))  # type: ignore[arg-type]
    assert str(caught.value) == f"an operator reset of 'orb' needs a non-empty note, got {shown}"
    assert m.to_dict() == before


class NoOffset(dt.tzinfo):
    """A zone that does not know its offset: as good as naive."""

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta | None:
        return None


@pytest.mark.parametrize(
    ("when", "shown"),
    [
        (dt.datetime(2026, 3, 2, 15, 0), "datetime.datetime(2026, 3, 2, 15, 0)"),
        (dt.date(2026, 3, 2), "datetime.date(2026, 3, 2)"),
        ("2026-03-02T15:00:00+00:00", "'2026-03-02T15:00:00+00:00'"),
    ],
)
def test_a_transition_at_a_time_that_is_not_aware_is_refused_and_changes_nothing(when: object, shown: str) -> None:
    m = machine()
    for fire in (lambda: m.check_trade(LOSS, when), lambda: m.hold("operator_hold", "x", when),  # type: ignore[arg-type]
                 lambda: m.reset("checked", when)):  # type: ignore[arg-type]
        with pytest.raises(InvalidOutcome) as caught:
            fire()
        assert str(caught.value) == f"throttle time {shown} must be a timezone-aware datetime"
    assert m.to_dict() == record(m)


def test_a_zone_without_an_offset_is_refused() -> None:
    m = machine()
    with pytest.raises(InvalidOutcome, match="must be a timezone-aware datetime"):
        m.hold("operator_hold", "x", dt.datetime(2026, 3, 2, 15, 0, tzinfo=NoOffset()))
    assert m.state == ACTIVE


def test_the_saved_reset_history_is_a_copy() -> None:
    m = machine()
    m.reset("checked", T0)
    m.to_dict()["resets"][0]["note"] = "changed"
    assert m.resets[0]["note"] == "checked"
