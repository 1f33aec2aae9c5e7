"""The checker finds real bugs: a simulation run with a deliberately broken part writes a log
that ``check_log`` fails, naming the invariant and the first offending line, within a time cap."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import attrs
import pytest

from statebot.app import simrun
from statebot.app.runner import BotRunner
from statebot.config.model import load_config
from statebot.core.orders import Fill
from statebot.errors import ConfigError
from statebot.testing import check_log
from statebot.venues.sim import SimBroker
from tests.testing.logs import simulate, xnys

CAP_S = 60.0
"""Each variant is simulated (two sessions of one-minute bars) and checked within this many seconds."""


def failing(path: Path) -> dict[str, tuple[int, str]]:
    return {v.name: (v.line, v.detail) for v in check_log(path, xnys()).verdicts if not v.passed}


class DoubleReportingBroker(SimBroker):
    """An adapter that reports each fill twice, the second time under another execution id."""

    def drain(self) -> list[Any]:
        out: list[Any] = []
        for event in super().drain():
            out.append(event)
            if isinstance(event, Fill):
                out.append(attrs.evolve(event, exec_id=event.exec_id + ".dup"))
        return out


def test_an_adapter_reporting_a_fill_twice_under_two_execution_ids_is_caught(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simrun, "SimBroker", DoubleReportingBroker)
    began = time.monotonic()
    found = failing(simulate(tmp_path))
    assert time.monotonic() - began < CAP_S
    line, detail = found["position_is_fills"]
    assert "has fills of" in detail and ".dup" in detail, detail
    print(f"position_is_fills: line {line}: {detail}")


def test_a_runner_whose_session_flatten_is_disabled_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BotRunner, "_session_flatten", lambda self, tr, t: None)
    began = time.monotonic()
    found = failing(simulate(tmp_path))
    assert time.monotonic() - began < CAP_S
    line, detail = found["flatten_on_time"]
    assert detail.startswith("no flatten logged for session 2026-11-24"), detail
    print(f"flatten_on_time: line {line}: {detail}")


def lead_shorter_than_the_bar(tmp_path: Path) -> dict[str, Any]:
    cfg = tmp_path / "bot.toml"
    cfg.write_text('[calendar]\nflatten_lead = "2m"\n', encoding="utf-8")
    return {"config": load_config(cfg, defaults=simrun.SIM_DEFAULTS), "bar_size": dt.timedelta(minutes=5)}


def test_a_flatten_lead_shorter_than_the_bar_is_refused_before_the_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="flatten_lead"):
        simulate(tmp_path, **lead_shorter_than_the_bar(tmp_path))


def test_a_flatten_lead_shorter_than_the_bar_shows_as_a_late_flatten_every_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the config check bypassed, every flatten comes a bar late: each is marked late (so the
    flatten invariant holds) and the checker counts them, so a reviewer sees it in the table."""
    monkeypatch.setattr(simrun, "check_bar_size", lambda config, size: None)
    path = simulate(tmp_path, **lead_shorter_than_the_bar(tmp_path))
    verdicts = {v.name: v for v in check_log(path, xnys(lead_minutes=2)).verdicts}
    assert verdicts["flatten_on_time"].note == "2 flatten(s), 2 late"
