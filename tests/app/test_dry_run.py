"""The dry run: ``statebot run``'s live loop on recorded bars, a simulated venue and a replay clock."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from statebot.app.dry_run import ReplayClock, ReplayFeed
from statebot.app.live import LiveSession
from statebot.app.runner import BotRunner
from statebot.app.simrun import SimSetup, setup_bars, sim_broker
from statebot.cli import main
from statebot.core.strategy.protocol import get_strategy
from statebot.errors import ConfigError
from statebot.journal.log import SESSION_TRANSITION, iter_events

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample-mes-1m.csv"
UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 23, 14, 31, tzinfo=UTC)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any wall-clock sleep fails the test: the replay clock must not wait at speed 0."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s of wall time")

    monkeypatch.setattr(time, "sleep", refuse)


def test_the_replay_clock_moves_recorded_time_and_waits_only_when_scaled() -> None:
    waited: list[float] = []
    fast = ReplayClock(T0, wall_sleep=waited.append)
    fast.sleep(30)
    assert fast.now() == T0 + dt.timedelta(seconds=30) and waited == []
    scaled = ReplayClock(T0, speed=60, wall_sleep=waited.append)
    scaled.sleep(30)
    assert scaled.now() == T0 + dt.timedelta(seconds=30) and waited == [0.5]
    with pytest.raises(ConfigError, match="speed -1 must be 0"):
        ReplayClock(T0, speed=-1)
    with pytest.raises(ConfigError, match="speed nan"):
        ReplayClock(T0, speed=float("nan"))


@pytest.mark.parametrize(("choice", "heartbeat"), [
    (["--strategy", "sma-cross"], "1s"),
    (["--strategy", "sma-cross", "-p", "fast=5", "-p", "target_ticks=12", "--set", "sizing.max_stop_ticks=20",
      "--set", "throttle.window=10"], "20s"),
], ids=["defaults", "params-and-overrides"])
def test_the_dry_run_makes_the_trades_sim_makes_on_the_same_bars_and_config(
        choice: list[str], heartbeat: str, tmp_path: Path, no_sleep: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--bars", str(SAMPLE), *choice, "--report", str(tmp_path / "sim.json")]) == 0
    assert main(["run", "--adapter", "sim", "--bars", str(SAMPLE), *choice, "--heartbeat", heartbeat,
                 "--report", str(tmp_path / "dry.json"), "--events", str(tmp_path / "events.jsonl")]) == 0
    sim, dry = (json.loads((tmp_path / name).read_text(encoding="utf-8")) for name in ("sim.json", "dry.json"))
    assert sim["trades"] > 0
    assert dry["trade_list"] == sim["trade_list"]
    for key in ("bars", "trades", "gross_pnl", "commission", "net_pnl", "max_drawdown", "stats", "final_flat"):
        assert dry[key] == sim[key], key
    err = capsys.readouterr().err
    assert f"end of {SAMPLE} after 1380 bars, flat" in err


@pytest.mark.parametrize("choice", [[], ["--strategy", "sma-cross"], ["--strategy", "sma-cross", "--set", "throttle.window=10"]],
                         ids=["orb-default", "sma-cross", "sma-cross-overrides"])
def test_the_dry_run_prints_sims_summary_flat_at_close_and_refusals_included(
        choice: list[str], tmp_path: Path, no_sleep: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Both summaries come from the one fold of their logs, the refusals from each bar's decision
    counted alike: the same bars and config print the same trades, refusals and closes."""
    strategy = choice[1:2] or ["orb"]
    sim_args = ["--strategy", *strategy, *choice[2:]]
    assert main(["sim", "--bars", str(SAMPLE), *sim_args, "--report", str(tmp_path / "sim.json")]) == 0
    sim_out = capsys.readouterr().out.splitlines()
    assert main(["run", "--adapter", "sim", "--bars", str(SAMPLE), *choice, "--report", str(tmp_path / "dry.json")]) == 0
    dry_out = capsys.readouterr().out.splitlines()
    assert sim_out[0] == f"statebot sim: sample-mes-1m.csv ({strategy[0]} on MES)"
    assert dry_out[0] == f"statebot run --adapter sim: sample-mes-1m.csv ({strategy[0]} on MES)"
    assert dry_out[1:] == sim_out[1:]
    refused = next(line for line in dry_out if line.startswith("entries refused"))
    closes = [line for line in dry_out if line.startswith("2026-11-") and "holiday" not in line]
    assert len(closes) == 4 and all(line.split()[3] == "yes" for line in closes), closes
    sim, dry = (json.loads((tmp_path / name).read_text(encoding="utf-8")) for name in ("sim.json", "dry.json"))
    assert dry == sim  # the whole report: trades, statistics, refusals, sessions, what ran
    if strategy == ["sma-cross"]:
        assert "throttled" in refused and dry["skips"]["throttled"] > 0, refused


