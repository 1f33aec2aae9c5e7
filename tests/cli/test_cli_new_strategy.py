"""``statebot new-strategy NAME`` writes a strategy and its test that pass as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from statebot.cli import main


def test_the_written_strategy_and_its_test_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-strategy", "my_momentum", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "my_momentum.py").is_file() and (tmp_path / "test_my_momentum.py").is_file()
    assert "statebot sim --strategy my_momentum:MyMomentum" in capsys.readouterr().out
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_momentum.py"],
                       cwd=tmp_path, capture_output=True, text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 passed" in r.stdout


def test_the_written_strategy_runs_in_sim_from_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-strategy", "fresh_idea", "--dir", str(tmp_path)]) == 0
    monkeypatch.chdir(tmp_path)
    try:
        assert main(["sim", "--strategy", "fresh_idea:FreshIdea"]) == 0
    finally:
        sys.modules.pop("fresh_idea", None)
    trades = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("trades"))
    assert int(trades.split()[1]) > 0


def test_existing_files_are_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine.py").write_text("# my work\n", encoding="utf-8")
    assert main(["new-strategy", "mine", "--dir", str(tmp_path)]) == 2
    assert (tmp_path / "mine.py").read_text(encoding="utf-8") == "# my work\n"
    assert not (tmp_path / "test_mine.py").exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exist" in err


@pytest.mark.parametrize("name", ["My-Strategy", "class", "json", "2fast"])
def test_a_name_that_cannot_be_a_module_is_one_line_and_exit_2(name: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-strategy", name, "--dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
