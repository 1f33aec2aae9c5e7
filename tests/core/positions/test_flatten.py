"""Flatten that converges: cancel, close, re-check, retry with backoff; trip when it cannot."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot import (
    FLAT,
    TRIPPED,
    AdapterUnavailable,
    Backoff,
    ConfigError,
    Flattener,
    KillSwitch,
    PositionBook,
    SimBroker,
    flatten_positions,
)
from tests.positions_helpers import T0, bar, order

NO_WAIT = Backoff(first=dt.timedelta(0), factor=1, cap=dt.timedelta(0))


class Venue:
    """A runner loop in miniature: one bar, drain into the book, one flatten step."""

    def __init__(self, sim: SimBroker, book: PositionBook, flattener: Flattener) -> None:
        self.sim, self.book, self.flattener, self.i = sim, book, flattener, 0
        self.reported_flat: list[bool] = []

    def bar(self) -> None:
        self.i += 1
        self.sim.on_bar(bar(self.i))
        if self.sim.connected:
            self.book.apply(self.sim.drain())

    def step(self) -> bool:
        result = self.flattener.step(T0 + dt.timedelta(minutes=self.i, seconds=1))
        self.reported_flat.append(result.flat)
        return result.flat


def held(sim: SimBroker, book: PositionBook, qty: int = 2, strategy: str = "s1") -> None:
    """Open ``qty`` MES for ``strategy`` through the venue and the book."""
    m = book.machine(strategy, "MES")
    o = order(qty, strategy=strategy)
    m.submit_entry(o)
    sim.submit(o)
    sim.on_bar(bar(0))
    book.apply(sim.drain())


def setup(**faults: object) -> tuple[SimBroker, PositionBook, KillSwitch, Venue]:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1))
    book = PositionBook()
    held(sim, book)
    ks = KillSwitch(backoff=NO_WAIT)
    venue = Venue(sim, book, Flattener(sim, book=book, killswitch=ks))
    return sim, book, ks, venue


def test_flatten_reaches_zero_within_one_bar_on_a_working_venue() -> None:
    sim, book, ks, venue = setup()
    assert not venue.step()
    venue.bar()
    assert venue.step()
    assert sim.book == {} and book.machine("s1", "MES").state == FLAT
    assert ks.allows_entries


def test_flatten_cancels_working_entry_orders_first() -> None:
    sim, book, _, venue = setup()
    m = book.machine("s2", "MES")
    entry = order(1, strategy="s2")
    m.submit_entry(entry)
    sim.submit(entry)
    venue.step()
    assert entry.client_order_id not in {o.client_order_id for o in sim.open_orders()}
    venue.bar()
    assert venue.step()
    assert m.state == FLAT and m.qty == 0


def test_a_position_no_machine_knows_is_flattened_too() -> None:
    sim = SimBroker(start=T0)
    sim.submit(order(-3, strategy="outsider"))
    sim.on_bar(bar(1))
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__)
    assert [(o.qty, o.purpose, o.strategy) for o in attempt.submitted] == [(3, "flatten", "")]
    sim.on_bar(bar(2))
    assert sim.positions() == {}


def test_closing_orders_sum_to_minus_the_venue_position_when_machines_disagree() -> None:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1))
    book = PositionBook()
    held(sim, book, qty=2)
    sim.submit(order(1, strategy="outsider"))
    sim.on_bar(bar(1))
    ids = (f"f{i}" for i in range(10))
    attempt = flatten_positions(sim, new_id=ids.__next__, book=book, at=T0)
    assert [(o.qty, o.strategy) for o in attempt.submitted] == [(-3, "")]
    assert book.machine("s1", "MES").qty == 2  # left for reconciliation to report


def test_closing_orders_are_split_per_machine_when_the_machines_match_the_venue() -> None:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1))
    book = PositionBook()
    held(sim, book, qty=2, strategy="a")
    b = book.machine("b", "MES")
    o = order(-1, strategy="b")
    b.submit_entry(o)
    sim.submit(o)
    sim.on_bar(bar(1))
    book.apply(sim.drain())
    ids = (f"f{i}" for i in range(10))
    attempt = flatten_positions(sim, new_id=ids.__next__, book=book, at=T0)
    assert sorted((o.strategy, o.qty) for o in attempt.submitted) == [("a", -2), ("b", 1)]


def test_flatten_positions_raises_when_the_venue_is_unreachable() -> None:
    sim, _, _, _ = setup()
    sim.disconnect()
    with pytest.raises(AdapterUnavailable):
        flatten_positions(sim, new_id=iter(["x"]).__next__)


@pytest.mark.invariant("a flatten that fails trips the kill switch and keeps trying until the venue is flat", machine="killswitch")
def test_rejects_and_disconnect_for_the_first_attempts_still_end_flat_with_the_switch_tripped() -> None:
    sim, book, ks, venue = setup()
    sim.reject_next(2)
    sim.disconnect()
    for _ in range(3):
        venue.bar()
        assert not venue.step()
    assert ks.state == TRIPPED and not ks.allows_entries
    assert ks.trips[0].reason == "disconnect"
    sim.reconnect()
    for _ in range(8):
        venue.bar()
        if venue.step():
            break
    assert venue.reported_flat[-1] and sim.book == {}
    assert book.machine("s1", "MES").state == FLAT
    assert ks.state == TRIPPED  # only a person re-arms it


@pytest.mark.invariant("a venue that never recovers is never reported flat", machine="killswitch")
@pytest.mark.parametrize("fault", ["disconnect", "reject"])
def test_a_venue_that_never_recovers_is_never_reported_flat(fault: str) -> None:
    sim, book, ks, venue = setup()
    if fault == "disconnect":
        sim.disconnect()
    else:
        sim.reject_next(10**6)
    for _ in range(40):
        venue.bar()
        venue.step()
    assert not any(venue.reported_flat)
    assert sim.book == {"MES": 2} and book.machine("s1", "MES").qty == 2
    assert ks.state == TRIPPED


def test_after_a_failure_the_next_attempt_waits_for_the_backoff() -> None:
    sim = SimBroker(start=T0)
    sim.disconnect()
    flattener = Flattener(sim, backoff=Backoff(first=dt.timedelta(seconds=30)))
    first = flattener.step(T0)
    assert first.attempted and first.error and first.next_attempt == T0 + dt.timedelta(seconds=30)
    assert not flattener.step(T0 + dt.timedelta(seconds=10)).attempted
    assert flattener.step(T0 + dt.timedelta(seconds=30)).attempted


def test_an_unfilled_closing_order_is_cancelled_and_sent_again_after_the_resend_window() -> None:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1), latency_bars=10)
    book = PositionBook()
    m = book.machine("s1", "MES")
    o = order(1)
    m.submit_entry(o)
    sim.submit(o)
    for i in range(11):
        sim.on_bar(bar(i))
    book.apply(sim.drain())
    flattener = Flattener(sim, book=book, resend_after_steps=2, backoff=NO_WAIT)
    sent = [flattener.step(T0 + dt.timedelta(seconds=s)).attempt for s in range(1, 5)]
    ids = [o.client_order_id for a in sent if a for o in a.submitted]
    assert len(ids) == 2 and ids[0] != ids[1]


@given(down_bars=st.integers(0, 6), rejects=st.integers(0, 4))
def test_flatten_converges_within_a_bound_once_the_venue_recovers(down_bars: int, rejects: int) -> None:
    """For any outage of K bars and R rejected closing orders, the venue is flat within K + R + 3 bars,
    and the flattener reports flat only when the venue's book is empty."""
    sim, book, ks, venue = setup()
    sim.reject_next(rejects)
    if down_bars:
        sim.disconnect()
    for i in range(down_bars + rejects + 3):
        if i == down_bars:
            sim.reconnect()
        venue.bar()
        if venue.step():
            assert sim.book == {}
            break
    assert venue.reported_flat[-1] and sim.book == {}
    assert book.machine("s1", "MES").state == FLAT
    assert (ks.state == TRIPPED) == (down_bars > 0 or rejects > 0)


