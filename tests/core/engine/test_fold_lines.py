"""Where the fold says a disagreement is: each anomaly carries the line of the event (0 when the
caller gave none), through ``apply_all`` too, and a malformed event raised as an ``EventLogError``
carries it as ``line``; with ``state.history`` set the run's record is kept from the same pass;
and events about a position without a bracket leave it without one, quietly."""

from __future__ import annotations

import pytest

from statebot import EventLogError, KillSwitch, LearningLoop, PositionBook
from statebot.core.effects import (
    EQUITY_SET,
    POSITION_WRITTEN_OFF,
    PROTECTOR_TRANSITION,
    SESSION_TRANSITION,
    TRADE_CLOSED,
)
from statebot.core.engine.fold import BotState, Fold
from statebot.core.engine.history import RunHistory
from tests.core.engine.test_fold import Ev, filled, minute, submitted, trade


def fold(**kw: object) -> Fold:
    return Fold(BotState(book=PositionBook(), killswitch=KillSwitch(), learning=LearningLoop()), **kw)  # type: ignore[arg-type]


def test_an_anomaly_of_an_event_given_without_a_line_is_at_line_0() -> None:
    f = fold()
    f.apply(Ev(EQUITY_SET, {}))
    assert [a.line for a in f.anomalies] == [0]


def test_apply_all_gives_each_anomaly_its_events_line() -> None:
    f = fold()
    f.apply_all([(4, Ev(EQUITY_SET, {"equity": "1"}, ts=minute(2))), (9, Ev(EQUITY_SET, {}, ts=minute(3))),
                 (12, Ev(EQUITY_SET, {"equity": "2"}, ts=minute(1)))])
    assert [(a.line, a.message) for a in f.anomalies] == [
        (9, "EQUITY_SET could not be folded: KeyError: 'equity'"),
        (12, f"ts {minute(1).isoformat()} is before the previous event's {minute(3).isoformat()}")]


def test_a_session_from_that_disagrees_is_an_anomaly_at_its_line() -> None:
    f = fold()
    f.apply(Ev(SESSION_TRANSITION, {"from": "CLOSED", "to": "PRE_OPEN", "session": "2026-11-24"}), line=1)
    f.apply(Ev(SESSION_TRANSITION, {"from": "CLOSED", "to": "TRADING", "session": "2026-11-24"}), line=2)
    assert [(a.line, a.message) for a in f.anomalies] == [(2, "session: from CLOSED but replayed state was PRE_OPEN")]


def test_a_protector_transition_of_no_protector_is_an_anomaly_at_its_line() -> None:
    f = fold()
    f.apply(Ev(PROTECTOR_TRANSITION, {"order_id": "p9", "from": "PENDING", "to": "WORKING", "trigger": "accepted"}),
            line=6)
    assert [(a.line, a.message) for a in f.anomalies] == [
        (6, "protector p9: logged PENDING -> WORKING but no such protector was sent")]


def test_a_malformed_event_raised_as_asked_carries_its_line() -> None:
    with pytest.raises(EventLogError) as caught:
        fold(raise_malformed=True).apply(submitted("e1", "x"), line=7)
    assert (str(caught.value), caught.value.line) == ("line 7: ORDER_SUBMITTED qty 'x' is not an integer", 7)


def test_with_a_history_the_fold_keeps_the_runs_record_as_it_goes() -> None:
    f = fold()
    f.state.history = RunHistory(after_seq=0)
    f.apply(submitted("e1", 1, stop_ticks=4), line=1)
    f.apply(Ev(TRADE_CLOSED, trade("5").payload), line=2)
    h = f.state.history
    assert h.events == 2 and [p["net_pnl"] for _, p in h.trades] == ["5"]
    assert h.trade_entries == [submitted("e1", 1, stop_ticks=4).payload]


def test_an_exit_naming_its_reference_price_for_a_position_without_a_bracket_is_folded_quietly() -> None:
    f = fold()
    f.apply(submitted("e1", 1))
    f.apply(filled("e1", 1, "5000", "x1"))
    f.apply(submitted("x1", -1, "exit", ref_ticks=20010), line=3)
    assert f.anomalies == [] and f.state.brackets == {}
    assert f.state.book.machine("s", "MES").state == "EXITING"


def test_a_write_off_of_a_position_without_a_bracket_is_folded_quietly() -> None:
    f = fold()
    f.apply(submitted("e1", 1))
    f.apply(filled("e1", 1, "5000", "x1"))
    f.apply(Ev(POSITION_WRITTEN_OFF, {"strategy": "s", "symbol": "MES"}), line=3)
    assert f.anomalies == [] and f.state.book.machine("s", "MES").qty == 0
