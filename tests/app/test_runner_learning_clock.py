"""While a strategy is THROTTLED the runner asks the learning loop's clock only when a cooldown
can end: at a timed cooldown's release time, at a new session, or while a failed save waits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from statebot import BotRunner
from tests.runner_helpers import Scripted, bar_at, broker, config, drive, et, long, make_runner, minute_bars, short

DAY = "2026-11-24"


def _lose_once(runner: BotRunner, strat: Scripted, sim: Any, t0: dt.datetime) -> None:
    """Enter long at t0 and reverse at a loss two minutes later: one losing trade."""
    strat.plan[t0] = long(stop_ticks=4)
    strat.plan[t0 + dt.timedelta(minutes=2)] = short(stop_ticks=4)
    drive(runner, sim, [bar_at(t0, 6000.0), bar_at(t0 + dt.timedelta(minutes=1), 6000.0),
                        bar_at(t0 + dt.timedelta(minutes=2), 5999.5), bar_at(t0 + dt.timedelta(minutes=3), 5999.5)])


def _count_clock_calls(runner: BotRunner) -> list[dt.datetime]:
    calls: list[dt.datetime] = []
    on_time = runner.learning.on_time

    def counted(now: dt.datetime, session_date: dt.date | None = None) -> Any:
        calls.append(now)
        return on_time(now, session_date)

    runner.learning.on_time = counted  # type: ignore[method-assign]
    return calls


def test_a_timed_cooldown_ends_at_the_first_bar_at_its_release_time_and_not_before(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim, cfg=config('[throttle]\nmax_consecutive_losses = 1\ncooldown = "30m"\n'))
    t0 = et(DAY, "10:00")
    _lose_once(runner, strat, sim, t0)
    assert runner.throttle_state == "THROTTLED"
    release = runner.learning.throttle(strat.name).release_at
    assert release is not None
    calls = _count_clock_calls(runner)
    strat.want = long(stop_ticks=4)
    bars = [bar_at(t0 + dt.timedelta(minutes=k), 5999.5) for k in range(4, 40)]
    out = drive(runner, sim, bars)
    released = [b.end for b, d in out if d.reason != "throttled"]
    assert released and released[0] == min(b.end for b in bars if b.end >= release)
    assert calls == [released[0]]  # the bars in between cost no call into the learning loop
    assert runner.throttle_state == "PROBATION"
    runner.close()


def test_a_next_session_cooldown_ends_at_the_first_bar_of_the_next_session(tmp_path: Path) -> None:
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim,
                         cfg=config('[throttle]\nmax_consecutive_losses = 1\ncooldown = "next_session"\n'))
    _lose_once(runner, strat, sim, et(DAY, "10:00"))
    assert runner.throttle_state == "THROTTLED"
    calls = _count_clock_calls(runner)
    strat.want = None
    drive(runner, sim, minute_bars(DAY, "10:05", "16:00"))
    assert runner.throttle_state == "THROTTLED"
    assert len(calls) <= 3  # only at the session's own transitions (flatten, close), never per bar
    strat.want = long(stop_ticks=4)
    out = drive(runner, sim, minute_bars("2026-11-25", "09:31", "09:35"))
    assert out[0][1].reason != "throttled"
    assert runner.throttle_state == "PROBATION"
    runner.close()


def test_a_restart_while_throttled_still_ends_the_cooldown_on_time(tmp_path: Path) -> None:
    cfg = config('[throttle]\nmax_consecutive_losses = 1\ncooldown = "30m"\n')
    sim = broker()
    strat = Scripted()
    runner = make_runner(tmp_path, strat, sim, cfg=cfg)
    t0 = et(DAY, "10:00")
    _lose_once(runner, strat, sim, t0)
    release = runner.learning.throttle(strat.name).release_at
    runner.close()
    strat2 = Scripted(long(stop_ticks=4))
    again = make_runner(tmp_path, strat2, sim, cfg=cfg)
    assert again.throttle_state == "THROTTLED"
    out = drive(again, sim, [bar_at(t0 + dt.timedelta(minutes=k), 5999.5) for k in range(5, 40)])
    released = [b.end for b, d in out if d.reason != "throttled"]
    assert release is not None and released[0] >= release
    assert released[0] - release < dt.timedelta(minutes=1)
    again.close()
