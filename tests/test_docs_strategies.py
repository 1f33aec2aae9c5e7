"""docs/strategies.md's worked example works as written: the module simulates, its test passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from statebot.cli import main

DOC = Path(__file__).resolve().parent.parent / "docs" / "strategies.md"
TEXT = DOC.read_text(encoding="utf-8")
PYTHON = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
SHELL = re.findall(r"```sh\n(.*?)```", TEXT, flags=re.S)
TOML = re.findall(r"```toml\n(.*?)```", TEXT, flags=re.S)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    module, test = PYTHON
    (tmp_path / "breakout.py").write_text(module, encoding="utf-8")
    (tmp_path / "test_breakout.py").write_text(test, encoding="utf-8")
    return tmp_path


def test_the_page_shows_the_module_its_test_and_the_command() -> None:
    assert len(PYTHON) == 2 and "class Breakout" in PYTHON[0] and "def test_" in PYTHON[1]
    assert SHELL == ["statebot sim --strategy breakout:Breakout\n",
                     "statebot sim --strategy breakout:Breakout -p lookback=60 -p stop_ticks=8\n"]


@pytest.mark.parametrize("command", SHELL)
def test_the_worked_example_simulates_from_its_folder(command: str, example: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(example)
    try:
        assert main(command.split()[1:]) == 0
    finally:
        sys.modules.pop("breakout", None)
    trades = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("trades"))
    assert int(trades.split()[1]) > 0


def test_the_config_example_runs_the_worked_example_with_its_params(example: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (example / "bot.toml").write_text(TOML[0], encoding="utf-8")
    monkeypatch.chdir(example)
    try:
        assert main(["sim", "--config", "bot.toml"]) == 0
        from_file = capsys.readouterr().out
        assert main(["sim", "--strategy", "breakout:Breakout", "-p", "lookback=60"]) == 0
    finally:
        sys.modules.pop("breakout", None)
    assert "(breakout:Breakout on MES)" in from_file
    assert from_file.splitlines()[1:] == capsys.readouterr().out.splitlines()[1:]


def test_the_worked_example_test_passes(example: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_breakout.py"],
                       cwd=example, capture_output=True, text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout
