"""The progress bar: visible on a terminal, silent in logs and CI."""

from __future__ import annotations

import io

import pytest

from statebot.app.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_is_written_when_the_stream_is_not_a_terminal() -> None:
    out = io.StringIO()
    with Progress(100, "sim", stream=out) as p:
        for _ in range(100):
            p.advance()
    assert out.getvalue() == "" and p.done == 100


def test_nothing_is_written_in_ci_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    out = FakeTTY()
    with Progress(10, "sim", stream=out) as p:
        p.advance(10)
    assert out.getvalue() == ""


def test_a_terminal_sees_the_count_and_a_final_newline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    out = FakeTTY()
    with Progress(4, "sim", stream=out) as p:
        p.advance(4)
    text = out.getvalue()
    assert "4/4" in text and "100.0%" in text and text.endswith("\n")
