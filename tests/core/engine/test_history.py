"""The run's record (``RunHistory``) event by event: only events after the run's start, each kept in
its list in log order, a trade beside the entry that set its bracket, each close flat unless the
runner's check at it tripped, bars rejected counted by reason, and nothing kept of other events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from statebot.core.effects import (
    BAR_FLAGGED,
    BAR_REJECTED,
    EQUITY_SET,
    FILL,
    KILL_SWITCH,
    ORDER_SUBMITTED,
    POSITION_TRANSITION,
    SESSION_EXIT_FLATTEN,
    SESSION_TRANSITION,
    SESSIONS_WITHOUT_DATA,
    THROTTLE_TRANSITION,
    TRADE_CLOSED,
)
from statebot.core.engine.history import TIMELINE_TYPES, RunHistory
from statebot.core.fsm.killswitch import MANUAL, POSITION_HELD_AT_CLOSE

T0 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


@attrs.frozen
class Ev:
    seq: int
    type: str
    payload: dict[str, Any] = attrs.field(factory=dict)
    config_hash: str | None = None

    @property
    def ts(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=self.seq)


def at(seq: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seq)


def history(*events: Ev, after_seq: int = 0) -> RunHistory:
    h = RunHistory(after_seq=after_seq)
    for e in events:
        h.record(e)
    return h


def entry(seq: int, strategy: str = "s", stop: int | None = 8, purpose: str = "entry") -> Ev:
    return Ev(seq, ORDER_SUBMITTED, {"order_id": f"e{seq}", "strategy": strategy, "symbol": "MES", "qty": 1,
                                     "purpose": purpose, "stop_ticks": stop})


def closed(seq: int, strategy: str = "s") -> Ev:
    return Ev(seq, TRADE_CLOSED, {"strategy": strategy, "symbol": "MES", "net_pnl": str(seq)})


def session(seq: int, to: str, date: str | None = "2026-11-24") -> Ev:
    return Ev(seq, SESSION_TRANSITION, {"from": "X", "to": to, "session": date})


def kill(seq: int, reason: str) -> Ev:
    return Ev(seq, KILL_SWITCH, {"from": "ARMED", "to": "TRIPPED", "reason": reason})


def test_a_fresh_record_is_empty() -> None:
    h = RunHistory()
    assert (h.after_seq, h.events, h.trades, h.flattens, h.transitions, h.bars_rejected, h.bars_flagged,
            h.sessions_without_data, h.trade_entries, h.config_hashes, h.closes) == (0, 0, [], [], [], {}, 0, [], [], {}, [])


def test_only_events_after_the_runs_start_are_kept() -> None:
    h = history(Ev(4, BAR_FLAGGED), closed(5), Ev(6, BAR_FLAGGED), closed(7), after_seq=5)
    assert (h.events, h.bars_flagged, [ts for ts, _ in h.trades]) == (2, 1, [at(7)])
    assert history(Ev(1, BAR_FLAGGED)).events == 1  # from the start of the log: seq 1 is the first kept


def test_each_event_is_counted_and_its_config_hash_kept_once_in_order_of_first_appearance() -> None:
    h = history(Ev(1, EQUITY_SET, config_hash="h2"), Ev(2, FILL), Ev(3, EQUITY_SET, config_hash="h1"),
                Ev(4, EQUITY_SET, config_hash="h2"))
    assert h.events == 4 and list(h.config_hashes) == ["h2", "h1"]
    assert (h.trades, h.flattens, h.transitions, h.bars_rejected, h.bars_flagged, h.closes) == ([], [], [], {}, 0, [])


def test_a_trade_is_kept_beside_the_last_entry_with_a_stop_of_its_strategy_and_symbol() -> None:
    first, second, other = entry(1), entry(2), entry(3, strategy="t")
    h = history(first, second, other, entry(4, stop=None), entry(5, purpose="exit"), closed(6), closed(7),
                closed(8, strategy="t"))
    assert h.trades == [(at(6), closed(6).payload), (at(7), closed(7).payload), (at(8), closed(8, strategy="t").payload)]
    # the entry without a stop and the exit set no bracket; a trade takes its entry: the next one finds none
    assert h.trade_entries == [second.payload, None, other.payload]


def test_a_bracket_entry_is_matched_by_symbol_too() -> None:
    nq = Ev(1, ORDER_SUBMITTED, {"order_id": "e1", "strategy": "s", "symbol": "MNQ", "qty": 1, "purpose": "entry",
                                 "stop_ticks": 8})
    h = history(nq, closed(2))
    assert h.trade_entries == [None]


def test_the_timeline_keeps_each_transition_with_its_type_in_order() -> None:
    events = [session(1, "PRE_OPEN"), Ev(2, POSITION_TRANSITION, {"to": "OPEN"}), Ev(3, THROTTLE_TRANSITION, {"to": "THROTTLED"}),
              kill(4, MANUAL), Ev(5, FILL, {"qty": 1})]
    h = history(*events)
    assert h.transitions == [(at(e.seq), e.type, e.payload) for e in events[:4]]
    assert TIMELINE_TYPES == {SESSION_TRANSITION, POSITION_TRANSITION, THROTTLE_TRANSITION, KILL_SWITCH}
    assert h.of_type(KILL_SWITCH) == [(at(4), events[3].payload)]
    assert h.of_type(SESSION_TRANSITION) == [(at(1), events[0].payload)]
    assert h.of_type(BAR_FLAGGED) == []


def test_each_close_is_flat_unless_the_check_at_it_tripped() -> None:
    h = history(session(1, "CLOSED", "2026-11-23"), session(2, "PRE_OPEN"),
                session(3, "TRADING"), kill(4, POSITION_HELD_AT_CLOSE),  # not at a close: no close to mark
                session(5, "CLOSED"), kill(6, MANUAL),  # another reason: still flat
                session(7, "PRE_OPEN", "2026-11-25"), session(8, "CLOSED", "2026-11-25"), kill(9, POSITION_HELD_AT_CLOSE),
                session(10, "CLOSED", None))
    # the third close is the one marked: the last kept, not any other
    assert h.closes == [("2026-11-23", True), ("2026-11-24", True), ("2026-11-25", False), ("", True)]


def test_a_trip_after_the_session_moved_on_from_its_close_marks_nothing() -> None:
    h = history(session(1, "CLOSED"), session(2, "PRE_OPEN", "2026-11-25"), kill(3, POSITION_HELD_AT_CLOSE))
    assert h.closes == [("2026-11-24", True)]


def test_flattens_bars_and_sessions_without_data_are_kept() -> None:
    flatten = Ev(1, SESSION_EXIT_FLATTEN, {"symbols": ["MES"]})
    h = history(flatten, Ev(2, BAR_REJECTED, {"reason": "stale"}), Ev(3, BAR_REJECTED, {"reason": "gap"}),
                Ev(4, BAR_REJECTED, {"reason": "stale"}), Ev(5, BAR_REJECTED), Ev(6, BAR_FLAGGED), Ev(7, BAR_FLAGGED),
                Ev(8, SESSIONS_WITHOUT_DATA, {"sessions": ["2026-11-26", dt.date(2026, 11, 27)]}),
                Ev(9, SESSIONS_WITHOUT_DATA, {"sessions": ["2026-11-30"]}))
    assert h.flattens == [(at(1), flatten.payload)]
    assert list(h.bars_rejected.items()) == [("stale", 2), ("gap", 1), ("", 1)]
    assert h.bars_flagged == 2
    assert h.sessions_without_data == ["2026-11-26", "2026-11-27", "2026-11-30"]
    assert (h.transitions, h.trades, h.events) == ([], [], 9)


@attrs.frozen
class Bare:
    """An event with only what the protocol names: no ``config_hash`` at all."""

    seq: int
    ts: dt.datetime
    type: str
    payload: dict[str, Any]


def test_an_event_without_a_config_hash_is_recorded() -> None:
    h = RunHistory()
    h.record(Bare(1, at(1), BAR_FLAGGED, {}))
    assert (h.events, h.bars_flagged, h.config_hashes) == (1, 1, {})
