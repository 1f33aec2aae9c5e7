"""A progress bar for long runs, shown only on an interactive terminal.

Nothing is written when the stream is not a TTY or when ``CI`` is set, so
logs stay clean. Redraws are limited to a few per second.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


class Progress:
    """Counts work done out of ``total`` (or open-ended when ``total`` is None).

    Use as a context manager; ``advance(n)`` is cheap enough to call per bar.
    """

    def __init__(self, total: int | None, label: str = "", *, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)()) and not os.environ.get("CI")
        self.enabled = enabled
        self.total = total
        self.label = label
        self.done = 0
        self._next_draw = 0.0
        self._started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.enabled:
            now = time.monotonic()
            if now >= self._next_draw:
                self._next_draw = now + 0.2
                self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self._started, 1e-9)
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            text = f"\r{self.label} [{bar:<30}] {frac:6.1%} {self.done:,}/{self.total:,} ({rate:,.0f}/s)"
        else:
            text = f"\r{self.label} {self.done:,} ({rate:,.0f}/s)"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
