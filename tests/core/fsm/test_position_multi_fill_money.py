"""Money when a trade fills in pieces: scale-in entries, split exits, and exits that must not stack.

Every figure is worked by hand in integer ticks and cents; MES ticks are worth $1.25.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from statebot import ENTERING, FLAT, OPEN
from tests.positions_helpers import fill, machine, order


def test_a_trade_entered_and_closed_in_two_fills_each_sums_every_fill() -> None:
    """Buy 1 @ 20000 and 2 @ 20008, sell 2 @ 20010 and 1 @ 20004.

    open 20000 + 40016 = 60016 ticks, close 40020 + 20004 = 60024 ticks:
    gross (60024 - 60016) x 1.25 = 10.00; commission 0.57 + 1.14 + 1.14 + 0.57 = 3.42;
    average entry 60016 / 3, average exit 60024 / 3 = 20008.
    """
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1, ticks=20000, commission="0.57"))
    assert (m.state, m.qty) == (ENTERING, 1)
    m.on_fill(fill(entry, 2, ticks=20008, commission="1.14"))
    assert (m.state, m.qty) == (OPEN, 3)
    exit_ = order(-3, "exit")
    m.submit_exit(exit_)
    assert m.on_fill(fill(exit_, -2, ticks=20010, commission="1.14")) is None
    trade = m.on_fill(fill(exit_, -1, ticks=20004, commission="0.57"))
    assert m.state == FLAT and trade is not None
    assert (trade.qty, trade.fills) == (3, 4)
    assert trade.avg_entry_ticks == Decimal(60016) / 3
    assert trade.avg_exit_ticks == Decimal(20008)
    assert trade.gross_pnl == Decimal("10.00")
    assert trade.commission == Decimal("3.42")
    assert trade.net_pnl == Decimal("6.58")


def test_a_second_exit_does_not_cancel_the_first_exit() -> None:
    """Holding 2 of a 3-lot entry: the first exit cancels the entry, the second cancels nothing."""
    m = machine()
    entry = order(3)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 2))
    first = order(-1, "exit")
    assert m.submit_exit(first) == (entry.client_order_id,)
    assert m.submit_exit(order(-1, "exit")) == ()
    assert first.client_order_id in m.live_orders()


def test_a_one_lot_exit_in_the_held_direction_is_refused() -> None:
    """Long 1: an 'exit' buying 1 more would double the position, not close it."""
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    with pytest.raises(ValueError, match="does not close position 1"):
        m.check_exit(order(1, "exit"))
    with pytest.raises(ValueError, match="does not close position 1"):
        m.submit_exit(order(1, "exit"))
    assert (m.state, m.qty, m.live_orders()) == (OPEN, 1, ())
