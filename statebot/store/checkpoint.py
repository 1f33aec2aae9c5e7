"""Edge: the checkpoint file, a cache of the fold of a bot's event log up to a recorded head.

``<state dir>/checkpoint.json`` (mode 0600) is one line of canonical JSON in the checked
envelope of ``statebot.store.persistence`` (``encode_envelope``; written with
``atomic_write``)::

    {"checksum":"sha256:<hex>","format":"statebot.checkpoint","saved_at":"<ISO-8601>",
     "schema_version":1,"state":{...}}

``state`` is ``checkpoint_state(BotState)``: the position machines, the kill switch, the
learning loop, equity, protective stops (the runner's distances and the protector machines
of the orders held at the venue), the run count, the clock and the log's head
(``event_log``: ``seq``, ``hash``). ``restore_checkpoint`` loads it into fresh machines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from statebot.core.engine.fold import BotState, Bracket, update_bracket
from statebot.core.fsm.position import PositionMachine
from statebot.core.instruments import instrument
from statebot.core.orders import Fill
from statebot.store.persistence import decode_envelope, encode_envelope

CHECKPOINT_FORMAT = "statebot.checkpoint"
CHECKPOINT_SCHEMA_VERSION = 1
CHECKPOINT_FILENAME = "checkpoint.json"


def encode_checkpoint(state: Mapping[str, Any], saved_at: dt.datetime) -> bytes:
    """The file's bytes for ``state`` (plain JSON data, no floats)."""
    return encode_envelope(state, saved_at, format=CHECKPOINT_FORMAT, version=CHECKPOINT_SCHEMA_VERSION)


def read_checkpoint(path: Path) -> dict[str, Any] | None:
    """The checked ``state`` in the file at ``path``; None when there is no file.

    Raises ``StateCorrupt`` (reason ``empty``, ``not_json``, ``wrong_type``,
    ``unknown_schema``, ``unknown_version`` or ``checksum_mismatch``).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return decode_envelope(raw, str(path), format=CHECKPOINT_FORMAT, version=CHECKPOINT_SCHEMA_VERSION, what="checkpoint")


def checkpoint_state(state: BotState, *, clock: dt.datetime) -> dict[str, Any]:
    """The checkpoint of ``state`` (the fold up to its head) as JSON-ready data."""
    ks = state.killswitch
    return {
        "run": state.run,
        "clock": clock.isoformat(),
        "event_log": {"seq": state.seq, "hash": state.hash},
        "equity": None if state.equity is None else str(state.equity),
        "positions": [m.to_dict() for m in state.book.machines()],  # flat ones too: their execution ids
        "unowned": {"fills": [_fill_dict(f) for f in state.book.unowned_fills()],
                    "exec_ids": list(state.book.unowned_exec_ids())},
        "brackets": [b.to_dict(*key) for key, b in state.brackets.items()],
        "protectors": state.protection.to_dict(),
        "killswitch": ks.to_dict(),
        "learning": state.learning.export_to_dict(),
        "session": {"state": state.session, "date": state.session_date.isoformat() if state.session_date else None},
        "throttles": dict(sorted(state.throttles.items())),
    }


def restore_checkpoint(state: BotState, snap: Mapping[str, Any], instruments: Mapping[str, Any]) -> None:
    """Load ``snap`` (from ``checkpoint_state``) into ``state``'s fresh machines.

    Raises ``KeyError``/``TypeError``/``ValueError``/``ArithmeticError``/``StateCorrupt`` for
    malformed data (nothing useful is left: the caller starts again from the log).
    """
    state.run = int(snap["run"])
    state.equity = None if snap["equity"] is None else Decimal(snap["equity"])
    for data in snap["positions"]:
        state.book.restore(PositionMachine.from_dict(data, instrument(str(data["symbol"]), instruments)))
    unowned = snap.get("unowned") or {"fills": [], "exec_ids": []}  # absent from checkpoints written before it
    state.book.restore_unowned((_fill_from(f) for f in unowned["fills"]), (str(e) for e in unowned["exec_ids"]))
    for b in snap["brackets"]:
        key = (str(b["strategy"]), str(b["symbol"]))
        state.brackets[key] = Bracket.from_dict(b)
        update_bracket(state.brackets[key], state.book.machine(*key))
    state.protection.restore(snap.get("protectors") or [])  # absent from checkpoints written before protectors
    state.killswitch.restore(snap["killswitch"])
    state.learning.load_from_dict(snap["learning"])
    session = snap["session"]
    state.session = session["state"]
    state.session_date = dt.date.fromisoformat(session["date"]) if session["date"] else None
    state.throttles = {str(k): str(v) for k, v in snap["throttles"].items()}
    state.clock = dt.datetime.fromisoformat(snap["clock"])
    state.seq, state.hash = int(snap["event_log"]["seq"]), str(snap["event_log"]["hash"])


def _fill_dict(f: Fill) -> dict[str, Any]:
    return {"exec_id": f.exec_id, "order_id": f.order_id, "strategy": f.strategy, "symbol": f.symbol, "qty": f.qty,
            "price_ticks": f.price_ticks, "commission": str(f.commission), "at": f.at.isoformat()}


def _fill_from(d: Mapping[str, Any]) -> Fill:
    return Fill(exec_id=str(d["exec_id"]), order_id=str(d["order_id"]), strategy=str(d["strategy"]),
                symbol=str(d["symbol"]), qty=int(d["qty"]), price_ticks=int(d["price_ticks"]),
                commission=Decimal(str(d["commission"])), at=dt.datetime.fromisoformat(str(d["at"])))
