"""Replay: verify the chain, rebuild the final states, and the `statebot replay` command."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statebot.cli import main
from statebot.errors import EventLogError
from statebot.journal.log import EventLog
from statebot.journal.replay import replay, verify

NY = ZoneInfo("America/New_York")
T0 = dt.datetime(2026, 11, 24, 9, 30, tzinfo=NY)
DAY = dt.date(2026, 11, 24)


def day_log(path: Path) -> None:
    """A small session: open, one sma-cross trade, a throttle, a flatten, the close, a kill-switch trip."""
    at = lambda m: T0 + dt.timedelta(minutes=m)  # noqa: E731
    with EventLog(path, config_hash="c" * 64) as log:
        log.append(at(-570), "SESSION_TRANSITION", {"from": "CLOSED", "to": "PRE_OPEN", "session": DAY})
        log.append(at(0), "SESSION_TRANSITION", {"from": "PRE_OPEN", "to": "TRADING", "session": DAY})
        log.append(at(5), "ORDER_SUBMITTED", {"order_id": "1", "strategy": "sma-cross", "symbol": "MES", "side": "BUY", "qty": 2, "purpose": "entry"})
        log.append(at(5), "POSITION_TRANSITION", {"strategy": "sma-cross", "symbol": "MES", "from": "FLAT", "to": "ENTERING", "qty": 0})
        log.append(at(6), "FILL", {"order_id": "1", "exec_id": "e1", "strategy": "sma-cross", "symbol": "MES", "side": "BUY",
                                   "qty": 2, "price": Decimal("6000.25"), "commission": Decimal("2.50")})
        log.append(at(6), "POSITION_TRANSITION", {"strategy": "sma-cross", "symbol": "MES", "from": "ENTERING", "to": "OPEN", "qty": 2})
        log.append(at(7), "POSITION_TRANSITION", {"strategy": "orb", "symbol": "MES", "from": "FLAT", "to": "ENTERING", "qty": 0})
        log.append(at(8), "POSITION_TRANSITION", {"strategy": "orb", "symbol": "MES", "from": "ENTERING", "to": "OPEN", "qty": -1})
        log.append(at(60), "THROTTLE_TRANSITION", {"strategy": "orb", "from": "ACTIVE", "to": "THROTTLED", "reason": "consecutive_losses"})
        log.append(at(385), "SESSION_TRANSITION", {"from": "TRADING", "to": "FLATTENING", "session": DAY})
        log.append(at(385), "SESSION_EXIT_FLATTEN", {"reason": "flatten_lead", "minutes_remaining": 5, "positions": 2, "late": False})
        log.append(at(386), "POSITION_TRANSITION", {"strategy": "sma-cross", "symbol": "MES", "from": "OPEN", "to": "FLAT", "qty": 0})
        log.append(at(390), "SESSION_TRANSITION", {"from": "FLATTENING", "to": "CLOSED", "session": DAY})
        log.append(at(390), "KILL_SWITCH", {"from": "ARMED", "to": "TRIPPED", "reason": "position_held_at_close"})


def test_replay_rebuilds_the_final_states(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    day_log(path)
    r = replay(path)
    assert r.verified.events == 14 and r.verified.head.seq == 14
    assert (r.session, r.session_date) == ("CLOSED", "2026-11-24")
    assert {k: (v.state, v.qty) for k, v in r.positions.items()} == {
        ("sma-cross", "MES"): ("FLAT", 0), ("orb", "MES"): ("OPEN", -1)}
    assert r.throttles == {"orb": "THROTTLED"}
    assert (r.kill_switch, r.kill_switch_reason) == ("TRIPPED", "position_held_at_close")
    assert r.anomalies == ()


def test_replay_of_an_empty_log_knows_nothing(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"")
    r = replay(path)
    assert r.verified.events == 0 and r.session is None and r.kill_switch is None and not r.positions


def test_a_from_that_contradicts_the_replayed_state_is_an_anomaly(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash="c" * 64) as log:
        log.append(T0, "KILL_SWITCH", {"from": "ARMED", "to": "TRIPPED", "reason": "manual"})
        log.append(T0, "KILL_SWITCH", {"from": "ARMED", "to": "TRIPPED", "reason": "manual"})
    (a,) = replay(path).anomalies
    assert a.line == 2 and "kill switch: from ARMED but replayed state was TRIPPED" in a.message


def test_a_non_integer_position_qty_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash="c" * 64) as log:
        log.append(T0, "POSITION_TRANSITION", {"strategy": "s", "symbol": "MES", "from": "FLAT", "to": "OPEN", "qty": Decimal("1.5")})
    with pytest.raises(EventLogError, match="line 1: POSITION_TRANSITION qty '1.5'"):
        replay(path)


def test_verify_reports_the_span(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    day_log(path)
    v = verify(path)
    assert v.first_ts == T0 - dt.timedelta(minutes=570) and v.last_ts == T0 + dt.timedelta(minutes=390)


# -- CLI ---------------------------------------------------------------------


def test_cli_prints_the_final_states(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.jsonl"
    day_log(path)
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "14 events, chain verified" in out
    assert "session:     CLOSED (session 2026-11-24)" in out
    assert "kill switch: TRIPPED (position_held_at_close)" in out
    assert "orb                  MES      OPEN       qty -1" in out
    assert "orb                  THROTTLED" in out


def test_cli_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.jsonl"
    day_log(path)
    assert main(["replay", "--json", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["events"] == 14 and data["session"]["state"] == "CLOSED"
    assert {"strategy": "orb", "symbol": "MES", "state": "OPEN", "qty": -1} in data["positions"]


@pytest.mark.invariant("`statebot replay` exits 1 naming the line when any line of an event log was modified", machine="eventlog")
def test_cli_broken_chain_exits_1_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    day_log(path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4].replace(b"6000.25", b"6001.25")
    path.write_bytes(b"".join(lines))
    r = subprocess.run([sys.executable, "-m", "statebot", "replay", str(path)], capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == f"statebot replay: {path}: chain broken at line 5: hash does not match the content (the line was modified)\n"


def test_cli_torn_tail_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.jsonl"
    day_log(path)
    with open(path, "ab") as f:
        f.write(b'{"seq":')
    assert main(["replay", str(path)]) == 1
    assert "line 15: partial last line" in capsys.readouterr().err


def test_cli_unreadable_input_exits_3_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "missing.jsonl")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("statebot replay: error: cannot read") and len(err.splitlines()) == 1
    assert main(["replay", str(tmp_path)]) == 3


def test_cli_strict_fails_on_anomalies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash="c" * 64) as log:
        log.append(T0, "THROTTLE_TRANSITION", {"strategy": "s", "from": "ACTIVE", "to": "THROTTLED", "reason": "x"})
        log.append(T0, "THROTTLE_TRANSITION", {"strategy": "s", "from": "ACTIVE", "to": "THROTTLED", "reason": "x"})
    assert main(["replay", str(path)]) == 0
    assert "warning: line 2" in capsys.readouterr().out
    assert main(["replay", "--strict", str(path)]) == 1


def test_time_going_backwards_is_an_anomaly(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash="c" * 64) as log:
        log.append(T0, "STATE_SAVED")
        log.append(T0 - dt.timedelta(seconds=1), "STATE_SAVED")
    (a,) = replay(path).anomalies
    assert a.line == 2 and "before the previous event's" in a.message


def test_replay_lists_the_config_hashes_in_force(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    for cfg in ("a", "b", "a"):
        with EventLog(path, config_hash=cfg * 64) as log:
            log.append(T0, "STATE_SAVED")
    assert replay(path).config_hashes == ("a" * 64, "b" * 64)


@pytest.mark.invariant("the replayed position quantity follows partial fills, not only state changes", machine="eventlog")
def test_replay_follows_partial_fills_of_a_position(tmp_path: Path) -> None:
    from statebot import FaultPlan
    from tests.runner_helpers import Scripted, bar_at, broker, config, et, long, make_runner, minute_bars

    sim = broker(faults=FaultPlan(partial_p=1.0), seed=3)  # every fill of more than one contract is partial
    strat = Scripted()
    cfg = config("[sizing]\nmax_risk_per_trade = {default = 100}\n")
    runner = make_runner(tmp_path, strat, sim, cfg=cfg)
    strat.plan[et("2026-11-24", "10:00")] = long(stop_ticks=12)
    seen_partial = False
    for b in [bar_at(et("2026-11-24", "09:59")), *minute_bars("2026-11-24", "10:00", "10:20")]:
        sim.on_bar(b)
        runner.run_once(b)
        runner.events.sync()
        view = replay(tmp_path / "events.jsonl").positions.get((strat.name, "MES"))
        if view is not None:
            assert (view.state, view.qty) == (runner.position_state, runner.position_qty), b.end
            seen_partial = seen_partial or 0 < view.qty < 6  # part filled, the rest still working
    assert seen_partial and runner.position_qty == 6
    runner.close()
