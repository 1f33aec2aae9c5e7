"""Start-up checks of the state folder and the event log, before a runner touches either.

A bot whose state folder or log cannot be written would otherwise run to the
end of the day with every save failing (and a kill-switch trip for each run of
failures); a second bot on a folder in use would leave files behind before the
lock refused it. ``check_files_usable`` refuses both at once, in one line:

- the state folder exists or can be created, is a folder, and a file can be
  created, written (one block: a full disk is refused too) and removed in it; the checkpoint and the lock, when
  present, are files that can be opened for reading and writing;
- the state folder's lock and the event log are not held by another process
  (``StateInUse``);
- the event log, when present, is a file that can be opened for appending;
  otherwise its folder exists or can be created, and a file can be created in it.

Nothing is left behind by the checks except the folders a runner would create
anyway. Raises ``FileAccessError`` naming the path and the OS error.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from statebot.errors import FileAccessError, StateInUse
from statebot.store.checkpoint import CHECKPOINT_FILENAME
from statebot.store.persistence import LOCK_FILENAME

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]



def check_files_usable(state_dir: str | os.PathLike[str], event_log: str | os.PathLike[str]) -> None:
    """Refuse a state folder or event log a runner could not use; see the module docstring."""
    folder, log = Path(state_dir), Path(event_log)
    _writable_folder(folder, "state folder")
    state_file = folder / CHECKPOINT_FILENAME
    lock = folder / LOCK_FILENAME
    for path, what in ((state_file, "checkpoint"), (lock, "state folder lock")):
        if path.exists() or path.is_symlink():
            with _opened(path, what, os.O_RDWR) as fd:
                if path == lock:
                    _not_locked(fd, f"state folder {folder} is in use by another process (lock {lock})")
    if log.exists() or log.is_symlink():
        with _opened(log, "event log", os.O_RDWR | os.O_APPEND) as fd:
            _not_locked(fd, f"event log {log} is in use by another process")
    else:
        _writable_folder(log.parent, "event log folder")


def _writable_folder(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise FileAccessError(f"{what} {folder}: exists and is not a folder") from None
    except OSError as exc:
        raise FileAccessError(f"{what} {folder}: cannot create ({exc.strerror})") from None
    if not folder.is_dir():
        raise FileAccessError(f"{what} {folder}: not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".statebot-probe-", dir=folder)
    except OSError as exc:
        raise FileAccessError(f"{what} {folder}: cannot write ({exc.strerror})") from None
    try:
        # a full disk may still create an empty file; one block written shows there is room
        os.write(fd, b"\0" * 4096)
    except OSError as exc:
        raise FileAccessError(f"{what} {folder}: cannot write ({exc.strerror})") from None
    finally:
        os.close(fd)
        os.unlink(probe)


@contextlib.contextmanager
def _opened(path: Path, what: str, flags: int) -> Iterator[int]:
    if path.is_dir():
        raise FileAccessError(f"{what} {path}: is a folder, not a file")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileAccessError(f"{what} {path}: cannot open for reading and writing ({exc.strerror})") from None
    try:
        yield fd
    finally:
        os.close(fd)


def _not_locked(fd: int, message: str) -> None:
    if fcntl is None:  # pragma: no cover - non-POSIX
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StateInUse(message) from None
    fcntl.flock(fd, fcntl.LOCK_UN)
