"""SimBroker brackets: GTC children that wait for their entry, conservative intrabar fills from OHLC,
one-cancels-other, and a bracket that never executes more than its entry filled."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statebot import FaultPlan, Fill, FixedSlippage, OrderRequest, OrderStatus, SimBroker
from statebot.core.costs import FixedCommission
from statebot.core.orders import CANCELLED, FILLED, REJECTED, BracketOrder
from statebot.core.ports import BracketVenue
from tests.positions_helpers import T0
from tests.positions_helpers import bar as _bar


def bar(i: int, *, o: float, h: float, low: float):  # type: ignore[no-untyped-def]
    """The bar ending ``i`` minutes after T0, closing at its open."""
    return _bar(i, o=o, h=h, low=low, c=o)

# MES: 0.25 a tick, so 5000.00 is 20000 ticks


def long_bracket(qty: int = 1, stop: int = 19990, target: int | None = 20020, oid: str = "e1",
                 kind: str = "MARKET", limit: int | None = None) -> BracketOrder:
    entry = OrderRequest(client_order_id=oid, strategy="s1", symbol="MES", qty=qty, kind=kind, limit_ticks=limit)
    return BracketOrder.around(entry, stop_ticks=stop, target_ticks=target)


def short_bracket(qty: int = -1, stop: int = 20010, target: int | None = 19980) -> BracketOrder:
    entry = OrderRequest(client_order_id="e1", strategy="s1", symbol="MES", qty=qty)
    return BracketOrder.around(entry, stop_ticks=stop, target_ticks=target)


def fills_of(sim: SimBroker) -> list[Fill]:
    return [e for e in sim.drain() if isinstance(e, Fill)]


def broker(**kw: object) -> SimBroker:
    return SimBroker(start=T0, **kw)  # type: ignore[arg-type]


def test_simbroker_holds_brackets() -> None:
    assert isinstance(broker(), BracketVenue)


def test_children_wait_for_their_entry() -> None:
    sim = broker()
    sim.submit_bracket(long_bracket(kind="LIMIT", limit=19900))
    executed = sim.on_bar(bar(1, o=5000.0, h=5000.5, low=4995.0))  # through the stop, but the entry never filled
    assert executed == () and {o.client_order_id for o in sim.open_orders()} == {"e1", "e1-stop", "e1-target"}


def test_a_stop_fills_at_its_price_when_the_bar_trades_through_it() -> None:
    sim = broker(slippage=FixedSlippage(1), commission=FixedCommission(Decimal("0.62")))
    sim.submit_bracket(long_bracket())
    sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))  # entry at the open; the stop at 4997.50 is not reached
    sim.drain()
    [stop] = sim.on_bar(bar(2, o=4999.0, h=4999.5, low=4997.0))
    assert stop.order_id == "e1-stop" and stop.qty == -1
    assert stop.price_ticks == 19990 - 1  # the stop, less a market order's slippage
    assert stop.commission == Decimal("0.62")
    assert sim.book == {}


def test_a_stop_gapped_through_fills_at_the_open() -> None:
    sim = broker()
    sim.submit_bracket(long_bracket())
    sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))
    [stop] = sim.on_bar(bar(2, o=4995.0, h=4996.0, low=4994.0))
    assert stop.price_ticks == 19980  # the open, worse than the stop at 19990


def test_a_short_bracket_stop_mirrors() -> None:
    sim = broker()
    sim.submit_bracket(short_bracket())
    sim.on_bar(bar(1, o=5000.0, h=5000.5, low=4999.5))
    [stop] = sim.on_bar(bar(2, o=5001.0, h=5003.0, low=5000.5))
    assert stop.order_id == "e1-stop" and stop.qty == 1 and stop.price_ticks == 20010


def test_the_target_fills_at_its_limit_and_cancels_the_stop() -> None:
    sim = broker()
    sim.submit_bracket(long_bracket())
    sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))
    sim.drain()
    [target] = sim.on_bar(bar(2, o=5002.0, h=5006.0, low=5001.0))
    assert target.order_id == "e1-target" and target.price_ticks == 20020
    events = sim.drain()
    cancelled = [e for e in events if isinstance(e, OrderStatus) and e.status == CANCELLED]
    assert [(c.order_id, c.reason) for c in cancelled] == [("e1-stop", "one-cancels-other: e1-target executed")]
    assert events.index(target) < events.index(cancelled[0])  # the fill is reported before the sibling's cancel
    assert sim.open_orders() == ()


def test_a_bar_that_reaches_both_is_assumed_to_reach_the_stop_first() -> None:
    sim = broker()
    sim.submit_bracket(long_bracket())
    sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))
    [first] = sim.on_bar(bar(2, o=5000.0, h=5006.0, low=4996.0))
    assert first.order_id == "e1-stop"


def test_both_reached_may_be_configured_to_favour_the_target() -> None:
    sim = broker(both_reached="target")
    sim.submit_bracket(long_bracket())
    sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))
    [first] = sim.on_bar(bar(2, o=5000.0, h=5006.0, low=4996.0))
    assert first.order_id == "e1-target"


def test_in_the_entrys_own_bar_only_the_stop_can_fill() -> None:
    sim = broker()
    sim.submit_bracket(long_bracket())
    entry_and_stop = sim.on_bar(bar(1, o=5000.0, h=5010.0, low=4990.0))
    assert [f.order_id for f in entry_and_stop] == ["e1", "e1-stop"]
    sim2 = broker()
    sim2.submit_bracket(long_bracket())
    only_entry = sim2.on_bar(bar(1, o=5000.0, h=5010.0, low=4999.5))  # the target reached, the stop not
    assert [f.order_id for f in only_entry] == ["e1"]


def test_an_entry_ended_unfilled_takes_its_children() -> None:
    sim = broker()
    sim.submit_bracket(long_bracket(kind="LIMIT", limit=19900))
    sim.cancel("e1")
    reasons = {e.order_id: e.reason for e in sim.drain() if isinstance(e, OrderStatus) and e.status == CANCELLED}
    assert reasons == {"e1": "cancelled on request", "e1-stop": "its entry e1 ended unfilled",
                       "e1-target": "its entry e1 ended unfilled"}


def test_a_refused_entry_refuses_its_children() -> None:
    sim = broker()
    sim.reject_next(1)
    sim.submit_bracket(long_bracket())
    assert {e.order_id: e.status for e in sim.drain()} == {"e1": REJECTED, "e1-stop": REJECTED, "e1-target": REJECTED}
    assert sim.open_orders() == ()


def test_children_of_a_partly_filled_entry_close_only_what_filled() -> None:
    sim = broker(faults=FaultPlan(partial_p=1.0), seed=3)
    sim.submit_bracket(long_bracket(qty=3, target=None))
    [entry] = sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))
    sim.cancel("e1")
    sim.faults = FaultPlan()
    [stop] = sim.on_bar(bar(2, o=4999.0, h=4999.5, low=4990.0))
    assert stop.qty == -entry.qty and sim.book == {}
    assert sim.open_orders() == ()  # the stop's rest is cancelled: its entry's fill is closed


# ----------------------------------------------------------------------------- properties

PRICES = st.integers(min_value=19960, max_value=20040)


@st.composite
def bars(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        a, b, c = draw(PRICES), draw(PRICES), draw(PRICES)
        low, high = min(a, b, c), max(a, b, c)
        out.append((c, high, low))
    return out


def run(bracket: BracketOrder, path: list[tuple[int, int, int]], faults: FaultPlan, both: str,
        cancel_entry_at: int | None) -> tuple[SimBroker, list[Fill], list[OrderStatus]]:
    sim = SimBroker(start=T0, seed=7, faults=faults, slippage=FixedSlippage(1), both_reached=both)
    sim.submit_bracket(bracket)
    executed: list[Fill] = []
    statuses: list[OrderStatus] = []
    for i, (o, h, low) in enumerate(path, start=1):
        if cancel_entry_at == i:
            sim.cancel(bracket.entry.client_order_id)
        executed.extend(sim.on_bar(bar(i, o=o / 4, h=h / 4, low=low / 4)))
        statuses.extend(e for e in sim.drain() if isinstance(e, OrderStatus))
    return sim, executed, statuses


SCENARIOS = st.tuples(
    st.integers(min_value=1, max_value=3), st.sampled_from([1, -1]), st.integers(min_value=1, max_value=20),
    st.one_of(st.none(), st.integers(min_value=1, max_value=20)), st.sampled_from(["MARKET", "LIMIT"]), bars(),
    st.sampled_from([FaultPlan(), FaultPlan(partial_p=0.5)]), st.sampled_from(["stop", "target"]),
    st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
)
_ids = itertools.count()


def make(size: int, side: int, stop_dist: int, target_dist: int | None, kind: str) -> BracketOrder:
    entry = OrderRequest(client_order_id=f"p{next(_ids)}", strategy="s1", symbol="MES", qty=side * size, kind=kind,
                         limit_ticks=20000 if kind == "LIMIT" else None)
    return BracketOrder.around(entry, stop_ticks=20000 - side * stop_dist,
                               target_ticks=None if target_dist is None else 20000 + side * target_dist)


@pytest.mark.invariant("a stop never fills better than its stop price", machine="protector")
@given(SCENARIOS)
@settings(max_examples=150, deadline=None)
def test_a_stop_never_fills_better_than_its_price(scenario: tuple) -> None:  # type: ignore[type-arg]
    """Whatever the bars, faults and sizes, a protective stop's every fill is at its stop price or worse."""
    size, side, stop_dist, target_dist, kind, path, faults, both, cancel_at = scenario
    b = make(size, side, stop_dist, target_dist, kind)
    _, executed, _ = run(b, path, faults, both, cancel_at)
    assert b.stop.stop_ticks is not None
    for f in executed:
        if f.order_id == b.stop.client_order_id:
            assert (f.price_ticks - b.stop.stop_ticks) * f.qty >= 0  # a sell at or below, a buy at or above


