"""The event log's line and hash, built for speed, equal the canonical JSON computed the obvious way.

``EventLog.append`` and ``Event.make`` assemble the line by hand around the
payload's JSON. These tests compare them with ``json.dumps`` of a dict of
every field (sorted keys, no spaces, UTF-8) and a sha256 of the same without
``hash``, and check that nothing a refused append touches reaches the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.errors import InvalidEvent
from statebot.journal.log import (
    EVENT_LOG_TAIL_MOVED,
    GENESIS_HASH,
    STATE_SAVED,
    Event,
    EventLog,
    read_events,
)
from statebot.journal.replay import verify
from tests.disk_faults import fill_disk_mid_write
from tests.strategies import aware_datetimes, storable_payloads

CFG = "c" * 64
T0 = dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.timezone.utc)
NOTE = 'NOTE "ü" \\ \u2028'  # a declared type whose name JSON must escape
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
config_hashes = st.one_of(st.just(CFG), st.text(max_size=70))


def stored(value: Any) -> Any:
    """The documented stored form of a payload value, spelled out."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()  # a datetime's carries its own UTC offset
    if isinstance(value, Mapping):
        return {key: stored(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [stored(item) for item in value]
    return value


def dumps(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def expected_line(*, seq: int, ts: dt.datetime, type: str, payload: Mapping[str, Any], config_hash: str, prev_hash: str) -> tuple[bytes, str]:
    """(line, hash) of an event by the definition: canonical JSON of every field; hash of all but ``hash``."""
    body = {"seq": seq, "ts": ts.isoformat(), "type": type, "payload": stored(payload), "config_hash": config_hash,
            "prev_hash": prev_hash}
    digest = hashlib.sha256(dumps(body)).hexdigest()
    return dumps({**body, "hash": digest}) + b"\n", digest


@pytest.mark.invariant("an event's line is the canonical JSON of all its fields and its hash the sha256 of the rest", machine="eventlog")
@given(seq=st.integers(min_value=1, max_value=10**12), ts=aware_datetimes, payload=storable_payloads,
       config_hash=config_hashes, prev_hash=hashes, event_type=st.sampled_from([STATE_SAVED, NOTE]))
def test_made_event_line_and_hash_are_canonical_json(seq: int, ts: dt.datetime, payload: dict[str, Any], config_hash: str,
                                                     prev_hash: str, event_type: str) -> None:
    """Invariant: for any valid fields, ``Event.make`` gives the hash, and ``to_line`` the line,
    that ``json.dumps`` (sorted keys, no spaces, UTF-8) of every field defines."""
    event = Event.make(seq=seq, ts=ts, type=event_type, payload=payload, config_hash=config_hash, prev_hash=prev_hash,
                       extra_types={NOTE: []})
    line, digest = expected_line(seq=seq, ts=ts, type=event_type, payload=payload, config_hash=config_hash, prev_hash=prev_hash)
    assert event.hash == digest
    assert event.to_line() == line
    # the same local time and offset (a zone-aware ts in a DST overlap compares unequal across zones, PEP 495)
    assert event.payload == stored(payload) and event.ts.isoformat() == ts.isoformat()
    assert type(event.ts.tzinfo) is dt.timezone and event.ts.fold == 0  # the stored form: a fixed offset


@pytest.mark.invariant("the bytes the event log writes are the canonical JSON lines of its events, hash-chained", machine="eventlog")
@given(batch=st.lists(st.tuples(aware_datetimes, storable_payloads, st.sampled_from([STATE_SAVED, NOTE])), min_size=1, max_size=4),
       config_hash=config_hashes)
def test_appended_bytes_are_the_canonical_lines(tmp_path_factory: pytest.TempPathFactory, config_hash: str,
                                                batch: list[tuple[dt.datetime, dict[str, Any], str]]) -> None:
    """Invariant: the file holds, byte for byte, the canonical JSON line of each appended
    event, each ``prev_hash`` the previous ``hash``; every append returns the event of its line."""
    path = tmp_path_factory.mktemp("log") / "e.jsonl"
    expected, prev = [], GENESIS_HASH
    with EventLog(path, config_hash=config_hash, extra_types={NOTE: []}) as log:
        for seq, (ts, payload, event_type) in enumerate(batch, start=1):
            event = log.append(ts, event_type, payload)
            line, prev = expected_line(seq=seq, ts=ts, type=event_type, payload=payload, config_hash=config_hash, prev_hash=prev)
            expected.append(line)
            assert event.hash == prev and event.to_line() == line and log.head.hash == prev
    assert path.read_bytes() == b"".join(expected)
    assert read_events(path)[-1] == event


def test_each_line_is_in_the_file_when_append_returns(tmp_path: Path) -> None:
    """Live durability hands each line to the OS at once: a process crash loses no acknowledged event."""
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG, durability="live") as log:
        for i in range(3):
            event = log.append(T0, STATE_SAVED, {"i": i})
            assert path.read_bytes().splitlines(keepends=True)[-1] == event.to_line()


def test_a_stored_ts_passed_again_with_fold_set_is_stored_with_fold_0() -> None:
    first = Event.make(seq=1, ts=dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
                       type=STATE_SAVED, payload={}, config_hash=CFG)
    again = Event.make(seq=2, ts=first.ts.replace(fold=1), type=STATE_SAVED, payload={}, config_hash=CFG, prev_hash=first.hash)
    assert again.ts == first.ts and again.ts.fold == 0 and again.ts.utcoffset() == dt.timedelta(hours=-5)


def test_events_at_one_ts_object_and_then_another_carry_their_own_ts(tmp_path: Path) -> None:
    """The runner logs the events of a bar at one ts object: each line still carries the right ts."""
    path = tmp_path / "e.jsonl"
    later = T0 + dt.timedelta(minutes=1)
    times = [T0, T0, later, later, T0]
    with EventLog(path, config_hash=CFG) as log:
        for ts in times:
            log.append(ts, STATE_SAVED)
    assert [e.ts.isoformat() for e in read_events(path)] == [t.isoformat() for t in times]


def test_an_event_made_by_hand_equals_the_event_make_built(tmp_path: Path) -> None:
    made = Event.make(seq=3, ts=T0, type=STATE_SAVED, payload={"usd": Decimal("2.50")}, config_hash=CFG, prev_hash="a" * 64)
    by_hand = Event(seq=3, ts=T0, type=STATE_SAVED, payload={"usd": "2.50"}, config_hash=CFG, prev_hash="a" * 64, hash=made.hash)
    assert made == by_hand


# -- refusals: same errors, nothing written ------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"x": 0.5}, r"STATE_SAVED payload\.x: float 0\.5 refused"),
        ({"x": Decimal("NaN")}, r"payload\.x: NaN is not finite"),
        ({"x": Decimal("-Infinity")}, r"payload\.x: -Infinity is not finite"),
        ({"x": Decimal("sNaN")}, r"payload\.x: sNaN is not finite"),
        ({"x": [1, {"y": dt.datetime(2026, 1, 1)}]}, r"payload\.x\[1\]\.y: naive datetime 2026-01-01T00:00:00 refused"),
        ({"x": {1: "one"}}, r"payload\.x: key 1 must be a string"),
        ({2: "two"}, r"STATE_SAVED payload: key 2 must be a string"),
        ({"x": {"a", "b"}}, r"payload\.x: set .* cannot be stored"),
    ],
)
def test_a_value_that_cannot_be_stored_is_refused_and_nothing_is_written(tmp_path: Path, payload: dict[Any, Any], message: str) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        log.append(T0, STATE_SAVED)
        before = path.read_bytes()
        with pytest.raises(InvalidEvent, match=message):
            log.append(T0, STATE_SAVED, payload)
        assert path.read_bytes() == before and log.head.seq == 1
        assert log.append(T0, STATE_SAVED).seq == 2
    assert verify(path).events == 2


