"""Where the key that seals an event log comes from: a file or an environment variable.

A key is the bytes of the file (or the variable's value, UTF-8) without
surrounding whitespace, so ``openssl rand -hex 32 > seal.key`` makes one. It
must not be empty. The writer (``EventLog(seal_key=...)``) and the verifier
(``statebot replay --key FILE``) read it the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from statebot.errors import ConfigError

if TYPE_CHECKING:
    from statebot.config.model import Config


def read_key_file(path: str | os.PathLike[str], what: str = "key file") -> bytes:
    """The key in the file at ``path``; ``ConfigError`` naming it when unreadable or empty."""
    try:
        key = Path(path).read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"{what} {os.fspath(path)}: cannot read ({exc.strerror or exc})") from None
    if not key:
        raise ConfigError(f"{what} {os.fspath(path)}: is empty")
    return key


def key_from_env(name: str, what: str = "key_env") -> bytes:
    """The key held by the environment variable ``name``; ``ConfigError`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{what}: environment variable {name} is not set or empty")
    return value.encode("utf-8")


def configured_key(config: Config) -> bytes | None:
    """The sealing key the config names (``[event_log] key_file`` or ``key_env``), or None."""
    section = config.event_log
    if section.key_file is not None:
        return read_key_file(config.resolve(section.key_file), "event_log.key_file")
    if section.key_env is not None:
        return key_from_env(section.key_env, "event_log.key_env")
    return None
