"""A simulation's summary comes from the one fold of its log (``run_record``, the fold keeping
the run's ``RunHistory``), and it equals what the live run holds: the summary computed from
the log alone is the live run's, and its trades, equity, throttle and kill switch are the
runner's own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from statebot import SmaCross, simulate
from statebot.app.simrun import SimSetup, report_from_log, run_setup, summary_table
from statebot.config.model import Config
from statebot.app.simulation import summarize
from statebot.core.engine.history import RunHistory
from statebot.feeds import SyntheticBars
from statebot.journal.log import KILL_SWITCH, SESSION_TRANSITION, THROTTLE_TRANSITION, EventLog, iter_events
from statebot.journal.replay import run_record
from tests.runner_helpers import broker, config, events, make_runner

STRICT = config("[throttle]\nmax_consecutive_losses = 1\n[kill_switch]\ndaily_loss_limit_usd = 10\n")


def test_the_summary_computed_from_the_log_alone_is_the_live_runs(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, SmaCross(fast=5, slow=20), sim, equity="20000", cfg=STRICT)
    live = simulate(SyntheticBars(start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 27), seed=3), runner, sim)
    assert live.kill_switch_events and live.throttle_events  # the case has both to tell
    from_log = summarize(tmp_path / "events.jsonl", bars=live.bars, decisions=live.decisions)
    assert from_log == live
    # and it is what the runner holds
    assert from_log.final_equity == runner.equity
    assert len(from_log.trades) == runner.learning.metrics(runner.name).trades
    assert [e["to"] for e in from_log.throttle_events][-1] == runner.throttle_state
    assert sum(e["to"] == "TRIPPED" for e in from_log.kill_switch_events) == len(runner.killswitch.trips)
    runner.close()


def test_a_summary_after_a_restart_covers_only_its_own_run(tmp_path: Path) -> None:
    sim = broker()
    bars = list(SyntheticBars(start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 24), seed=5))
    runner = make_runner(tmp_path, SmaCross(fast=5, slow=20), sim)
    first = simulate(bars[:400], runner, sim)
    runner.close()
    runner = make_runner(tmp_path, SmaCross(fast=5, slow=20), sim)
    head = runner.events.head.seq
    second = simulate(bars[400:], runner, sim)
    runner.close()
    assert summarize(tmp_path / "events.jsonl", after_seq=head, bars=second.bars, decisions=second.decisions) == second
    assert first.events + second.events == len(events(tmp_path))
    assert first.trades + second.trades == summarize(tmp_path / "events.jsonl").trades


def test_the_fold_keeps_the_runs_record_only_when_asked_and_after_its_start(tmp_path: Path) -> None:
    sim = broker()
    runner = make_runner(tmp_path, SmaCross(fast=5, slow=20), sim, cfg=STRICT)
    simulate(SyntheticBars(start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 24), seed=3), runner, sim)
    runner.close()
    log = [e for _, e in iter_events(tmp_path / "events.jsonl")]
    whole = run_record(tmp_path / "events.jsonl").history
    assert whole.events == len(log)
    assert [p["to"] for _, p in whole.of_type(KILL_SWITCH)] == [e.payload["to"] for e in log if e.type == KILL_SWITCH]
    half = log[len(log) // 2].seq
    tail = RunHistory(after_seq=half)
    for e in log:
        tail.record(e)
    assert tail.events == sum(e.seq > half for e in log)
    assert [p for _, p in tail.of_type(THROTTLE_TRANSITION)] == [
        e.payload for e in log if e.type == THROTTLE_TRANSITION and e.seq > half]


def test_a_scenario_report_equals_the_state_its_runner_left(tmp_path: Path) -> None:
    setup = SimSetup(config=STRICT, seed=3, start=dt.date(2026, 11, 23), end=dt.date(2026, 11, 27))
    report = run_setup(setup, tmp_path)
    assert report.log_verifies and report.trades > 0 and report.kill_switch_trips
    again = make_runner(tmp_path, SmaCross(), broker(), cfg=STRICT)  # restored: the state the run left
    assert report.trades == again.learning.metrics("sma-cross").trades
    assert report.throttle_path[-1] == again.learning.throttle_state("sma-cross")
    assert len(report.kill_switch_trips) == len(again.killswitch.trips)
    again.close()


def test_flat_at_close_comes_from_the_runners_check_at_each_close_in_the_log(tmp_path: Path) -> None:
    """A session that closed holding (the runner trips ``position_held_at_close`` right after the
    CLOSED transition) is NO in the summary; a close without that trip is yes; another reason's trip,
    or that reason away from a close, changes no row. ``statebot sim`` and the dry run read it alike."""
    ny = ZoneInfo("America/New_York")
    path = tmp_path / "events.jsonl"
    with EventLog(path, config_hash="c" * 64) as log:
        for day, held in ((23, True), (24, False), (25, False)):
            session = dt.date(2026, 11, day)
            at = dt.datetime(2026, 11, day, 9, 30, tzinfo=ny)
            log.append(at, SESSION_TRANSITION, {"from": "PRE_OPEN", "to": "TRADING", "session": session})
            if day == 25:  # that reason while the session trades is no close's
                log.append(at, KILL_SWITCH, {"from": "ARMED", "to": "TRIPPED", "reason": "position_held_at_close"})
            log.append(at + dt.timedelta(hours=6, minutes=30), SESSION_TRANSITION,
                       {"from": "TRADING", "to": "CLOSED", "session": session})
            if held:
                log.append(at + dt.timedelta(hours=6, minutes=30), KILL_SWITCH,
                           {"from": "ARMED", "to": "TRIPPED", "reason": "position_held_at_close"})
            else:
                log.append(at + dt.timedelta(hours=6, minutes=31), KILL_SWITCH,
                           {"from": "TRIPPED", "to": "TRIPPED", "reason": "disconnect"})
    assert run_record(path).history.closes == [("2026-11-23", False), ("2026-11-24", True), ("2026-11-25", True)]
    assert run_record(path, after_seq=3).history.closes == [("2026-11-24", True), ("2026-11-25", True)]
    report = report_from_log(path, 0, 0, final_flat=True, config=Config())
    assert [(s.session, s.flat_at_close) for s in report.sessions] == [
        ("2026-11-23", False), ("2026-11-24", True), ("2026-11-25", True)]
    assert not report.flat_at_every_close
    rows = summary_table(report).splitlines()[-3:]
    assert [row.split()[3] for row in rows] == ["NO", "yes", "yes"], rows
    # and the Python API's summary says the same
    assert summarize(path).closes == {"2026-11-23": False, "2026-11-24": True, "2026-11-25": True}
    assert summarize(path, after_seq=3).closes == {"2026-11-24": True, "2026-11-25": True}


def test_the_python_summary_counts_refusals_by_reason_as_the_cli_does(tmp_path: Path) -> None:
    from statebot.app.simrun import Refusals
    from statebot.app.runner import ENTER, SKIP, Decision

    decisions = {(ENTER, "signal"): 3, (SKIP, "gate_DVS"): 2, (SKIP, "throttled"): 5, ("HOLD", "no_signal"): 40,
                 (SKIP, "cutoff"): 2}
    counted = Refusals()
    for (action, reason), n in decisions.items():
        for _ in range(n):
            counted.count(Decision(action=action, reason=reason))
    sim = broker()
    runner = make_runner(tmp_path, SmaCross(fast=5, slow=20), sim)
    runner.close()
    result = summarize(tmp_path / "events.jsonl", decisions=decisions)
    assert result.refusals == counted.by_reason() == {"throttled": 5, "cutoff": 2, "gate_DVS": 2}
    assert list(result.refusals) == ["throttled", "cutoff", "gate_DVS"]  # largest first, ties by reason
