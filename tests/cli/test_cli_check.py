"""``statebot check``: the chain as replay verifies it, then one verdict per invariant; exit 0/1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.cli.exit_codes import EXIT_ENVIRONMENT, EXIT_EXPECTATION_FAILED, EXIT_OK, EXIT_USAGE
from statebot.testing import INVARIANTS
from tests.testing.logs import edited, first, read, simulate, write


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(tmp_path_factory.mktemp("sim"))


def test_a_sound_log_passes_every_invariant_and_exits_0(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(log)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "chain verified; calendar XNYS, flatten lead 5m" in out
    for name in INVARIANTS:
        assert f"\n{name:<22} pass" in out
    assert out.rstrip().endswith(f"all {len(INVARIANTS)} invariants hold")


def test_a_broken_invariant_exits_1_naming_its_first_line(log: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    events = read(log)
    i = first(events, "TRADE_CLOSED")
    bad = write(edited(events, i, net_pnl="100"), tmp_path / "bad.jsonl")
    assert main(["check", str(bad)]) == EXIT_EXPECTATION_FAILED
    out = capsys.readouterr().out
    assert f"net_pnl                FAIL    line {events[i][0]}: trade" in out
    assert f"1 of {len(INVARIANTS)} invariants fail: net_pnl" in out


def test_json_gives_every_verdict(log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = read(log)
    i = first(events, "SESSION_EXIT_FLATTEN")
    bad = write(edited(events, i, late=True), tmp_path / "bad.jsonl")
    assert main(["check", str(bad), "--json"]) == EXIT_EXPECTATION_FAILED
    data = json.loads(capsys.readouterr().out)
    assert (data["passed"], data["calendar"], data["flatten_lead_s"]) == (False, "XNYS", 300)
    verdicts = {v["name"]: v for v in data["invariants"]}
    assert list(verdicts) == list(INVARIANTS)
    assert (verdicts["flatten_on_time"]["passed"], verdicts["flatten_on_time"]["line"]) == (False, events[i][0])
    assert verdicts["net_pnl"] == {"name": "net_pnl", "text": INVARIANTS["net_pnl"], "passed": True, "violations": 0,
                                   "line": None, "detail": None, "note": "11 trade(s)"}


def test_the_config_gives_the_flatten_lead_the_log_is_judged_by(log: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text('[calendar]\nflatten_lead = "10m"\n', encoding="utf-8")
    assert main(["check", str(log), "--config", str(cfg)]) == EXIT_EXPECTATION_FAILED
    assert "flatten_on_time        FAIL" in capsys.readouterr().out


def test_a_broken_chain_exits_1_naming_the_line(log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = lines[4].replace('"2026-', '"2025-', 1)
    bad = tmp_path / "edited.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    assert main(["check", str(bad)]) == EXIT_EXPECTATION_FAILED
    err = capsys.readouterr().err
    assert err.startswith(f"statebot check: {bad}: chain broken at") and "line 5" in err


def test_a_log_sealed_with_another_key_exits_1(log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "key"
    key.write_text("0123456789abcdef0123456789abcdef\n", encoding="utf-8")
    key.chmod(0o600)
    assert main(["check", str(log), "--key", str(key)]) == EXIT_EXPECTATION_FAILED
    assert "line 1" in capsys.readouterr().err


def test_an_unknown_calendar_is_one_usage_line(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(log), "--calendar", "NOPE"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("statebot check: error: unknown calendar 'NOPE'") and err.count("\n") == 1


def test_a_missing_log_is_an_environment_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "none.jsonl")]) == EXIT_ENVIRONMENT
    assert "none.jsonl" in capsys.readouterr().err