def test_heartbeats_on_recorded_time_move_the_session_at_its_time_not_at_the_next_bar(
        tmp_path: Path, no_sleep: None) -> None:
    """Tuesday's day starts at 00:00 New York. A sim, driven by bars alone, starts it late, at Tuesday's
    first bar; the dry run's heartbeats (one a second of recorded time) start it on time."""
    assert main(["sim", "--bars", str(SAMPLE), "--events", str(tmp_path / "sim.jsonl")]) == 0
    assert main(["run", "--adapter", "sim", "--bars", str(SAMPLE), "--strategy", "sma-cross",
                 "--events", str(tmp_path / "dry.jsonl")]) == 0

    def tuesday_start(name: str) -> tuple[dt.datetime, dt.datetime, bool]:
        (event,) = [e for _, e in iter_events(tmp_path / name) if e.type == SESSION_TRANSITION
                    and e.payload["session"] == "2026-11-24" and e.payload["trigger"] == "start_day"]
        return event.ts, dt.datetime.fromisoformat(event.payload["due"]), event.payload["late"]

    ts, due, late = tuesday_start("dry.jsonl")
    assert due <= ts <= due + dt.timedelta(seconds=1) and not late
    ts, due, late = tuesday_start("sim.jsonl")
    assert ts == dt.datetime(2026, 11, 24, 14, 31, tzinfo=UTC) and late


def _session(tmp_path: Path) -> tuple[LiveSession, BotRunner, ReplayFeed, object]:
    setup = SimSetup(bars_csv=SAMPLE)
    config = setup.build_config()
    feed = ReplayFeed(setup_bars(setup, config, []), symbol="MES")
    clock = ReplayClock(feed.first_end)
    broker = sim_broker(setup, config)
    runner = BotRunner.from_config(config, strategy=get_strategy("sma-cross"), adapter=broker, equity=Decimal(20000),
                                   state_dir=tmp_path / "state", event_log=tmp_path / "events.jsonl", start=feed.first_end)
    session = LiveSession(runner, feed, mode="PAPER", bar_minutes=1, now=clock.now, sleep=clock.sleep, on_bar=broker.on_bar)
    session.start()
    return session, runner, feed, broker


def test_a_stop_while_a_position_is_open_flattens_on_the_recorded_bars_that_follow(tmp_path: Path, no_sleep: None) -> None:
    session, runner, feed, broker = _session(tmp_path)
    while not broker.book:  # type: ignore[attr-defined]
        session.step()
        session._wait(1.0)
        assert not feed.exhausted
    assert session.shutdown() is True
    assert broker.book == {} and not runner.flattening  # type: ignore[attr-defined]


def test_a_replay_feed_without_a_sleep_or_bars_is_refused(tmp_path: Path) -> None:
    setup = SimSetup(bars_csv=SAMPLE)
    config = setup.build_config()
    feed = ReplayFeed(setup_bars(setup, config, []), symbol="MES")
    runner = BotRunner.from_config(config, strategy=get_strategy("sma-cross"), adapter=sim_broker(setup, config),
                                   equity=Decimal(20000), state_dir=tmp_path / "s", event_log=tmp_path / "e.jsonl")
    try:
        with pytest.raises(ConfigError, match="needs its clock's sleep"):
            LiveSession(runner, feed, mode="PAPER", bar_minutes=1)
    finally:
        runner.close()
    with pytest.raises(ConfigError, match="no bars to replay"):
        ReplayFeed(iter(()), symbol="MES")
