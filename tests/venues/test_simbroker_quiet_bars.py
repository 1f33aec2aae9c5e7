"""SimBroker's quiet bars: a bar inside every working order's trigger is not worked, and that changes nothing.

``SimBroker`` skips the fill rules on a bar whose low and high stay a tick inside every
working stop and limit of its symbol (``_Band``). The same orders and bars through a
broker that works every bar must give the same executions, reports and random draws.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from statebot import FaultPlan, OrderRequest, RangeSlippage, SimBroker
from statebot.core.instruments import InstrumentSpec
from statebot.core.orders import BracketOrder
from statebot.core.time.clock import Bar
from statebot.venues import sim as sim_module
from tests.positions_helpers import T0

TENTH = InstrumentSpec(symbol="TEN", tick_size=Decimal("0.1"), tick_value=Decimal("1"), multiplier=Decimal("10"))


class EveryBar(SimBroker):
    """The rules as written: every bar with a working order is worked."""

    def _trigger_bands(self) -> dict[str, sim_module._Band]:
        return {symbol: sim_module._EVERY_BAR for symbol in {w.order.symbol for w in self._working.values()}}


def _bar(i: int, symbol: str, mid: float, spread: int, per_tick: float) -> Bar:
    """A bar around ``mid``, ``spread`` ticks each way; its low and high off the grid by 0.3 tick on two
    bars of three (as data with float noise are), inwards or outwards, so that ``to_ticks`` rounds them."""
    noise = per_tick * 0.3 * ((i % 3) - 1) if spread else 0.0
    return Bar(symbol=symbol, end=T0 + dt.timedelta(minutes=i), open=mid, high=mid + spread * per_tick + noise,
               low=mid - spread * per_tick - noise, close=mid)


ORDER = st.tuples(
    st.sampled_from(["MARKET", "LIMIT", "STOP"]),
    st.sampled_from([1, -1, 2, -2]),
    st.integers(min_value=-6, max_value=6),  # ticks from the price at submission
    st.booleans(),  # a bracket (the order an entry, a stop and a target around it)
)


@settings(max_examples=100, deadline=None)
@given(
    symbol=st.sampled_from(["MES", "TEN"]),
    moves=st.lists(st.integers(min_value=-3, max_value=3), min_size=30, max_size=30),  # ticks
    spreads=st.lists(st.integers(min_value=0, max_value=3), min_size=30, max_size=30),  # ticks
    orders=st.lists(st.tuples(st.integers(min_value=1, max_value=20), ORDER), min_size=1, max_size=8),
    partial=st.sampled_from([0.0, 0.5]),
)
def test_a_quiet_bar_skipped_works_as_a_bar_worked(symbol: str, moves: list[int], spreads: list[int],
                                                   orders: list[tuple[int, tuple[str, int, int, bool]]],
                                                   partial: float) -> None:
    per_tick = 0.25 if symbol == "MES" else 0.1
    spec = {"TEN": TENTH}
    brokers = [cls(start=T0, instruments=spec, seed=3, faults=FaultPlan(partial_p=partial),
                   slippage=RangeSlippage(min_ticks=1, jitter_ticks=2)) for cls in (SimBroker, EveryBar)]
    seen: list[list[object]] = [[], []]
    mid = 5000.0
    n = 0
    for i, (move, spread) in enumerate(zip(moves, spreads, strict=False), start=1):
        mid = round(mid / per_tick + move) * per_tick
        for when, (kind, qty, offset, bracket) in orders:
            if when != i:
                continue
            n += 1
            price = round(mid / per_tick) + offset
            entry = OrderRequest(client_order_id=f"o{n}", strategy="s", symbol=symbol, qty=qty, kind=kind,
                                 limit_ticks=price if kind == "LIMIT" else None,
                                 stop_ticks=price if kind == "STOP" else None)
            for b in brokers:
                if bracket:
                    side = 1 if qty > 0 else -1
                    b.submit_bracket(BracketOrder.around(entry, stop_ticks=price - side * 6,
                                                         target_ticks=price + side * 6))
                else:
                    b.submit(entry)
        current = _bar(i, symbol, mid, spread, per_tick)
        for b, out in zip(brokers, seen, strict=True):
            out.append(b.on_bar(current))
            out.append(b.drain())
            out.append(b.open_orders())
            out.append(b.positions())
    assert seen[0] == seen[1]
    assert brokers[0]._rng.random() == brokers[1]._rng.random()


def test_a_bar_inside_a_working_stop_is_not_worked_and_one_through_it_fills() -> None:
    sim = SimBroker(start=T0)
    sim.submit(OrderRequest(client_order_id="s", strategy="s", symbol="MES", qty=-1, kind="STOP", stop_ticks=19990))
    worked: list[str] = []
    real = sim._fill_price
    sim._fill_price = lambda order, o, h, lo: worked.append(order.client_order_id) or real(order, o, h, lo)  # type: ignore[method-assign]
    quiet = Bar(symbol="MES", end=T0 + dt.timedelta(minutes=1), open=5000.0, high=5001.0, low=4998.0, close=5000.0)
    assert sim.on_bar(quiet) == () and worked == []
    band = sim._bands["MES"]
    assert band.low_price == 4997.75 and math.isinf(band.high_price)
    through = Bar(symbol="MES", end=T0 + dt.timedelta(minutes=2), open=5000.0, high=5001.0, low=4997.5, close=5000.0)
    (fill,) = sim.on_bar(through)
    assert fill.price_ticks == 19990 and worked == ["s"]


def test_a_low_within_half_a_tick_of_a_stop_is_worked_and_fills_as_to_ticks_rounds_it() -> None:
    sim = SimBroker(start=T0)
    sim.submit(OrderRequest(client_order_id="s", strategy="s", symbol="MES", qty=-1, kind="STOP", stop_ticks=19990))
    above = Bar(symbol="MES", end=T0 + dt.timedelta(minutes=1), open=5000.0, high=5001.0, low=4997.5 + 0.25 * 0.7,
                close=5000.0)
    assert sim.on_bar(above) == ()  # rounds to 19991: above the stop
    near = Bar(symbol="MES", end=T0 + dt.timedelta(minutes=2), open=5000.0, high=5001.0, low=4997.5 + 0.25 * 0.3,
               close=5000.0)
    (fill,) = sim.on_bar(near)  # rounds to 19990: the stop is reached
    assert fill.price_ticks == 19990


def test_a_high_within_half_a_tick_of_a_buy_stop_fills_as_to_ticks_rounds_it() -> None:
    sim = SimBroker(start=T0)
    sim.submit(OrderRequest(client_order_id="b", strategy="s", symbol="MES", qty=1, kind="STOP", stop_ticks=20010))
    below = Bar(symbol="MES", end=T0 + dt.timedelta(minutes=1), open=5000.0, high=5002.5 - 0.25 * 0.7, low=4999.0,
                close=5000.0)
    assert sim.on_bar(below) == ()
    near = Bar(symbol="MES", end=T0 + dt.timedelta(minutes=2), open=5000.0, high=5002.5 - 0.25 * 0.3, low=4999.0,
               close=5000.0)
    (fill,) = sim.on_bar(near)
    assert fill.price_ticks == 20010
