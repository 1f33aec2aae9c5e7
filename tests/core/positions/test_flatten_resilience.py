"""The flattener keeps trying: a cancelled exit that fills late never wedges a machine or stops a step."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import attrs
import pytest

from statebot import (
    FLAT,
    Backoff,
    FaultPlan,
    Flattener,
    KillSwitch,
    OrderRequest,
    PositionBook,
    PositionMismatch,
    SimBroker,
    reconcile,
    send_entry,
    send_exit,
)
from tests.positions_helpers import T0, bar, fill, order
from tests.runner_helpers import (
    Scripted,
    bar_at,
    broker,
    config,
    drive,
    et,
    long,
    make_runner,
    short,
)

NO_WAIT = Backoff(first=dt.timedelta(0), factor=1, cap=dt.timedelta(0))


class AsyncCancelVenue:
    """A venue whose cancels land after the next bar's fills (a cancel is only a request)."""

    def __init__(self, sim: SimBroker) -> None:
        self.sim, self.pending = sim, []  # type: ignore[var-annotated]

    def cancel(self, oid: str) -> None:
        self.pending.append(oid)

    def on_bar(self, b):  # type: ignore[no-untyped-def]
        fills = self.sim.on_bar(b)
        for oid in self.pending:
            self.sim.cancel(oid)
        self.pending = []
        return fills

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.sim, name)


@pytest.mark.invariant("an exit that fills after its cancel was asked never wedges the machine or the flattener",
                       machine="position")
def test_a_take_profit_filling_before_its_cancel_lands_ends_flat_with_the_flattener() -> None:
    sim = SimBroker(start=T0, latency_bars=1)
    venue = AsyncCancelVenue(sim)
    book, ks = PositionBook(), KillSwitch()
    m = book.machine("s1", "MES")
    send_entry(book, venue, order(1), at=T0, killswitch=ks, session_allows=True)  # type: ignore[arg-type]
    for i in (1, 2):
        venue.on_bar(bar(i))
    book.apply(venue.drain())
    tp = OrderRequest(client_order_id="tp", strategy="s1", symbol="MES", qty=-1, purpose="exit", kind="LIMIT",
                      limit_ticks=20008)
    send_exit(book, venue, tp, at=T0)  # type: ignore[arg-type]
    venue.on_bar(bar(3, o=5000, h=5000.25, low=4999.75, c=5000))
    book.apply(venue.drain())
    venue.cancel("tp")
    m.request_cancel("tp")
    with pytest.raises(ValueError, match="already working"):
        send_exit(book, venue, order(-1, "flatten"), at=T0)  # type: ignore[arg-type]
    fl = Flattener(venue, book=book, killswitch=ks, backoff=NO_WAIT)  # type: ignore[arg-type]
    for i in range(4, 10):
        fl.step(T0 + dt.timedelta(minutes=i - 1, seconds=1))
        venue.on_bar(bar(i, o=5002, h=5003))
        applied = book.apply(venue.drain())
        assert applied.anomalies == ()
    assert sim.book == {} and (m.state, m.qty, m.may_enter()) == (FLAT, 0, True)
    assert fl.step(T0 + dt.timedelta(minutes=20)).flat


def test_a_flattener_step_reports_a_machine_refusal_instead_of_raising() -> None:
    sim = SimBroker(start=T0)
    book = PositionBook()
    ks = KillSwitch()
    m = book.machine("s1", "MES")
    send_entry(book, sim, order(1), at=T0, killswitch=ks, session_allows=True)
    sim.on_bar(bar(1))
    book.apply(sim.drain())

    def refuse(order_id: str) -> None:
        raise ValueError("refused")

    m.venue_not_working = refuse  # type: ignore[method-assign]
    m.submit_exit(order(-1, "exit"))
    sim.cancel_all()
    step = Flattener(sim, book=book, killswitch=ks, backoff=NO_WAIT).step(T0 + dt.timedelta(minutes=2))
    assert step.attempted and not step.flat and "refused" in step.error and not ks.allows_entries


def test_a_flattener_backing_off_through_a_long_disconnect_never_overflows() -> None:
    sim = SimBroker(start=T0)
    sim.disconnect()
    fl = Flattener(sim, backoff=Backoff(factor=3, cap=dt.timedelta(seconds=30)))
    t = T0
    for _ in range(60):
        step = fl.step(t)
        assert step.next_attempt is not None and step.next_attempt - t <= dt.timedelta(seconds=30)
        t = step.next_attempt + dt.timedelta(seconds=1)
    assert fl.failures == 60


def test_after_an_unowned_flatten_the_book_mismatch_blocks_the_reset_until_its_report_closes_the_trip() -> None:
    sim = SimBroker(start=T0, faults=FaultPlan(delay_p=1.0, delay_bars=3))  # fill reports arrive 3 bars late
    book, ks = PositionBook(), KillSwitch()
    m = book.machine("s1", "MES")
    send_entry(book, sim, order(2), at=T0, killswitch=ks, session_allows=True)
    sim.on_bar(bar(1))
    book.apply(sim.drain())
    ks.trip("manual", T0)
    fl = Flattener(sim, book=book, killswitch=ks, backoff=NO_WAIT)
    closed = []
    blocked = False
    for i in range(2, 12):
        fl.step(T0 + dt.timedelta(minutes=i - 1, seconds=1))
        sim.on_bar(bar(i))
        closed.extend(book.apply(sim.drain()).closed)
        if sim.book == {} and m.qty == 2:
            # the unowned flatten closed the venue; its report is still on its way
            mismatches = reconcile(book.expected_positions(), sim.positions())
            with pytest.raises(PositionMismatch):
                ks.reset("looked at it", T0 + dt.timedelta(minutes=i), mismatches=mismatches)
            blocked = True
    assert blocked and not ks.allows_entries
    # the flattener's execution, once reported, closed the machine's round trip
    assert m.qty == 0 and [(t.strategy, t.qty) for t in closed] == [("s1", 2)]
    assert not reconcile(book.expected_positions(), sim.positions())


def test_the_runner_refuses_to_rearm_while_the_broker_holds_what_the_book_does_not() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sim = broker()
        strat = Scripted()
        runner = make_runner(Path(tmp), strat, sim, cfg=config("[kill_switch]\ndaily_loss_limit_usd = 1\n"))
        t0 = et("2026-11-24", "10:00")
        strat.plan[t0] = long(stop_ticks=4)
        strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=4)
        strat.plan[t0 + dt.timedelta(minutes=3)] = None
        drive(runner, sim, [bar_at(t0 + dt.timedelta(minutes=i), p)
                            for i, p in enumerate((6000.0, 6000.0, 5999.5, 5999.5))])
        assert runner.killswitch_state == "TRIPPED"
        sim.submit(order(1, strategy="outsider"))
        sim.on_bar(bar_at(t0 + dt.timedelta(minutes=4), 5999.5))
        assert sim.book  # the broker now holds contracts the book does not know
        with pytest.raises(PositionMismatch):
            runner.reset_kill_switch("looked at it", t0 + dt.timedelta(minutes=5))
        assert runner.killswitch_state == "TRIPPED"
        runner.close()


def test_a_trade_a_person_made_at_the_venue_never_closes_a_machines_position() -> None:
    """Only the flattener's own executions close positions whose report came late; an execution
    of an order the bot never sent (e.g. placed in TWS) is left to reconciliation."""
    book = PositionBook()
    m = book.machine("s1", "MES")
    entry = order(2)
    send_entry(book, SimBroker(start=T0), entry, at=T0, killswitch=KillSwitch(), session_allows=True)
    book.apply((fill(entry, 2, minute=1),))
    manual = attrs.evolve(fill(entry, -2, ticks=19990, minute=2), order_id="ib:991", strategy="")
    applied = book.apply((manual,))
    assert applied.unrouted == (manual,) and applied.closed == () and m.qty == 2 and book.unowned_fills() == ()
    flattener = attrs.evolve(manual, exec_id="e-flatten", order_id="r1-flatten-1")
    assert [t.qty for t in book.apply((flattener,)).closed] == [2] and m.qty == 0
