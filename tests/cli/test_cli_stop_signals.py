"""The stop signals' handler: a repeat once the command has finished stopping is only noted, never a kill."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from statebot.cli._signals import StopSignals


@pytest.fixture
def original_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_second_ctrl_c_after_the_stop_finished_does_not_kill_the_exiting_command(
        original_handlers: None, capsys: pytest.CaptureFixture[str]) -> None:
    # the command restores its handlers in a finally, then prints its last line and returns 130: a
    # second Ctrl-C in that gap killed it by the signal (exit -2 to its parent) instead of exiting 130
    repeats: list[str] = []
    stop = StopSignals("statebot run", "stopping", on_repeat=lambda: repeats.append("cut short"))
    with stop:
        signal.raise_signal(signal.SIGINT)
    assert stop() and stop.exit_code == 130
    signal.raise_signal(signal.SIGINT)  # after restore(): noted, not raised
    signal.raise_signal(signal.SIGTERM)
    assert stop.exit_code == 130
    assert repeats == []  # nothing is left to cut short once the command has stopped
    err = capsys.readouterr().err.splitlines()
    assert err == ["statebot run: SIGINT received, stopping",
                   "statebot run: SIGINT again: already stopping",
                   "statebot run: SIGTERM again: already stopping"]


def test_without_a_signal_restore_puts_the_previous_handlers_back(original_handlers: None) -> None:
    before = signal.getsignal(signal.SIGINT)
    stop = StopSignals("statebot sim", "stopping after this bar")
    with stop:
        assert signal.getsignal(signal.SIGINT) == stop._handle
    assert signal.getsignal(signal.SIGINT) is before
    assert not stop() and stop.exit_code == 0
