"""The folded state as plain data (``BotState.view``, what a fold is compared with the live runner by):
every part named, positions and protectors in a fixed order whatever order they were made in, the
flattener's unowned fills with their money as text; and what an ended order's report leaves on its
position (rejected or cancelled) while a fill it counted is still on its way."""

from __future__ import annotations

from statebot import KillSwitch, LearningLoop, PositionBook
from statebot.core.effects import EQUITY_SET, FILL, ORDER_CANCELLED, ORDER_REJECTED, ORDER_SUBMITTED
from statebot.core.engine.fold import BotState, Fold
from tests.core.engine.test_fold import Ev, T0, filled, minute, submitted, trade


def fold() -> Fold:
    return Fold(BotState(book=PositionBook(), killswitch=KillSwitch(), learning=LearningLoop()))


def entry(strategy: str, oid: str, qty: int = 1) -> Ev:
    return Ev(ORDER_SUBMITTED, {"order_id": oid, "strategy": strategy, "symbol": "MES", "qty": qty, "purpose": "entry"})


def protector(oid: str, kind: str, ticks: int) -> Ev:
    return Ev(ORDER_SUBMITTED, {"order_id": oid, "strategy": "b", "symbol": "MES", "qty": -1, "purpose": "protect",
                                "kind": kind, "price_ticks": ticks})


def test_the_view_names_every_part_of_the_state() -> None:
    f = fold()
    f.apply(Ev(EQUITY_SET, {"equity": "2500.50"}))
    f.apply(trade("-20"))
    view = f.state.view()
    assert view == {
        "positions": [], "unowned_fills": [], "killswitch": f.state.killswitch.to_dict(),
        "learning": f.state.learning.export_to_dict(), "equity": "2480.50", "brackets": {}, "protectors": []}
    assert view["killswitch"]["day_nets"] == {"2026-11-24": "-20"}
    assert view["learning"]["strategies"]["s"]["metrics"]["trades"] == 1


def test_positions_and_protectors_are_listed_in_order_whatever_order_they_came_in() -> None:
    f = fold()
    for strategy, oid in (("c", "c1"), ("a", "a1"), ("b", "b1")):
        f.apply(entry(strategy, oid))
    f.apply(protector("b1-target", "LIMIT", 20020))
    f.apply(protector("b1-stop", "STOP", 19990))
    f.apply(protector("b1-again", "STOP", 19992))
    view = f.state.view()
    assert [(p["strategy"], p["symbol"]) for p in view["positions"]] == [("a", "MES"), ("b", "MES"), ("c", "MES")]
    assert [p["order_id"] for p in view["protectors"]] == ["b1-again", "b1-stop", "b1-target"]


def test_the_flatteners_unowned_fill_is_kept_and_viewed_with_its_commission_as_text() -> None:
    f = fold()
    f.apply(Ev(FILL, {"order_id": "r2-flatten-1", "strategy": "", "symbol": "MES", "qty": -1, "price": "5001.25",
                      "commission": "0.62", "exec_id": "x9", "at": minute(3).isoformat()}))
    assert [(u.exec_id, u.order_id, u.strategy, u.qty, u.price_ticks) for u in f.state.book.unowned_fills()] == [
        ("x9", "r2-flatten-1", "", -1, 20005)]
    assert f.state.view()["unowned_fills"] == [("x9", "MES", -1, 20005, "0.62", minute(3).isoformat())]
    assert f.anomalies == []


def order_status(f: Fold) -> str:
    orders = f.state.book.machine("s", "MES").to_dict()["orders"]
    return str(orders[0]["status"])


def test_a_rejected_order_still_owed_a_fill_is_recorded_rejected() -> None:
    f = fold()
    f.apply(submitted("e1", 3))
    f.apply(filled("e1", 1, "5000", "x1"))
    f.apply(Ev(ORDER_REJECTED, {"order_id": "e1", "filled": 2, "reason": "margin", "counted": False}))
    assert order_status(f) == "REJECTED"
    assert f.state.book.machine("s", "MES").live_orders() == ("e1",)


def test_a_cancelled_order_still_owed_a_fill_is_recorded_cancelled() -> None:
    f = fold()
    f.apply(submitted("e1", 3))
    f.apply(filled("e1", 1, "5000", "x1"))
    f.apply(Ev(ORDER_CANCELLED, {"order_id": "e1", "filled": 2, "reason": "by the venue"}))
    assert order_status(f) == "CANCELLED"
    assert f.state.killswitch.consecutive_rejects == 0


def test_a_counted_reject_trips_the_streak_at_its_events_time_naming_the_order_and_reason() -> None:
    f = Fold(BotState(book=PositionBook(), killswitch=KillSwitch(max_consecutive_rejects=1), learning=LearningLoop()))
    f.apply(Ev(ORDER_REJECTED, {"order_id": "e7", "reason": "margin"}, ts=T0))
    assert [(t.reason, t.at, t.detail) for t in f.state.killswitch.trips] == [
        ("consecutive_rejects", T0, "order e7 rejected: margin")]
