"""``statebot sim --html``: the page and its plots, and a one-line error without matplotlib."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from statebot.cli import main


def test_html_report_has_an_equity_curve_and_a_session_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    assert main(["sim", "--end", "2026-11-24", "--html", str(out)]) == 0
    page = (out / "index.html").read_text()
    assert "equity.png" in page and "timeline.png" in page and "net P&amp;L" in page
    for png in ("equity.png", "timeline.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG")


def test_html_without_matplotlib_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["sim", "--html", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install '.[plots]'" in err[0]
    assert not (tmp_path / "r").exists()
