"""The runner's snapshot file: what a restarted ``BotRunner`` needs besides the learning state.

``<state dir>/runner_state.json`` (mode 0600), JSON only, written with the same
atomic helper as the learning state (``statebot.persistence.atomic_write``)::

    {"format": "statebot.runner_state", "schema_version": 1,
     "saved_at": "<ISO-8601>", "checksum": "sha256:<hex>", "state": {...}}

``state`` holds the position machines (quantities, live orders, open trips),
the kill switch (state, trips, reject streak, the day's net P&L), the clock,
equity, protective stops, and the event log's head (``seq``, ``hash``) when the
snapshot was written: a log that ends before that head was cut, and a restart
says so loudly.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from statebot.errors import StateCorrupt
from statebot.persistence import canonical_json, checksum_of

RUNNER_STATE_FORMAT = "statebot.runner_state"
RUNNER_SCHEMA_VERSION = 1
RUNNER_STATE_FILENAME = "runner_state.json"


def encode_runner_state(state: dict[str, Any], saved_at: dt.datetime) -> bytes:
    """The file's bytes for ``state`` (plain JSON data, no floats)."""
    envelope: dict[str, Any] = {
        "format": RUNNER_STATE_FORMAT,
        "schema_version": RUNNER_SCHEMA_VERSION,
        "saved_at": saved_at.isoformat(),
        "state": state,
    }
    envelope["checksum"] = checksum_of(envelope)
    canonical_json(envelope)  # refuses floats and NaN before anything is written
    return (json.dumps(envelope, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")


def _refuse_float(text: str) -> Any:
    raise ValueError(f"float {text} in the runner state (money is a decimal string)")


def read_runner_state(path: Path) -> dict[str, Any] | None:
    """The checked ``state`` in the file at ``path``; None when there is no file.

    Raises ``StateCorrupt`` (reason ``empty``, ``not_json``, ``wrong_type``,
    ``unknown_schema``, ``unknown_version`` or ``checksum_mismatch``).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    where = str(path)
    if not raw.strip():
        raise StateCorrupt(f"runner state {where} is empty", reason="empty", path=where)
    try:
        envelope = json.loads(raw.decode("utf-8"), parse_float=_refuse_float, parse_constant=_refuse_float)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StateCorrupt(f"runner state {where} is truncated or not JSON: {exc}", reason="not_json", path=where) from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("state"), dict):
        raise StateCorrupt(f"runner state {where} is not a state object", reason="wrong_type", path=where)
    if envelope.get("format") != RUNNER_STATE_FORMAT:
        raise StateCorrupt(f"runner state {where} has format {envelope.get('format')!r}", reason="unknown_schema", path=where)
    if envelope.get("schema_version") != RUNNER_SCHEMA_VERSION:
        raise StateCorrupt(f"runner state {where} has schema_version {envelope.get('schema_version')!r}; "
                           f"this statebot reads {RUNNER_SCHEMA_VERSION}", reason="unknown_version", path=where)
    if envelope.get("checksum") != checksum_of(envelope):
        raise StateCorrupt(f"runner state {where} fails its checksum: altered or partly written",
                           reason="checksum_mismatch", path=where)
    state: dict[str, Any] = envelope["state"]
    return state
