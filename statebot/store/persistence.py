"""Crash-safe learning state: nothing lost, nothing torn, nothing silent.

The file (``<state dir>/learning_state.json``, mode 0600) is one line of
canonical JSON (sorted keys, no spaces, ASCII)::

    {"checksum":"sha256:<hex>","format":"statebot.learning_state","saved_at":"<ISO-8601>",
     "schema_version":1,"state":{...}}

``checksum`` is the sha256 of the canonical JSON of every other key: the
file's own bytes without the checksum member, so a save encodes the state
once. ``statebot state show --json`` pretty-prints it for people. A save
writes a temp file in the same folder, flushes and fsyncs it, ``os.replace``s
it over the old file and fsyncs the folder: after a crash the file is the old
state or the new one, never a mix. With ``fsync=False`` (simulations with a
throwaway state folder only) the file is still replaced atomically before the
change takes effect, but a power loss may lose it.

``DurableLearningLoop`` wraps a ``LearningLoop``:

- a throttle transition is saved before the call that caused it returns; a
  transition that loosens the throttle (to PROBATION or ACTIVE) does not
  allow entries until it is on disk;
- metrics are saved after every trade (``save_every_trades=1``, the default);
  with ``save_every_trades=N`` up to N-1 trades may be lost in a crash, so a
  runner using it calls ``save(now)`` at each session close;
- a trade fed again after a restart (same ``trade_id``) is not counted twice;
- a missing file is a fresh start; a corrupt, truncated, empty, unknown-version
  or wrong-type file is moved aside (``learning_state.json.corrupt-<UTC
  stamp>``), logged as an error, reported as ``startup_error`` (a
  ``StateCorrupt``), and the loop starts FAIL CLOSED: every strategy
  THROTTLED with reason ``state_corrupt`` until an operator resets it;
- a failed save is logged as a warning, recorded as an event and retried at
  once and again on the next call; ``max_consecutive_failures`` failed saves
  in a row call ``on_persistent_failure(reason)`` (wire it to the kill switch)
  or, without a callback, raise ``StateSaveFailed``.

The state folder is resolved to an absolute path and may not be inside the
installed statebot package. The default is ``$STATEBOT_STATE_DIR`` or
``./state``. A lock file keeps a second process (a CLI reset while the bot
runs) from writing the same state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from statebot.errors import ConfigError, StateCorrupt, StateInUse, StateSaveFailed
from statebot.journal.log import STATE_LOAD_FAILED, STATE_SAVE_FAILED, STATE_SAVED
from statebot.core.learning.loop import LearningLoop, LearningUpdate
from statebot.core.fsm.throttle import (
    STATE_CORRUPT,
    THROTTLED,
    ThrottleRules,
    ThrottleTransition,
)
from statebot.core.learning.outcomes import TradeOutcome

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("statebot.persistence")

STATE_FORMAT = "statebot.learning_state"
FILE_SCHEMA_VERSION = 1
DEFAULT_FILENAME = "learning_state.json"
ENV_STATE_DIR = "STATEBOT_STATE_DIR"
FILE_MODE = 0o600


# folder ----------------------------------------------------------------------


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$STATEBOT_STATE_DIR`` if set, else ``./state`` (relative to the working folder), absolute."""
    env = os.environ if environ is None else environ
    return resolve_state_dir(env.get(ENV_STATE_DIR) or "state")


def resolve_state_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute (``~`` expanded, symlinks resolved).

    Raises ``ConfigError`` when it is inside the installed statebot package
    (an upgrade or reinstall would delete the state).
    """
    folder = Path(path).expanduser().resolve()
    package = Path(__file__).resolve().parents[1]
    if folder == package or folder.is_relative_to(package):
        raise ConfigError(
            f"state folder {folder} is inside the installed statebot package {package}; "
            f"choose a folder outside it (e.g. ./state or ${ENV_STATE_DIR})"
        )
    return folder


# file format -----------------------------------------------------------------


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII: the bytes the checksum covers."""
    return _canonical(value).encode("ascii")


def checksum_of(envelope: Mapping[str, Any]) -> str:
    body = {k: v for k, v in envelope.items() if k != "checksum"}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


