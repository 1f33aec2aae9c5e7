"""`statebot diagrams` on the command line: files written, live highlights, one-line errors."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from statebot.cli import main
from statebot.journal.log import EventLog

ROOT = Path(__file__).resolve().parents[2]


def session_log(tmp_path: Path, to: str) -> Path:
    path = tmp_path / "events.jsonl"
    with EventLog(path, config_hash="c" * 64) as log:
        log.append(dt.datetime(2026, 11, 24, 20, 55, tzinfo=dt.timezone.utc), "SESSION_TRANSITION",
                   {"from": "TRADING", "to": to, "session": "2026-11-24"})
    return path


def test_live_review_from_an_event_log_highlights_the_current_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagrams", "--events", str(session_log(tmp_path, "FLATTENING"))]) == 0
    out = capsys.readouterr().out
    assert "# State machines (live states)" in out
    assert "class FLATTENING s_active" in out and "class TRADING s_default" in out
    assert "- **FLATTENING**" in out
    assert f"read from `{tmp_path / 'events.jsonl'}`" in out


def test_live_review_with_out_writes_live_states_md(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagrams", "--events", str(session_log(tmp_path, "CLOSED")), "--out", str(tmp_path / "review")]) == 0
    assert "class CLOSED s_active" in (tmp_path / "review" / "live-states.md").read_text()


def test_an_unreadable_event_log_is_one_line_on_stderr_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagrams", "--events", str(session_log(tmp_path, "LUNCH"))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("statebot diagrams: error: ") and "'LUNCH' is not a state of session" in err


def test_events_and_state_dir_are_exclusive(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "statebot", "diagrams", "--events", "a", "--state-dir", "b"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


def test_svg_without_graphviz_is_a_clear_error_or_writes_svgs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    code = main(["diagrams", "--root", str(ROOT), "--out", str(tmp_path), "--svg"])
    if shutil.which("dot") is None:
        assert code == 2 and "--svg needs graphviz's `dot`" in capsys.readouterr().err
    else:
        assert code == 0 and (tmp_path / "session.svg").read_text().lstrip().startswith("<?xml")


def test_marked_but_undeclared_invariants_are_written_and_pointed_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from statebot.review import invariants
    from statebot.cli import diagrams as cli
    from statebot.core.fsm.table import MachineSpec, Transition

    toy = MachineSpec(name="toy", states=("A", "B"), initial="A", transitions=(Transition(trigger="go", source="A", dest="B", why="w"),))
    monkeypatch.setattr(cli, "all_specs", lambda: (toy,))
    monkeypatch.setattr(invariants, "SUBJECTS", ())
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_toy.py").write_text(
        'import pytest\n\n\n@pytest.mark.invariant("toy never goes back", machine="toy")\ndef test_a():\n    pass\n'
    )
    assert main(["diagrams", "--root", str(tmp_path), "--out", str(tmp_path / "docs")]) == 0
    assert "toy never goes back *(marked in tests; not declared)*" in (tmp_path / "docs" / "invariants.md").read_text()
    err = capsys.readouterr().err
    assert "note: 1 invariant(s) are marked in tests but not declared" in err and "'toy never goes back'," in err
