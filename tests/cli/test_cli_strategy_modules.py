"""``--strategy module:Class`` finds the user's module without PYTHONPATH: the current folder, a scenario's folder."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from statebot.cli import main

MODULE = '''
from statebot import Signal


class Always:
    name = "always"

    def on_bar(self, bar, ctx):
        return Signal(side="LONG", stop_ticks=8, dvs=1, eqs=1) if ctx.may_enter else None
'''


@pytest.fixture
def module_name(request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"user_strategy_{request.node.name.replace('[', '_').replace(']', '_')}"
    yield name
    sys.modules.pop(name, None)


def test_a_module_in_the_current_folder_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module_name: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / f"{module_name}.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["sim", "--strategy", f"{module_name}:Always"]) == 0
    out = capsys.readouterr().out
    assert f"({module_name}:Always on MES)" in out
    trades = next(line for line in out.splitlines() if line.startswith("trades"))
    assert int(trades.split()[1]) > 0
    assert str(tmp_path) not in sys.path  # found for this import only


def test_a_module_beside_the_scenario_is_found_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   module_name: str) -> None:
    folder = tmp_path / "research"
    folder.mkdir()
    (folder / f"{module_name}.py").write_text(MODULE, encoding="utf-8")
    (folder / "mine.toml").write_text(f'name = "mine"\n[sim]\nstrategy = "{module_name}:Always"\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["sim", str(folder / "mine.toml")]) == 0


def test_a_missing_module_names_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["sim", "--strategy", "no_such_module_here:Thing"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no_such_module_here" in err and str(tmp_path) in err