def test_a_naive_ts_is_refused_by_append_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log, pytest.raises(InvalidEvent, match="must be an aware datetime"):
        log.append(dt.datetime(2026, 11, 24, 9, 30), STATE_SAVED)
    assert path.read_bytes() == b""


def test_a_lone_surrogate_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    """JSON can hold it but UTF-8 cannot: the append fails before any byte is written."""
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        with pytest.raises(UnicodeEncodeError):
            log.append(T0, STATE_SAVED, {"text": "\ud800"})
        assert log.append(T0, STATE_SAVED).seq == 1
    assert verify(path).events == 1


def test_a_lone_surrogate_after_a_torn_first_line_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"conf')
    with EventLog(path, config_hash=CFG) as log:
        with pytest.raises(UnicodeEncodeError):
            log.append(T0, STATE_SAVED, {"text": "\udfff"})
        assert path.read_bytes() == b""
        log.append(T0, STATE_SAVED)
    assert [e.type for e in read_events(path)] == [EVENT_LOG_TAIL_MOVED, STATE_SAVED]


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"seq": 0}, ValueError, "seq"),
        ({"seq": "1"}, TypeError, "seq"),
        ({"prev_hash": "A" * 64}, InvalidEvent, "prev_hash 'AAAA.* must be 64 lowercase hex digits"),
        ({"prev_hash": "a" * 63}, InvalidEvent, "prev_hash 'a+' must be 64 lowercase hex digits"),
        ({"config_hash": 5}, TypeError, "config_hash"),
    ],
)
def test_make_still_refuses_an_invalid_field(fields: dict[str, Any], error: type[Exception], message: str) -> None:
    kwargs: dict[str, Any] = {"seq": 1, "ts": T0, "type": STATE_SAVED, "payload": {}, "config_hash": CFG, "prev_hash": GENESIS_HASH}
    with pytest.raises(error, match=message):
        Event.make(**{**kwargs, **fields})


