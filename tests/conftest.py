"""Shared test setup: Hypothesis profiles and helpers every test module may use.

Profiles: ``dev`` (default, quick), ``ci`` (selected when CI=true: more examples,
no deadline, printed statistics) and ``slow`` (for ``-m slow`` runs). Pick one
explicitly with HYPOTHESIS_PROFILE=NAME.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]  # tests/testing/test_pytest_plugin.py runs a user's project with statebot's plugin

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=150, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("slow", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(params=["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def process_tz(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Run the test under several process time zones: nothing may depend on local time."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()
