"""What each ``Flattener.step`` reports: backing off, failing, sending, and which closing orders it tracks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from statebot import AdapterUnavailable, Backoff, Flattener, FlattenStep, KillSwitch, OrderRequest, SimBroker
from statebot.core.positions.flatten import FlattenAttempt
from statebot.errors import StatebotError
from tests.positions_helpers import T0, bar, entered, order

NO_WAIT = Backoff(first=dt.timedelta(0), factor=1, cap=dt.timedelta(0))
WAIT = Backoff(first=dt.timedelta(seconds=30), factor=1, cap=dt.timedelta(seconds=30))


def secs(s: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=s)


def holding(*symbols: str, latency_bars: int = 0) -> SimBroker:
    sim = SimBroker(start=T0 - dt.timedelta(minutes=1))
    for symbol in symbols:
        sim.submit(order(1, strategy="outsider", symbol=symbol))
        sim.on_bar(bar(0, symbol=symbol))
    sim.latency_bars = latency_bars  # the closing orders then wait that many bars
    return sim


def test_a_new_flattener_is_not_flat_and_names_its_orders_from_one() -> None:
    sim = holding("MES")
    flattener = Flattener(sim, backoff=NO_WAIT)
    assert flattener.flat is False and flattener.failures == 0 and not flattener.in_flight
    step = flattener.step(secs(1))
    assert step == FlattenStep(at=secs(1), attempted=True, flat=False, attempt=step.attempt)
    assert step.attempt is not None and [o.client_order_id for o in step.attempt.submitted] == ["flatten-1"]
    assert flattener.in_flight and flattener.flat is False


def test_a_failed_step_reports_when_why_and_the_next_attempt_and_a_step_before_it_waits() -> None:
    sim = holding("MES")
    sim.disconnect()
    ks = KillSwitch(backoff=WAIT)
    flattener = Flattener(sim, killswitch=ks)
    failed = flattener.step(secs(0))
    assert failed == FlattenStep(at=secs(0), attempted=True, flat=False, error=failed.error, unreachable=True,
                                 tripped=True, next_attempt=secs(30))
    assert failed.error.startswith("adapter unavailable: ") and flattener.flat is False
    assert flattener.step(secs(10)) == FlattenStep(at=secs(10), attempted=False, flat=False, next_attempt=secs(30))
    again = flattener.step(secs(30))
    assert again.attempted and not again.tripped and flattener.failures == 2


def test_a_failure_after_a_flat_attempt_makes_the_flattener_not_flat() -> None:
    sim = SimBroker(start=T0)
    flattener = Flattener(sim, backoff=NO_WAIT)
    assert flattener.step(secs(1)).flat and flattener.flat is True
    sim.disconnect()
    step = flattener.step(secs(2))
    assert step.flat is False and flattener.flat is False and step.tripped is False


def test_closing_orders_that_do_not_flatten_are_not_reported_as_unreachable() -> None:
    sim = holding("MES")
    sim.reject_next(1)
    flattener = Flattener(sim, killswitch=KillSwitch(backoff=NO_WAIT))
    flattener.step(secs(1))
    sim.on_bar(bar(1))
    step = flattener.step(secs(2))
    assert step.error and step.unreachable is False and step.tripped is True


def test_without_a_backoff_the_kill_switchs_schedule_is_used_and_without_either_the_default() -> None:
    sim = SimBroker(start=T0)
    sim.disconnect()
    assert Flattener(sim, killswitch=KillSwitch(backoff=WAIT)).step(secs(0)).next_attempt == secs(30)
    assert Flattener(sim).step(secs(0)).next_attempt == secs(0) + Backoff().delay(1)


def test_a_person_rearming_the_switch_gets_the_next_failure_of_the_same_reason_tripped_again() -> None:
    sim = holding("MES")
    sim.disconnect()
    ks = KillSwitch(backoff=NO_WAIT)
    flattener = Flattener(sim, killswitch=ks)
    assert flattener.step(secs(1)).tripped
    ks.reset("checked the gateway", secs(2))
    assert flattener.step(secs(3)).tripped and not ks.allows_entries


def test_only_the_flatteners_symbols_are_closed() -> None:
    sim = holding("MES", "MNQ")
    step = Flattener(sim, symbols=["MNQ"], backoff=NO_WAIT).step(secs(1))
    assert step.attempt is not None and [o.symbol for o in step.attempt.submitted] == ["MNQ"]


def test_by_default_an_unfilled_closing_order_is_cancelled_on_the_third_step_after_it_was_sent() -> None:
    sim = holding("MES", latency_bars=100)
    flattener = Flattener(sim, backoff=NO_WAIT)
    errors = [flattener.step(secs(s)).error for s in range(1, 5)]
    assert errors[:3] == ["", "", ""]
    assert errors[3] == "MES: a closing order did not fill within 3 steps and was cancelled"


def test_a_closing_order_someone_else_sent_is_left_working_however_long_it_takes() -> None:
    sim = holding("MES", latency_bars=100)
    sim.submit(order(-1, "flatten", oid="desk-1", strategy=""))
    flattener = Flattener(sim, backoff=NO_WAIT)
    steps = [flattener.step(secs(s)) for s in range(1, 8)]
    assert all(s.error == "" and s.attempt is not None and s.attempt.waiting == ("MES",) for s in steps)
    assert [o.client_order_id for o in sim.open_orders()] == ["desk-1"]


def test_every_symbol_still_held_after_its_closing_order_ended_is_named() -> None:
    sim = holding("MES", "MNQ")
    sim.reject_next(2)
    flattener = Flattener(sim, backoff=NO_WAIT)
    flattener.step(secs(1))
    sim.on_bar(bar(1))
    step = flattener.step(secs(2))
    assert step.error == ("MES, MNQ still held after a closing order ended (rejected, cancelled or partly "
                          "filled): closing again")


def test_a_naive_time_is_refused_naming_it() -> None:
    with pytest.raises((StatebotError, ValueError), match="^now "):
        Flattener(SimBroker(start=T0)).step(dt.datetime(2026, 11, 24, 15, 0))


def test_a_flat_step_says_so_and_clears_the_failures() -> None:
    sim = SimBroker(start=T0)
    sim.disconnect()
    flattener = Flattener(sim, backoff=NO_WAIT)
    flattener.step(secs(1))
    sim.reconnect()
    step = flattener.step(secs(2))
    assert step == FlattenStep(at=secs(2), attempted=True, flat=True, attempt=FlattenAttempt(flat=True, holding={}))
    assert flattener.flat is True and flattener.failures == 0


def test_the_flatteners_journal_gets_its_closing_orders_and_the_cancel_of_an_unfilled_one() -> None:
    sim = holding("MES", latency_bars=100)
    events: list[tuple[str, dict[str, object]]] = []
    flattener = Flattener(sim, backoff=NO_WAIT, record=lambda t, p: events.append((str(t), dict(p))))
    for s in range(1, 5):
        flattener.step(secs(s))
    assert [t for t, _ in events] == ["ORDER_SUBMITTED", "ORDER_CANCEL_REQUESTED"]
    assert events[1][1] == {"order_id": "flatten-1"}


def test_an_unfilled_closing_order_of_a_machine_is_marked_at_the_machine_when_it_is_cancelled() -> None:
    sim, book, m = entered(1)
    sim.latency_bars = 100
    flattener = Flattener(sim, book=book, backoff=NO_WAIT)
    for s in range(1, 5):
        flattener.step(secs(s))
    assert m.cancel_requested("flatten-1")


class CutShort:
    """A venue that takes the first closing order and then drops the line before answering."""

    def __init__(self, sim: SimBroker) -> None:
        self.sim, self.cut = sim, True

    def submit(self, o: OrderRequest) -> None:
        self.sim.submit(o)
        if self.cut:
            self.cut = False
            raise AdapterUnavailable("line dropped")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sim, name)


def test_a_closing_order_sent_by_an_attempt_cut_short_is_tracked_sent_once_and_cancelled_when_it_does_not_fill() -> None:
    sim = holding("MES", "MNQ", latency_bars=100)
    flattener = Flattener(CutShort(sim), backoff=NO_WAIT)
    assert flattener.step(secs(1)).unreachable
    assert flattener.in_flight is False
    steps = [flattener.step(secs(2))]
    assert flattener.in_flight
    steps += [flattener.step(secs(s)) for s in range(3, 6)]
    sent = [o.client_order_id for s in steps if s.attempt for o in s.attempt.submitted]
    assert sent == ["flatten-2"]  # MNQ, the one the cut attempt never reached
    assert [s.error for s in steps[:3]] == ["", "", ""]
    assert steps[3].error == "MES, MNQ: a closing order did not fill within 3 steps and was cancelled"


def test_a_machine_refusing_during_a_step_is_reported_with_the_kind_of_refusal() -> None:
    sim, book, m = entered(1)
    m.submit_exit(order(-1, "exit"))  # recorded, never sent

    def refuse(order_id: str) -> None:
        raise ValueError("refused")

    m.venue_not_working = refuse  # type: ignore[method-assign]
    step = Flattener(sim, book=book, backoff=NO_WAIT).step(secs(60))
    assert step.error == "ValueError: refused"


def test_a_step_with_a_symbol_to_close_again_and_another_whose_order_expired_names_both_problems() -> None:
    sim = holding("MES", "MNQ", latency_bars=100)
    flattener = Flattener(sim, backoff=NO_WAIT)
    flattener.step(secs(1))  # flatten-1 closes MES, flatten-2 MNQ
    sim.cancel("flatten-1")  # someone cancels the MES closing order at the venue
    assert flattener.step(secs(2)).error.startswith("MES still held")  # flatten-3 closes MES again
    flattener.step(secs(3))
    sim.cancel("flatten-3")
    step = flattener.step(secs(4))
    assert step.error == ("MES still held after a closing order ended (rejected, cancelled or partly filled): "
                          "closing again; MNQ: a closing order did not fill within 3 steps and was cancelled")


def test_a_closing_order_that_ended_does_not_stop_the_expiry_of_the_ones_after_it() -> None:
    sim = holding("MES", "MNQ", latency_bars=100)
    flattener = Flattener(sim, backoff=NO_WAIT, resend_after_steps=1)
    flattener.step(secs(1))  # flatten-1 closes MES, flatten-2 MNQ
    sim.cancel("flatten-1")
    step = flattener.step(secs(2))
    assert "MNQ: a closing order did not fill within 1 steps and was cancelled" in step.error
    assert "flatten-2" not in {o.client_order_id for o in sim.open_orders()}
