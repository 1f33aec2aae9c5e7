"""The fold, event by event: what each logged event does to the state, and which disagreements
with the state folded before it become anomalies (never exceptions, unless asked to raise)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import attrs
import pytest

from statebot import ARMED, TRIPPED, EventLogError, KillSwitch, LearningLoop, PositionBook
from statebot.core.effects import (
    EQUITY_SET,
    FILL,
    KILL_SWITCH,
    ORDER_CANCEL_REQUESTED,
    ORDER_CANCELLED,
    ORDER_ENDED,
    ORDER_REJECTED,
    ORDER_SUBMITTED,
    POSITION_TRANSITION,
    POSITION_WRITTEN_OFF,
    SESSION_TRANSITION,
    STATE_RESTORED,
    THROTTLE_TRANSITION,
    TRADE_CLOSED,
)
from statebot.core.engine.fold import BotState, Bracket, Fold, outcome_from_payload

T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _numbering() -> None:
    """Each test's events are numbered from 1, one second apart from T0 (unless a test says when)."""
    global _seq
    _seq = itertools.count(1)


def _next_seq() -> int:
    return next(_seq)


@attrs.frozen
class Ev:
    """An event as the fold reads it (``statebot.journal.log.Event`` has the same fields)."""

    type: str
    payload: dict[str, Any]
    seq: int = attrs.field(factory=_next_seq, kw_only=True)
    ts: dt.datetime = attrs.field(default=attrs.Factory(lambda self: T0 + dt.timedelta(seconds=self.seq), takes_self=True),
                                  kw_only=True)
    hash: str = attrs.field(default="ab" * 32, kw_only=True)
    config_hash: str | None = attrs.field(default=None, kw_only=True)


def fold(strict: bool = True, **kw: Any) -> Fold:
    state = BotState(book=PositionBook(), killswitch=KillSwitch(max_consecutive_rejects=2), learning=LearningLoop())
    return Fold(state, strict_positions=strict, **kw)


