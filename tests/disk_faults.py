"""A disk that fills up in the middle of a write, for the event log's cut-back tests."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest


def fill_disk_mid_write(monkeypatch: pytest.MonkeyPatch, path: Path | None = None) -> None:
    """The event log's next ``os.write`` stores half its bytes, and every later one fails with ENOSPC.

    With ``path`` only writes to that file count (a start-up check's writes elsewhere go through)."""
    real_write = os.write
    calls = {"n": 0}

    def half_then_full_disk(fd: int, data: bytes) -> int:
        if path is not None and os.path.realpath(f"/proc/self/fd/{fd}") != str(path.resolve()):
            return real_write(fd, data)
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("statebot.journal.log.os.write", half_then_full_disk)
