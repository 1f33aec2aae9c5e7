"""Stateful property: a position's money under many fills, against a reference model of its own.

Hypothesis drives one MES position machine through entries filled in pieces at different
prices (scale-ins), entry cancels with late fills after them, exits split over several orders
and fills, cancels the venue confirms, duplicate execution reports and exit fills that run past
zero (raised as over-fills, the position reversed). The model below keeps every figure in
integer ticks and integer cents and shares no code with statebot's accounting: after every step
the machine's quantity and average entry equal the model's, and every round trip the machine
closes equals the model's to the cent (gross, commission, net, average entry and exit, fill
count, quantity, times).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from statebot import Fill, OrderRequest, OrderStatus, OverFill
from statebot.core.fsm.position import ClosedTrade
from statebot.core.orders import CANCELLED
from tests.positions_helpers import T0, machine

MES_TICK_CENTS = 125
"""One MES tick is worth $1.25: 125 cents (the CME contract specification)."""

PRICES = st.integers(min_value=19_900, max_value=20_100)
CENTS = st.integers(min_value=0, max_value=400)


def cents_of(amount: Decimal) -> Fraction:
    """A Decimal amount of dollars as an exact fraction of cents (a half cent stays visible)."""
    return Fraction(amount) * 100


def half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, ties to the even one."""
    q, r = divmod(numerator, denominator)
    if 2 * r > denominator or (2 * r == denominator and q % 2 == 1):
        q += 1
    return q


class ModelTrip:
    """One round trip as the model keeps it: integer ticks x contracts and integer cents."""

    def __init__(self, direction: int, opened_at: dt.datetime) -> None:
        self.direction = direction
        self.opened_at = opened_at
        self.open_qty = 0
        self.open_ticks = 0  # sum of contracts x price over the fills that opened
        self.close_qty = 0
        self.close_ticks = 0
        self.cents = 0
        self.fills = 0


class ModelOrder:
    def __init__(self, request: OrderRequest) -> None:
        self.request = request
        self.filled = 0
        self.ended = False  # the venue confirmed it cancelled

    def __repr__(self) -> str:
        return f"ModelOrder({self.request.client_order_id} {self.request.purpose} {self.request.qty}, filled {self.filled})"

    @property
    def entry(self) -> bool:
        return self.request.purpose == "entry"

    @property
    def remaining(self) -> int:
        return 0 if self.ended else max(abs(self.request.qty) - self.filled, 0)


