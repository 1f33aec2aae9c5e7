"""A throttle saved by ``to_dict`` and read back by ``from_dict``: every field kept exactly, and
every bad field refused with one ``StateCorrupt`` that names the strategy and the key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from statebot import ThrottleRules
from statebot.core.fsm.throttle import ACTIVE, PROBATION, THROTTLED, ThrottleMachine
from statebot.errors import StateCorrupt

AT = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.timezone.utc)
RULES = ThrottleRules(cooldown=dt.timedelta(minutes=30))


def saved(**changes: Any) -> dict[str, Any]:
    """A THROTTLED throttle as ``to_dict`` writes it, with every field set, then ``changes``."""
    data: dict[str, Any] = {
        "state": THROTTLED,
        "reason": "drawdown",
        "detail": "drawdown $160 > limit $150",
        "since": "2026-11-24T15:30:00+00:00",
        "release_at": "2026-11-24T16:00:00+00:00",
        "release_after_session": "2026-11-24",
        "awaiting_session": True,
        "probation_clean": 2,
        "resets": [
            {"at": "2026-11-23T14:00:00+00:00", "note": "fills checked", "from_state": "PROBATION", "from_reason": "probation"},
            {"at": "2026-11-23T15:00:00-05:00", "note": "second look", "from_state": "ACTIVE", "from_reason": None},
        ],
    }
    data.update(changes)
    return data


def refused(data: object) -> StateCorrupt:
    with pytest.raises(StateCorrupt) as caught:
        ThrottleMachine.from_dict("orb", RULES, data)
    assert caught.value.reason == "malformed"
    return caught.value


def test_every_field_is_read_back_as_written() -> None:
    machine = ThrottleMachine.from_dict("orb", RULES, saved())
    assert machine.strategy == "orb"
    assert machine.rules is RULES
    assert machine.state == THROTTLED
    assert (machine.reason, machine.detail) == ("drawdown", "drawdown $160 > limit $150")
    assert machine.since == AT
    assert machine.release_at == AT + dt.timedelta(minutes=30)
    assert machine.release_after_session == dt.date(2026, 11, 24)
    assert machine.awaiting_session is True
    assert machine.probation_clean == 2
    assert machine.resets == saved()["resets"]
    assert machine.to_dict() == saved()


@pytest.mark.parametrize("state", [ACTIVE, PROBATION])
def test_an_untroubled_throttle_with_nothing_recorded_is_read_back(state: str) -> None:
    data = saved(state=state, reason=None, detail=None, since=None, release_at=None, release_after_session=None,
                 awaiting_session=False, probation_clean=0, resets=[])
    machine = ThrottleMachine.from_dict("orb", RULES, data)
    assert machine.state == state
    assert (machine.reason, machine.detail, machine.since, machine.release_at) == (None, None, None, None)
    assert machine.release_after_session is None
    assert machine.awaiting_session is False
    assert machine.resets == []
    assert machine.to_dict() == data


def test_a_reset_record_keeps_exactly_its_four_fields() -> None:
    record = {"at": "2026-11-23T14:00:00+00:00", "note": "fills checked", "from_state": "THROTTLED",
              "from_reason": "win_rate", "by": "ops"}
    machine = ThrottleMachine.from_dict("orb", RULES, saved(resets=[record]))
    assert machine.resets == [{"at": "2026-11-23T14:00:00+00:00", "note": "fills checked", "from_state": "THROTTLED",
                               "from_reason": "win_rate"}]


def test_a_restored_machine_goes_on_from_where_it_was() -> None:
    machine = ThrottleMachine.from_dict("orb", RULES, saved(release_after_session=None, awaiting_session=False))
    assert machine.on_time(AT + dt.timedelta(minutes=29)) is None
    change = machine.on_time(AT + dt.timedelta(minutes=30))
    assert change is not None and (change.source, change.dest) == (THROTTLED, PROBATION)


def test_a_saved_state_that_is_not_an_object_is_refused() -> None:
    assert str(refused([THROTTLED])) == "throttle of 'orb' must be a JSON object, found list"


def test_an_unknown_state_is_refused() -> None:
    assert str(refused(saved(state="PAUSED"))) == "throttle of 'orb': unknown state 'PAUSED'"


def test_a_throttled_state_without_a_reason_is_refused() -> None:
    assert str(refused(saved(reason=None))) == "throttle of 'orb': THROTTLED without a recorded reason"


@pytest.mark.parametrize(
    "key",
    ["state", "reason", "detail", "since", "release_at", "release_after_session", "awaiting_session",
     "probation_clean", "resets"],
)
def test_each_missing_key_is_named(key: str) -> None:
    data = saved()
    del data[key]
    assert str(refused(data)) == f"throttle of 'orb' lacks {key!r}"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("state", 3, "throttle of 'orb'.state 3 must be a string"),
        ("reason", 3, "throttle of 'orb'.reason 3 must be a string"),
        ("detail", 3, "throttle of 'orb'.detail 3 must be a string"),
        ("since", "yesterday", "throttle of 'orb'.since 'yesterday' is not an ISO-8601 time"),
        ("since", "2026-11-24T15:30:00", "throttle of 'orb'.since '2026-11-24T15:30:00' is naive; stored times carry an offset"),
        ("release_at", "soon", "throttle of 'orb'.release_at 'soon' is not an ISO-8601 time"),
        ("release_after_session", "Monday", "throttle of 'orb'.release_after_session 'Monday' is not an ISO date"),
        ("awaiting_session", "yes", "throttle of 'orb'.awaiting_session 'yes' must be true or false"),
        ("awaiting_session", 1, "throttle of 'orb'.awaiting_session 1 must be true or false"),
        ("awaiting_session", None, "throttle of 'orb'.awaiting_session None must be true or false"),
        ("probation_clean", -1, "throttle of 'orb'.probation_clean -1 must be an int >= 0"),
        ("probation_clean", True, "throttle of 'orb'.probation_clean True must be an int >= 0"),
        ("resets", {}, "throttle of 'orb'.resets must be a list"),
        ("resets", None, "throttle of 'orb'.resets must be a list"),
    ],
)
def test_each_bad_field_is_named_with_its_value(key: str, value: object, message: str) -> None:
    assert str(refused(saved(**{key: value}))) == message


GOOD_RESET = {"at": "2026-11-23T14:00:00+00:00", "note": "fills checked", "from_state": "THROTTLED", "from_reason": "win_rate"}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("reset", "throttle of 'orb'.resets[1] must be a JSON object, found str"),
        ({**GOOD_RESET, "at": "noon"}, "throttle of 'orb'.resets[1].at 'noon' is not an ISO-8601 time"),
        ({**GOOD_RESET, "note": None}, "throttle of 'orb'.resets[1].note None must be a string"),
        ({**GOOD_RESET, "from_state": None}, "throttle of 'orb'.resets[1].from_state None must be a string"),
        ({**GOOD_RESET, "from_reason": 7}, "throttle of 'orb'.resets[1].from_reason 7 must be a string"),
        ({k: v for k, v in GOOD_RESET.items() if k != "at"}, "throttle of 'orb'.resets[1] lacks 'at'"),
        ({k: v for k, v in GOOD_RESET.items() if k != "note"}, "throttle of 'orb'.resets[1] lacks 'note'"),
        ({k: v for k, v in GOOD_RESET.items() if k != "from_state"}, "throttle of 'orb'.resets[1] lacks 'from_state'"),
        ({k: v for k, v in GOOD_RESET.items() if k != "from_reason"}, "throttle of 'orb'.resets[1] lacks 'from_reason'"),
    ],
)
def test_a_bad_reset_record_is_named_by_its_index(record: object, message: str) -> None:
    assert str(refused(saved(resets=[GOOD_RESET, record]))) == message


def test_a_reset_record_with_no_previous_reason_is_accepted() -> None:
    machine = ThrottleMachine.from_dict("orb", RULES, saved(resets=[{**GOOD_RESET, "from_reason": None}]))
    assert machine.resets[0]["from_reason"] is None


def test_a_reset_record_without_its_time_is_refused() -> None:
    # an operator reset is recorded with its note and time: a record that lost its time is not one
    record = {**GOOD_RESET, "at": None}
    assert str(refused(saved(resets=[GOOD_RESET, record]))) == (
        "throttle of 'orb'.resets[1].at None must be an ISO-8601 time: a reset is recorded with its time"
    )
