"""The position machine's snapshot for a restart, OBSERVE-mode adoption, a person's write-off,
and the venue listing an order as no longer working.

Figures in integer ticks and cents; MES ticks are worth $1.25.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from statebot import ENTERING, EXITING, FLAT, OPEN, InvalidTransition, OrderRequest, OverFill, instrument
from statebot.core.fsm.position import SNAPSHOT_EXEC_IDS, PositionMachine
from statebot.core.orders import LIMIT, STOP
from tests.positions_helpers import T0, at, fill, machine, order


def restored(m: PositionMachine) -> PositionMachine:
    return PositionMachine.from_dict(m.to_dict(), instrument(m.symbol))


def short_two_of_three_exiting_one() -> tuple[PositionMachine, Any, Any]:
    """Short 2 of a 3-lot entry (at 20010 and 20004), an exit buying 1 live: EXITING."""
    m = machine()
    entry = order(-3, oid="e1")
    m.submit_entry(entry)
    m.on_fill(fill(entry, -1, ticks=20010, exec_id="x1", minute=1, commission="0.57"))
    m.on_fill(fill(entry, -1, ticks=20004, exec_id="x2", minute=2, commission="0.62"))
    exit_ = order(1, "exit", oid="x-1")
    assert m.submit_exit(exit_) == ("e1",)
    return m, entry, exit_


def test_the_snapshot_states_quantity_live_orders_trip_and_exec_ids() -> None:
    m, _, _ = short_two_of_three_exiting_one()
    assert m.to_dict() == {
        "strategy": "s1", "symbol": "MES", "state": EXITING, "qty": -2,
        "orders": [
            {"order": {"client_order_id": "e1", "qty": -3, "kind": "MARKET", "purpose": "entry", "limit_ticks": None,
                       "stop_ticks": None},
             "filled": 2, "status": "SUBMITTED", "reported_filled": 0, "cancel_requested": True},
            {"order": {"client_order_id": "x-1", "qty": 1, "kind": "MARKET", "purpose": "exit", "limit_ticks": None,
                       "stop_ticks": None},
             "filled": 0, "status": "SUBMITTED", "reported_filled": 0, "cancel_requested": False},
        ],
        "exec_ids": ["x1", "x2"],
        "trip": {"direction": -1, "opened_at": at(1).isoformat(), "open_qty": 2, "open_notional": 40014,
                 "close_qty": 0, "close_notional": 0, "commission": "1.19", "fills": 2},
    }


def test_a_restored_machine_goes_on_exactly_as_the_one_it_was_saved_from() -> None:
    """Restore mid-trip, then the same reports to both: the same state, quantity and trade to the cent.

    Short 2 (20010, 20004), a late entry fill of 1 at 20000 (short 3: 60014 ticks), the exit of 1
    fills at 19990, a second exit of 2 fills at 19996: closed 59982 ticks;
    gross (60014 - 59982) x 1.25 = 40.00, commission 0.57 + 0.62 + 0.50 + 0.40 + 0.80 = 2.89.
    """
    original, entry, exit_ = short_two_of_three_exiting_one()
    again = restored(original)
    assert again.to_dict() == original.to_dict()
    assert (again.state, again.qty, again.live_orders(), again.opened_at) == (EXITING, -2, ("e1", "x-1"), at(1))
    assert again.avg_entry_ticks == Decimal(40014) / 2
    assert again.seen("x1") and again.seen("x2") and again.seen_any()
    assert again.knows("e1") and again.filled("e1") == 2 and again.order("x-1") == exit_
    trades = []
    for m in (original, again):
        assert m.on_fill(fill(entry, -1, ticks=20000, exec_id="x3", minute=3, commission="0.50")) is None
        assert m.on_fill(fill(exit_, 1, ticks=19990, exec_id="x4", minute=4, commission="0.40")) is None
        assert m.state == OPEN and m.qty == -2
        second = order(2, "exit", oid="x-2")
        m.submit_exit(second)
        trades.append(m.on_fill(fill(second, 2, ticks=19996, exec_id="x5", minute=5, commission="0.80")))
        assert (m.state, m.qty, m.live_orders()) == (FLAT, 0, ())
    assert trades[0] == trades[1]
    trade = trades[1]
    assert trade is not None
    assert (trade.qty, trade.fills, trade.entry_time, trade.exit_time) == (-3, 5, at(1), at(5))
    assert (trade.gross_pnl, trade.commission, trade.net_pnl) == (Decimal("40.00"), Decimal("2.89"), Decimal("37.11"))
    assert trade.avg_exit_ticks == Decimal(19994)


def test_a_restored_machine_refuses_a_fill_it_applied_before_the_restart() -> None:
    m, entry, _ = short_two_of_three_exiting_one()
    again = restored(m)
    assert again.on_fill(fill(entry, -1, ticks=20010, exec_id="x1")) is None
    assert again.qty == -2 and again.filled("e1") == 2


def test_the_snapshot_keeps_only_the_latest_exec_ids() -> None:
    m = machine()
    entry = order(SNAPSHOT_EXEC_IDS + 2)
    m.submit_entry(entry)
    for n in range(SNAPSHOT_EXEC_IDS + 2):
        m.on_fill(fill(entry, 1, exec_id=f"f{n}"))
    kept = m.to_dict()["exec_ids"]
    assert kept == [f"f{n}" for n in range(2, SNAPSHOT_EXEC_IDS + 2)]
    again = restored(m)
    assert not again.seen("f1") and again.seen("f2") and again.seen(f"f{SNAPSHOT_EXEC_IDS + 1}")


def test_a_flat_machine_round_trips_with_no_trip() -> None:
    again = restored(machine())
    assert (again.state, again.qty, again.avg_entry_ticks, again.live_orders(), again.seen_any()) == (FLAT, 0, None, (), False)
    assert again.may_enter()


def test_an_entering_machine_with_nothing_filled_round_trips() -> None:
    m = machine()
    m.submit_entry(order(2, oid="e7"))
    again = restored(m)
    assert (again.state, again.qty, again.working_entries()) == (ENTERING, 0, ("e7",))
    assert again.to_dict()["trip"] is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("qty"), "malformed"),
        (lambda d: d.pop("strategy"), "malformed"),
        (lambda d: d.pop("exec_ids"), "malformed"),
        (lambda d: d["orders"][0].pop("reported_filled"), "malformed"),
        (lambda d: d["orders"][0]["order"].pop("purpose"), "malformed"),
        (lambda d: d.__setitem__("orders", None), "malformed"),
        (lambda d: d["trip"].__setitem__("commission", "1.1.9"), "malformed"),
        (lambda d: d["trip"].pop("fills"), "malformed"),
        (lambda d: d["trip"].__setitem__("open_qty", None), "malformed"),
        (lambda d: d.__setitem__("state", OPEN), "state OPEN does not follow from qty -2"),
        (lambda d: d.__setitem__("state", "NOWHERE"), "state NOWHERE does not follow"),
        (lambda d: d.__setitem__("trip", None), "does not follow from qty -2"),
        (lambda d: d.update(qty=0, orders=[]), "state EXITING does not follow from qty 0"),
    ],
)
def test_a_malformed_or_inconsistent_snapshot_is_refused_naming_the_problem(change: Any, problem: str) -> None:
    m, _, _ = short_two_of_three_exiting_one()
    data = m.to_dict()
    change(data)
    with pytest.raises(ValueError, match=problem):
        PositionMachine.from_dict(data, instrument("MES"))


def test_a_trip_without_a_position_is_refused() -> None:
    data = machine().to_dict()
    data["trip"] = {"direction": 1, "opened_at": T0.isoformat(), "open_qty": 1, "open_notional": 20000,
                    "close_qty": 1, "close_notional": 20001, "commission": "0", "fills": 2}
    with pytest.raises(ValueError, match="state FLAT does not follow from qty 0"):
        PositionMachine.from_dict(data, instrument("MES"))


# adoption in OBSERVE mode --------------------------------------------------------------


def test_adopting_holds_the_broker_position_at_its_reference_price() -> None:
    """Adopt short 2 at 20000, buy them back at 19990: gross 10 ticks x 2 x 1.25 = 25.00, one fill."""
    m = machine()
    m.adopt(-2, 20000, T0)
    assert (m.state, m.qty, m.avg_entry_ticks, m.opened_at) == (OPEN, -2, Decimal(20000), T0)
    exit_ = order(2, "exit")
    m.submit_exit(exit_)
    trade = m.on_fill(fill(exit_, 2, ticks=19990, commission="1.14", minute=3))
    assert trade is not None
    assert (trade.qty, trade.fills, trade.entry_time) == (-2, 1, T0)
    assert (trade.gross_pnl, trade.commission) == (Decimal("25.00"), Decimal("1.14"))


def test_adopting_nothing_or_on_top_of_a_position_is_refused() -> None:
    m = machine()
    with pytest.raises(InvalidTransition):
        m.adopt(0, 20000, T0)
    assert (m.state, m.qty) == (FLAT, 0)
    m.adopt(1, 20000, T0)
    with pytest.raises(InvalidTransition):
        m.adopt(1, 20000, T0)
    assert (m.state, m.qty) == (OPEN, 1)


# a person's write-off ---------------------------------------------------------------------


def test_a_write_off_drops_the_position_and_its_trip_and_returns_the_quantity() -> None:
    m = machine()
    entry = order(-2)
    m.submit_entry(entry)
    m.on_fill(fill(entry, -2))
    assert m.write_off() == -2
    assert (m.state, m.qty, m.avg_entry_ticks, m.opened_at, m.may_enter()) == (FLAT, 0, None, None, True)
    again = order(1)
    m.submit_entry(again)
    m.on_fill(fill(again, 1, ticks=20002, minute=4))
    assert (m.qty, m.avg_entry_ticks, m.opened_at) == (1, Decimal(20002), at(4))


def test_a_write_off_is_refused_while_an_order_is_live_or_nothing_is_held() -> None:
    m = machine()
    with pytest.raises(InvalidTransition):
        m.write_off()
    entry = order(2)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    with pytest.raises(InvalidTransition):
        m.write_off()
    assert (m.state, m.qty) == (ENTERING, 1)


# the venue lists an order as no longer working -----------------------------------------------


def test_an_order_the_venue_no_longer_lists_ends_with_what_it_filled() -> None:
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 3))
    exit_ = order(-3, "exit")
    m.submit_exit(exit_)
    m.on_fill(fill(exit_, -1))
    m.venue_not_working(exit_.client_order_id)
    assert (m.state, m.qty, m.live_orders(), m.filled(exit_.client_order_id)) == (OPEN, 2, (), 1)
    assert m.to_dict()["orders"] == []
    m.venue_not_working(exit_.client_order_id)  # no longer live: nothing changes
    m.venue_not_working("never-seen")
    assert (m.state, m.qty) == (OPEN, 2)
    # a fill of it still arrives: applied, never dropped (it closes, so nothing is raised)
    assert m.on_fill(fill(exit_, -1)) is None
    assert (m.state, m.qty) == (OPEN, 1)
    # one more that would take the position past zero is applied and raised
    with pytest.raises(OverFill, match=r"for -3 filled 4 with fill \w+ of -2"):
        m.on_fill(fill(exit_, -2))
    assert m.qty == -1


def test_filled_and_order_name_an_unknown_order_as_a_key_error() -> None:
    m = machine()
    with pytest.raises(KeyError):
        m.filled("nope")
    with pytest.raises(KeyError):
        m.order("nope")
    assert not m.seen_any()


def test_a_restore_keeps_limit_and_stop_prices_and_a_part_closed_trip() -> None:
    """Long 3 at 20000; a limit exit sold 1 at 20012 (part closed); a stop exit for 1 at 19990 and the
    limit's rest still working. Restored, both orders keep their prices and the trip its closed part:
    the last 2 sold at 20008 close 3 contracts, 1 x 12 + 2 x 8 = 28 ticks x 1.25 = 35.00 gross."""
    m = machine()
    entry = order(3, oid="e1")
    m.submit_entry(entry)
    m.on_fill(fill(entry, 3, ticks=20000, exec_id="f1", commission="1.71"))
    limit = OrderRequest(client_order_id="x-lim", strategy="s1", symbol="MES", qty=-2, purpose="exit", kind=LIMIT,
                         limit_ticks=20012)
    stop = OrderRequest(client_order_id="x-stop", strategy="s1", symbol="MES", qty=-1, purpose="exit", kind=STOP,
                        stop_ticks=19990)
    m.submit_exit(limit)
    m.submit_exit(stop)
    m.on_fill(fill(limit, -1, ticks=20012, exec_id="f2", commission="0.57"))
    again = restored(m)
    assert again.order("x-lim") == limit and again.order("x-stop") == stop
    assert again.to_dict()["trip"]["close_qty"] == 1 and again.to_dict() == m.to_dict()
    again.on_fill(fill(limit, -1, ticks=20008, exec_id="f3", commission="0.57"))
    trade = again.on_fill(fill(stop, -1, ticks=20008, exec_id="f4", commission="0.57"))
    assert trade is not None
    assert (trade.qty, trade.gross_pnl, trade.commission, trade.fills) == (3, Decimal("35.00"), Decimal("3.42"), 4)
    assert trade.avg_exit_ticks == Decimal(20012 + 2 * 20008) / 3