def encode_envelope(state: Mapping[str, Any], saved_at: dt.datetime, *, format: str, version: int) -> bytes:
    """A state file's bytes: ``state`` inside an envelope with format, schema version,
    save time and a sha256 checksum, as one line of canonical JSON. Floats and NaN are
    refused (``ValueError`` naming where the float is)."""
    where = _float_path(state)
    if where is not None:
        # the reader refuses floats; refusing them here keeps a save from writing a file that cannot load
        raise ValueError(f"float at state{where} (money and ticks are decimal strings): a state file holds no floats")
    # the canonical JSON of {format, saved_at, schema_version, state}, keys in sorted order, built around one encode
    body = (f'{{"format":{_canonical(format)},"saved_at":{_canonical(saved_at.isoformat())},'
            f'"schema_version":{_canonical(version)},"state":{_canonical(state)}}}').encode("ascii")
    checksum = "sha256:" + hashlib.sha256(body).hexdigest()
    # "checksum" sorts before every other key: the whole file is the canonical JSON of the envelope
    return b'{"checksum":"' + checksum.encode("ascii") + b'",' + body[1:] + b"\n"


def _float_path(value: Any) -> str | None:
    """Where the first float inside ``value`` is (``.key[index]...``; ``""`` for ``value``
    itself), or None when there is none."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return None
    if isinstance(value, float):
        return ""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if type(item) is not str:
                inner = _float_path(item)
                if inner is not None:
                    return f".{key}{inner}"
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if type(item) is not str:
                inner = _float_path(item)
                if inner is not None:
                    return f"[{i}]{inner}"
    return None


def encode_state(state: Mapping[str, Any], saved_at: dt.datetime) -> bytes:
    """The learning state file's bytes for ``state`` (``LearningLoop.export_to_dict()``)."""
    return encode_envelope(state, saved_at, format=STATE_FORMAT, version=FILE_SCHEMA_VERSION)


def _refuse_float(text: str) -> Any:
    raise ValueError(f"float {text} in a state file (money and ticks are decimal strings)")


def decode_envelope(raw: bytes, path: str, *, format: str, version: int, what: str = "state file") -> dict[str, Any]:
    """The ``state`` inside an envelope written by ``encode_envelope``, checked.

    Raises ``StateCorrupt`` whose ``reason`` is ``empty``, ``not_json``,
    ``wrong_type``, ``unknown_schema``, ``unknown_version`` or ``checksum_mismatch``;
    messages start with ``what`` and ``path``.
    """
    where = f"{what} {path}"
    if not raw.strip():
        raise StateCorrupt(f"{where} is empty", reason="empty", path=path)
    try:
        envelope = json.loads(raw.decode("utf-8"), parse_float=_refuse_float, parse_constant=_refuse_float)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StateCorrupt(f"{where} is truncated or not JSON: {exc}", reason="not_json", path=path) from None
    if not isinstance(envelope, dict):
        raise StateCorrupt(f"{where} holds a JSON {type(envelope).__name__}, not an object", reason="wrong_type", path=path)
    if envelope.get("format") != format:
        raise StateCorrupt(f"{where} has format {envelope.get('format')!r}, not {format!r}", reason="unknown_schema", path=path)
    found = envelope.get("schema_version")
    if found != version:
        raise StateCorrupt(f"{where} has schema_version {found!r}; this statebot reads {version}",
                           reason="unknown_version", path=path)
    if envelope.get("checksum") != checksum_of(envelope):
        raise StateCorrupt(
            f"{where} fails its checksum (stored {envelope.get('checksum')!r}): altered or partly written",
            reason="checksum_mismatch", path=path,
        )
    state = envelope.get("state")
    if not isinstance(state, dict):
        raise StateCorrupt(f"{where}: 'state' is a {type(state).__name__}, not an object", reason="wrong_type", path=path)
    return state


