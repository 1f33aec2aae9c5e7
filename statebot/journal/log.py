"""The event log: what the bot did, one hash-chained JSON object per line.

Each line of an event log is the canonical JSON (sorted keys, no spaces,
UTF-8) of one ``Event``::

    {"config_hash":"…","hash":"…","payload":{…},"prev_hash":"…","seq":1,"ts":"2026-11-24T15:55:00-05:00","type":"SESSION_TRANSITION"}

``seq`` counts 1, 2, 3 ...; ``ts`` is clock time (ISO-8601 with offset);
``prev_hash`` is the previous line's ``hash`` (``GENESIS_HASH``, 64 zeros, for
line 1); ``hash`` is the sha256 (hex) of the canonical JSON of the event
without ``hash``. Changing, removing or reordering any line breaks the chain
at that line (``statebot.journal.replay.verify`` names it). Removing lines from the
END cannot be seen from the file alone: compare the head (``EventLog.head``)
with one stored elsewhere, e.g. in the state snapshot.

A keyed log (``EventLog(..., seal_key=KEY)``) adds ``"seal"``, the
HMAC-SHA256 (hex) under KEY of the line's ``hash``, between ``prev_hash`` and
``seq``. The hash covers the chain, so the seal does too; ``hash`` itself is
computed as in an unkeyed log (without ``seal``), so an unkeyed log's lines
are unchanged and a reader without the key still verifies the chain.
``iter_events(path, key=KEY)`` refuses a line without a matching seal: whoever
edits or appends lines must know the key to re-seal them.

Payload values are stored exactly: ``Decimal`` becomes its string
(``Decimal("1.25")`` -> ``"1.25"``), aware datetimes ISO-8601 with offset,
dates ISO-8601, tuples lists. Floats, naive datetimes and other objects are
refused with ``InvalidEvent``: a float cannot say which decimal it meant.

Event types and their required payload keys are ``EVENT_TYPES``; extra keys
are allowed. Types beyond these can be declared per log (``extra_types``).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import hmac
import json
import logging
import os
import re
from enum import StrEnum
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Literal

import attrs

from statebot.errors import ChainBroken, EventLogError, InvalidEvent, JournalWriteFailed, TornTail

try:  # POSIX: one writer per log file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event of every log."""

# -- event types: declared in the core (statebot.core.effects) ---------------

from statebot.core.effects import (  # noqa: F401  (re-exported: the log's types live in the core)
    SESSION_TRANSITION,
    SESSION_EXIT_FLATTEN,
    ORDER_SUBMITTED,
    ORDER_REJECTED,
    ORDER_CANCELLED,
    FILL,
    POSITION_TRANSITION,
    POSITION_MISMATCH,
    POSITION_WRITTEN_OFF,
    TRADE_CLOSED,
    LEARNING_UPDATE,
    THROTTLE_TRANSITION,
    GATE_SKIP,
    KILL_SWITCH,
    BAR_REJECTED,
    STATE_SAVED,
    STATE_SAVE_FAILED,
    STATE_LOAD_FAILED,
    EVENT_LOG_TAIL_MOVED,
    RUNNER_ERROR,
    BAR_FLAGGED,
    VENUE_CONNECTION,
    ORDER_CANCEL_REQUESTED,
    ORDER_ENDED,
    STATE_RESTORED,
    EQUITY_SET,
    SESSIONS_WITHOUT_DATA,
    PROTECTOR_TRANSITION,
    PROTECTOR_MISMATCH,
    ORDER_MODIFY_REQUESTED,
    EVENT_TYPES,
    EventType,
)

Durability = Literal["live", "simulation"]
DURABILITY_MODES: tuple[str, ...] = ("live", "simulation")
"""How an ``EventLog`` makes appends durable (the bytes written are the same under both):

- ``"live"``: each append is handed to the OS before it returns (a crash of the
  process loses nothing acknowledged); ``commit()`` fsyncs (a power loss loses
  nothing committed). The runner commits before every order, cancel and flatten
  step leaves the process, before each checkpoint and at close.
- ``"simulation"``: appends are kept in memory as whole encoded lines and handed
  to the OS when ``_BUFFER_BYTES`` are pending, at ``sync()`` (checkpoints) and at
  ``close()``, which also fsync; ``commit()`` does nothing (the venue is simulated).
"""

_BUFFER_BYTES = 1 << 20
"""A simulation's log hands its lines to the OS once this many bytes are pending."""


def validate_payload(type: str, payload: Mapping[str, Any], extra_types: Mapping[str, Iterable[str]] | None = None) -> None:
    """Raise ``InvalidEvent`` unless ``type`` is known and ``payload`` has its required keys."""
    required = EVENT_TYPES.get(type)
    if required is None and extra_types is not None and type in extra_types:
        required = frozenset(extra_types[type])
    if required is None:
        raise InvalidEvent(f"unknown event type {type!r}; known: {', '.join(sorted(EVENT_TYPES))}")
    if payload.__class__ is not dict and not isinstance(payload, Mapping):
        raise InvalidEvent(f"{type} payload {payload!r} must be a mapping")
    if required and (missing := required.difference(payload)):
        raise InvalidEvent(f"{type} payload lacks required key(s) {', '.join(sorted(missing))}")


