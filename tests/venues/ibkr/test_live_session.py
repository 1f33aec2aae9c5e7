"""Whole sessions of ``LiveSession`` against the fake gateway, with the real client library.

Time is injected: a simulated wall clock moves 5 seconds per loop step and the
gateway sends the 5-second real-time bar that just ended, so the last ten
minutes of a session (entry, flatten, close) run in a second or two. Every
message the client sent is checked at the gateway's socket.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from statebot import BotRunner, verify
from statebot.config.model import Config
from tests.venues.ibkr.fake_gateway import Accept, FakeGateway, HistBar
from tests.venues.ibkr.fake_gateway import Fill as GatewayFill
from tests.runner_helpers import Scripted, long

INSTALLED = [name for name in ("ib_insync", "ib_async") if importlib.util.find_spec(name) is not None]
if not INSTALLED:
    pytest.skip("neither ib_insync nor ib_async is installed (the ibkr extra)", allow_module_level=True)

from statebot.venues.ibkr import OBSERVE, PAPER, IBKRAdapter, IBKRSettings
from statebot.app.live import LiveSession

UTC = dt.timezone.utc
SESSION = dt.date(2026, 11, 23)  # a Monday: XNYS closes 16:00 New York = 21:00 UTC, flatten 20:55 UTC
START = dt.datetime(2026, 11, 23, 20, 50, tzinfo=UTC)
STEP = dt.timedelta(seconds=5)
PRICE = "6000.00"


class SimWall:
    """A wall clock that moves only when the loop sleeps, one 5-second real-time bar per step."""

    def __init__(self, start: dt.datetime) -> None:
        self.t = start

    def __call__(self) -> dt.datetime:
        return self.t


class Harness:
    """A fake gateway, a runner on it in one mode, and the loop, on simulated time."""

    def __init__(self, lib: ModuleType, gateway: FakeGateway, tmp: Path, mode: str, strategy: Any) -> None:
        self.gateway = gateway
        self.tmp = tmp
        self.wall = SimWall(START)
        self.pushed = 0
        self.bars_until: dt.datetime | None = None  # the feed goes quiet from then on
        self.before_step: list[Callable[[Harness], None]] = []
        venue, self.ib = IBKRSettings(mode=mode, host=gateway.host, port=gateway.port, client_id=7).adapter(
            ib=lib.IB(), clock=self.wall, timeout_s=0.25)
        self.runner = BotRunner(strategy, venue, equity=Decimal("10000"), config=Config(), state_dir=tmp / "state",
                                event_log=tmp / "events.jsonl", start=START)
        self.loop = LiveSession(self.runner, self.ib, mode=mode, bar_minutes=1, heartbeat=STEP, session_date=SESSION,
                                stop_timeout=dt.timedelta(minutes=1), now=self.wall, sleep=self.sleep)

    @property
    def adapter(self) -> IBKRAdapter:
        return self.ib

    def sleep(self, seconds: float) -> None:
        """Advance the simulated wall clock one step and deliver the 5-second bar that ended."""
        for hook in self.before_step:
            hook(self)
        bar_start = self.wall.t
        self.wall.t += STEP
        feeding = self.bars_until is None or bar_start < self.bars_until
        if feeding and self.ib.connected and self.ib.ib.realtimeBars():
            bar = HistBar(bar_start, PRICE, PRICE, PRICE, PRICE, 10)
            deadline = time.monotonic() + 5
            # the client lists its subscription before the gateway has read the request: under load
            # the first push can find no subscription, so wait for the gateway, then push once
            while not self.gateway.push_realtime_bars([bar]):
                if time.monotonic() > deadline:
                    raise AssertionError("the gateway never saw the client's reqRealTimeBars")
                self.ib.ib.sleep(0.001)
            self.pushed += 1
            self._wait_for_bars()
        else:
            self.ib.ib.sleep(0.002)

    def _wait_for_bars(self) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            self.ib.ib.sleep(0.001)
            lists = self.ib.ib.realtimeBars()
            if lists and len(lists[-1]) and lists[-1][-1].time >= self.wall.t - STEP:
                return
        raise AssertionError("the gateway's real-time bar did not arrive")

    def run_until(self, end: dt.datetime) -> None:
        """Run the loop until simulated wall time reaches ``end``, then stop it (shutdown included)."""
        self.loop.start()
        self.loop.run(lambda: self.wall.t >= end)

    def events(self, *types: str) -> list[dict[str, Any]]:
        rows = [json.loads(line) for line in (self.tmp / "events.jsonl").read_text().splitlines()]
        return [e for e in rows if not types or e["type"] in types]

    def close(self) -> None:
        self.loop.shutdown()


@pytest.fixture(params=INSTALLED)
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway() as gw:
        yield gw


@pytest.fixture
def harness_for(lib: ModuleType, gateway: FakeGateway, tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(mode: str, strategy: Any = None) -> Harness:
        h = Harness(lib, gateway, tmp_path, mode, strategy if strategy is not None else Scripted(long()))
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


def fill_every_order(gateway: FakeGateway) -> None:
    """Every order fills at once at PRICE, but for protective stops and targets (the market never reaches
    them here): those are only accepted, and work at the gateway until cancelled."""
    gateway.order_policy = lambda order: ([Accept()] if ":protect:" in order.order_ref
                                          else [Accept(), GatewayFill(price=PRICE)])


@pytest.mark.invariant("a PAPER session on IB enters, flattens before the close and ends flat with the kill switch armed",
                       machine="session")
def test_a_paper_session_enters_flattens_and_ends_flat_at_the_close(harness_for: Callable[..., Harness],
                                                                  gateway: FakeGateway) -> None:
    fill_every_order(gateway)
    h = harness_for(PAPER)
    h.run_until(dt.datetime(2026, 11, 23, 21, 1, tzinfo=UTC))
    purposes = [e["payload"]["purpose"] for e in h.events("ORDER_SUBMITTED")]
    assert purposes[0] == "entry" and "flatten" in purposes
    assert [e["payload"]["to"] for e in h.events("SESSION_TRANSITION")][-2:] == ["FLATTENING", "CLOSED"]
    assert h.events("KILL_SWITCH") == []
    assert h.runner.killswitch_state == "ARMED" and h.runner.position_qty == 0
    assert all(q == 0 for q in gateway.positions().values())
    assert len(h.events("TRADE_CLOSED")) == 1
    assert gateway.unknown_messages() == []
    verify(h.tmp / "events.jsonl")


def test_bars_reach_the_strategy_once_each_with_their_end_time(harness_for: Callable[..., Harness]) -> None:
    strategy = Scripted()
    h = harness_for(PAPER, strategy)
    h.run_until(dt.datetime(2026, 11, 23, 20, 54, 1, tzinfo=UTC))
    ends = [ctx.now for ctx in strategy.seen]
    assert ends == [dt.datetime(2026, 11, 23, 20, m, tzinfo=UTC) for m in (51, 52, 53, 54)]
    assert h.events("BAR_REJECTED") == []


@pytest.mark.invariant("OBSERVE mode sends no order, cancel or global cancel to IB over a whole session", machine="session")
def test_observe_mode_sends_zero_orders_over_a_whole_session(harness_for: Callable[..., Harness],
                                                            gateway: FakeGateway) -> None:
    h = harness_for(OBSERVE)
    h.run_until(dt.datetime(2026, 11, 23, 21, 1, tzinfo=UTC))
    assert gateway.count("placeOrder") == 0
    assert gateway.count("cancelOrder") == 0 and gateway.count("reqGlobalCancel") == 0
    wanted = h.events("ORDER_SUBMITTED")
    refused = [e["payload"]["reason"] for e in h.events("ORDER_REJECTED")]
    assert wanted and len(refused) == len(wanted) and set(refused) == {"OBSERVE mode: not sent"}
    assert [e["payload"]["to"] for e in h.events("SESSION_TRANSITION")][-1] == "CLOSED"
    assert h.runner.killswitch_state == "ARMED"


@pytest.mark.invariant("stopping a PAPER or LIVE bot flattens first; the event log and state are closed after", machine="session")
def test_stopping_mid_session_flattens_first(harness_for: Callable[..., Harness], gateway: FakeGateway) -> None:
    fill_every_order(gateway)
    h = harness_for(PAPER)
    h.run_until(dt.datetime(2026, 11, 23, 20, 53, tzinfo=UTC))
    assert h.loop.stopped_flat is True
    assert [e["payload"]["reason"] for e in h.events("SESSION_EXIT_FLATTEN")] == ["shutdown"]
    assert [e["payload"]["purpose"] for e in h.events("ORDER_SUBMITTED")][-1] == "flatten"
    assert all(q == 0 for q in gateway.positions().values())
    assert not h.ib.connected
    verify(h.tmp / "events.jsonl")


def test_stopping_in_observe_mode_sends_nothing_and_does_not_flatten(harness_for: Callable[..., Harness],
                                                                    gateway: FakeGateway) -> None:
    h = harness_for(OBSERVE)
    h.run_until(dt.datetime(2026, 11, 23, 20, 53, tzinfo=UTC))
    assert h.events("SESSION_EXIT_FLATTEN") == []
    assert gateway.count("placeOrder") == 0 and not h.ib.connected


def at(hhmmss: str) -> dt.datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return dt.datetime(2026, 11, 23, h, m, s, tzinfo=UTC)


def outage(start: dt.datetime, end: dt.datetime) -> Callable[[Harness], None]:
    """A step hook: the gateway drops every connection at ``start`` and refuses new ones until ``end``."""
    state = {"dropped": False, "back": False}

    def hook(h: Harness) -> None:
        if not state["dropped"] and h.wall.t >= start:
            state["dropped"] = True
            h.gateway.set_accepting(False)
            h.gateway.drop()
        if state["dropped"] and not state["back"] and h.wall.t >= end:
            state["back"] = True
            h.gateway.set_accepting(True)

    return hook


def first_flatten_stays_working(gateway: FakeGateway) -> None:
    """Entries fill; the first flatten order is accepted but never fills; later ones fill; protective orders rest."""
    flattens = {"n": 0}

    def policy(order: Any) -> list[Any]:
        if ":flatten:" in order.order_ref:
            flattens["n"] += 1
            if flattens["n"] == 1:
                return [Accept()]
        if ":protect:" in order.order_ref:
            return [Accept()]  # protective stops rest at the gateway; the market never reaches them here
        return [Accept(), GatewayFill(price=PRICE)]

    gateway.order_policy = policy


@pytest.mark.invariant("a disconnect in the middle of a flatten: the flatten is retried after the reconnect and the session ends flat",
                       machine="session")
def test_a_disconnect_in_the_middle_of_a_flatten_is_retried_until_flat(harness_for: Callable[..., Harness],
                                                                      gateway: FakeGateway) -> None:
    first_flatten_stays_working(gateway)
    h = harness_for(PAPER)
    h.before_step.append(outage(at("20:55:10"), at("20:56:00")))
    h.run_until(at("21:01:00"))
    connections = [e["payload"]["connected"] for e in h.events("VENUE_CONNECTION")]
    assert connections == [False, True]
    assert h.loop.reconnects >= 1
    flattens = [e for e in h.events("ORDER_SUBMITTED") if e["payload"]["purpose"] == "flatten"]
    assert len(flattens) >= 2
    assert all(q == 0 for q in gateway.positions().values())
    assert h.runner.position_qty == 0
    assert "position_held_at_close" not in [e["payload"]["reason"] for e in h.events("KILL_SWITCH")]
    verify(h.tmp / "events.jsonl")


@pytest.mark.invariant("a venue unreachable from the flatten past the close trips the kill switch (position held at close)",
                       machine="killswitch")
def test_a_disconnect_from_the_flatten_past_the_close_trips_the_kill_switch(harness_for: Callable[..., Harness],
                                                                           gateway: FakeGateway) -> None:
    fill_every_order(gateway)
    h = harness_for(PAPER)
    h.before_step.append(outage(at("20:54:30"), at("21:00:30")))
    h.run_until(at("21:01:30"))
    reasons = [e["payload"]["reason"] for e in h.events("KILL_SWITCH")]
    assert "position_held_at_close" in reasons
    assert h.runner.killswitch_state == "TRIPPED"
    # the flatten went on after the reconnect: the position did not stay at IB
    assert all(q == 0 for q in gateway.positions().values())


@pytest.mark.invariant("reconnecting to a position the bot did not expect trips the kill switch; no entry follows",
                       machine="killswitch")
def test_a_reconnect_with_an_unexpected_position_trips_the_kill_switch(harness_for: Callable[..., Harness],
                                                                      gateway: FakeGateway) -> None:
    fill_every_order(gateway)
    strategy = Scripted()
    h = harness_for(PAPER, strategy)

    def someone_trades_while_we_are_away(hh: Harness) -> None:
        if hh.wall.t == at("20:51:30"):
            gateway.set_position(gateway.contract("MESZ6"), 2, "6000", push=False)

    h.before_step.append(outage(at("20:51:00"), at("20:52:00")))
    h.before_step.append(someone_trades_while_we_are_away)
    h.before_step.append(lambda hh: setattr(strategy, "want", long()) if hh.wall.t >= at("20:52:00") else None)
    h.run_until(at("20:54:00"))
    mismatch = h.events("POSITION_MISMATCH")
    assert mismatch and mismatch[0]["payload"]["broker"] == 2
    assert h.events("KILL_SWITCH")[0]["payload"]["reason"] == "position_mismatch"
    assert not [e for e in h.events("ORDER_SUBMITTED") if e["payload"]["purpose"] == "entry"]
    types = [e["type"] for e in h.events()]
    assert types.index("POSITION_MISMATCH") > types.index("VENUE_CONNECTION")


@pytest.mark.invariant("when IB stops sending bars the wall-time heartbeat still flattens the session and closes it flat",
                       machine="session")
def test_the_session_flattens_and_closes_when_bars_stop(harness_for: Callable[..., Harness], gateway: FakeGateway) -> None:
    fill_every_order(gateway)
    h = harness_for(PAPER)
    h.bars_until = at("20:52:00")
    h.run_until(at("21:01:00"))
    assert [e["payload"]["to"] for e in h.events("SESSION_TRANSITION")][-2:] == ["FLATTENING", "CLOSED"]
    [flatten] = [e for e in h.events("SESSION_EXIT_FLATTEN") if e["payload"]["reason"] == "flatten_lead"]
    assert flatten["ts"].startswith("2026-11-23T20:55:0")
    assert all(q == 0 for q in gateway.positions().values())
    assert h.events("KILL_SWITCH") == []


def test_on_the_roll_date_a_flat_bot_switches_to_the_next_contract(lib: ModuleType, gateway: FakeGateway,
                                                                    tmp_path: Path) -> None:
    h = Harness(lib, gateway, tmp_path, PAPER, Scripted())
    h.wall.t = dt.datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # roll day: MESH7 is the front month from today
    h.loop._session_date = dt.date(2026, 12, 9)  # connected yesterday's contract, MESZ6
    try:
        h.run_until(dt.datetime(2026, 12, 10, 15, 2, tzinfo=UTC))
    finally:
        h.close()
    assert h.loop.rolls == 1
    assert h.ib.contract("MES").localSymbol == "MESH7"
    requested = [m for m in gateway.received("reqRealTimeBars")]
    assert len(requested) == 2


def test_the_stop_at_ib_moves_to_its_distance_from_the_entry_fill(harness_for: Callable[..., Harness],
                                                                  gateway: FakeGateway) -> None:
    """The signal's bar closed at 6000.00 (the stop 4 ticks under it: 5999.00) and the entry for 3 filled at 6000.50:
    once it filled the runner modifies the stop at IB (the same order id placed again) to 5999.50, 4 ticks from the
    fill, with its size, parent and OCA group unchanged; the shutdown's flatten then cancels it before closing."""
    gateway.order_policy = lambda order: ([Accept()] if ":protect:" in order.order_ref
                                          else [Accept(), GatewayFill(price="6000.50")])
    h = harness_for(PAPER)
    h.run_until(dt.datetime(2026, 11, 23, 20, 53, tzinfo=UTC))
    [stop] = [o for o in gateway.orders.values() if ":protect:" in o.order_ref]
    assert (stop.aux_price, stop.quantity, stop.oca_group) == (Decimal("5999.50"), 3, "oca-r1-1")
    assert stop.parent_id == next(o.order_id for o in gateway.orders.values() if ":entry:" in o.order_ref)
    [moved] = h.events("ORDER_MODIFY_REQUESTED")
    assert (moved["payload"]["order_id"], moved["payload"]["price"], moved["payload"]["qty"]) == ("r1-1-stop", "5999.50", -3)
    cancels = h.events("ORDER_CANCEL_REQUESTED")
    assert moved["seq"] < cancels[0]["seq"] and stop.status == "Cancelled"
    assert h.events("KILL_SWITCH") == [] and h.runner.position_qty == 0
    assert gateway.unknown_messages() == []
    verify(h.tmp / "events.jsonl")
