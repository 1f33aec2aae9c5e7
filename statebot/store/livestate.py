"""Current machine states for a live risk review, read from an event log or a state folder.

Only reading, and deliberately small: the formats are owned by the event log
(``statebot.journal.log``, whose reader verifies the hash chain) and the
persistence code (``statebot.store.checkpoint`` and ``statebot.store.persistence``,
whose readers check the checksum); both are read through their own readers. When the shapes change,
adapt the few names below. This only
finds the last state each machine instance reached.

Result shape: machine name -> instance label -> state, where the label is
``""`` for a machine with one instance and ``strategy`` or ``strategy/symbol``
for per-strategy or per-position machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from statebot.errors import DocsError, EventLogError, StateCorrupt
from statebot.journal.log import iter_events
from statebot.core.fsm.table import MachineSpec
from statebot.store.checkpoint import CHECKPOINT_FILENAME, read_checkpoint
from statebot.store.persistence import DEFAULT_FILENAME, read_state_file

States = dict[str, dict[str, str]]

# Event types that carry a machine's new state in payload["to"]; any other type
# ending in _TRANSITION names its machine by its prefix (ORDER_TRANSITION -> order).
TRANSITION_EVENTS: dict[str, str] = {
    "SESSION_TRANSITION": "session",
    "POSITION_TRANSITION": "position",
    "THROTTLE_TRANSITION": "throttle",
    "KILL_SWITCH": "kill_switch",
}
INSTANCE_KEYS = ("strategy", "symbol")
EVENT_LOG_NAMES = ("events.jsonl",)
LEARNING_STATE_NAMES = (DEFAULT_FILENAME,)
CHECKPOINT_NAMES = (CHECKPOINT_FILENAME,)
THROTTLE_MACHINE = "throttle"


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _spec(name: str, specs: Sequence[MachineSpec], where: str) -> MachineSpec:
    for spec in specs:
        if _key(spec.name) == _key(name):
            return spec
    raise DocsError(f"{where}: machine {name!r} is not one statebot knows ({', '.join(s.name for s in specs)})")


def _record(states: States, spec: MachineSpec, label: str, state: Any, where: str) -> None:
    if state not in spec.states:
        raise DocsError(f"{where}: {state!r} is not a state of {spec.name} ({', '.join(spec.states)})")
    states.setdefault(spec.name, {})[label] = state


def states_from_events(path: Path, specs: Sequence[MachineSpec], states: States | None = None) -> States:
    """The last ``to`` of every machine instance in an event log (later lines win).

    The log is read with ``statebot.journal.log.iter_events``, so its hash chain is
    verified on the way; a torn last line (a bot writing right now) is left
    out. A broken chain, an unreadable file or a state the machine does not
    have raises ``DocsError``.
    """
    states = {} if states is None else states
    try:
        for line, event in iter_events(path, allow_torn_tail=True):
            kind = event.type
            machine = TRANSITION_EVENTS.get(kind) or (kind[: -len("_TRANSITION")].lower() if kind.endswith("_TRANSITION") else None)
            if machine is None:
                continue
            where = f"{path}:{line}"
            payload = event.payload
            if "to" not in payload:
                raise DocsError(f"{where}: {kind} has no 'to' in its payload")
            label = "/".join(str(payload[k]) for k in INSTANCE_KEYS if k in payload)
            _record(states, _spec(machine, specs, where), label, payload["to"], where)
    except EventLogError as exc:
        raise DocsError(f"{path}: {exc} (`statebot replay {path}` says more)") from None
    except OSError as exc:
        raise DocsError(f"cannot read event log {path}: {exc.strerror or exc}") from None
    return states


def states_from_learning_state(path: Path, specs: Sequence[MachineSpec], states: States | None = None) -> States:
    """Per-strategy throttle states from a saved learning state.

    The file is read with ``statebot.store.persistence.read_state_file`` (format,
    version and checksum checked); each strategy's state is
    ``state.strategies.<name>.throttle.state``. Anything else raises ``DocsError``.
    """
    states = {} if states is None else states
    try:
        data = read_state_file(path)
    except StateCorrupt as exc:
        raise DocsError(str(exc)) from None
    except OSError as exc:
        raise DocsError(f"cannot read learning state {path}: {exc.strerror or exc}") from None
    if data is None:
        raise DocsError(f"learning state {path} does not exist")
    strategies = data.get("strategies")
    if not isinstance(strategies, dict):
        raise DocsError(f"{path}: no 'strategies' object in its state")
    spec = _spec(THROTTLE_MACHINE, specs, str(path))
    for name in sorted(strategies):
        entry = strategies[name]
        throttle = entry.get("throttle") if isinstance(entry, dict) else None
        state = throttle.get("state") if isinstance(throttle, dict) else None
        _record(states, spec, str(name), state, f"{path} strategy {name!r} throttle")
    return states


def states_from_checkpoint(path: Path, specs: Sequence[MachineSpec], states: States | None = None) -> States:
    """The kill switch, each position and each strategy's throttle as a bot's checkpoint holds
    them (``statebot.store.checkpoint.read_checkpoint``: format, version and checksum checked)."""
    states = {} if states is None else states
    try:
        data = read_checkpoint(path)
    except StateCorrupt as exc:
        raise DocsError(str(exc)) from None
    except OSError as exc:
        raise DocsError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    if data is None:
        raise DocsError(f"checkpoint {path} does not exist")
    try:
        _record(states, _spec("kill_switch", specs, str(path)), "", data["killswitch"]["state"], f"{path} kill switch")
        for m in data["positions"]:
            _record(states, _spec("position", specs, str(path)), f"{m['strategy']}/{m['symbol']}", m["state"],
                    f"{path} position {m['strategy']}/{m['symbol']}")
        for name, entry in sorted(data["learning"]["strategies"].items()):
            _record(states, _spec(THROTTLE_MACHINE, specs, str(path)), str(name), entry["throttle"]["state"],
                    f"{path} strategy {name!r} throttle")
    except (KeyError, TypeError, AttributeError) as exc:
        raise DocsError(f"{path}: not a checkpoint's shape ({exc!r})") from None
    return states


def states_from_state_dir(folder: Path, specs: Sequence[MachineSpec]) -> States:
    """States from a bot's state folder: its event log, then its checkpoint or learning state
    (a cache of the log's fold, read last: later wins)."""
    if not folder.is_dir():
        raise DocsError(f"state folder {folder} does not exist")
    states: States = {}
    read = False
    for name in EVENT_LOG_NAMES:
        if (folder / name).is_file():
            states_from_events(folder / name, specs, states)
            read = True
    for name in CHECKPOINT_NAMES:
        if (folder / name).is_file():
            states_from_checkpoint(folder / name, specs, states)
            read = True
    for name in LEARNING_STATE_NAMES:
        if (folder / name).is_file():
            states_from_learning_state(folder / name, specs, states)
            read = True
    if not read:
        names = EVENT_LOG_NAMES + CHECKPOINT_NAMES + LEARNING_STATE_NAMES
        raise DocsError(f"state folder {folder} holds none of {', '.join(names)}")
    return states
