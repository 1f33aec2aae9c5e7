"""statebot's pytest plugin: fixtures and a marker for testing a bot built on statebot.

pytest loads it by itself in every project where statebot is installed (the ``pytest11``
entry point ``statebot``): no conftest line, no ``-p``. Loading it costs nothing: this module
imports no statebot module until a test asks for one of its fixtures (docs/testing.md).

Fixtures (override any of them in your conftest.py, e.g. ``statebot_config`` with your bot's):

- ``statebot_start``: the instant the venue, the runner and the clock start at (default
  ``DEFAULT_START``, an ordinary XNYS session's open, 2026-11-24 09:30 New York);
- ``statebot_config``: the bot's ``Config`` (default ``Config()``: MES on XNYS);
- ``statebot_venue``: a simulated venue (``SimBroker``, seed 0, no faults) for the config's instrument;
- ``statebot_runner``: call it with a strategy for a ``BotRunner`` on ``statebot_venue`` in the
  test's temporary folder (call it again after ``close()`` for a restart on the same state and log);
  every runner it opened is closed after the test;
- ``statebot_clock``: wall time frozen at ``statebot_start`` (freezegun): ``now``, ``advance(delta)``,
  ``move_to(t)``; ``run_heartbeat()`` and ``LiveClock`` read it.

Marker ``@pytest.mark.statebot_invariants``: after the test passes, every event log its
``statebot_runner`` runners wrote is checked against every lifecycle invariant
(``statebot.testing.check_log``, with the runner's calendar, flatten lead and entry cut-off);
a violation fails the test naming the invariant and the first offending line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

MARKER = "statebot_invariants"
_RUNNERS = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: after the test, every event log written by its statebot_runner runners must keep every "
        "lifecycle invariant of statebot.testing (statebot's plugin)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    if item.get_closest_marker(MARKER) is not None:
        from statebot.testing.fixtures import check_runners

        problem = check_runners(item.stash.get(_RUNNERS, None))
        if problem:
            pytest.fail(problem, pytrace=False)
    return result


@pytest.fixture
def statebot_start() -> Any:
    """The instant (aware, UTC) the venue, the runner and the clock start at."""
    from statebot.testing.fixtures import DEFAULT_START

    return DEFAULT_START


@pytest.fixture
def statebot_config() -> Any:
    """The bot's config (``statebot.config.model.Config``); override it with your own."""
    from statebot.config.model import Config

    return Config()


@pytest.fixture
def statebot_venue(statebot_config: Any, statebot_start: Any) -> Any:
    """A simulated venue (``SimBroker``) for the config's instrument and commission."""
    from statebot.testing.fixtures import make_venue

    return make_venue(statebot_config, statebot_start)


@pytest.fixture
def statebot_runner(request: pytest.FixtureRequest, tmp_path: Any, statebot_venue: Any, statebot_config: Any,
                    statebot_start: Any) -> Iterator[Any]:
    """Call with a strategy (and ``BotRunner`` options) for a runner in the test's temporary folder."""
    from statebot.testing.fixtures import RunnerFactory

    factory = RunnerFactory(tmp_path, statebot_venue, statebot_config, statebot_start)
    request.node.stash[_RUNNERS] = factory
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def statebot_clock(statebot_start: Any) -> Iterator[Any]:
    """Wall time frozen at ``statebot_start`` (needs freezegun) until the test ends."""
    from statebot.errors import ConfigError
    from statebot.testing.fixtures import SessionClock

    try:
        clock = SessionClock(statebot_start)
    except ConfigError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield clock
    finally:
        clock.stop()
