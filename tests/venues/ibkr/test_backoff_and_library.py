"""Reconnect delays, and the choice of client library (ib_insync, else ib_async)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.venues.ibkr import _library
from statebot.venues.ibkr._library import LIBRARY_NAMES, client_library
from statebot.venues.ibkr.backoff import ReconnectBackoff
from statebot.errors import ConfigError, MissingDependency

# ----------------------------------------------------------------------------- backoff


def test_default_delays_double_from_one_second_up_to_a_minute() -> None:
    assert ReconnectBackoff().schedule(9) == (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0)


def test_a_very_late_attempt_stays_at_the_cap() -> None:
    assert ReconnectBackoff().delay_s(10**9) == 60.0


@pytest.mark.parametrize(
    "settings",
    [{"initial_s": 0}, {"factor": 0.5}, {"max_s": 0.5}, {"jitter": 1.0}, {"initial_s": float("nan")}],
)
def test_invalid_settings_are_config_errors(settings: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        ReconnectBackoff(**settings)


def test_attempt_zero_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        ReconnectBackoff().delay_s(0)


@given(
    st.floats(min_value=0.01, max_value=10),
    st.floats(min_value=1, max_value=4),
    st.floats(min_value=10, max_value=600),
    st.floats(min_value=0, max_value=0.99),
    st.integers(min_value=1, max_value=200),
    st.floats(min_value=0, max_value=1),
)
def test_delays_stay_in_the_jitter_band_and_under_the_cap(initial: float, factor: float, cap: float, jitter: float, attempt: int, u: float) -> None:
    """0 < delay <= max_s, within ±jitter of the un-jittered delay, and un-jittered delays never shrink."""
    backoff = ReconnectBackoff(initial_s=initial, factor=factor, max_s=cap, jitter=jitter)
    base = backoff.delay_s(attempt)
    delay = backoff.delay_s(attempt, u)
    assert 0 < delay <= cap
    assert base * (1 - jitter) * (1 - 1e-9) <= delay <= base * (1 + jitter) * (1 + 1e-9)
    assert backoff.delay_s(attempt + 1) >= base


# ----------------------------------------------------------------------------- client library


def test_ib_insync_is_chosen_when_it_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    insync, fork = types.ModuleType("ib_insync"), types.ModuleType("ib_async")
    monkeypatch.setitem(sys.modules, "ib_insync", insync)
    monkeypatch.setitem(sys.modules, "ib_async", fork)
    assert client_library() is insync


def test_ib_async_is_chosen_when_ib_insync_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    fork = types.ModuleType("ib_async")
    monkeypatch.setitem(sys.modules, "ib_insync", None)  # makes the import fail as if not installed
    monkeypatch.setitem(sys.modules, "ib_async", fork)
    assert client_library() is fork


def test_neither_library_is_a_missing_dependency_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ib_insync", None)
    monkeypatch.setitem(sys.modules, "ib_async", None)
    with pytest.raises(MissingDependency, match=r"pip install '\.\[ibkr\]' from a clone") as err:
        client_library()
    assert isinstance(err.value, ImportError)


def test_an_installed_but_broken_library_is_not_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> types.ModuleType:
        raise ModuleNotFoundError("No module named 'eventkit'", name="eventkit")

    monkeypatch.setattr(_library.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="eventkit"):
        client_library()


def test_the_installed_library_is_one_of_the_two() -> None:
    if not any(importlib.util.find_spec(name) for name in LIBRARY_NAMES):
        pytest.skip("neither ib_insync nor ib_async is installed (the ibkr extra)")
    assert client_library().__name__ in LIBRARY_NAMES
    assert hasattr(client_library(), "IB")


def test_importing_statebot_and_its_ibkr_package_imports_no_client_library() -> None:
    code = "import sys, statebot, statebot.venues.ibkr; print(sorted(n for n in ('ib_insync', 'ib_async') if n in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
