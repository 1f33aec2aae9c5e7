"""A terminal report that arrives after its order already ended and counts fills not yet received: the
order works again until they come, and the position waits in the state that order gives (EXITING for an
exit, ENTERING for an entry), from whichever state it was in."""

from __future__ import annotations

from statebot import ENTERING, EXITING, FLAT, OPEN
from tests.positions_helpers import fill, held, machine, order, status



def test_an_exit_cancelled_then_reported_filled_waits_in_exiting_for_its_fill() -> None:
    m = held(2)
    exit_ = order(-1, "exit")
    m.submit_exit(exit_)
    m.on_status(status(exit_, "CANCELLED"))
    assert m.state == OPEN
    m.on_status(status(exit_, "CANCELLED", filled=1))  # it filled before the cancel, says the venue: the fill will come
    assert m.state == EXITING and m.qty == 2
    m.on_fill(fill(exit_, -1))
    assert m.state == OPEN and m.qty == 1


def test_a_closed_position_whose_exit_is_then_reported_filled_further_waits_in_exiting() -> None:
    m = held(2)
    exit_ = order(-2, "exit")
    m.submit_exit(exit_)
    m.on_fill(fill(exit_, -1))
    m.on_status(status(exit_, "CANCELLED", filled=1))
    assert m.state == OPEN and m.qty == 1
    other = order(-1, "exit")
    m.submit_exit(other)
    m.on_fill(fill(other, -1))
    assert m.state == FLAT
    m.on_status(status(exit_, "CANCELLED", filled=2))  # a later report counts one more fill of the first exit
    assert m.state == EXITING


def test_an_entry_cancelled_then_reported_filled_waits_in_entering_for_its_fill() -> None:
    m = machine()
    entry = order(1)
    m.submit_entry(entry)
    m.on_status(status(entry, "CANCELLED"))
    assert m.state == FLAT
    m.on_status(status(entry, "CANCELLED", filled=1))
    assert m.state == ENTERING and m.qty == 0
    m.on_fill(fill(entry, 1))
    assert m.state == OPEN and m.qty == 1


def test_an_entry_part_filled_and_cancelled_then_reported_filled_further_waits_in_entering() -> None:
    m = machine()
    entry = order(2)
    m.submit_entry(entry)
    m.on_fill(fill(entry, 1))
    m.on_status(status(entry, "CANCELLED", filled=1))
    assert m.state == OPEN
    m.on_status(status(entry, "CANCELLED", filled=2))
    assert m.state == ENTERING and m.qty == 1