@pytest.mark.invariant("one-cancels-other: the stop and the target of one bracket never both execute", machine="protector")
@given(SCENARIOS)
@settings(max_examples=150, deadline=None)
def test_oca_never_fills_both(scenario: tuple) -> None:  # type: ignore[type-arg]
    """Whatever the bars, a bracket's stop and target never both execute in full, and together they never
    execute more than the entry filled."""
    size, side, stop_dist, target_dist, kind, path, faults, both, cancel_at = scenario
    b = make(size, side, stop_dist, target_dist, kind)
    _, executed, _ = run(b, path, faults, both, cancel_at)
    entry = sum(abs(f.qty) for f in executed if f.order_id == b.entry.client_order_id)
    by_child = {p.client_order_id: sum(abs(f.qty) for f in executed if f.order_id == p.client_order_id)
                for p in b.protectors}
    assert sum(by_child.values()) <= entry
    assert sum(1 for p in b.protectors if by_child[p.client_order_id] == abs(p.qty)) <= 1


@pytest.mark.invariant("no protector survives its position: once flat, no stop is left that could open a new position",
                       machine="protector")
@given(SCENARIOS)
@settings(max_examples=150, deadline=None)
def test_no_protector_survives_its_position(scenario: tuple) -> None:  # type: ignore[type-arg]
    """Whatever the bars, once the bracket's entry ended and its fills are closed by its protectors, no
    protector of it works at the venue, and the venue never holds a position against the entry's side."""
    size, side, stop_dist, target_dist, kind, path, faults, both, cancel_at = scenario
    b = make(size, side, stop_dist, target_dist, kind)
    sim, executed, statuses = run(b, path, faults, both, cancel_at)
    position = sum(f.qty for f in executed)
    assert position * side >= 0
    entry_done = any(s.order_id == b.entry.client_order_id and s.terminal for s in statuses)
    if entry_done and position == 0:
        assert sim.open_orders() == ()


