"""The price guard between a feed and the runner: bad prints refused, real gaps followed, jumps flagged in live mode."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from statebot.app.live import LiveSession
from statebot.config.model import BarChecksConfig, parse_config
from statebot.core.instruments import instrument
from statebot.core.time.clock import Bar
from statebot.errors import ConfigError
from statebot.feeds.guard import BAD_PRICE, PRICE_JUMP, PriceGuard
from tests.runner_helpers import Scripted, bar_at, broker, et, events, make_runner

MES = instrument("MES")


def steady(n: int, start: dt.datetime | None = None, price: float = 6000.0) -> list[Bar]:
    """``n`` one-minute bars, each 4 ticks (1 point) high to low, around ``price``."""
    t = start or et("2026-11-24", "10:00")
    return [bar_at(t + dt.timedelta(minutes=i), price) for i in range(n)]


def fed(guard: PriceGuard, bars: list[Bar]) -> None:
    for b in bars:
        assert guard.check(b) is None


@pytest.mark.parametrize("low", [0.01, 1e-300])
def test_a_price_that_rounds_to_no_ticks_is_refused_whatever_the_settings(low: float) -> None:
    guard = PriceGuard(MES, max_jump_ranges=0)
    problem = guard.check(bar_at(et("2026-11-24", "10:00"), 6000.0, low=low))
    assert problem is not None and problem.refused and problem.reason == BAD_PRICE
    assert "MES prices are positive" in problem.detail and guard.refused == 1


@pytest.mark.parametrize("spike", [60000.0, 1e300])
def test_one_absurd_bar_is_refused_and_the_next_normal_bar_is_accepted(spike: float) -> None:
    guard = PriceGuard(MES)
    history = steady(20)
    fed(guard, history)
    t = history[-1].end
    problem = guard.check(bar_at(t + dt.timedelta(minutes=1), 6000.0, high=spike, close=6000.0))
    assert problem is not None and problem.refused and problem.reason == PRICE_JUMP
    assert guard.check(bar_at(t + dt.timedelta(minutes=2), 6000.0)) is None
    assert guard.refused == 1


def test_a_new_level_that_holds_for_a_second_bar_is_a_gap_and_is_followed() -> None:
    guard = PriceGuard(MES, max_jump_ranges=10)
    fed(guard, steady(20))
    t = et("2026-11-24", "11:00")
    first = guard.check(bar_at(t, 6100.0))
    assert first is not None and first.refused
    assert guard.check(bar_at(t + dt.timedelta(minutes=1), 6100.25)) is None
    assert guard.check(bar_at(t + dt.timedelta(minutes=2), 6100.5)) is None


def test_the_multiple_of_recent_ranges_is_the_threshold() -> None:
    guard = PriceGuard(MES, max_jump_ranges=10)  # mean range 4 ticks: 40 ticks = 10 points
    fed(guard, steady(20))
    t = et("2026-11-24", "11:00")
    assert guard.check(bar_at(t, 6009.0)) is None  # high 6009.5: 38 ticks from 6000
    assert guard.check(bar_at(t + dt.timedelta(minutes=1), 6009.0 + 11)) is not None


def test_no_jump_is_judged_before_a_few_bars_were_seen() -> None:
    guard = PriceGuard(MES, window=20)
    assert guard.check(bar_at(et("2026-11-24", "10:00"), 6000.0)) is None
    assert guard.check(bar_at(et("2026-11-24", "10:01"), 9000.0)) is None


def test_flagged_jumps_are_counted_and_the_bar_is_used() -> None:
    guard = PriceGuard(MES, on_jump="flag")
    fed(guard, steady(20))
    problem = guard.check(bar_at(et("2026-11-24", "11:00"), 6000.0, high=60000.0))
    assert problem is not None and not problem.refused and guard.flagged == 1 and guard.refused == 0


def test_zero_ranges_turns_the_jump_check_off() -> None:
    guard = PriceGuard(MES, max_jump_ranges=0)
    fed(guard, steady(20) + [bar_at(et("2026-11-24", "11:00"), 60000.0)])


def test_the_default_refuses_in_simulation_and_flags_in_live_mode() -> None:
    checks = BarChecksConfig()
    assert checks.guard(MES, live=False).on_jump == "refuse"
    assert checks.guard(MES, live=True).on_jump == "flag"
    assert parse_config('[bar_checks]\non_jump = "refuse"').bar_checks.guard(MES, live=True).on_jump == "refuse"


class _QuietVenue:
    """Just enough of an ``IBKRAdapter`` for ``LiveSession.step``: disconnected, handing over queued bars."""

    connected = False

    def __init__(self) -> None:
        self.queued: list[Bar] = []

    def reconnect_if_due(self, now: dt.datetime) -> bool:
        return False

    def bars(self, now: dt.datetime) -> list[Any]:
        out, self.queued = [SimpleNamespace(bar=b) for b in self.queued], []
        return out

    def open_bar_end(self) -> None:
        return None


def _live(tmp_path: Path, on_jump: str = "default") -> tuple[LiveSession, _QuietVenue, Any]:
    runner = make_runner(tmp_path, Scripted(), broker(), start=et("2026-11-24", "09:00"))
    venue = _QuietVenue()
    guard = parse_config(f'[bar_checks]\non_jump = "{on_jump}"').bar_checks.guard(runner.instrument, live=True)
    wall = SimpleNamespace(t=et("2026-11-24", "10:00"))
    loop = LiveSession(runner, venue, mode="OBSERVE", bar_minutes=1, now=lambda: wall.t,  # type: ignore[arg-type]
                       sleep=lambda s: None, guard=guard)
    return loop, venue, wall


def test_live_mode_flags_a_jump_by_default_and_the_strategy_still_sees_the_bar(tmp_path: Path) -> None:
    loop, venue, wall = _live(tmp_path)
    bars = steady(21, et("2026-11-24", "10:00"))
    bars[-1] = bar_at(bars[-1].end, 6000.0, high=60000.0)
    for b in bars:
        venue.queued.append(b)
        wall.t = b.end
        loop.step()
    assert len(loop.runner.strategy.seen) == 21
    flagged = events(tmp_path, "BAR_FLAGGED")
    assert [e["payload"]["reason"] for e in flagged] == [PRICE_JUMP]
    loop.runner.close()


def test_a_refused_live_bar_still_moves_the_clock_to_its_end(tmp_path: Path) -> None:
    loop, venue, wall = _live(tmp_path, on_jump="refuse")
    bars = steady(21, et("2026-11-24", "10:00"))
    bars[-1] = bar_at(bars[-1].end, 6000.0, high=60000.0)
    for b in bars:
        venue.queued.append(b)
        wall.t = b.end - dt.timedelta(seconds=30)  # the loop's own heartbeat stays behind the bar's end
        loop.step()
    assert len(loop.runner.strategy.seen) == 20 and loop.runner.now == bars[-1].end
    assert [e["payload"]["reason"] for e in events(tmp_path, "BAR_REJECTED")] == [PRICE_JUMP]
    loop.runner.close()


def test_bad_guard_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="window"):
        PriceGuard(MES, window=0)
    with pytest.raises(ConfigError, match="on_jump"):
        PriceGuard(MES, on_jump="ignore")  # type: ignore[arg-type]
    assert PriceGuard(MES, max_jump_ranges=Decimal("2.5")).max_jump_ranges == Decimal("2.5")