def decode_state(raw: bytes, path: str = "<bytes>") -> dict[str, Any]:
    """The ``state`` inside a learning state file's bytes, checked (see ``decode_envelope``)."""
    return decode_envelope(raw, path, format=STATE_FORMAT, version=FILE_SCHEMA_VERSION)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Replace ``path`` with ``data`` all at once (mode 0600). Raises ``OSError``.

    A temp file in the same folder is written and ``os.replace``d over ``path``:
    another reader, or this process after a crash, sees the old bytes or the new
    ones. With ``fsync`` (the default) the temp file is fsynced before the
    rename and the folder after it, so the new bytes also survive a power loss;
    ``fsync=False`` skips both (simulations with a throwaway state folder only).
    """
    folder = path.parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        # the original error is what matters; the temp file may already be gone
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if fsync:
        fsync_dir(folder)


def read_state_file(path: Path) -> dict[str, Any] | None:
    """The checked ``state`` of the file at ``path``; None when there is no file.
    Raises ``StateCorrupt`` (see ``decode_state``); other ``OSError``s propagate."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return decode_state(raw, str(path))


def move_aside(path: Path, now: dt.datetime) -> Path:
    """Rename ``path`` to ``<name>.corrupt-<UTC stamp>`` beside it (never overwriting); return the new path."""
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.rename(path, target)
    fsync_dir(path.parent)
    return target


# events ----------------------------------------------------------------------

FRESH = "fresh"
LOADED = "loaded"
CORRUPT = "corrupt"


@attrs.frozen(kw_only=True)
class PersistenceEvent:
    """Something the runner must put in its event log, typed as ``statebot.journal.log`` types it.

    ``type`` is ``STATE_LOAD_FAILED`` (a corrupt file moved aside; ``moved_to``
    set), ``STATE_SAVE_FAILED`` (``gave_up`` once ``max_consecutive_failures``
    was reached) or ``STATE_SAVED`` (only for the save that ends a run of
    failures). ``at`` is the clock time given by the caller; ``error`` says it
    for people. ``payload()`` carries every key the event log requires.
    """

    type: str
    at: dt.datetime
    error: str
    path: str
    consecutive_failures: int = 0
    moved_to: str | None = None
    gave_up: bool = False

    def payload(self) -> dict[str, Any]:
        """The event-log payload (strings, ints and bools only)."""
        data: dict[str, Any] = {"error": self.error, "path": self.path, "consecutive_failures": self.consecutive_failures}
        if self.type == STATE_LOAD_FAILED:
            data["moved_to"] = self.moved_to
        if self.type == STATE_SAVE_FAILED:
            data["gave_up"] = self.gave_up
        return data


# the folder lock ---------------------------------------------------------------

LOCK_FILENAME = DEFAULT_FILENAME + ".lock"
"""One lock file per state folder: a runner and ``statebot state reset`` never write it at once."""


