"""The kill switch a fold rebuilds from ``KILL_SWITCH`` events, trade by trade and reject by reject:
the default wording of a reset and a trip logged without a detail, the trips counted one by one
(a trip the fold made itself is named by the logged one, never recorded twice), and each trip's time."""

from __future__ import annotations

import datetime as dt

from statebot import ARMED, TRIPPED, KillSwitch, LearningLoop, PositionBook
from statebot.core.effects import KILL_SWITCH, ORDER_REJECTED, TRADE_CLOSED
from statebot.core.engine.fold import BotState, Fold
from statebot.core.fsm.killswitch import CONSECUTIVE_REJECTS, DAILY_LOSS_LIMIT, DISCONNECT, MANUAL
from tests.core.engine.test_fold import Ev, minute, trade


def fold(**limits: object) -> Fold:
    return Fold(BotState(book=PositionBook(), killswitch=KillSwitch(**limits), learning=LearningLoop()))  # type: ignore[arg-type]


def switch(frm: str, to: str, reason: str, n: int, **extra: object) -> Ev:
    return Ev(KILL_SWITCH, {"from": frm, "to": to, "reason": reason, **extra}, ts=minute(n))


def test_a_reset_logged_without_a_note_is_recorded_as_reset() -> None:
    f = fold()
    f.apply(switch(ARMED, TRIPPED, MANUAL, 1))
    f.apply(switch(TRIPPED, ARMED, "reset", 2))
    assert f.state.killswitch.resets == ((minute(2), "reset"),)


def test_a_trip_logged_without_a_detail_has_none() -> None:
    f = fold()
    f.apply(switch(ARMED, TRIPPED, DISCONNECT, 1))
    assert [(t.reason, t.at, t.detail) for t in f.state.killswitch.trips] == [(DISCONNECT, minute(1), "")]


def test_every_logged_trip_is_recorded_once_in_order() -> None:
    f = fold()
    for n, reason in enumerate((MANUAL, DISCONNECT, MANUAL, DISCONNECT), start=1):
        f.apply(switch(ARMED if n == 1 else TRIPPED, TRIPPED, reason, n), line=n)
    assert [(t.reason, t.at) for t in f.state.killswitch.trips] == [
        (MANUAL, minute(1)), (DISCONNECT, minute(2)), (MANUAL, minute(3)), (DISCONNECT, minute(4))]
    assert f.anomalies == []


def test_a_trip_the_fold_made_after_a_logged_one_is_named_not_recorded_again() -> None:
    """A manual trip, then two counted rejects: the fold's switch trips on the streak itself, and the
    runner's logged trip of it names that trip."""
    f = fold(max_consecutive_rejects=2)
    f.apply(switch(ARMED, TRIPPED, MANUAL, 1), line=1)
    f.apply(Ev(ORDER_REJECTED, {"order_id": "a", "reason": "margin"}, ts=minute(2)), line=2)
    f.apply(Ev(ORDER_REJECTED, {"order_id": "b", "reason": "margin"}, ts=minute(3)), line=3)
    f.apply(switch(TRIPPED, TRIPPED, CONSECUTIVE_REJECTS, 3), line=4)
    f.apply(switch(TRIPPED, TRIPPED, DISCONNECT, 4), line=5)
    ks = f.state.killswitch
    assert [(t.reason, t.at, t.detail) for t in ks.trips] == [
        (MANUAL, minute(1), ""), (CONSECUTIVE_REJECTS, minute(3), "order b rejected: margin"), (DISCONNECT, minute(4), "")]
    assert f.anomalies == []


def test_a_days_loss_trips_at_the_time_of_the_trade_that_crossed_the_limit() -> None:
    f = fold(daily_loss_limit=100)
    f.apply(Ev(TRADE_CLOSED, trade("-60").payload, ts=minute(10)))
    assert f.state.killswitch.state == ARMED
    f.apply(Ev(TRADE_CLOSED, trade("-50", n=6).payload, ts=minute(11)))
    assert [(t.reason, t.at, t.detail) for t in f.state.killswitch.trips] == [
        (DAILY_LOSS_LIMIT, minute(11), "day 2026-11-24 net -110 <= -100")]
