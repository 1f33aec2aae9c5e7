"""The runner and money: P&L net of per-contract commission, sizing by equity under every cap, gates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from statebot import ENTER, SKIP, FixedSlippage
from tests.runner_helpers import (
    Scripted,
    bar_at,
    broker,
    config,
    drive,
    et,
    events,
    long,
    make_runner,
    short,
)

DAY = "2026-11-24"


def _round_trip(tmp_path: Path, signal, exit_price: float, *, slippage: int = 0):  # type: ignore[no-untyped-def]
    sim = broker(slippage=FixedSlippage(slippage))
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    t0 = et(DAY, "10:00")
    strat.plan[t0] = signal
    bars = [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0),
            bar_at(t0 + dt.timedelta(minutes=2), 6000.0, close=exit_price)]
    strat.plan[bars[2].end] = short() if signal.side > 0 else long()  # reverse: exit at the next bar's open
    bars.append(bar_at(t0 + dt.timedelta(minutes=3), exit_price))
    strat.plan[bars[3].end] = None
    drive(runner, sim, bars)
    return runner, sim


@pytest.mark.invariant("a closed trade's net P&L is gross minus commission per contract per side", machine="runner")
def test_round_trip_pnl_is_net_of_per_contract_commission(tmp_path: Path) -> None:
    runner, _ = _round_trip(tmp_path, long(stop_ticks=4), 6002.5)
    trade = events(tmp_path, "TRADE_CLOSED")[0]["payload"]
    # 3 contracts (15 USD / (4 ticks x 1.25)), long from 6000.00 to 6002.50: 10 ticks x 1.25 x 3 = 37.50
    assert trade["qty"] == 3
    assert trade["gross_pnl"] == "37.50"
    assert trade["commission"] == "7.50"  # 1.25 per contract per side x 3 contracts x 2 sides
    assert trade["net_pnl"] == "30.00"
    assert runner.equity == Decimal("10030.00")
    fills = events(tmp_path, "FILL")
    assert [f["payload"]["commission"] for f in fills] == ["3.75", "3.75"]
    runner.close()


def test_short_round_trip_with_slippage_reports_it_in_ticks(tmp_path: Path) -> None:
    runner, _ = _round_trip(tmp_path, short(stop_ticks=4), 5997.5, slippage=1)
    trade = events(tmp_path, "TRADE_CLOSED")[0]["payload"]
    # short entry at 6000 - 1 tick, exit at 5997.50 + 1 tick: 8 ticks gained x 1.25 x 3
    assert trade["gross_pnl"] == "30.00" and trade["net_pnl"] == "22.50"
    # one tick worse than the deciding bar's close on each side: 1 tick per side
    assert Decimal(trade["slippage_ticks"]) == Decimal(1) and trade["slippage_expected_ticks"] == "0"
    runner.close()


@pytest.mark.parametrize(
    ("equity", "cfg", "stop", "qty", "reason"),
    [
        ("1000", "", 4, 3, None),          # tier 15 USD: 15 / 5 = 3 (2 % of 1000 = 20 is looser)
        ("500", "", 4, 2, None),           # 2 % of 500 = 10: 10 / 5 = 2
        ("250", "", 4, 1, None),           # 5 / 5 = 1
        ("200", "", 4, 0, "one_contract_exceeds_budget"),
        ("100000", "[sizing.max_risk_per_trade]\ndefault = 1000\n", 4, 10, None),  # max_contracts 10
        ("2000", "[sizing.max_risk_per_trade]\ndefault = 1000\n", 4, 8, None),     # 2 % of 2000 = 40: 8
        ("4000", "[sizing.max_risk_per_trade]\ndefault = 1000\n", 4, 10, None),    # 80 / 5 = 16, capped 10
        ("10000", "", 13, 0, "stop_ticks_above_max"),
    ],
)
def test_entry_size_follows_equity_and_every_cap(tmp_path: Path, equity: str, cfg: str, stop: int, qty: int,
                                                  reason: str | None) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long(stop_ticks=stop)), sim, equity=equity, cfg=config(cfg))
    (_, decision), = drive(runner, sim, [bar_at(et(DAY, "10:00"))])
    if qty:
        assert decision.action == ENTER and decision.qty == qty
        assert events(tmp_path, "ORDER_SUBMITTED")[0]["payload"]["qty"] == qty
    else:
        assert decision.action == SKIP and decision.reason == reason
        assert not events(tmp_path, "ORDER_SUBMITTED")
    runner.close()


def test_size_grows_with_equity_after_winning_trades(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    cfg = config("[sizing.max_risk_per_trade]\ndefault = 1000\n")
    runner = make_runner(tmp_path, strat, sim, equity="1000", cfg=cfg)
    t = et(DAY, "10:00")
    sizes = []
    for _ in range(3):
        entry, reverse, done = (bar_at(t, 6000.0), bar_at(t + dt.timedelta(minutes=1), 6000.0, close=6025.0),
                                bar_at(t + dt.timedelta(minutes=2), 6025.0, close=6000.0))
        strat.plan.update({entry.end: long(stop_ticks=4), reverse.end: short(stop_ticks=4), done.end: None})
        out = drive(runner, sim, [entry, reverse, done])
        sizes.append(out[0][1].qty)
        assert runner.position_qty == 0
        t += dt.timedelta(minutes=3)
    assert sizes[0] == 4  # 2 % of 1000 = 20 USD: 4 contracts at 5 USD risk each
    # each win of 100 ticks raises equity, so 2 % of it buys more contracts
    assert sizes == [4, 5, 8]
    assert runner.equity > Decimal(1000)
    runner.close()


@pytest.mark.invariant("entries in PROBATION never exceed the probation size cap", machine="throttle")
def test_probation_caps_the_entry_size(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    cfg = config('[throttle]\nmax_consecutive_losses = 1\ncooldown = "5m"\nprobation_size_cap = 1\n')
    runner = make_runner(tmp_path, strat, sim, cfg=cfg)
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=4)
    strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=4)  # reverse at a loss: 2 ticks down
    drive(runner, sim, [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0),
                        bar_at(t0 + dt.timedelta(minutes=2), 5999.5), bar_at(t0 + dt.timedelta(minutes=3), 5999.5)])
    assert runner.throttle_state == "THROTTLED"
    strat.want = long(stop_ticks=4)
    out = drive(runner, sim, [bar_at(t0 + dt.timedelta(minutes=k), 5999.5) for k in range(4, 10)])
    actions = [(d.action, d.reason, d.qty) for _, d in out]
    assert ("SKIP", "throttled", 0) in actions
    entered = [q for a, _, q in actions if a == ENTER]
    assert entered == [1] and runner.throttle_state == "PROBATION"
    transitions = [(e["payload"]["from"], e["payload"]["to"]) for e in events(tmp_path, "THROTTLE_TRANSITION")]
    assert transitions == [("ACTIVE", "THROTTLED"), ("THROTTLED", "PROBATION")]
    runner.close()


@pytest.mark.parametrize(("dvs", "eqs", "gate"), [(Decimal("0.79"), Decimal(1), "DVS"), (Decimal(1), Decimal("0.5"), "EQS"),
                                                   (None, Decimal(1), "DVS")])
def test_gates_skip_a_weak_signal_and_say_why(tmp_path: Path, dvs, eqs, gate) -> None:  # type: ignore[no-untyped-def]
    from statebot import Signal

    sim = broker()
    runner = make_runner(tmp_path, Scripted(Signal(side="LONG", stop_ticks=4, dvs=dvs, eqs=eqs)), sim)
    (_, d), = drive(runner, sim, [bar_at(et(DAY, "10:00"))])
    assert d.action == SKIP and d.reason == f"gate_{gate}"
    skip = events(tmp_path, "GATE_SKIP")[0]["payload"]
    assert skip["gate"] == gate and skip["threshold"] == ("0.80" if gate == "DVS" else "0.75")
    assert not events(tmp_path, "ORDER_SUBMITTED")
    runner.close()


def test_without_venue_stops_the_closed_bar_stop_check_exits_a_position_the_bar_ran_through(tmp_path: Path) -> None:
    """The fallback for venues without stop orders (or protection off): the runner's own closed-bar check."""
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim, cfg=config("[protection]\nenabled = false\n"))
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=4)
    out = drive(runner, sim, [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0),
                              bar_at(t0 + dt.timedelta(minutes=2), 5999.0, low=5998.5, close=5999.0),
                              bar_at(t0 + dt.timedelta(minutes=3), 5999.0)])
    assert [(d.action, d.reason) for _, d in out][2] == ("EXIT", "stop")
    assert runner.position_qty == 0
    assert events(tmp_path, "TRADE_CLOSED")[0]["payload"]["gross_pnl"] == "-15.00"
    assert not events(tmp_path, "PROTECTOR_TRANSITION")
    runner.close()