def lock_state_dir(state_dir: Path) -> int | None:
    """Take the state folder's lock (creating the folder, mode 0700); returns the lock's fd
    (close it to release; None where POSIX locks are missing). Raises ``StateInUse`` when
    another process holds it."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if fcntl is None:  # pragma: no cover - non-POSIX
        return None
    lock_path = state_dir / LOCK_FILENAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StateInUse(f"state folder {state_dir} is in use by another process (lock {lock_path})") from None
    return fd


# the durable loop ------------------------------------------------------------


class DurableLearningLoop:
    """A ``LearningLoop`` whose state survives crashes (see the module docstring).

    Build it with ``open``. Every driver returns only after the state it
    changed is on disk (or the failure was recorded and handled). Call
    ``close`` (or use it as a context manager) to release the folder lock.
    ``fsync=False`` (simulations with a throwaway state folder only) still
    replaces the file atomically before a change takes effect, but a power
    loss may lose it; ``ConfigError`` unless it is a bool.
    """

    def __init__(
        self,
        loop: LearningLoop,
        state_dir: str | os.PathLike[str],
        *,
        filename: str = DEFAULT_FILENAME,
        save_every_trades: int = 1,
        save_retries: int = 1,
        max_consecutive_failures: int = 3,
        on_persistent_failure: Callable[[str], object] | None = None,
        lock: bool = True,
        fsync: bool = True,
    ) -> None:
        if not isinstance(fsync, bool):
            raise ConfigError(f"fsync {fsync!r} must be True or False")
        for name, value, low in (("save_every_trades", save_every_trades, 1), ("save_retries", save_retries, 0),
                                 ("max_consecutive_failures", max_consecutive_failures, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} {value!r} must be an int >= {low}")
        if not filename or "/" in filename or filename.startswith("."):
            raise ConfigError(f"state filename {filename!r} must be a plain file name")
        self.loop = loop
        self.state_dir = resolve_state_dir(state_dir)
        self.path = self.state_dir / filename
        self.save_every_trades = save_every_trades
        self.save_retries = save_retries
        self.max_consecutive_failures = max_consecutive_failures
        self.on_persistent_failure = on_persistent_failure
        self.fsync = fsync
        self.startup_error: StateCorrupt | None = None
        self.startup: str | None = None
        self.consecutive_failures = 0
        self._events: list[PersistenceEvent] = []
        self._trades_unsaved = 0
        self._dirty = False
        self._unsaved_release: set[str] = set()
        self._lock_fd: int | None = None
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if lock:
            self._acquire_lock()

    @classmethod
    def open(
        cls,
        state_dir: str | os.PathLike[str],
        now: dt.datetime,
        *,
        rules: ThrottleRules | None = None,
        window: int = 20,
        ewma_alpha: Decimal | str = Decimal("0.2"),
        strategies: Iterable[str] = (),
        **options: Any,
    ) -> DurableLearningLoop:
        """Load the state in ``state_dir`` (or start fresh) at clock time ``now``.

        ``startup`` becomes ``"fresh"``, ``"loaded"`` or ``"corrupt"``.
        On a corrupt file: moved aside, logged, ``startup_error`` set, the loop
        fail closed and that fail-closed state saved at once (so a restart
        stays closed). ``options`` go to the constructor. Raises ``StateInUse``
        when another process holds the folder, ``ConfigError`` for a bad folder.
        """
        loop = LearningLoop(rules, window=window, ewma_alpha=ewma_alpha, strategies=strategies)
        durable = cls(loop, state_dir, **options)
        try:
            durable._load(now)
        except BaseException:
            durable.close()
            raise
        return durable

    # pass-through queries ------------------------------------------------------

    def allows_entry(self, strategy: str) -> bool:
        """As ``LearningLoop.allows_entry``, and False while a transition that
        would allow entries again is not yet on disk."""
        if strategy in self._unsaved_release:
            return False
        return self.loop.allows_entry(strategy)

    def size_cap(self, strategy: str) -> int | None:
        """As ``LearningLoop.size_cap``; 0 while a loosening transition is unsaved."""
        if strategy in self._unsaved_release:
            return 0
        return self.loop.size_cap(strategy)

    def drain_events(self) -> tuple[PersistenceEvent, ...]:
        """Persistence events since the last drain, oldest first."""
        events, self._events = tuple(self._events), []
        return events

    @property
    def dirty(self) -> bool:
        """True while some change is not yet on disk."""
        return self._dirty

    # drivers -------------------------------------------------------------------

    def record_trade(self, outcome: TradeOutcome, now: dt.datetime, *, session_date: dt.date | None = None) -> LearningUpdate:
        """``LearningLoop.record_trade``, then save (always on a transition, else per ``save_every_trades``)."""
        update = self.loop.record_trade(outcome, now, session_date=session_date)
        if update.duplicate:
            return update
        self._dirty = True
        self._trades_unsaved += 1
        self._note(update.transitions)
        if update.transitions or self._trades_unsaved >= self.save_every_trades:
            self.save(now)
        return update

    def on_time(self, now: dt.datetime, session_date: dt.date | None = None) -> tuple[ThrottleTransition, ...]:
        """``LearningLoop.on_time``; saves when a cooldown ended, or retries a pending failed save."""
        changes = self.loop.on_time(now, session_date)
        if changes:
            self._dirty = True
            self._note(changes)
        if self._dirty and (changes or self.consecutive_failures):
            self.save(now)
        return changes

    def reset(self, strategy: str, note: str, now: dt.datetime) -> ThrottleTransition:
        """The operator reset, saved before it returns (see ``LearningLoop.reset``)."""
        change = self.loop.reset(strategy, note, now)
        self._dirty = True
        self._note((change,))
        self.save(now)
        return change

    def save(self, now: dt.datetime) -> bool:
        """Write the state now. True when it is on disk.

        A failure is logged, recorded as a ``STATE_SAVE_FAILED`` event and
        retried ``save_retries`` times at once; the state stays dirty and the
        next driver call retries. At ``max_consecutive_failures`` failed saves
        in a row, ``on_persistent_failure(reason)`` is called, or
        ``StateSaveFailed`` raised when there is no callback.
        """
        data = encode_state(self.loop.export_to_dict(), now)
        last_error: OSError | None = None
        for attempt in range(1 + self.save_retries):
            try:
                atomic_write(self.path, data, fsync=self.fsync)
            except OSError as exc:
                last_error = exc
                log.warning("learning state save to %s failed (attempt %d): %s", self.path, attempt + 1, exc)
                continue
            if self.consecutive_failures:
                self._event(STATE_SAVED, now, f"saved after {self.consecutive_failures} failed saves")
            self.consecutive_failures = 0
            self._dirty = False
            self._trades_unsaved = 0
            self._unsaved_release.clear()
            return True
        self.consecutive_failures += 1
        reason = f"learning state save to {self.path} failed {self.consecutive_failures} times in a row: {last_error}"
        gave_up = self.consecutive_failures >= self.max_consecutive_failures
        self._event(STATE_SAVE_FAILED, now, reason, gave_up=gave_up)
        if gave_up:
            log.error("%s", reason)
            if self.on_persistent_failure is None:
                raise StateSaveFailed(reason)
            self.on_persistent_failure(reason)
        return False

    def close(self) -> None:
        """Release the folder lock (the state on disk is left as it is)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> DurableLearningLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # internals -----------------------------------------------------------------

    def _note(self, changes: Iterable[ThrottleTransition]) -> None:
        for change in changes:
            if change.dest != THROTTLED:
                self._unsaved_release.add(change.strategy)
            else:
                self._unsaved_release.discard(change.strategy)

    def _event(self, kind: str, now: dt.datetime, error: str, *, moved_to: str | None = None, gave_up: bool = False) -> None:
        self._events.append(PersistenceEvent(type=kind, at=now, error=error, path=str(self.path),
                                             consecutive_failures=self.consecutive_failures, moved_to=moved_to, gave_up=gave_up))

    def _acquire_lock(self) -> None:
        if self.path.name == DEFAULT_FILENAME:
            self._lock_fd = lock_state_dir(self.state_dir)
            return
        if fcntl is None:  # pragma: no cover - non-POSIX
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateInUse(f"state folder {self.state_dir} is in use by another process (lock {lock_path})") from None
        self._lock_fd = fd

    def _remove_stale_temps(self) -> None:
        for stale in self.state_dir.glob(f".{self.path.name}.*.tmp"):
            log.info("removing %s, left by an interrupted save", stale)
            stale.unlink(missing_ok=True)

    def _load(self, now: dt.datetime) -> None:
        if self._lock_fd is not None:
            self._remove_stale_temps()
        try:
            state = read_state_file(self.path)
            if state is None:
                self.startup = FRESH
                log.info("no learning state at %s: fresh start", self.path)
                return
            self.loop.load_from_dict(state)
        except StateCorrupt as exc:
            self.startup = CORRUPT
            self._fail_closed(exc, now)
            return
        self.startup = LOADED
        log.info("loaded learning state of %d strategies from %s", len(self.loop.strategies), self.path)

    def _fail_closed(self, exc: StateCorrupt, now: dt.datetime) -> None:
        moved = move_aside(self.path, now)
        exc.path = str(self.path)
        exc.moved_to = str(moved)
        detail = f"{exc} (moved aside to {moved}); every strategy THROTTLED until an operator resets it"
        log.error("learning state corrupt: %s", detail)
        self.startup_error = exc
        self._event(STATE_LOAD_FAILED, now, detail, moved_to=str(moved))
        self.loop.hold_all(STATE_CORRUPT, detail, now)
        self._dirty = True
        self.save(now)