def test_the_public_constructor_still_validates() -> None:
    with pytest.raises(InvalidEvent, match="hash 'nope' must be 64 lowercase hex digits"):
        Event(seq=1, ts=T0, type=STATE_SAVED, payload={}, config_hash=CFG, prev_hash=GENESIS_HASH, hash="nope")


# -- cut-back after a failed write ---------------------------------------------------------


@pytest.mark.invariant("a failed write (disk full) leaves no partial line: the log still verifies and can continue", machine="eventlog")
def test_a_failed_write_after_a_torn_tail_was_moved_is_cut_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        for i in range(3):
            log.append(T0 + dt.timedelta(minutes=i), STATE_SAVED, {"i": i})
    with open(path, "ab") as f:
        f.write(b'{"config_hash":"' + b"c" * 40)
    log = EventLog(path, config_hash=CFG)
    good = path.read_bytes()
    fill_disk_mid_write(monkeypatch)
    with pytest.raises(OSError, match="No space"):
        log.append(T0, STATE_SAVED, {"i": 9})
    assert path.read_bytes() == good
    monkeypatch.undo()
    assert log.append(T0, STATE_SAVED).seq == 5
    log.close()
    assert verify(path).events == 5


def test_repeated_failed_writes_each_cut_back_to_the_same_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "e.jsonl"
    log = EventLog(path, config_hash=CFG)
    for i in range(3):
        log.append(T0, STATE_SAVED, {"i": i})
    good = path.read_bytes()
    for _ in range(3):
        fill_disk_mid_write(monkeypatch)
        with pytest.raises(OSError):
            log.append(T0, STATE_SAVED, {"i": "x" * 500})
        monkeypatch.undo()
        assert path.read_bytes() == good
    log.append(T0, STATE_SAVED)
    log.close()
    assert verify(path).events == 4
