"""The protectors the fold records: an ``ORDER_SUBMITTED`` purpose protect gives the desk (and, folding
positions, the position machine) the order as it was sent, term by term; an ``ORDER_MODIFY_REQUESTED``
gives it its new size and price; a modification of a protector not held, or with terms that are not
integers, is an anomaly that changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from statebot import KillSwitch, LearningLoop, OrderRequest, PositionBook
from statebot.core.effects import ORDER_MODIFY_REQUESTED, ORDER_SUBMITTED
from statebot.core.engine.fold import BotState, Fold
from statebot.core.orders import DAY, GTC, LIMIT, PROTECT, STOP

T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


@attrs.frozen
class Ev:
    type: str
    payload: dict[str, Any]
    seq: int = 1
    ts: dt.datetime = T0
    hash: str = "ab" * 32


def fold(strict: bool = True) -> Fold:
    return Fold(BotState(book=PositionBook(), killswitch=KillSwitch(), learning=LearningLoop()), strict_positions=strict)


def entry(qty: int = 2) -> Ev:
    return Ev(ORDER_SUBMITTED, {"order_id": "e1", "strategy": "s", "symbol": "MES", "qty": qty, "purpose": "entry"})


def protector(oid: str, kind: str, ticks: Any, qty: Any = -2, **extra: Any) -> Ev:
    return Ev(ORDER_SUBMITTED, {"order_id": oid, "strategy": "s", "symbol": "MES", "qty": qty, "purpose": "protect",
                                "kind": kind, "price_ticks": ticks, **extra})


def modify(oid: str, qty: Any, ticks: Any) -> Ev:
    return Ev(ORDER_MODIFY_REQUESTED, {"order_id": oid, "qty": qty, "price_ticks": ticks, "reason": "entry ended"})


STOP_SENT = OrderRequest(client_order_id="e1-stop", strategy="s", symbol="MES", qty=-2, kind=STOP, purpose=PROTECT,
                         stop_ticks=19990, tif=GTC, parent_id="e1", oca_group="oca-e1")
TARGET_SENT = OrderRequest(client_order_id="e1-target", strategy="s", symbol="MES", qty=-2, kind=LIMIT, purpose=PROTECT,
                           limit_ticks=20020, tif=DAY)


def bracketed(strict: bool = True) -> Fold:
    f = fold(strict)
    f.apply(entry(), line=1)
    f.apply(protector("e1-stop", STOP, 19990, tif=GTC, parent_id="e1", oca_group="oca-e1"), line=2)
    f.apply(protector("e1-target", LIMIT, "20020"), line=3)  # no tif: DAY; no parent, no OCA group
    return f


def test_a_protector_is_recorded_as_sent_on_the_desk_and_on_its_position() -> None:
    f = bracketed()
    desk, m = f.state.protection, f.state.book.machine("s", "MES")
    assert (desk.order("e1-stop"), desk.order("e1-target")) == (STOP_SENT, TARGET_SENT)
    assert (m.order("e1-stop"), m.order("e1-target")) == (STOP_SENT, TARGET_SENT)
    assert m.live_protectors() == ("e1-stop", "e1-target") and f.state.book.owner("e1-stop") is m
    assert [(d["order_id"], d["state"]) for d in desk.to_dict()] == [("e1-stop", "PENDING"), ("e1-target", "PENDING")]
    assert f.anomalies == []


def test_a_protector_with_an_empty_tif_is_a_day_order() -> None:
    f = fold()
    f.apply(entry())
    f.apply(protector("e1-stop", STOP, 19990, tif=""))
    assert f.state.protection.order("e1-stop").tif == DAY


def test_without_folding_positions_a_protector_is_the_desks_only() -> None:
    f = bracketed(strict=False)
    assert (f.state.protection.order("e1-stop"), f.state.protection.order("e1-target")) == (STOP_SENT, TARGET_SENT)
    assert f.state.book.machines() == () and f.state.book.owner("e1-stop") is None


def test_a_protector_of_no_strategy_is_no_protector() -> None:
    f = fold()
    f.apply(Ev(ORDER_SUBMITTED, {"order_id": "p1", "strategy": "", "symbol": "MES", "qty": -1, "purpose": "protect",
                                 "kind": STOP, "price_ticks": 19990}))
    assert f.state.protection.protectors() == () and f.anomalies == []


@pytest.mark.parametrize("ticks, message", [("x", "price_ticks 'x' is not an integer"), (None, "price_ticks None is not an integer")])
def test_a_protector_whose_price_is_not_an_integer_is_an_anomaly(ticks: Any, message: str) -> None:
    f = fold()
    f.apply(entry())
    f.apply(protector("e1-stop", STOP, ticks), line=2)
    assert [(a.line, a.message) for a in f.anomalies] == [(2, f"ORDER_SUBMITTED could not be folded: {message}")]
    assert f.state.protection.protectors() == ()


def test_a_modified_stop_takes_its_new_size_and_trigger_on_the_desk_and_its_position() -> None:
    f = bracketed()
    f.apply(modify("e1-stop", -1, "19994"), line=4)
    new = attrs.evolve(STOP_SENT, qty=-1, stop_ticks=19994)
    m = f.state.book.machine("s", "MES")
    assert (f.state.protection.order("e1-stop"), m.order("e1-stop")) == (new, new)
    assert [d["qty"] for d in f.state.protection.to_dict()] == [-1, -2]
    assert (f.state.protection.order("e1-target"), m.order("e1-target")) == (TARGET_SENT, TARGET_SENT)
    assert f.anomalies == []


def test_a_modified_target_takes_its_new_size_and_limit() -> None:
    f = bracketed()
    f.apply(modify("e1-target", "-1", 20016))
    new = attrs.evolve(TARGET_SENT, qty=-1, limit_ticks=20016)
    assert (f.state.protection.order("e1-target"), f.state.book.machine("s", "MES").order("e1-target")) == (new, new)
    assert f.anomalies == []


def test_without_folding_positions_a_modification_is_the_desks_only() -> None:
    f = bracketed(strict=False)
    f.apply(modify("e1-stop", -1, 19994))
    assert f.state.protection.order("e1-stop") == attrs.evolve(STOP_SENT, qty=-1, stop_ticks=19994)
    assert f.state.book.machines() == () and f.anomalies == []


def test_a_modification_of_a_protector_not_held_is_an_anomaly() -> None:
    f = bracketed()
    f.apply(modify("e9-stop", -1, 19994), line=5)
    assert [(a.line, a.message) for a in f.anomalies] == [(5, "protector e9-stop: modified but no such protector is live")]
    assert f.state.protection.order("e1-stop") == STOP_SENT


@pytest.mark.parametrize("qty, ticks, message", [
    ("one", 19994, "qty 'one' is not an integer"),
    (-1, "19994.5", "price_ticks '19994.5' is not an integer"),
    (-1, None, "price_ticks None is not an integer"),
])
def test_a_modification_whose_terms_are_not_integers_is_an_anomaly(qty: Any, ticks: Any, message: str) -> None:
    f = bracketed()
    f.apply(modify("e1-stop", qty, ticks), line=6)
    assert [(a.line, a.message) for a in f.anomalies] == [(6, f"ORDER_MODIFY_REQUESTED could not be folded: {message}")]
    assert f.state.protection.order("e1-stop") == STOP_SENT
    assert f.state.book.machine("s", "MES").order("e1-stop") == STOP_SENT


def test_a_modification_the_position_cannot_hold_is_an_anomaly_naming_it() -> None:
    f = bracketed()
    f.apply(modify("e1-stop", -3, 19994), line=7)
    assert [(a.line, a.message) for a in f.anomalies] == [
        (7, "ORDER_MODIFY_REQUESTED could not be folded: ValueError: s/MES: protective order e1-stop for -3 does not fit "
            "position 0 (filled 0, entries working: 2)")]
    assert f.state.protection.order("e1-stop") == STOP_SENT