def minute(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def submitted(oid: str, qty: int, purpose: str = "entry", **extra: Any) -> Ev:
    return Ev(ORDER_SUBMITTED, {"order_id": oid, "strategy": "s", "symbol": "MES", "qty": qty, "purpose": purpose, **extra})


def filled(oid: str, qty: int, price: str, exec_id: str, **extra: Any) -> Ev:
    return Ev(FILL, {"order_id": oid, "strategy": "s", "symbol": "MES", "qty": qty, "price": price, "commission": "0.57",
                     "exec_id": exec_id, **extra})


def trade(net: str, n: int = 5, **extra: Any) -> Ev:
    return Ev(TRADE_CLOSED, {
        "strategy": "s", "symbol": "MES", "qty": 1, "session": "2026-11-24", "gross_pnl": net, "commission": "0",
        "net_pnl": net, "slippage_ticks": "0", "slippage_expected_ticks": "0", "entry_price": "5000",
        "exit_price": "5000", "entry_time": T0.isoformat(), "exit_time": minute(n).isoformat(), "trade_id": f"t{n}",
        **extra})


# the head, the clock, runs, equity -------------------------------------------------------


def test_each_event_moves_the_head_and_the_clock_and_counts() -> None:
    f = fold()
    f.apply(Ev("SOMETHING_THE_FOLD_IGNORES", {}, ts=minute(2), seq=7, hash="cd" * 32, config_hash="h1"), line=1)
    f.apply(Ev(EQUITY_SET, {"equity": "25000"}, ts=minute(3), seq=8, config_hash="h2"), line=2)
    f.apply(Ev(EQUITY_SET, {"equity": "26000"}, ts=minute(4), seq=9, config_hash="h1"), line=3)
    s = f.state
    assert (s.seq, s.clock, s.events, s.equity) == (9, minute(4), 3, Decimal(26000))
    assert list(s.config_hashes) == ["h1", "h2"]
    assert f.anomalies == []


def test_a_time_going_backwards_is_an_anomaly_and_the_clock_never_goes_back() -> None:
    f = fold()
    f.apply(Ev(EQUITY_SET, {"equity": "1"}, ts=minute(5)), line=1)
    f.apply(Ev(EQUITY_SET, {"equity": "2"}, ts=minute(4)), line=2)
    assert f.state.clock == minute(5) and f.state.equity == Decimal(2)
    assert [(a.line, a.message) for a in f.anomalies] == [
        (2, f"ts {minute(4).isoformat()} is before the previous event's {minute(5).isoformat()}")]


def test_a_restore_counts_the_run_and_may_set_equity() -> None:
    f = fold()
    f.apply(Ev(STATE_RESTORED, {"run": 3, "equity": "1000.50"}))
    f.apply(Ev(STATE_RESTORED, {}))  # no run number: the next one; no equity: unchanged
    f.apply(Ev(STATE_RESTORED, {"run": 2}))  # never goes back
    assert (f.state.run, f.state.equity) == (4, Decimal("1000.50"))


def test_an_order_id_names_the_run_that_sent_it() -> None:
    f = fold()
    f.apply(submitted("r5-s-MES-1", 1))
    assert f.state.run == 5


def test_the_session_follows_its_transitions_and_a_wrong_from_is_an_anomaly() -> None:
    f = fold()
    f.apply(Ev(SESSION_TRANSITION, {"from": "CLOSED", "to": "PRE_OPEN", "session": "2026-11-24"}), line=1)
    assert (f.state.session, f.state.session_date) == ("PRE_OPEN", dt.date(2026, 11, 24))
    f.apply(Ev(SESSION_TRANSITION, {"from": "TRADING", "to": "FLATTENING"}), line=2)
    assert (f.state.session, f.state.session_date) == ("FLATTENING", None)
    assert [a.message for a in f.anomalies] == ["session: from TRADING but replayed state was PRE_OPEN"]


# orders, fills, positions -------------------------------------------------------------------


def test_orders_and_fills_rebuild_the_position_and_its_bracket() -> None:
    """Long 2 at 5000.00 (20000 ticks), stop 8 ticks, target 12: stop 4998.00, target 5003.00."""
    f = fold()
    f.apply(submitted("e1", 2, stop_ticks=8, target_ticks=12, expected_slippage_ticks="0.5", ref_ticks=20001))
    f.apply(filled("e1", 2, "5000.00", "x1"))
    m = f.state.book.machine("s", "MES")
    assert (m.state, m.qty) == ("OPEN", 2)
    b = f.state.brackets[("s", "MES")]
    assert (b.side, b.stop_ticks, b.target_ticks, b.expected_slippage_ticks, b.entry_ref_ticks) == (1, 8, 12, Decimal("0.5"), 20001)
    assert (b.stop_price, b.target_price) == (4998.0, 5003.0)
    f.apply(submitted("x-1", -2, "exit", ref_ticks=20010))
    assert b.exit_ref_ticks == 20010 and m.state == "EXITING"
    f.apply(filled("x-1", -2, "5002.50", "x2"))
    assert (m.state, m.qty) == ("FLAT", 0)
    f.apply(trade("12.86", n=2))
    assert ("s", "MES") not in f.state.brackets
    assert f.anomalies == []


def test_a_short_entry_without_a_target_has_its_stop_above() -> None:
    f = fold()
    f.apply(submitted("e1", -1, stop_ticks=4))
    f.apply(filled("e1", -1, "5000.00", "x1", at=minute(3).isoformat()))
    b = f.state.brackets[("s", "MES")]
    assert (b.side, b.stop_price, b.target_price, b.entry_ref_ticks) == (-1, 5001.0, None, None)
    assert f.state.book.machine("s", "MES").opened_at == minute(3)


def test_an_entry_without_a_stop_has_no_bracket_and_an_unowned_order_no_machine() -> None:
    f = fold()
    f.apply(submitted("e1", 1))
    f.apply(Ev(ORDER_SUBMITTED, {"order_id": "flatten-1", "strategy": "", "symbol": "MES", "qty": -1, "purpose": "flatten"}))
    assert f.state.brackets == {}
    assert f.state.book.owner("flatten-1") is None


def test_cancels_and_ends_reach_the_owning_machine_and_unknown_orders_are_ignored() -> None:
    f = fold()
    f.apply(submitted("e1", 2))
    f.apply(filled("e1", 1, "5000", "x1"))
    f.apply(Ev(ORDER_CANCEL_REQUESTED, {"order_id": "e1"}))
    m = f.state.book.machine("s", "MES")
    assert (m.state, m.working_entries()) == ("OPEN", ())
    f.apply(Ev(ORDER_CANCEL_REQUESTED, {"order_id": "nobody"}))
    f.apply(Ev(ORDER_ENDED, {"order_id": "nobody"}))
    f.apply(Ev(ORDER_ENDED, {"order_id": "e1"}))
    assert (m.state, m.qty, m.live_orders()) == ("OPEN", 1, ())
    assert f.anomalies == []


def test_a_cancel_confirmed_ends_the_order_with_the_fills_it_counts() -> None:
    f = fold()
    f.apply(submitted("e1", 3))
    f.apply(filled("e1", 1, "5000", "x1"))
    f.apply(Ev(ORDER_CANCELLED, {"order_id": "e1", "filled": 2}))  # a fill still on its way: wait for it
    m = f.state.book.machine("s", "MES")
    assert m.state == "ENTERING" and m.live_orders() == ("e1",)
    f.apply(filled("e1", 1, "5000", "x2"))
    assert (m.state, m.qty, m.live_orders()) == ("OPEN", 2, ())


def test_a_reject_without_a_filled_count_uses_the_fills_so_far_and_counts_toward_the_streak() -> None:
    f = fold()
    f.apply(submitted("e1", 1))
    f.apply(Ev(ORDER_REJECTED, {"order_id": "e1", "reason": "margin"}))
    m = f.state.book.machine("s", "MES")
    assert (m.state, m.live_orders()) == ("FLAT", ())
    assert f.state.killswitch.consecutive_rejects == 1
    f.apply(Ev(ORDER_REJECTED, {"order_id": "other", "counted": False}))  # not counted: the streak stays
    assert f.state.killswitch.consecutive_rejects == 1
    f.apply(Ev(ORDER_REJECTED, {"order_id": "unknown", "reason": "margin"}))
    assert f.state.killswitch.state == TRIPPED
    assert f.state.killswitch.trips[0].detail == "order unknown rejected: margin"


def test_a_fill_ends_the_reject_streak() -> None:
    f = fold()
    f.apply(submitted("e1", 1))
    f.apply(Ev(ORDER_REJECTED, {"order_id": "zz", "reason": "r"}))
    f.apply(filled("e1", 1, "5000", "x1"))
    assert f.state.killswitch.consecutive_rejects == 0


def test_a_logged_position_that_differs_from_the_folded_machine_is_an_anomaly() -> None:
    f = fold()
    f.apply(submitted("e1", 1))
    f.apply(Ev(POSITION_TRANSITION, {"strategy": "s", "symbol": "MES", "from": "FLAT", "to": "ENTERING", "qty": 0}), line=2)
    f.apply(filled("e1", 1, "5000", "x1"))
    f.apply(Ev(POSITION_TRANSITION, {"strategy": "s", "symbol": "MES", "from": "ENTERING", "to": "OPEN", "qty": 2}), line=4)
    f.apply(Ev(POSITION_TRANSITION, {"strategy": "s", "symbol": "MES", "from": "EXITING", "to": "OPEN", "qty": 1}), line=5)
    assert [(a.line, a.message) for a in f.anomalies] == [
        (4, "position s MES: logged OPEN 2 but the folded machine is OPEN 1"),
        (5, "position s MES: from EXITING but replayed state was OPEN"),
    ]
    assert f.state.positions[("s", "MES")] == ("OPEN", 1)


def test_without_strict_positions_the_log_is_followed_not_re_applied() -> None:
    f = fold(strict=False)
    f.apply(submitted("e1", 1))
    f.apply(Ev(POSITION_TRANSITION, {"strategy": "s", "symbol": "MES", "from": "FLAT", "to": "OPEN", "qty": 1}))
    f.apply(filled("e1", 2, "5000", "x1", routed=True))
    f.apply(filled("e1", 5, "5000", "x2"))  # not routed: no machine took it
    f.apply(Ev(ORDER_REJECTED, {"order_id": "e1"}))
    f.apply(Ev(ORDER_CANCEL_REQUESTED, {"order_id": "e1"}))
    f.apply(Ev(ORDER_ENDED, {"order_id": "e1"}))
    f.apply(Ev(POSITION_WRITTEN_OFF, {"strategy": "s", "symbol": "MES"}))
    assert f.state.positions[("s", "MES")] == ("OPEN", 3)
    assert f.state.book.machines() == ()  # no machine was made: nothing was re-applied
    assert f.state.killswitch.consecutive_rejects == 0
    assert f.anomalies == []


def test_a_write_off_drops_the_position_and_its_bracket() -> None:
    f = fold()
    f.apply(submitted("e1", 1, stop_ticks=4))
    f.apply(filled("e1", 1, "5000", "x1"))
    f.apply(Ev(POSITION_WRITTEN_OFF, {"strategy": "s", "symbol": "MES"}))
    assert f.state.book.machine("s", "MES").qty == 0 and f.state.brackets == {}


# malformed events -------------------------------------------------------------------------


def test_a_malformed_payload_is_an_anomaly_naming_the_event_or_raises_when_asked() -> None:
    f = fold()
    f.apply(submitted("e1", "two"), line=3)
    f.apply(submitted("e2", True), line=4)
    f.apply(Ev(EQUITY_SET, {}), line=5)
    assert [(a.line, a.message) for a in f.anomalies] == [
        (3, "ORDER_SUBMITTED could not be folded: qty 'two' is not an integer"),
        (4, "ORDER_SUBMITTED could not be folded: qty True is not an integer"),
        (5, "EQUITY_SET could not be folded: KeyError: 'equity'"),
    ]
    with pytest.raises(EventLogError, match="line 7: ORDER_SUBMITTED qty 'x' is not an integer"):
        fold(raise_malformed=True).apply(submitted("e1", "x"), line=7)


def test_a_quantity_written_as_text_is_read() -> None:
    f = fold()
    f.apply(submitted("e1", "-2"))
    assert f.state.book.machine("s", "MES").order("e1").qty == -2


# trades, learning, the kill switch -----------------------------------------------------------


def test_a_trade_adds_its_net_to_equity_the_day_and_learning() -> None:
    f = fold()
    f.apply(Ev(EQUITY_SET, {"equity": "1000"}))
    f.apply(trade("-12.50"))
    f.apply(trade("2.50", n=6, session=None))  # no session: the event's own date
    s = f.state
    assert s.equity == Decimal("990.00")
    assert s.killswitch.day == dt.date(2026, 11, 24) and s.killswitch.day_net_pnl == Decimal("-10.00")
    assert s.learning.export_to_dict()["strategies"]["s"]["metrics"]["trades"] == 2


def test_a_trade_before_any_equity_leaves_equity_unknown_and_a_trade_without_times_is_not_learned() -> None:
    f = fold()
    p = trade("-5").payload
    f.apply(Ev(TRADE_CLOSED, {k: v for k, v in p.items() if k != "entry_time"}))
    assert f.state.equity is None
    assert f.state.learning.export_to_dict()["strategies"] == {}
    assert f.state.killswitch.day_net_pnl == Decimal("-5")


def test_the_outcome_a_trade_payload_records() -> None:
    o = outcome_from_payload(trade("-7.25", spread_ticks="1.5").payload)
    assert (o.strategy, o.symbol, o.quantity, o.net_pnl_usd, o.spread_ticks, o.trade_id) == ("s", "MES", 1, Decimal("-7.25"), Decimal("1.5"), "t5")
    assert outcome_from_payload(trade("1", trade_id=None).payload).trade_id is None


def test_a_throttle_transition_the_trade_caused_is_expected_and_another_is_an_anomaly() -> None:
    """A 200 loss breaches the 150 drawdown rule: the fold's learning throttles it itself."""
    f = fold()
    f.apply(trade("-200"), line=1)
    f.apply(Ev(THROTTLE_TRANSITION, {"strategy": "s", "from": "ACTIVE", "to": "THROTTLED"}), line=2)
    assert f.anomalies == [] and f.state.throttles == {"s": "THROTTLED"}
    g = fold()
    g.apply(trade("-200"), line=1)
    g.apply(Ev(THROTTLE_TRANSITION, {"strategy": "s", "from": "ACTIVE", "to": "PROBATION"}), line=2)
    assert [(a.line, a.message) for a in g.anomalies] == [
        (2, "throttle s: logged ACTIVE -> PROBATION but the trade folded before it moved ACTIVE -> THROTTLED")]


def test_a_throttle_transition_no_trade_caused_restores_the_throttle_it_carries() -> None:
    """An operator reset is logged with the throttle it left: the fold takes it as it is."""
    live = LearningLoop()
    live.record_trade(outcome_from_payload(trade("-200").payload), minute(1), session_date=dt.date(2026, 11, 24))
    live.reset("s", "looked at the fills: a feed glitch", minute(2))
    carried = live.export_to_dict()["strategies"]["s"]["throttle"]
    assert carried["state"] == "ACTIVE"
    f = fold()
    f.apply(trade("-200"))
    f.apply(Ev(THROTTLE_TRANSITION, {"strategy": "s", "from": "ACTIVE", "to": "THROTTLED"}))
    f.apply(Ev(THROTTLE_TRANSITION, {"strategy": "s", "from": "THROTTLED", "to": "ACTIVE", "throttle": carried,
                                     "trigger": "reset"}))
    assert f.anomalies == [] and f.state.throttles == {"s": "ACTIVE"}
    assert f.state.learning.export_to_dict()["strategies"]["s"]["throttle"] == carried
    f.apply(Ev(THROTTLE_TRANSITION, {"strategy": "s", "from": "THROTTLED", "to": "ACTIVE"}), line=9)
    assert [(a.line, a.message) for a in f.anomalies] == [(9, "throttle s: from THROTTLED but replayed state was ACTIVE")]


def test_kill_switch_trips_and_resets_follow_the_log() -> None:
    f = fold()
    f.apply(Ev(KILL_SWITCH, {"from": ARMED, "to": TRIPPED, "reason": "manual", "detail": "by hand", "at": minute(1).isoformat()}), line=1)
    ks = f.state.killswitch
    assert (ks.state, f.state.kill_reason, ks.trips[0].at, ks.trips[0].detail) == (TRIPPED, "manual", minute(1), "by hand")
    f.apply(Ev(KILL_SWITCH, {"from": TRIPPED, "to": TRIPPED, "reason": "disconnect"}, ts=minute(2)), line=2)
    assert [t.reason for t in ks.trips] == ["manual", "disconnect"] and ks.trips[1].at == minute(2)
    f.apply(Ev(KILL_SWITCH, {"from": TRIPPED, "to": ARMED, "reason": "reset", "detail": "checked"}, ts=minute(3)), line=3)
    assert ks.state == ARMED and ks.resets == ((minute(3), "checked"),)
    f.apply(Ev(KILL_SWITCH, {"from": TRIPPED, "to": TRIPPED, "reason": "manual"}, ts=minute(4)), line=4)
    assert [(a.line, a.message) for a in f.anomalies] == [(4, "kill switch: from TRIPPED but replayed state was ARMED")]


def test_a_trip_the_fold_made_itself_is_named_by_the_logged_one() -> None:
    f = fold()
    f.apply(Ev(ORDER_REJECTED, {"order_id": "a", "reason": "r"}))
    f.apply(Ev(ORDER_REJECTED, {"order_id": "b", "reason": "r"}))  # the fold's switch trips on the streak
    f.apply(Ev(KILL_SWITCH, {"from": ARMED, "to": TRIPPED, "reason": "consecutive_rejects"}), line=3)
    assert f.anomalies == [] and len(f.state.killswitch.trips) == 1
    g = fold()
    g.apply(Ev(ORDER_REJECTED, {"order_id": "a", "reason": "r"}))
    g.apply(Ev(ORDER_REJECTED, {"order_id": "b", "reason": "r"}))
    g.apply(Ev(KILL_SWITCH, {"from": ARMED, "to": TRIPPED, "reason": "manual"}), line=3)
    assert [(a.line, a.message) for a in g.anomalies] == [
        (3, "kill switch: logged trip manual but the fold tripped on consecutive_rejects")]


def test_a_reset_logged_while_the_fold_is_armed_changes_nothing_but_the_reason() -> None:
    f = fold()
    f.apply(Ev(KILL_SWITCH, {"from": TRIPPED, "to": ARMED, "reason": "reset"}))
    assert f.state.killswitch.state == ARMED and f.state.killswitch.resets == () and f.state.kill_reason == "reset"


def test_apply_all_folds_in_order_and_returns_the_state() -> None:
    f = fold()
    state = f.apply_all([(1, Ev(EQUITY_SET, {"equity": "5"})), (2, Ev(EQUITY_SET, {"equity": "7"}))])
    assert state is f.state and state.equity == Decimal(7) and state.events == 2


def test_the_view_shows_what_is_held_and_the_brackets_of_held_positions_only() -> None:
    f = fold()
    f.apply(Ev(EQUITY_SET, {"equity": "100"}))
    f.apply(submitted("e1", 1, stop_ticks=4, target_ticks=8))
    view = f.state.view()
    assert [p["symbol"] for p in view["positions"]] == ["MES"]
    assert view["equity"] == "100" and view["unowned_fills"] == []
    assert view["brackets"] == {"s/MES": {"strategy": "s", "symbol": "MES", "side": 1, "stop_ticks": 4, "target_ticks": 8,
                                          "expected_slippage_ticks": "0", "entry_ref_ticks": None, "exit_ref_ticks": None}}
    f.apply(Ev(ORDER_REJECTED, {"order_id": "e1", "filled": 0}))
    assert f.state.view()["brackets"] == {}
    assert BotState(book=PositionBook(), killswitch=KillSwitch(), learning=LearningLoop()).view()["equity"] is None


def test_a_bracket_round_trips_through_its_dict() -> None:
    b = Bracket(side=-1, stop_ticks=6, target_ticks=None, expected_slippage_ticks=Decimal("0.25"), entry_ref_ticks=20000,
                exit_ref_ticks=19990)
    again = Bracket.from_dict(b.to_dict("s", "MES"))
    assert again == b
