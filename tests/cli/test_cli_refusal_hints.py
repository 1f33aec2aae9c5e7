"""The first refusal of each kind says why and how to change it: one line per kind, after the summary.

The gates and the risk defaults stay fail-closed; what a newcomer gets is the key that decided
(a missing score, the stop limit, the budget, the throttle) and the ``--set`` that changes it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from statebot.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample-mes-1m.csv"

NO_SCORES = '''
from statebot import Signal


class NoScores:
    name = "no-scores"

    def on_bar(self, bar, ctx):
        return Signal(side="LONG", stop_ticks=8) if ctx.may_enter and ctx.position_qty == 0 else None
'''


@pytest.fixture
def module_name(request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"hint_strategy_{request.node.name.replace('[', '_').replace(']', '_')}"
    yield name
    sys.modules.pop(name, None)


def refused(err: str, prefix: str = "statebot sim") -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"{prefix}: refused ")]


def test_a_signal_without_scores_is_told_the_gate_refused_it_and_how_to_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module_name: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / f"{module_name}.py").write_text(NO_SCORES, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["sim", "--strategy", f"{module_name}:NoScores", "--start", "2026-11-24", "--end", "2026-11-24"]) == 0
    out, err = capsys.readouterr()
    assert "entries refused       gate_DVS" in out
    (line,) = refused(err)
    assert line.startswith("statebot sim: refused gate_DVS (")
    assert "[gates] dvs_threshold 0.80" in line and "dvs=1" in line and "--set gates.dvs_threshold=" in line


def test_es_at_the_default_budget_is_told_the_budget_and_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--symbol", "ES", "--start", "2026-11-24", "--end", "2026-11-24"]) == 0
    out, err = capsys.readouterr()
    trades = next(line for line in out.splitlines() if line.startswith("trades"))
    assert trades.split()[1] == "0"
    (line,) = refused(err)
    assert line.startswith("statebot sim: refused one_contract_exceeds_budget (")
    assert "max_risk_per_trade (default 15 USD)" in line and "--set sizing.max_risk_per_trade.default=USD" in line


def test_the_throttle_says_which_keys_paused_it_in_sim_and_in_the_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--bars", str(SAMPLE)]) == 0
    sim = refused(capsys.readouterr().err)
    assert main(["run", "--adapter", "sim", "--bars", str(SAMPLE), "--strategy", "sma-cross"]) == 0
    dry = refused(capsys.readouterr().err, "statebot run")
    assert len(sim) == 1 and sim[0].startswith("statebot sim: refused throttled (1239): ")
    assert "max_consecutive_losses 4" in sim[0] and "--set throttle." in sim[0]
    assert [line.removeprefix("statebot run") for line in dry] == [line.removeprefix("statebot sim") for line in sim]


def test_a_run_without_refusals_prints_no_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--strategy", "orb", "--bars", str(SAMPLE)]) == 0
    assert refused(capsys.readouterr().err) == []