def test_the_venue_held_stop_closes_a_position_in_the_bar_that_reaches_it(tmp_path: Path) -> None:
    """With protection on (the default) the stop rests at the venue: the bar that trades through 5999.00 fills it
    there, at the stop, not at the next bar's open after the runner saw the bar close."""
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=4)
    out = drive(runner, sim, [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0),
                              bar_at(t0 + dt.timedelta(minutes=2), 5999.5, low=5997.0, close=5998.0),
                              bar_at(t0 + dt.timedelta(minutes=3), 5996.0)])
    assert "EXIT" not in [d.action for _, d in out]
    assert runner.position_qty == 0
    trade = events(tmp_path, "TRADE_CLOSED")[0]["payload"]
    assert trade["exit_price"] == "5999.00" and trade["exit_time"] == (t0 + dt.timedelta(minutes=2)).isoformat()
    assert trade["gross_pnl"] == "-15.00"
    runner.close()


def test_daily_loss_limit_trips_the_kill_switch_and_stops_entries(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim, cfg=config("[kill_switch]\ndaily_loss_limit_usd = 10\n"))
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=4)
    strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=4)
    drive(runner, sim, [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0),
                        bar_at(t0 + dt.timedelta(minutes=2), 5999.0), bar_at(t0 + dt.timedelta(minutes=3), 5999.0)])
    assert runner.killswitch_state == "TRIPPED"
    assert events(tmp_path, "KILL_SWITCH")[0]["payload"]["reason"] == "daily_loss_limit"
    strat.want = long()
    (_, d), = drive(runner, sim, [bar_at(t0 + dt.timedelta(minutes=4), 5999.0)])
    assert d.action == SKIP and d.reason == "kill_switch"
    runner.close()


def test_a_trade_reported_after_the_close_counts_toward_the_day_it_closed(tmp_path: Path) -> None:
    """A fill report delayed past the close reaches the runner the next morning: the round trip's
    P&L belongs to the day it closed (its daily loss), not to the day the report arrived."""
    from statebot import FaultPlan
    from tests.runner_helpers import minute_bars

    sim = broker(faults=FaultPlan(delay_p=1.0, delay_bars=20))
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    strat.plan[et(DAY, "15:20")] = long(stop_ticks=4)
    strat.plan[et(DAY, "15:42")] = short(stop_ticks=4)  # the long is held by then: this exits it
    drive(runner, sim, minute_bars(DAY, "15:15", "16:00"))
    drive(runner, sim, minute_bars("2026-11-25", "09:31", "09:45"))
    (closed,) = events(tmp_path, "TRADE_CLOSED")
    assert closed["ts"].startswith("2026-11-25")  # learned the next morning
    assert closed["payload"]["exit_time"].startswith(DAY)
    assert runner.killswitch.day == dt.date.fromisoformat(DAY)
    assert runner.killswitch.day_net_pnl == Decimal(closed["payload"]["net_pnl"])
    runner.close()
