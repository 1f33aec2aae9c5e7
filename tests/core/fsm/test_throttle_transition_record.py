"""What a throttle transition records for the log and the event journal: every field, by name."""

from __future__ import annotations

import datetime as dt

from statebot.core.fsm.throttle import ThrottleTransition

AT = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.timezone.utc)


def transition(note: str | None = "checked the fills") -> ThrottleTransition:
    return ThrottleTransition(strategy="orb", source="THROTTLED", dest="ACTIVE", trigger="reset",
                              reason="operator_reset", detail="checked", at=AT, note=note)


def test_the_log_record_names_every_field_and_the_time_in_iso_form() -> None:
    assert transition().to_dict() == {
        "strategy": "orb", "source": "THROTTLED", "dest": "ACTIVE", "trigger": "reset",
        "reason": "operator_reset", "detail": "checked", "at": "2026-11-24T15:30:00+00:00",
        "note": "checked the fills",
    }


def test_the_event_payload_says_from_and_to_as_replay_reads_them() -> None:
    assert transition(None).event_payload() == {
        "strategy": "orb", "from": "THROTTLED", "to": "ACTIVE", "reason": "operator_reset",
        "trigger": "reset", "detail": "checked", "note": None,
    }
