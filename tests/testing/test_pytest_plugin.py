"""statebot's pytest plugin, used as a bot author would: a project with one test file and no
configuration gets the fixtures and the marker, and a broken bot fails the marked test."""

from __future__ import annotations

import subprocess
import sys

import pytest

USER_TESTS = '''
import datetime as dt
from decimal import Decimal

import pytest

from statebot import Signal
from statebot.core.strategy.protocol import get_strategy
from statebot.feeds.synthetic import SyntheticBars

DAY = dt.date(2026, 11, 24)


class AlwaysLong:
    """Keeps asking to be long, through the flatten and the close."""

    name = "always-long"

    def on_bar(self, bar, ctx):
        return Signal(side="LONG", stop_ticks=8, dvs=Decimal(1), eqs=Decimal(1))


@pytest.mark.statebot_invariants
def test_sma_cross_trades_a_day_and_restarts_within_the_invariants(statebot_runner, statebot_venue):
    bars = list(SyntheticBars(start=DAY, end=DAY))
    runner = statebot_runner(get_strategy("sma-cross", fast=3, slow=6))
    runner.run_bars(bars[:200], statebot_venue)
    runner.close()
    again = statebot_runner(get_strategy("sma-cross", fast=3, slow=6))  # a restart on the same state and log
    again.run_bars(bars[200:], statebot_venue)
    assert again.session_state == "CLOSED" and again.position_qty == 0


@pytest.mark.statebot_invariants
def test_a_strategy_signalling_through_the_flatten_is_held_to_the_close(statebot_runner, statebot_venue):
    runner = statebot_runner(AlwaysLong())
    runner.run_bars(SyntheticBars(start=DAY, end=DAY), statebot_venue)
    assert runner.position_qty == 0


def test_the_clock_is_frozen_at_the_session_open(statebot_clock, statebot_runner, statebot_start):
    assert statebot_clock.now == statebot_start == dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.UTC)
    runner = statebot_runner(AlwaysLong())
    runner.run_heartbeat()
    assert runner.session_state == "TRADING"
    statebot_clock.advance(dt.timedelta(hours=6, minutes=26))  # 15:56 New York
    runner.run_heartbeat()
    assert (runner.now, runner.session_state) == (statebot_clock.now, "FLATTENING")


@pytest.mark.statebot_invariants
def test_marked_without_a_runner():
    pass
'''

BROKEN_ADAPTER = '''
import datetime as dt

import attrs
import pytest

from statebot.core.orders import Fill
from statebot.core.strategy.protocol import get_strategy
from statebot.feeds.synthetic import SyntheticBars
from statebot.venues.sim import SimBroker


class DoubleReporting(SimBroker):
    """A broken adapter: each fill is reported twice, the second time under another execution id."""

    def drain(self):
        out = []
        for event in super().drain():
            out.append(event)
            if isinstance(event, Fill):
                out.append(attrs.evolve(event, exec_id=event.exec_id + ".again"))
        return out


@pytest.fixture
def statebot_venue(statebot_config, statebot_start):  # this module's bots trade through the broken adapter
    return DoubleReporting(start=statebot_start, instruments=statebot_config.instrument.specs(),
                           commission=statebot_config.instrument.commission(statebot_config.commission))


@pytest.mark.statebot_invariants
def test_a_bot_whose_adapter_reports_fills_twice(statebot_runner, statebot_venue):
    runner = statebot_runner(get_strategy("sma-cross", fast=3, slow=6))
    runner.run_bars(SyntheticBars(start=dt.date(2026, 11, 24), end=dt.date(2026, 11, 24)), statebot_venue)
'''


def test_a_project_gets_the_fixtures_and_the_marker_with_no_configuration(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bot=USER_TESTS, test_broken=BROKEN_ADAPTER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::Warning")
    result.assert_outcomes(passed=3, failed=2)
    out = result.stdout.str()
    assert "PytestUnknownMarkWarning" not in out
    result.stdout.fnmatch_lines([
        "*_ test_marked_without_a_runner _*",
        "marked statebot_invariants, but the test opened no runner with the statebot_runner fixture: nothing was checked",
    ])
    result.stdout.fnmatch_lines([
        "*_ test_a_bot_whose_adapter_reports_fills_twice _*",
        "events.jsonl: position_is_fills: line *: order * for +1 has fills of +2 (execution *.again)",
    ])
    assert "Traceback" not in out and "statebot/" not in out.replace("statebot/testing/pytest_plugin", "")


def test_the_marker_is_the_plugins_own_and_strict_markers_accept_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked="import pytest\n\n@pytest.mark.statebot_invariants\ndef test_x(): pass\n")
    result = pytester.runpytest_subprocess("--strict-markers", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.statebot_invariants: after the test*(statebot's plugin)"])


def test_loading_the_plugin_imports_no_other_statebot_module() -> None:
    code = ("import sys, statebot.testing.pytest_plugin as p; "
            "print(sorted(m for m in sys.modules if m.startswith('statebot')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['statebot', 'statebot.testing', 'statebot.testing.pytest_plugin']"


def test_the_clock_without_freezegun_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from statebot.errors import ConfigError
    from statebot.testing.fixtures import DEFAULT_START, SessionClock

    monkeypatch.setitem(sys.modules, "freezegun", None)
    with pytest.raises(ConfigError, match="statebot_clock fixture needs freezegun"):
        SessionClock(DEFAULT_START)
