"""Restart: a new BotRunner on the same state folder and event log continues where the old one stopped."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from statebot import SKIP, BotRunner, SmaCross, replay, verify
from statebot.config.model import parse_config
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
    minute_bars,
    short,
)

DAY = "2026-11-24"


def _losing_trade(runner: BotRunner, strat: Scripted, sim, t0: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    strat.plan[t0] = long(stop_ticks=4)
    strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=4)
    strat.plan[t0 + dt.timedelta(minutes=3)] = None
    drive(runner, sim, [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0),
                        bar_at(t0 + dt.timedelta(minutes=2), 5999.5), bar_at(t0 + dt.timedelta(minutes=3), 5999.5)])


@pytest.mark.invariant("a throttled strategy is still throttled after a restart", machine="throttle")
def test_a_throttled_strategy_stays_throttled_after_a_restart(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    cfg = config("[throttle]\nmax_consecutive_losses = 1\n")
    runner = make_runner(tmp_path, strat, sim, cfg=cfg)
    _losing_trade(runner, strat, sim, et(DAY, "10:00"))
    assert runner.throttle_state == "THROTTLED"
    seq = runner.events.head.seq
    runner.close()

    again = make_runner(tmp_path, Scripted(long()), sim, cfg=cfg)
    assert again.throttle_state == "THROTTLED"
    (_, d), = drive(again, sim, [bar_at(et(DAY, "10:10"))])
    assert d.action == SKIP and d.reason == "throttled"
    again.run_heartbeat(et(DAY, "15:56"))  # the session flattens: logged after the old events
    again.close()
    assert verify(tmp_path / "events.jsonl").events > seq
    assert events(tmp_path)[seq]["seq"] == seq + 1  # the log went on from where it was
    assert replay(tmp_path / "events.jsonl").throttles == {"scripted": "THROTTLED"}


@pytest.mark.invariant("a tripped kill switch stays tripped after a restart", machine="killswitch")
def test_a_tripped_kill_switch_stays_tripped_after_a_restart(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    cfg = config("[kill_switch]\ndaily_loss_limit_usd = 1\n")
    runner = make_runner(tmp_path, strat, sim, cfg=cfg)
    _losing_trade(runner, strat, sim, et(DAY, "10:00"))
    assert runner.killswitch_state == "TRIPPED"
    runner.close()
    again = make_runner(tmp_path, Scripted(long()), sim, cfg=cfg)
    assert again.killswitch_state == "TRIPPED"
    assert [t.reason for t in again.killswitch.trips] == ["daily_loss_limit"]
    (_, d), = drive(again, sim, [bar_at(et(DAY, "10:10"))])
    assert d.reason == "kill_switch"
    again.reset_kill_switch("checked the account, resuming", et(DAY, "10:11"))
    (_, d), = drive(again, sim, [bar_at(et(DAY, "10:12"))])
    assert d.action == "ENTER"
    again.close()
    assert replay(tmp_path / "events.jsonl").kill_switch == "ARMED"


@pytest.mark.invariant("an open position and its live orders survive a restart", machine="position")
def test_an_open_position_survives_a_restart_and_closes_with_the_right_pnl(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim)
    t0 = et(DAY, "10:00")
    strat.plan[t0] = long(stop_ticks=4)
    strat.plan[t0 + dt.timedelta(minutes=1)] = None
    drive(runner, sim, [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0)])
    assert runner.position_qty == 3
    # an exit is sent, then the process stops before its fill is reported
    strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=4)
    drive(runner, sim, [bar_at(t0 + dt.timedelta(minutes=2), 6000.0, close=6002.0)])
    assert runner.position_state == "EXITING"
    runner.close()

    again = make_runner(tmp_path, Scripted(), sim)
    assert again.position_qty == 3 and again.position_state == "EXITING"
    drive(again, sim, [bar_at(t0 + dt.timedelta(minutes=3), 6002.0)])
    assert again.position_qty == 0 and sim.book == {}
    trade = events(tmp_path, "TRADE_CLOSED")[0]["payload"]
    assert trade["gross_pnl"] == "30.00" and trade["net_pnl"] == "22.50"
    assert again.killswitch_state == "ARMED"  # reconciled: the book and the venue agree
    orders = [e["payload"]["order_id"] for e in events(tmp_path, "ORDER_SUBMITTED")]
    assert len(set(orders)) == len(orders)
    again.close()
    result = replay(tmp_path / "events.jsonl")
    assert result.positions[("scripted", "MES")].state == "FLAT" and not result.anomalies


def test_a_cut_event_log_is_detected_loudly_and_trips_the_kill_switch(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    drive(runner, sim, [bar_at(et(DAY, "10:00")), bar_at(et(DAY, "10:01"))])
    runner.close()
    log_file = tmp_path / "events.jsonl"
    lines = log_file.read_bytes().splitlines(keepends=True)
    log_file.write_bytes(b"".join(lines[:-3]))
    again = make_runner(tmp_path, Scripted(), sim)
    assert again.killswitch_state == "TRIPPED"
    assert again.killswitch.trips[-1].reason == "state_untrusted"
    again.run_once(bar_at(et(DAY, "10:02")))
    errors = events(tmp_path, "RUNNER_ERROR")
    assert any("ends at seq" in e["payload"]["error"] for e in errors)
    again.close()
    verify(log_file)


def test_a_corrupt_checkpoint_is_moved_aside_and_the_state_rebuilt_from_the_log(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    drive(runner, sim, [bar_at(et(DAY, "10:00")), bar_at(et(DAY, "10:01"))])
    held = runner.position_qty
    runner.close()
    snap = tmp_path / "state" / "checkpoint.json"
    snap.write_text(snap.read_text()[:40])
    again = make_runner(tmp_path, Scripted(), sim)
    assert again.restored_from == "log"
    assert again.killswitch_state == "ARMED"
    assert held and again.position_qty == held  # the log says what is held
    assert list((tmp_path / "state").glob("checkpoint.json.corrupt-*"))
    drive(again, sim, [bar_at(et(DAY, "10:02")), bar_at(et(DAY, "10:03"))])
    assert events(tmp_path, "STATE_LOAD_FAILED")
    assert events(tmp_path, "STATE_RESTORED")[-1]["payload"]["from"] == "log"
    assert again.killswitch_state == "ARMED"  # the venue agrees with the rebuilt book: no mismatch
    again.close()


def test_from_config_takes_paths_and_limits_from_the_file(tmp_path: Path) -> None:
    f = tmp_path / "bot.toml"
    f.write_text('[persistence]\nstate_dir = "st"\n[event_log]\npath = "logs/ev.jsonl"\n[kill_switch]\nmax_consecutive_rejects = 5\n')
    from statebot.config.model import load_config

    cfg = load_config(f)
    with BotRunner.from_config(cfg, strategy=Scripted(), adapter=broker(), equity="5000") as runner:
        assert runner.killswitch.max_consecutive_rejects == 5
        runner.run_once(bar_at(et(DAY, "10:00")))
    assert (tmp_path / "st" / "checkpoint.json").exists()
    result = verify(tmp_path / "logs" / "ev.jsonl")
    assert result.events > 0
    first = json.loads((tmp_path / "logs" / "ev.jsonl").read_text().splitlines()[0])
    assert first["config_hash"] == cfg.config_hash == parse_config(f.read_text()).config_hash


def test_a_second_runner_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    from statebot import EventLogError, StateInUse

    runner = make_runner(tmp_path, Scripted(), broker())
    with pytest.raises((StateInUse, EventLogError)):
        make_runner(tmp_path, Scripted(), broker())
    runner.close()


def test_a_restart_during_the_flatten_goes_on_flattening(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted(long())
    runner = make_runner(tmp_path, strat, sim)
    drive(runner, sim, [bar_at(et(DAY, "15:50")), bar_at(et(DAY, "15:51"))])
    assert runner.position_qty == 3
    sim.reject_next(1)  # the venue refuses the 15:55 flatten order; the process stops before it hears so
    drive(runner, sim, [bar_at(et(DAY, "15:55"))])
    runner.close()
    again = make_runner(tmp_path, Scripted(), sim)
    assert again.killswitch_state == "ARMED"
    assert again.session_state == "FLATTENING" and again.position_qty == 3
    drive(again, sim, [bar_at(et(DAY, "15:57")), bar_at(et(DAY, "15:58")), bar_at(et(DAY, "15:59"))])
    assert sim.book == {} and again.position_qty == 0 and again.killswitch_state == "ARMED"
    again.close()


@pytest.mark.invariant("a restart keeps the day's realized loss: the daily loss limit counts trades from before it", machine="killswitch")
def test_the_daily_loss_limit_counts_the_losses_from_before_a_restart(tmp_path: Path) -> None:
    sim = broker()
    cfg = config("[kill_switch]\ndaily_loss_limit_usd = 25\n")
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim, cfg=cfg)
    _losing_trade(runner, strat, sim, et(DAY, "10:00"))
    day_loss = runner.killswitch.day_net_pnl
    assert Decimal(-25) < day_loss < 0 and runner.killswitch_state == "ARMED"
    runner.close()

    strat = Scripted()
    again = make_runner(tmp_path, strat, sim, cfg=cfg)
    assert again.killswitch.day_net_pnl == day_loss
    _losing_trade(again, strat, sim, et(DAY, "10:10"))
    assert again.killswitch.day_net_pnl == 2 * day_loss
    assert again.killswitch_state == "TRIPPED"
    assert events(tmp_path, "KILL_SWITCH")[-1]["payload"]["reason"] == "daily_loss_limit"
    again.close()


def test_a_rerun_on_an_old_state_folder_says_once_why_its_bars_are_rejected(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The README's loop run twice: the second run's bars are all at or before the first run's last
    time. Rejecting them is right; one warning names the reason and the state folder, not one a bar."""
    bars = list(minute_bars("2026-11-24", "09:31", "10:30"))
    sim = broker()
    first = make_runner(tmp_path, SmaCross(), sim)
    drive(first, sim, bars)
    first.close()
    again = make_runner(tmp_path, SmaCross(), sim)
    with caplog.at_level("WARNING", logger="statebot.runner"):
        decisions = drive(again, sim, bars)
    again.close()
    assert {(d.action, d.reason) for _, d in decisions} == {(SKIP, "bar_rejected")}
    warnings = [r.getMessage() for r in caplog.records if r.name == "statebot.runner"]
    assert len(warnings) == 1, warnings
    assert "bar rejected (not_after_previous)" in warnings[0] and str(tmp_path) in warnings[0]
    assert "a new run needs a new state folder" in warnings[0]