def test_a_childs_fill_is_never_reported_before_a_delayed_fill_of_its_entry() -> None:
    sim = broker(faults=FaultPlan(delay_p=1.0, delay_bars=3))
    sim.submit_bracket(long_bracket(target=None))
    sim.on_bar(bar(1, o=5000.0, h=5000.5, low=4999.5))  # the entry executes; its report is delayed
    sim.faults = FaultPlan()
    reported: list[str] = []
    for i in range(2, 6):
        sim.on_bar(bar(i, o=4990.0, h=4990.5, low=4989.5))  # the stop executes at bar 2, reported at once otherwise
        reported += [e.order_id for e in sim.drain() if isinstance(e, Fill)]
    assert reported == ["e1", "e1-stop"]


def test_a_modified_stop_works_with_its_new_size_and_price_and_a_venue_cancel_is_reported() -> None:
    """``modify`` gives a working stop a new size and price (same id); a size below what it executed, another
    side, or an order no longer working is left alone. ``cancel_unasked`` is the venue's own cancel, and
    ``working`` lists what the venue works during a disconnect too."""
    sim = broker()
    b = long_bracket(qty=2, target=None)
    sim.submit_bracket(b)
    sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))
    sim.drain()
    [stop] = b.protectors
    sim.modify(OrderRequest(client_order_id=stop.client_order_id, strategy="s1", symbol="MES", qty=-1, kind="STOP",
                            purpose="protect", stop_ticks=19995, tif="GTC", parent_id="e1", oca_group=stop.oca_group))
    sim.modify(OrderRequest(client_order_id=stop.client_order_id, strategy="s1", symbol="MES", qty=3, kind="STOP",
                            purpose="protect", stop_ticks=19995))  # the other side: left alone
    [moved] = sim.working("protect")
    assert (moved.qty, moved.stop_ticks) == (-1, 19995)
    [executed] = sim.on_bar(bar(2, o=4999.5, h=4999.5, low=4998.5))  # through 4998.75, above the old 4997.50
    assert (executed.order_id, executed.qty, executed.price_ticks) == ("e1-stop", -1, 19995)
    assert sim.book == {"MES": 1} and sim.working() == ()
    again = broker()
    again.submit_bracket(long_bracket())
    again.disconnect()
    assert [o.purpose for o in again.working()] == ["entry", "protect", "protect"]
    assert again.cancel_unasked("e1-target", reason="risk check") and not again.cancel_unasked("nope")
    again.reconnect()
    assert [(e.order_id, e.status, e.reason) for e in again.drain() if isinstance(e, OrderStatus)][-1] == \
        ("e1-target", CANCELLED, "risk check")


def test_a_stop_moved_after_quiet_bars_triggers_at_its_new_price() -> None:
    """A bar that reaches no working trigger is not worked; a ``modify`` that moves a stop changes what
    the next bar must reach, so a bar through the new price fills it even after bars seen as quiet."""
    sim = broker()
    b = long_bracket(qty=1, target=None)
    sim.submit_bracket(b)
    sim.on_bar(bar(1, o=5000.0, h=5001.0, low=4999.5))
    sim.on_bar(bar(2, o=5000.0, h=5000.5, low=4999.0))  # inside the stop at 4997.50: nothing works
    sim.drain()
    [stop] = b.protectors
    sim.modify(OrderRequest(client_order_id=stop.client_order_id, strategy="s1", symbol="MES", qty=-1, kind="STOP",
                            purpose="protect", stop_ticks=19997, tif="GTC", parent_id="e1", oca_group=stop.oca_group))
    [executed] = sim.on_bar(bar(3, o=5000.0, h=5000.0, low=4999.0))  # through 4999.25, above the old stop
    assert (executed.order_id, executed.qty, executed.price_ticks) == ("e1-stop", -1, 19997)
