"""SIGINT and SIGTERM as a request to stop, checked between bars: never an exception in mid-write.

While installed, the first signal only sets ``signum`` (and prints one line);
the command stops at its next safe point (between bars), flushes the event
log, closes the runner and exits ``128 + signum`` (130 for SIGINT, 143 for
SIGTERM: ``statebot.cli.exit_codes``). A repeated signal calls ``on_repeat``
(``statebot run``: cut the shutdown flatten's wait short) and never raises, even
after the command has finished stopping (the handler then stays installed until the process exits).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from statebot.cli.exit_codes import EXIT_SIGINT, EXIT_SIGTERM

_EXIT = {signal.SIGINT: EXIT_SIGINT, signal.SIGTERM: EXIT_SIGTERM}


class StopSignals:
    """Install with ``with StopSignals("statebot sim", "stopping after this bar") as stop:``; ``stop()``
    is True once SIGINT or SIGTERM arrived; ``exit_code`` is then 130 or 143."""

    def __init__(self, command: str, what_next: str, on_repeat: Callable[[], None] | None = None,
                 repeat_note: str = "already stopping") -> None:
        self.command = command
        self.what_next = what_next
        self.on_repeat = on_repeat
        self.repeat_note = repeat_note
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    @property
    def exit_code(self) -> int:
        return _EXIT.get(signal.Signals(self.signum), 128 + self.signum) if self.signum is not None else 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            print(f"{self.command}: {signal.Signals(signum).name} again: {self.repeat_note}", file=sys.stderr, flush=True)
            if self.on_repeat is not None:
                self.on_repeat()
            return
        self.signum = signum
        print(f"{self.command}: {signal.Signals(signum).name} received, {self.what_next}", file=sys.stderr, flush=True)

    def install(self) -> None:
        for sig in _EXIT:
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        """Put the previous handlers back, unless a stop was asked for: then the command is about to exit
        ``128 + signum``, and a repeat in that gap is only noted (never a kill by the signal, never
        ``on_repeat``: nothing is left to cut short)."""
        if self.signum is not None:
            self.on_repeat = None
            return
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def __enter__(self) -> StopSignals:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()