class MultiFillMoney(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.m = machine()
        self.ids = itertools.count(1)
        self.minute = 0
        self.held = 0
        self.trip: ModelTrip | None = None
        self.orders: list[ModelOrder] = []
        self.applied: list[Fill] = []
        self.trades = 0

    # the reference model -------------------------------------------------------

    def _model_fill(self, qty: int, ticks: int, cents: int, at: dt.datetime) -> ModelTrip | None:
        """Apply one execution to the model; return the trip it closed, if any."""
        if self.held == 0:
            self.trip = ModelTrip(1 if qty > 0 else -1, at)
        trip = self.trip
        assert trip is not None
        if qty * trip.direction > 0:  # opens more (a partial entry or a scale-in)
            trip.open_qty += abs(qty)
            trip.open_ticks += abs(qty) * ticks
            trip.cents += cents
            trip.fills += 1
            self.held += qty
            return None
        closing = min(abs(qty), abs(self.held))
        rest = abs(qty) - closing
        closing_cents = half_even(cents * closing, abs(qty)) if rest else cents
        trip.close_qty += closing
        trip.close_ticks += closing * ticks
        trip.cents += closing_cents
        trip.fills += 1
        self.held -= trip.direction * closing
        if self.held != 0:
            return None
        self.trip = None
        if rest:  # the fill ran past zero: the rest opens a trip the other way with the rest of the cost
            reverse = ModelTrip(-trip.direction, at)
            reverse.open_qty, reverse.open_ticks = rest, rest * ticks
            reverse.cents, reverse.fills = cents - closing_cents, 1
            self.trip = reverse
            self.held = -trip.direction * rest
        return trip

    def _check_trade(self, trade: ClosedTrade | None, expected: ModelTrip | None, at: dt.datetime) -> None:
        if expected is None:
            assert trade is None
            return
        assert trade is not None
        self.trades += 1
        assert (trade.strategy, trade.symbol) == ("s1", "MES")
        assert trade.qty == expected.direction * expected.open_qty
        assert trade.fills == expected.fills
        assert (trade.entry_time, trade.exit_time) == (expected.opened_at, at)
        assert Fraction(trade.avg_entry_ticks) == pytest.approx(Fraction(expected.open_ticks, expected.open_qty), abs=1e-12)
        assert Fraction(trade.avg_exit_ticks) == pytest.approx(Fraction(expected.close_ticks, expected.close_qty), abs=1e-12)
        assert expected.close_qty == expected.open_qty
        gross_cents = expected.direction * (expected.close_ticks - expected.open_ticks) * MES_TICK_CENTS
        assert cents_of(trade.gross_pnl) == gross_cents
        assert cents_of(trade.commission) == expected.cents
        assert cents_of(trade.net_pnl) == gross_cents - expected.cents

    # driving the machine and the model together --------------------------------

    def _fill(self, order: ModelOrder, qty: int, ticks: int, cents: int) -> None:
        self.minute += 1
        at = T0 + dt.timedelta(minutes=self.minute)
        f = Fill(exec_id=f"x{next(self.ids)}", order_id=order.request.client_order_id, strategy="s1", symbol="MES",
                 qty=qty, price_ticks=ticks, commission=Decimal(cents).scaleb(-2), at=at)
        order.filled += abs(qty)
        self.applied.append(f)
        before = self.held
        expected = self._model_fill(qty, ticks, cents, at)
        # the venue did what no order asked: over its size, through zero, or a closing order opening
        anomalous = (order.filled > abs(order.request.qty) or before * self.held < 0
                     or (not order.entry and qty * before >= 0))
        if anomalous:
            with pytest.raises(OverFill) as raised:
                self.m.on_fill(f)
            trade = raised.value.closed
            assert trade is None or isinstance(trade, ClosedTrade)
        else:
            trade = self.m.on_fill(f)
        self._check_trade(trade, expected, at)

    def _new_order(self, qty: int, purpose: str) -> OrderRequest:
        return OrderRequest(client_order_id=f"o{next(self.ids)}", strategy="s1", symbol="MES", qty=qty, purpose=purpose)

    def _fillable(self, entry: bool) -> list[ModelOrder]:
        return [o for o in self.orders if o.entry == entry and o.remaining > 0]

    def _closable(self) -> int:
        """Contracts a new exit may still close: held minus what working exits may still fill."""
        return abs(self.held) - sum(o.remaining for o in self.orders if not o.entry)

    @precondition(lambda self: self.m.may_enter())
    @rule(long=st.booleans(), size=st.integers(min_value=1, max_value=6))
    def enter(self, long: bool, size: int) -> None:
        request = self._new_order(size if long else -size, "entry")
        self.m.submit_entry(request)
        self.orders.append(ModelOrder(request))

    @precondition(lambda self: self._fillable(entry=True))
    @rule(data=st.data(), ticks=PRICES, cents=CENTS)
    def fill_entry(self, data: st.DataObject, ticks: int, cents: int) -> None:
        order = data.draw(st.sampled_from(self._fillable(entry=True)))
        qty = data.draw(st.integers(min_value=1, max_value=order.remaining))
        self._fill(order, qty if order.request.qty > 0 else -qty, ticks, cents)

    @precondition(lambda self: self._closable() > 0)
    @rule(data=st.data())
    def exit(self, data: st.DataObject) -> None:
        size = data.draw(st.integers(min_value=1, max_value=self._closable()))
        request = self._new_order(-size if self.held > 0 else size, "exit")
        self.m.submit_exit(request)
        self.orders.append(ModelOrder(request))

    @precondition(lambda self: self.held != 0 and bool(self._fillable(entry=False)))
    @rule(data=st.data(), ticks=PRICES, cents=CENTS, past_zero=st.sampled_from((0, 0, 0, 1, 2)))
    def fill_exit(self, data: st.DataObject, ticks: int, cents: int, past_zero: int) -> None:
        """An exit fill of part or all of what the order has left; one that closes the whole
        position may run ``past_zero`` contracts further (the venue over-filled: raised, still counted)."""
        order = data.draw(st.sampled_from(self._fillable(entry=False)))
        qty = data.draw(st.integers(min_value=1, max_value=min(order.remaining, abs(self.held))))
        if qty == abs(self.held):
            qty += past_zero
        self._fill(order, qty if order.request.qty > 0 else -qty, ticks, cents)

    @precondition(lambda self: self.m.state == "ENTERING" and bool(self.m.working_entries()))
    @rule()
    def cancel_entry(self) -> None:
        """Ask to cancel the working entry: its late fills still count until the venue confirms."""
        self.m.cancel_entry()

    @precondition(lambda self: any(o.remaining for o in self.orders))
    @rule(data=st.data())
    def venue_confirms_cancel(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from([o for o in self.orders if o.remaining]))
        oid = order.request.client_order_id
        if oid in self.m.live_orders():
            self.m.request_cancel(oid)
        self.minute += 1
        self.m.on_status(OrderStatus(order_id=oid, status=CANCELLED, filled=order.filled,
                                     remaining=abs(order.request.qty) - order.filled,
                                     at=T0 + dt.timedelta(minutes=self.minute)))
        order.ended = True

    @precondition(lambda self: bool(self.applied))
    @rule(data=st.data())
    def duplicate_report(self, data: st.DataObject) -> None:
        """The venue repeats an execution already applied: nothing changes, no trade closes."""
        again = data.draw(st.sampled_from(self.applied))
        before = (self.m.qty, self.m.avg_entry_ticks, self.m.state)
        assert self.m.on_fill(again) is None
        assert (self.m.qty, self.m.avg_entry_ticks, self.m.state) == before

    @invariant()
    def quantity_and_average_entry_follow_the_model(self) -> None:
        assert self.m.qty == self.held
        if self.held == 0:
            assert self.m.avg_entry_ticks is None
            assert self.m.opened_at is None
        else:
            assert self.trip is not None
            expected = Fraction(self.trip.open_ticks, self.trip.open_qty)
            assert self.m.avg_entry_ticks is not None
            assert Fraction(self.m.avg_entry_ticks) == pytest.approx(expected, abs=1e-12)
            assert self.m.opened_at == self.trip.opened_at


MultiFillMoney.TestCase.settings = settings(stateful_step_count=50)
test_money_under_multi_fill = MultiFillMoney.TestCase


def test_half_even_rounds_ties_to_the_even_cent() -> None:
    """The model's own rounding, checked by hand: 5/2 -> 2, 7/2 -> 4, 7/3 -> 2, 8/3 -> 3."""
    assert [half_even(5, 2), half_even(7, 2), half_even(7, 3), half_even(8, 3)] == [2, 4, 2, 3]
