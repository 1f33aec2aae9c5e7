"""A logged strategy error counts toward the kill switch's limit as the runner counted it: per session
date, at the event's time, with the error's text in the trip; other stages and errors without a session
count nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from statebot import ARMED, TRIPPED, KillSwitch, LearningLoop, PositionBook
from statebot.core.effects import RUNNER_ERROR
from statebot.core.engine.fold import BotState, Fold
from statebot.core.fsm.killswitch import STRATEGY_ERRORS

T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


@attrs.frozen
class Ev:
    seq: int
    payload: dict[str, Any]
    type: str = RUNNER_ERROR
    hash: str = "ab" * 32

    @property
    def ts(self) -> dt.datetime:
        return T0 + dt.timedelta(minutes=self.seq)


def fold(limit: int | None) -> Fold:
    return Fold(BotState(book=PositionBook(), killswitch=KillSwitch(max_strategy_errors=limit), learning=LearningLoop()))


def error(seq: int, **payload: Any) -> Ev:
    return Ev(seq, {"stage": "strategy", "session": "2026-11-24", "error": "ZeroDivisionError: boom", **payload})


def test_strategy_errors_count_per_session_and_trip_at_the_limit_with_the_last_error() -> None:
    f = fold(2)
    f.apply(error(1), line=1)
    ks = f.state.killswitch
    assert (ks.state, ks.to_dict()["strategy_errors"]) == (ARMED, {"2026-11-24": 1})
    f.apply(error(2, error="KeyError: 'x'"), line=2)
    assert ks.state == TRIPPED
    assert [(t.reason, t.at, t.detail) for t in ks.trips] == [
        (STRATEGY_ERRORS, T0 + dt.timedelta(minutes=2), "2 strategy errors in session 2026-11-24 (last: KeyError: 'x')")]
    assert f.anomalies == []


def test_each_session_date_counts_apart() -> None:
    f = fold(2)
    f.apply(error(1, session="2026-11-23"))
    f.apply(error(2))
    ks = f.state.killswitch
    assert ks.state == ARMED
    assert ks.to_dict()["strategy_errors"] == {"2026-11-23": 1, "2026-11-24": 1}


def test_an_error_without_its_text_trips_with_the_count_alone() -> None:
    for payload in ({"error": None}, {"error": ""}):
        f = fold(1)
        f.apply(error(3, **payload))
        assert [(t.reason, t.at, t.detail) for t in f.state.killswitch.trips] == [
            (STRATEGY_ERRORS, T0 + dt.timedelta(minutes=3), "1 strategy errors in session 2026-11-24")]
    f = fold(1)
    f.apply(Ev(4, {"stage": "strategy", "session": "2026-11-24"}))
    assert f.state.killswitch.trips[0].detail == "1 strategy errors in session 2026-11-24"


def test_other_stages_and_errors_without_a_session_count_nothing() -> None:
    f = fold(1)
    f.apply(error(1, stage="bar"))
    f.apply(error(2, stage="restore"))
    f.apply(Ev(3, {"error": "no stage", "session": "2026-11-24"}))
    f.apply(error(4, session=None))
    f.apply(error(5, session=""))
    f.apply(Ev(6, {"stage": "strategy", "error": "written before errors named their session"}))
    ks = f.state.killswitch
    assert (ks.state, ks.trips, ks.to_dict()["strategy_errors"]) == (ARMED, (), {})
    assert f.anomalies == [] and f.state.events == 6


def test_an_error_whose_session_is_not_a_date_is_an_anomaly_and_counts_nothing() -> None:
    f = fold(1)
    f.apply(error(1, session="24/11/2026"), line=7)
    assert [(a.line, a.message) for a in f.anomalies] == [
        (7, "RUNNER_ERROR could not be folded: ValueError: Invalid isoformat string: '24/11/2026'")]
    assert f.state.killswitch.to_dict()["strategy_errors"] == {}
