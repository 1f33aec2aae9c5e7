"""SessionMachine.advance(skip_missed=True): whole sessions the clock never entered are passed over."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from statebot.core.fsm.session import SessionMachine
from statebot.core.time.schedule import CLOSED, PRE_OPEN, TRADING

NY = ZoneInfo("America/New_York")


def _at(day: str, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hh, mm), tzinfo=NY)


def test_from_closed_whole_sessions_before_the_time_are_passed_over_and_named() -> None:
    m = SessionMachine()
    m.advance(_at("2026-11-23", 17))
    fired = m.advance(_at("2026-11-27", 10), skip_missed=True)  # Tue, Wed passed over; Thu is a holiday
    assert [s.date.isoformat() for s in m.skipped] == ["2026-11-24", "2026-11-25"]
    assert [(tr.source, tr.dest) for tr in fired] == [(CLOSED, PRE_OPEN), (PRE_OPEN, TRADING)]
    assert all(tr.session == dt.date(2026, 11, 27) for tr in fired)


def test_the_session_the_clock_was_in_still_walks_to_its_close_before_the_rest_is_passed_over() -> None:
    m = SessionMachine()
    m.advance(_at("2026-11-23", 15, 50))
    fired = m.advance(_at("2026-11-25", 12), skip_missed=True)
    assert [(tr.dest, tr.session.isoformat(), tr.late) for tr in fired] == [
        ("FLATTENING", "2026-11-23", True), ("CLOSED", "2026-11-23", True),
        ("PRE_OPEN", "2026-11-25", True), ("TRADING", "2026-11-25", True)]
    assert [s.date.isoformat() for s in m.skipped] == ["2026-11-24"]


def test_without_skip_missed_every_session_is_walked() -> None:
    m = SessionMachine()
    m.advance(_at("2026-11-23", 17))
    fired = m.advance(_at("2026-11-25", 10))
    assert m.skipped == () and {tr.session.isoformat() for tr in fired} == {"2026-11-24", "2026-11-25"}


def test_a_session_closing_exactly_at_the_time_is_a_whole_missed_session_and_is_passed_over() -> None:
    m = SessionMachine()
    m.advance(_at("2026-11-23", 17))
    fired = m.advance(_at("2026-11-24", 16), skip_missed=True)  # Tuesday's close, to the second
    assert fired == () and [s.date.isoformat() for s in m.skipped] == ["2026-11-24"]
    assert m.state == CLOSED


def test_after_passing_sessions_over_the_machine_s_session_is_the_last_one_passed_over() -> None:
    m = SessionMachine()
    m.advance(_at("2026-11-23", 17))
    m.advance(_at("2026-11-25", 20), skip_missed=True)  # Tuesday and Wednesday passed over; evening, before Friday
    assert m.state == CLOSED and m.session is not None and m.session.date == dt.date(2026, 11, 25)
