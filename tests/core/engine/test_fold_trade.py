"""A closed trade counts for the session it names, not the calendar date of its event (an evening
session closes trades the day before its date), in the kill switch's day and in the throttle's
"next session" cooldown; and a logged throttle transition restores the throttle it carries,
judging afresh only after an operator reset."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from statebot import KillSwitch, LearningLoop, PositionBook
from statebot.core.effects import THROTTLE_TRANSITION, TRADE_CLOSED
from statebot.core.engine.fold import BotState, Fold, outcome_from_payload
from tests.core.engine.test_fold import Ev, minute, trade

EVENING = dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC)  # in the session of 2026-11-25


def fold() -> Fold:
    return Fold(BotState(book=PositionBook(), killswitch=KillSwitch(), learning=LearningLoop()))


def throttle_of(f: Fold) -> dict[str, Any]:
    return f.state.learning.export_to_dict()["strategies"]["s"]["throttle"]  # type: ignore[no-any-return]


def test_a_trade_counts_for_the_session_it_names() -> None:
    f = fold()
    f.apply(Ev(TRADE_CLOSED, trade("-200", session="2026-11-25").payload, ts=EVENING))
    ks = f.state.killswitch
    assert (ks.day, ks.day_net_pnl) == (dt.date(2026, 11, 25), Decimal(-200))
    assert ks.to_dict()["day_nets"] == {"2026-11-25": "-200"}
    # the 150 drawdown rule throttles it until the session after the one it closed in
    assert (throttle_of(f)["state"], throttle_of(f)["release_after_session"]) == ("THROTTLED", "2026-11-25")
    assert f.anomalies == []


def test_a_trade_without_a_session_counts_for_its_events_date() -> None:
    f = fold()
    f.apply(Ev(TRADE_CLOSED, trade("-200", session=None).payload, ts=EVENING))
    assert f.state.killswitch.to_dict()["day_nets"] == {"2026-11-24": "-200"}
    assert throttle_of(f)["release_after_session"] == "2026-11-24"


def judged_trades(f: Fold) -> int:
    return int(f.state.learning.export_to_dict()["strategies"]["s"]["judged"]["trades"])


def throttled_then(trigger: str | None) -> Fold:
    """A 200 loss throttles ``s``; the runner then logs it back to ACTIVE with the throttle it left."""
    live = LearningLoop()
    live.record_trade(outcome_from_payload(trade("-200").payload), minute(1), session_date=dt.date(2026, 11, 24))
    live.reset("s", "a feed glitch", minute(2))
    carried = live.export_to_dict()["strategies"]["s"]["throttle"]
    f = fold()
    f.apply(trade("-200"))
    f.apply(Ev(THROTTLE_TRANSITION, {"strategy": "s", "from": "ACTIVE", "to": "THROTTLED"}))
    assert judged_trades(f) == 1
    extra = {} if trigger is None else {"trigger": trigger}
    f.apply(Ev(THROTTLE_TRANSITION, {"strategy": "s", "from": "THROTTLED", "to": "ACTIVE", "throttle": carried, **extra}))
    assert throttle_of(f) == carried and f.anomalies == []
    return f


def test_a_throttle_restored_by_an_operator_reset_judges_afresh() -> None:
    assert judged_trades(throttled_then("reset")) == 0


def test_a_throttle_restored_by_another_trigger_keeps_what_it_judged() -> None:
    assert judged_trades(throttled_then("hold")) == 1
    assert judged_trades(throttled_then(None)) == 1
    assert judged_trades(throttled_then("")) == 1