def minutes(delta: dt.timedelta) -> Decimal:
    """``delta`` in minutes as a Decimal rounded to 0.01 (e.g. ``minutes_remaining``):
    payloads refuse floats, and ``timedelta.total_seconds() / 60`` is one."""
    return (Decimal(delta // dt.timedelta(microseconds=1)) / 60_000_000).quantize(Decimal("0.01"))


# -- canonical JSON ----------------------------------------------------------


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON-ready data that stores it exactly, or ``InvalidEvent``."""
    kind = value.__class__
    # the common exact types first; subclasses take the general path below
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return _plain_mapping(value, where)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidEvent(f"{where}: {value} is not finite")
        return str(value)
    if isinstance(value, float):
        raise InvalidEvent(f"{where}: float {value!r} refused; use Decimal (money) or int (ticks, counts)")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidEvent(f"{where}: naive datetime {value.isoformat()} refused; use an aware datetime")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return _plain_mapping(value, where)
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise InvalidEvent(f"{where}: {type(value).__name__} {value!r} cannot be stored in an event")


def _plain_mapping(value: Mapping[Any, Any], where: str) -> dict[str, Any]:
    """``_plain`` of a mapping: a new dict, its keys checked in order.

    The values of a runner payload are mostly exact str, int, bool, None and
    Decimal: those are stored here without a call per value, and the path of
    a value (``where``) is only spelled out for the others.
    """
    out = {}
    for key, item in value.items():
        if key.__class__ is not str and not isinstance(key, str):
            raise InvalidEvent(f"{where}: key {key!r} must be a string")
        kind = item.__class__
        if kind is str or kind is int or kind is bool or item is None:
            out[key] = item
        elif kind is Decimal and item.is_finite():
            out[key] = str(item)
        else:
            out[key] = _plain(item, f"{where}.{key}")
    return out


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes that are hashed and written.

    ``data`` must already be plain (see ``Event.make``); floats are refused.
    """
    return _CANONICAL.encode(data).encode("utf-8")


# json.dumps with these settings builds this encoder on every call
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_PLAIN_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False)
"""``_CANONICAL`` for data ``_plain`` built: new containers, so no cycles to look for."""
_json_str = encode_basestring
"""A str as a JSON string, exactly as ``_CANONICAL`` writes one (ensure_ascii off)."""


def _plain_encoder() -> Callable[[dict[str, Any]], str]:
    """``_PLAIN_JSON.encode`` of a dict, with the C encoder built once rather than per call
    (``JSONEncoder.encode`` builds it anew each time); the same string either way."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _PLAIN_JSON.encode
    chunks = make(None, _PLAIN_JSON.default, encode_basestring, None, ":", ",", True, False, False)
    join = "".join
    return lambda data: join(chunks(data, 0))


_plain_json = _plain_encoder()


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


# -- payload templates ---------------------------------------------------------

_TEMPLATES_PER_LOG = 64
"""A log keeps at most this many payload templates (the runner writes about a dozen shapes)."""


class _Template:
    """The canonical JSON of the payloads of one event type with one set of keys.

    A runner writes each event type with the same keys in the same order, so the
    sorted order of the keys, their JSON and the punctuation between them are
    known once: a payload is then one pass over its values (the exact types a
    runner stores, str, int, bool, None, finite Decimal, aware datetime and date,
    encoded inline; anything else through ``_plain``) and one f-string
    (``_joiner``).
    The bytes are those of ``_plain_mapping`` and ``_plain_json`` (sorted keys,
    no spaces, ensure_ascii off): JSON of an object is the JSON of its values
    put between its sorted keys. A log builds a template only for a payload the
    validating path has accepted (a known type, its required keys, every key a
    str), keyed by the type and the keys in insertion order.
    """

    __slots__ = ("format", "type", "type_json", "where")

    def __init__(self, type: str, keys: tuple[str, ...]) -> None:
        order = sorted(range(len(keys)), key=keys.__getitem__)
        # before each value in sorted order: "{" or ",", then its key's JSON and ":"; then the closing "}"
        pieces = [("," if j else "{") + _json_str(keys[i]) + ":" for j, i in enumerate(order)]
        pieces.append("}" if keys else "{}")
        self.format = _joiner(pieces, order)
        self.type = type
        self.type_json = _json_str(type)
        self.where = f"{type} payload"

    def fill(self, payload: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """``(stored payload, its canonical JSON)``; ``InvalidEvent`` for a value that cannot be stored."""
        plain: dict[str, Any] = {}
        values: list[str] = []
        add = values.append
        for key, value in payload.items():
            kind = value.__class__
            if kind is str:
                plain[key] = value
                add(_json_str(value))
            elif kind is int:
                plain[key] = value
                add(_int_json(value))
            elif kind is Decimal and value.is_finite():
                # digits, ".", "-", "E", "+": nothing JSON escapes
                text = plain[key] = str(value)
                add(f'"{text}"')
            elif kind is bool:
                plain[key] = value
                add("true" if value else "false")
            elif value is None:
                plain[key] = None
                add("null")
            elif kind is dt.datetime and value.tzinfo is not None and value.utcoffset() is not None:
                seen = _iso_seen
                if value is seen[0]:
                    text = plain[key] = seen[1]
                else:
                    text = plain[key] = value.isoformat()  # digits, "-", ":", "T", ".", "+": nothing to escape
                    _remember_iso(value, text)
                add(f'"{text}"')
            elif kind is dt.date:
                text = plain[key] = value.isoformat()
                add(f'"{text}"')
            else:
                stored = plain[key] = _plain(value, f"{self.where}.{key}")
                add(_json_str(stored) if stored.__class__ is str
                    else _plain_json(stored) if stored.__class__ is dict else _PLAIN_JSON.encode(stored))
        return plain, self.format(*values)


_int_json = int.__repr__
"""An exact int's JSON, as the C encoder writes it (``int.__repr__``)."""


def _joiner(pieces: list[str], order: list[int]) -> Callable[..., str]:
    """A function of the payload's values in insertion order returning ``pieces[0]``, the value
    ``order[0]``, ``pieces[1]``, ... and the last piece: one f-string, about a third of the cost of
    ``str.format`` with as many fields. Its source names only parameters (``v<i>``: the values; ``p<j>``:
    the pieces, bound as defaults), never a key's text."""
    values = ", ".join(f"v{i}" for i in range(len(order)))
    bound = ", ".join(f"p{j}=pieces[{j}]" for j in range(len(pieces)))
    body = "".join(f"{{p{j}}}{{v{i}}}" for j, i in enumerate(order)) + f"{{p{len(order)}}}"
    namespace: dict[str, Any] = {"pieces": pieces}
    exec(f"def join({values}{', ' if values else ''}{bound}):\n    return f'{body}'\n", namespace)
    join: Callable[..., str] = namespace["join"]
    return join


_SHARED_TEMPLATES: dict[tuple[str, ...], _Template] = {}
_SHARED_TEMPLATE_LIMIT = 256
"""Templates are a function of their type and keys alone: built once per process (a
``_joiner`` costs a compile, about 0.2 ms here) and shared by every log, up to this many."""


def _template(type: str, keys: tuple[str, ...]) -> _Template:
    """The template of ``type`` payloads with ``keys`` (in insertion order), shared."""
    shared = _SHARED_TEMPLATES.get((type, *keys))
    if shared is None:
        shared = _Template(type, keys)
        if len(_SHARED_TEMPLATES) >= _SHARED_TEMPLATE_LIMIT:
            _SHARED_TEMPLATES.clear()  # a cache: start afresh to stay bounded
        _SHARED_TEMPLATES[(type, *keys)] = shared
    return shared


_iso_seen: tuple[object, str] = (None, "")
"""The last payload datetime a template encoded and its ``isoformat()`` (a FILL's ``at`` is
usually the bar's time, given again by the next event): a datetime is immutable and held here,
so the same object has the same text. One tuple, replaced whole."""


def _remember_iso(value: dt.datetime, text: str) -> None:
    global _iso_seen
    _iso_seen = (value, text)


# -- Event -------------------------------------------------------------------


def _aware(instance: Any, attribute: Any, value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEvent(f"event ts {value!r} must be an aware datetime")


_UTC = dt.timezone.utc
_ZONES: dict[dt.timedelta, dt.timezone] = {dt.timedelta(0): _UTC}
"""One ``dt.timezone`` per UTC offset seen (a log sees one or two)."""


def _fixed_offset(value: dt.datetime) -> dt.datetime:
    """``value`` with its zone replaced by its own fixed UTC offset.

    The stored form keeps only the offset, so an event read back must compare
    equal to the one made even for a local time in a DST gap or overlap (where
    zone-aware datetimes compare unequal across zones, PEP 495).
    """
    if isinstance(value, dt.datetime) and value.tzinfo is not None and (offset := value.utcoffset()) is not None:
        zone = _ZONES.get(offset)
        if zone is None:
            zone = dt.timezone(offset)
            if len(_ZONES) < 256:
                _ZONES[offset] = zone
        if value.tzinfo is zone and value.fold == 0 and value.__class__ is dt.datetime:
            return value  # already in the stored form (e.g. every UTC time)
        return value.replace(tzinfo=zone, fold=0)
    return value


_HEX64 = re.compile("[0-9a-f]{64}").fullmatch


def _is_hex64(instance: Any, attribute: Any, value: str) -> None:
    if not (isinstance(value, str) and _HEX64(value)):
        raise InvalidEvent(f"event {attribute.name} {value!r} must be 64 lowercase hex digits")


@attrs.frozen(kw_only=True)
class Event:
    """One event as written to the log.

    ``payload`` holds the stored (plain) form: Decimals as strings, datetimes
    as ISO-8601 strings; so an event read back from a file equals the one
    that was made. Do not mutate it. ``hash`` covers every other field.
    """

    seq: int = attrs.field(validator=attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(1)))
    ts: dt.datetime = attrs.field(validator=_aware, converter=_fixed_offset)
    type: str = attrs.field(validator=attrs.validators.instance_of(str))
    payload: dict[str, Any] = attrs.field(validator=attrs.validators.instance_of(dict))
    config_hash: str = attrs.field(validator=attrs.validators.instance_of(str))
    prev_hash: str = attrs.field(validator=_is_hex64)
    hash: str = attrs.field(validator=_is_hex64)

    @classmethod
    def make(
        cls,
        *,
        seq: int,
        ts: dt.datetime,
        type: str,
        payload: Mapping[str, Any],
        config_hash: str,
        prev_hash: str = GENESIS_HASH,
        extra_types: Mapping[str, Iterable[str]] | None = None,
    ) -> Event:
        """A validated event with its hash computed.

        Raises ``InvalidEvent`` for an unknown type, a missing payload key, a
        payload value that cannot be stored exactly, or a naive ``ts``.
        """
        ts, plain, payload_json = _prepare(ts, type, payload, extra_types)
        if (seq.__class__ is int and seq >= 1 and type.__class__ is str and config_hash.__class__ is str
                and prev_hash.__class__ is str and _HEX64(prev_hash)):
            return _sealed(seq, ts, _json_str(ts.isoformat()), type, plain, payload_json, config_hash, _json_str(config_hash),
                           prev_hash)[0]
        # an unusual field: the validating constructor raises what it always has
        body = {"seq": seq, "ts": ts.isoformat(), "type": type, "payload": plain, "config_hash": config_hash, "prev_hash": prev_hash}
        return cls(seq=seq, ts=ts, type=type, payload=plain, config_hash=config_hash, prev_hash=prev_hash, hash=_digest(body))

    def body(self) -> dict[str, Any]:
        """The hashed fields as stored (everything but ``hash``)."""
        return {
            "seq": self.seq, "ts": self.ts.isoformat(), "type": self.type, "payload": self.payload,
            "config_hash": self.config_hash, "prev_hash": self.prev_hash,
        }

    def to_line(self) -> bytes:
        """The log line: canonical JSON of every field, newline-terminated."""
        return canonical_json({**self.body(), "hash": self.hash}) + b"\n"


def _prepare(
    ts: dt.datetime, type: str, payload: Mapping[str, Any], extra_types: Mapping[str, Iterable[str]] | None
) -> tuple[dt.datetime, dict[str, Any], str]:
    """``(stored ts, stored payload, its canonical JSON)`` of a valid event; ``InvalidEvent`` otherwise.

    Checks in the order ``Event.make`` always has: type and keys, ``ts``, values.
    """
    validate_payload(type, payload, extra_types)
    if not (ts.__class__ is dt.datetime and ts.tzinfo is _UTC and not ts.fold):  # UTC: aware, stored form
        _aware(None, None, ts)
        ts = _fixed_offset(ts)
    where = f"{type} payload"
    plain = _plain_mapping(payload, where) if payload.__class__ is dict else _plain(payload, where)
    return ts, plain, _plain_json(plain) if plain.__class__ is dict else _PLAIN_JSON.encode(plain)


def seal_of(key: bytes, hash: str) -> str:
    """The seal of a line whose ``hash`` is given: HMAC-SHA256 (hex) under ``key``."""
    return hmac.new(key, hash.encode("ascii"), hashlib.sha256).hexdigest()


def _sealed(
    seq: int, ts: dt.datetime, ts_json: str, type: str, plain: dict[str, Any], payload_json: str,
    config_hash: str, config_json: str, prev_hash: str, key: bytes | None = None, type_json: str | None = None,
) -> tuple[Event, bytes]:
    """The event and its log line, from fields already checked (``seq`` an int >= 1,
    ``ts`` stored form, ``type``/``config_hash`` str, ``prev_hash`` 64 hex digits);
    ``ts_json``, ``payload_json`` and ``config_json`` are their canonical JSON, ``type_json``
    too when given.

    The line is ``canonical_json`` of every field, built by hand: the top-level
    keys are fixed, so their sorted order is known (config_hash, hash, payload,
    prev_hash, seq, ts, type) and the payload is encoded once for both the
    hashed body (the same without ``hash``) and the line. With ``key`` the line
    also holds ``seal`` (``seal_of(key, hash)``), which the hash does not cover.
    """
    chained = f'"payload":{payload_json},"prev_hash":"{prev_hash}",'
    rest = f'"seq":{seq},"ts":{ts_json},"type":{_json_str(type) if type_json is None else type_json}}}'
    digest = hashlib.sha256(f'{{"config_hash":{config_json},{chained}{rest}'.encode("utf-8")).hexdigest()
    seal = "" if key is None else f'"seal":"{seal_of(key, digest)}",'
    line = f'{{"config_hash":{config_json},"hash":"{digest}",{chained}{seal}{rest}\n'.encode("utf-8")
    # the fields were checked above: skip the validators a public Event(...) runs, and set
    # each slot through its own descriptor (a third cheaper than object.__setattr__ by name)
    event = _new(Event)
    _set_seq(event, seq)
    _set_ts(event, ts)
    _set_type(event, type)
    _set_payload(event, plain)
    _set_config_hash(event, config_hash)
    _set_prev_hash(event, prev_hash)
    _set_hash(event, digest)
    return event, line


_new = object.__new__
_set_seq, _set_ts, _set_type, _set_payload, _set_config_hash, _set_prev_hash, _set_hash = (
    vars(Event)[name].__set__ for name in ("seq", "ts", "type", "payload", "config_hash", "prev_hash", "hash"))
"""The slots of ``Event`` (attrs makes it a slotted class), set without the frozen class's ``__setattr__``."""


_FIELDS = frozenset({"seq", "ts", "type", "payload", "config_hash", "prev_hash", "hash"})
_SEALED_FIELDS = _FIELDS | {"seal"}


def parse_line(raw: bytes, line: int) -> Event:
    """Decode one stored line (without its newline) into an ``Event``.

    Raises ``ChainBroken`` naming ``line`` when it is not an event whose hash
    matches its content. The chain to the previous line is not checked here,
    nor a seal (see ``iter_events``).
    """
    return _parse(raw, line)[0]


def _parse(raw: bytes, line: int, *, canonical: bool = False) -> tuple[Event, str | None]:
    """``parse_line``, also returning the line's seal (None when unkeyed); with ``canonical``
    the line must be exactly the bytes the writer writes, or ``ChainBroken`` names it."""
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ChainBroken(f"line {line}: not a JSON object ({exc})", line=line) from None
    if not isinstance(data, dict) or not (_FIELDS <= data.keys() <= _SEALED_FIELDS):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ChainBroken(f"line {line}: not an event (fields {keys})", line=line)
    if canonical:
        _check_canonical(raw, data, line)
    seal = data.pop("seal", None)
    if seal is not None and not (isinstance(seal, str) and _HEX64(seal)):
        raise ChainBroken(f"line {line}: seal {seal!r} is not 64 lowercase hex digits", line=line)
    claimed = data.pop("hash")
    try:
        # canonical lines hold no JSON floats; a tampered number must not escape as TypeError
        digest = _digest(data)
    except (TypeError, ValueError) as exc:
        raise ChainBroken(f"line {line}: not a canonical event ({exc})", line=line) from None
    if digest != claimed:
        raise ChainBroken(f"line {line}: hash does not match the content (the line was modified)", line=line)
    try:
        ts = dt.datetime.fromisoformat(data["ts"])
        event = Event(seq=data["seq"], ts=ts, type=data["type"], payload=data["payload"],
                      config_hash=data["config_hash"], prev_hash=data["prev_hash"], hash=claimed)
    except (TypeError, ValueError) as exc:
        raise ChainBroken(f"line {line}: invalid field ({exc})", line=line) from None
    return event, seal


def _check_canonical(raw: bytes, data: dict[str, Any], line: int) -> None:
    """``ChainBroken`` unless ``raw`` is the canonical JSON of ``data`` (sorted keys, no
    spaces, UTF-8, each key once) with ``ts`` as ``isoformat`` writes it."""
    try:
        expected = canonical_json(data)
        ts = data["ts"]
        ts_ok = isinstance(ts, str) and dt.datetime.fromisoformat(ts).isoformat() == ts
    except (TypeError, ValueError):
        expected, ts_ok = b"", False
    if raw != expected:
        raise ChainBroken(f"line {line}: not the canonical bytes the writer writes (re-formatted JSON, CRLF, "
                          "extra whitespace or a duplicated key)", line=line)
    if not ts_ok:
        raise ChainBroken(f"line {line}: ts {ts!r} is not written as the writer writes it", line=line)


@attrs.frozen(kw_only=True)
class Head:
    """Where a log's chain ends: the last ``seq`` and ``hash`` (0 and genesis when empty)."""

    seq: int = 0
    hash: str = GENESIS_HASH


def iter_events(
    path: str | os.PathLike[str], *, allow_torn_tail: bool = False, canonical: bool = False, key: bytes | None = None,
) -> Iterator[tuple[int, Event]]:
    """Yield ``(line_number, event)`` for each line of the log at ``path``, verifying the chain.

    Raises ``ChainBroken`` at the first line whose hash, ``seq`` (1, 2, 3 ...)
    or ``prev_hash`` is wrong, ``TornTail`` when the last line has no newline
    (unless ``allow_torn_tail``: then iteration stops before it) and
    ``OSError`` when the file cannot be read. Reads one line at a time.

    With ``canonical`` each line must also be exactly the bytes the writer
    writes; with ``key`` each line must carry the seal made with that key.
    """
    for line, event, _ in _iter_sealed(path, allow_torn_tail=allow_torn_tail, canonical=canonical, key=key):
        yield line, event


def _iter_sealed(
    path: str | os.PathLike[str], *, allow_torn_tail: bool = False, canonical: bool = False, key: bytes | None = None,
) -> Iterator[tuple[int, Event, str | None]]:
    """``iter_events``, also yielding each line's seal (None when unkeyed)."""
    head = Head()
    offset = 0
    with open(path, "rb") as f:
        for line, raw in enumerate(f, start=1):
            if not raw.endswith(b"\n"):
                if allow_torn_tail:
                    return
                raise TornTail(f"line {line}: partial last line ({len(raw)} bytes, no newline): a torn write", line=line, offset=offset)
            event, seal = _parse(raw[:-1], line, canonical=canonical)
            if key is not None:
                if seal is None:
                    raise ChainBroken(f"line {line}: no seal: the log was written without the key, or the line was "
                                      "added by someone without it", line=line)
                if not hmac.compare_digest(seal, seal_of(key, event.hash)):
                    raise ChainBroken(f"line {line}: seal does not match (the line was forged, edited and re-chained, "
                                      "or sealed with another key)", line=line)
            if event.seq != head.seq + 1:
                hint = "removed or reordered" if event.seq > head.seq + 1 else "reordered or duplicated"
                raise ChainBroken(f"line {line}: seq {event.seq}, expected {head.seq + 1} (a line was {hint})", line=line)
            if event.prev_hash != head.hash:
                raise ChainBroken(f"line {line}: prev_hash does not match line {line - 1}'s hash (a line was changed or replaced)", line=line)
            head = Head(seq=event.seq, hash=event.hash)
            offset += len(raw)
            yield line, event, seal


# -- the writer --------------------------------------------------------------


class EventLog:
    """An append-only, hash-chained JSONL event log at ``path``.

    Opening an existing log verifies its whole chain and continues it (next
    ``seq``, ``prev_hash``). A broken chain raises ``ChainBroken``: nothing is
    appended to a log that does not verify. A torn last line (a crash during a
    write) is handled per ``torn_tail``:

    - ``"move"`` (default): if the partial line is a complete, chaining event
      that only lacks its newline, the newline is added and it is kept;
      otherwise its bytes are moved to ``<path>.torn-<n>``, the log is cut back
      to its last complete line, a warning is logged and an
      ``EVENT_LOG_TAIL_MOVED`` event records it (at the last event's ``ts``;
      for a log with no complete line, before the first append, at its ``ts``).
      No complete line is ever dropped.
    - ``"refuse"``: raise ``TornTail`` and leave the file alone.

    ``durability`` (``DURABILITY_MODES``): ``"live"`` hands each line to the OS
    before ``append`` returns and fsyncs at ``commit()``; ``"simulation"``
    buffers whole lines in memory until ``sync()`` or ``close()``. The bytes
    of the file are the same under both. ``seal_key`` (bytes) seals each line
    (see the module docstring); a log written with a key must be continued
    with the same key (opening checks every seal).

    A write or fsync that fails (disk full, EIO, EROFS...) raises
    ``JournalWriteFailed`` (a ``StopsBot`` and an ``OSError``) naming the file.
    The event was not appended (``head`` is unchanged).
    A failed write is cut back to the last complete line first, so the chain
    stays whole; under ``"live"`` a later append may succeed. A failed flush
    of buffered lines, a failed fsync or a failed cut leaves the log refusing
    every further append (``JournalWriteFailed``, EIO): what reached the disk is
    no longer known. On POSIX the file is locked: a second writer gets
    ``EventLogError``. Nothing else may write to or cut the file while it is
    open: the log knows where its last line ends without asking the OS on
    every append. Missing parent folders are created; a new log file is
    created with mode 0600 (owner only), like the state files.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        config_hash: str,
        durability: Durability = "live",
        torn_tail: Literal["move", "refuse"] = "move",
        extra_types: Mapping[str, Iterable[str]] | None = None,
        seal_key: bytes | None = None,
    ) -> None:
        if durability not in DURABILITY_MODES:
            raise EventLogError(f"durability {durability!r} must be one of {', '.join(DURABILITY_MODES)}")
        if torn_tail not in ("move", "refuse"):
            raise EventLogError(f"torn_tail {torn_tail!r} must be 'move' or 'refuse'")
        if seal_key is not None and (not isinstance(seal_key, bytes) or not seal_key):
            raise EventLogError("seal_key must be non-empty bytes")
        self.path = Path(path)
        self.config_hash = config_hash
        self.durability = durability
        self._live = durability == "live"
        self._key = seal_key
        self._buffer: list[bytes] = []
        self._buffered = 0
        self.extra_types = {k: frozenset(v) for k, v in (extra_types or {}).items()}
        self.moved_tail: Path | None = None
        """Where a torn last line was moved on opening, or None."""
        self._pending: dict[str, Any] | None = None
        self._broken: str | None = None
        self._unsynced = 0
        self._last: Event | None = None
        self._size: int | None = None  # the file's size while only this object changed it; None: ask the OS
        self._config_hash_seen: object = None
        self._config_json = ""  # _json_str(self.config_hash), redone if the attribute is replaced
        self._ts_seen: dt.datetime | None = None
        self._ts_json = ""  # of _ts_seen: the runner logs several events of one bar at the same ts object
        self._templates: dict[tuple[str, ...], _Template] = {}  # (type, *keys) -> its payloads' template
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        # unbuffered: a line is in the OS when it is written, and a failed write is cut back at once
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._file = open(fd, "ab", buffering=0)
        try:
            self._lock()
            if created:
                _fsync_dir(self.path.parent)
            try:
                self._recover(torn_tail)
            except ChainBroken as exc:
                raise ChainBroken(f"event log {self.path}: {exc}", line=exc.line) from None
        except BaseException:
            self._file.close()
            raise

    # opening ---------------------------------------------------------------

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EventLogError(f"event log {self.path} is open by another writer") from None

    def _recover(self, torn_tail: str) -> None:
        """Read the log to its last complete event (``self._last``), repairing a torn tail."""
        try:
            self._read_to_end(allow_torn_tail=False)
        except TornTail as torn:
            if torn_tail == "refuse":
                raise
            self._last = None
            self._read_to_end(allow_torn_tail=True)
            self._repair(torn)

    def _read_to_end(self, *, allow_torn_tail: bool) -> None:
        key = self._key
        for line, event, seal in _iter_sealed(self.path, allow_torn_tail=allow_torn_tail, key=key):
            if key is None and seal is not None:
                raise EventLogError(f"event log {self.path} line {line} is sealed: open it with its key")
            self._last = event

    def _repair(self, torn: TornTail) -> None:
        tail = self.path.read_bytes()[torn.offset :]
        event = _complete_event(tail, torn.torn_line, self.head)
        if event is not None:
            self._write_all(b"\n")
            self._sync()
            log.warning("event log %s: last line lacked its newline; it is a complete event and was kept", self.path)
            self._last = event
            return
        n = 1
        while (moved := self.path.with_name(f"{self.path.name}.torn-{n}")).exists():
            n += 1
        with open(moved, "xb") as out:
            out.write(tail)
            out.flush()
            os.fsync(out.fileno())
        os.truncate(self.path, torn.offset)
        self._size = None
        os.fsync(self._file.fileno())
        _fsync_dir(self.path.parent)
        self.moved_tail = moved
        log.warning("event log %s: torn last line %d (%d bytes) moved to %s", self.path, torn.torn_line, len(tail), moved)
        self._pending = {"line": torn.torn_line, "bytes": len(tail), "moved_to": moved.name}
        if self._last is not None:
            # recorded at once, at the clock time of the last complete event
            self._record_pending(self._last.ts)

    def _record_pending(self, ts: dt.datetime) -> None:
        if self._pending is not None:
            self._write(ts, EVENT_LOG_TAIL_MOVED, self._pending)
            # cleared only once written: a failed write keeps it for the next append
            self._pending = None

    # writing ---------------------------------------------------------------

    @property
    def head(self) -> Head:
        """The last written ``seq`` and ``hash`` (store it elsewhere to detect a cut tail)."""
        last = self._last
        return Head() if last is None else Head(seq=last.seq, hash=last.hash)

    @property
    def last(self) -> Event | None:
        """The last event in the log (read on opening or appended since), or None."""
        return self._last

    def append(self, ts: dt.datetime, type: str, payload: Mapping[str, Any] | None = None) -> Event:
        """Write one event at clock time ``ts`` and return it.

        Raises ``InvalidEvent`` (nothing written) for an unknown type, a
        missing payload key or a value that cannot be stored exactly;
        ``EventLogError`` when the log is closed; ``OSError`` from the disk.
        """
        if self._file.closed:
            raise EventLogError(f"event log {self.path} is closed")
        kind = type.__class__
        if (kind is str or kind is EventType) and payload is not None and payload.__class__ is dict and self._pending is None:
            # an EventType member hashes and compares as its str value: no isinstance, no _value_ here
            template = self._templates.get((type, *payload))
            if template is not None:
                # this type with these keys was accepted before: only ts and the values are left to check
                if not (ts.__class__ is dt.datetime and ts.tzinfo is _UTC and not ts.fold):
                    _aware(None, None, ts)
                    ts = _fixed_offset(ts)
                plain, payload_json = template.fill(payload)
                last, config_hash = self._last, self.config_hash
                if (last is None or config_hash is not self._config_hash_seen or ts.__class__ is not dt.datetime
                        or self._broken is not None):
                    return self._emit(ts, template.type, plain, payload_json, template.type_json)
                # _emit's common case, inlined: the chain under way, a str config hash already seen (the same
                # line and event; a log that refuses appends goes the long way, to raise what it raises)
                if ts is not self._ts_seen:
                    seen = _iso_seen
                    self._ts_seen, self._ts_json = ts, _json_str(seen[1] if ts is seen[0] else ts.isoformat())
                event, line = _sealed(last.seq + 1, ts, self._ts_json, template.type, plain, payload_json,
                                      config_hash, self._config_json, last.hash, self._key, template.type_json)
                return self._put(line, event)
        if self._pending is not None:
            _aware(None, None, ts)  # checked first here, as it always was
        stored_ts, plain, payload_json = _prepare(ts, type, payload or {}, self.extra_types)
        if ((kind is str or kind is EventType) and payload is not None and payload.__class__ is dict
                and len(self._templates) < _TEMPLATES_PER_LOG):
            self._learn(str(type), payload)
        if self._pending is not None:
            # a torn first line was moved aside: say so before anything else, but only
            # once this event is known to be valid (a refused append writes nothing);
            # a lone surrogate passes _prepare but cannot be written as UTF-8
            payload_json.encode("utf-8")
            self._record_pending(stored_ts)
        return self._emit(stored_ts, type, plain, payload_json)

    def _learn(self, name: str, payload: Mapping[str, Any]) -> None:
        """Keep a template for payloads of type ``name`` with ``payload``'s keys (just accepted by ``_prepare``)."""
        keys = tuple(payload)
        if (name, *keys) not in self._templates and all(key.__class__ is str for key in keys):
            self._templates[(name, *keys)] = _template(name, keys)

    def _write(self, ts: dt.datetime, type: str, payload: Mapping[str, Any]) -> Event:
        stored_ts, plain, payload_json = _prepare(ts, type, payload, self.extra_types)
        return self._emit(stored_ts, type, plain, payload_json)

    def _emit(self, ts: dt.datetime, type: str, plain: dict[str, Any], payload_json: str, type_json: str | None = None) -> Event:
        """Write the event prepared by ``_prepare`` (or a template) as the next in the chain."""
        last = self._last
        seq, prev_hash = (1, GENESIS_HASH) if last is None else (last.seq + 1, last.hash)
        config_hash = self.config_hash
        if type.__class__ is not str and isinstance(type, StrEnum):
            type = type._value_  # the same JSON string; the fast path below takes exact str only
        if type.__class__ is str and config_hash.__class__ is str:
            if config_hash is not self._config_hash_seen:
                self._config_hash_seen, self._config_json = config_hash, _json_str(config_hash)
            if ts is not self._ts_seen or ts.__class__ is not dt.datetime:
                seen = _iso_seen  # a FILL's time is often its own "at", encoded just before
                self._ts_seen, self._ts_json = ts, _json_str(seen[1] if ts is seen[0] else ts.isoformat())
            # prev_hash is a hash this log computed or verified: 64 hex digits
            event, line = _sealed(seq, ts, self._ts_json, type, plain, payload_json, config_hash, self._config_json, prev_hash,
                                  self._key, type_json)
        else:  # a field of another type: Event.make raises what it always has
            event = Event.make(seq=seq, ts=ts, type=type, payload=plain, config_hash=config_hash,
                               prev_hash=prev_hash, extra_types=self.extra_types)
            fields = {**event.body(), "hash": event.hash}
            if self._key is not None:
                fields["seal"] = seal_of(self._key, event.hash)
            line = canonical_json(fields) + b"\n"
        if self._broken is not None:
            raise self._refused()
        return self._put(line, event)

    def _put(self, line: bytes, event: Event) -> Event:
        """Write ``line`` as the durability asks (live: to the file now, fsynced at ``commit``; simulation:
        buffered, flushed by size and at ``sync``/``close``) and make ``event`` the head of the chain:
        the one place both append paths write."""
        if self._live:
            self._write_all(line)
            self._unsynced += 1
        else:
            self._buffer.append(line)
            self._buffered += len(line)
            if self._buffered >= _BUFFER_BYTES:
                self._flush()
        self._last = event
        return event

    def _refused(self) -> JournalWriteFailed:
        return JournalWriteFailed(self.path, OSError(errno.EIO, f"the log refuses appends: {self._broken}"))

    def _flush(self) -> None:
        """Hand the buffered lines to the OS; on failure the log refuses further appends."""
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer.clear()
        self._buffered = 0
        try:
            self._write_all(data)
        except JournalWriteFailed as exc:
            # the events were acknowledged to the caller: the file now lacks them
            self._broken = self._broken or f"buffered events were lost in a failed write ({exc})"
            raise
        self._unsynced += 1

    def _write_all(self, data: bytes) -> None:
        """Write ``data`` whole or not at all: a failed write is cut back to the last complete line
        and raises ``JournalWriteFailed``."""
        if self._broken is not None:
            raise self._refused()
        fd = self._file.fileno()
        start = self._size
        if start is None:
            start = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written < len(data):
                view = memoryview(data)[written:]
                while view:
                    view = view[os.write(fd, view) :]
        except OSError as exc:
            self._size = None
            try:
                os.ftruncate(fd, start)
            except OSError as cut:
                self._broken = f"a failed write ({exc}) could not be cut back ({cut}); the last line may be torn"
                log.error("event log %s: %s", self.path, self._broken)
            raise JournalWriteFailed(self.path, exc) from exc
        self._size = start + len(data)

    def _sync(self) -> None:
        try:
            os.fsync(self._file.fileno())
        except OSError as exc:
            # after a failed fsync the kernel may have dropped the dirty pages: nothing is known
            self._broken = f"fsync failed ({exc}); what reached the disk is unknown"
            raise JournalWriteFailed(self.path, exc) from exc
        self._unsynced = 0

    def commit(self) -> None:
        """Output commit: call before an effect leaves the process (an order, a cancel).

        Under ``"live"`` durability every event appended so far is fsynced when this
        returns; under ``"simulation"`` it does nothing (the venue is simulated).
        Raises ``JournalWriteFailed`` when the fsync fails.
        """
        if self._live and self._unsynced and not self._file.closed:
            self._sync()

    def sync(self) -> None:
        """Hand every buffered line to the OS and fsync (checkpoints call it under both policies).

        Raises ``JournalWriteFailed`` when the write or fsync fails.
        """
        if not self._file.closed:
            self._flush()
            self._sync()

    def close(self) -> None:
        """Write what is buffered, fsync and close; further appends raise ``EventLogError``. Idempotent.

        Raises ``JournalWriteFailed`` when the last write or fsync fails (the file is closed anyway).
        """
        if not self._file.closed:
            try:
                if self._broken is None:
                    self._flush()
                    self._sync()
            finally:
                self._buffer.clear()
                self._file.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _complete_event(raw: bytes, line: int, head: Head) -> Event | None:
    """The event in ``raw`` if it is complete and continues ``head``; None otherwise."""
    try:
        event = parse_line(raw, line)
    except ChainBroken:
        return None
    return event if event.seq == head.seq + 1 and event.prev_hash == head.hash else None


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_events(path: str | os.PathLike[str]) -> list[Event]:
    """Every event of a verified log; raises like ``iter_events``."""
    return [event for _, event in iter_events(path)]