def test_retries_record_each_trip_reason_once_per_episode() -> None:
    sim, _, ks, venue = setup()
    sim.disconnect()
    for _ in range(10):
        venue.bar()
        venue.step()
    assert [t.reason for t in ks.trips] == ["disconnect"]


def test_an_exit_the_venue_ended_but_not_yet_reported_does_not_block_the_flatten() -> None:
    sim, book, _, venue = setup()
    m = book.machine("s1", "MES")
    stale_exit = order(-2, "exit")
    m.submit_exit(stale_exit)  # recorded, but the venue never got it
    assert venue.step() is False
    venue.bar()
    assert venue.step() and m.state == FLAT and sim.book == {}


def test_a_closing_order_left_working_after_the_symbol_went_flat_is_cancelled() -> None:
    sim = SimBroker(start=T0, latency_bars=5)
    sim.submit(order(-1, "flatten", oid="old-close", strategy=""))
    attempt = flatten_positions(sim, new_id=iter(["f1"]).__next__)
    assert attempt.cancelled == ("old-close",) and sim.open_orders() == ()
    assert flatten_positions(sim, new_id=iter(["f2"]).__next__).flat


def test_flatten_with_a_book_needs_the_time() -> None:
    with pytest.raises(ConfigError, match="at="):
        flatten_positions(SimBroker(start=T0), new_id=iter(["f"]).__next__, book=PositionBook())


def test_a_rejected_closing_order_is_reported_as_rejected_or_cancelled_not_as_unfilled() -> None:
    sim, _, ks, venue = setup()
    sim.reject_next(1)
    assert not venue.step()  # the closing order goes out, and the venue rejects it
    venue.bar()
    result = venue.flattener.step(T0 + dt.timedelta(minutes=venue.i, seconds=1))
    assert "MES still held after a closing order ended (rejected, cancelled or partly filled)" in result.error
    assert ks.trips[-1].detail == result.error
