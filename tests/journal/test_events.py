"""The event log: canonical, hash-chained, append-only, and honest about crashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.errors import ChainBroken, EventLogError, InvalidEvent, TornTail
from statebot.journal.log import (
    EVENT_LOG_TAIL_MOVED,
    EVENT_TYPES,
    FILL,
    GENESIS_HASH,
    SESSION_TRANSITION,
    STATE_SAVED,
    Event,
    EventLog,
    canonical_json,
    read_events,
)
from statebot.journal.replay import verify
from tests.strategies import payloads, zones

NY = ZoneInfo("America/New_York")
T0 = dt.datetime(2026, 11, 24, 9, 30, tzinfo=NY)
CFG = "c" * 64


def _session(i: int) -> tuple[str, dict[str, object]]:
    return SESSION_TRANSITION, {"from": "PRE_OPEN", "to": "TRADING", "session": dt.date(2026, 11, 24), "i": i}


def write_log(path: Path, n: int = 5) -> list[Event]:
    with EventLog(path, config_hash=CFG) as log:
        return [log.append(T0 + dt.timedelta(minutes=i), *_session(i)) for i in range(n)]


# -- Event.make ----------------------------------------------------------------


def test_first_event_chains_from_64_zeros() -> None:
    e = Event.make(seq=1, ts=T0, type=STATE_SAVED, payload={}, config_hash=CFG)
    assert e.prev_hash == GENESIS_HASH == "0" * 64


def test_hash_is_sha256_of_canonical_json_without_hash() -> None:
    e = Event.make(seq=1, ts=T0, type=STATE_SAVED, payload={"b": 1, "a": "x"}, config_hash=CFG)
    body = ('{"config_hash":"' + CFG + '","payload":{"a":"x","b":1},"prev_hash":"' + GENESIS_HASH
            + '","seq":1,"ts":"2026-11-24T09:30:00-05:00","type":"STATE_SAVED"}')
    assert e.hash == hashlib.sha256(body.encode()).hexdigest()


@pytest.mark.invariant("an event's hash depends on its content only: stable across runs, processes and time zones", machine="eventlog")
def test_hash_is_a_fixed_value_across_runs() -> None:
    e = Event.make(seq=7, ts=T0, type=FILL, config_hash=CFG, prev_hash="a" * 64, payload={
        "order_id": "o1", "exec_id": "e1", "strategy": "orb", "symbol": "MES", "side": "BUY",
        "qty": 2, "price": Decimal("6000.25"), "commission": Decimal("1.14")})
    assert e.hash == "4b7ceda5da2a9c8b655fa463f5ff1f6585e97d548108b696ae7c256c4ac245f3"
    again = subprocess.run(
        [sys.executable, "-c",
         "import datetime as dt; from decimal import Decimal; from zoneinfo import ZoneInfo; from statebot.journal.log import Event, FILL;"
         "e=Event.make(seq=7, ts=dt.datetime(2026,11,24,9,30,tzinfo=ZoneInfo('America/New_York')), type=FILL, config_hash='c'*64,"
         "prev_hash='a'*64, payload={'commission': Decimal('1.14'), 'price': Decimal('6000.25'), 'qty': 2, 'side': 'BUY',"
         "'symbol': 'MES', 'strategy': 'orb', 'exec_id': 'e1', 'order_id': 'o1'}); print(e.hash)"],
        capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123", "TZ": "Asia/Tokyo", "PATH": ""},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert again.stdout.strip() == e.hash


def test_decimal_money_is_stored_as_its_string() -> None:
    e = Event.make(seq=1, ts=T0, type="STATE_SAVE_FAILED", payload={"error": "disk full", "usd": Decimal("2.50")}, config_hash=CFG)
    assert e.payload["usd"] == "2.50"


def test_float_in_payload_is_refused_naming_the_key() -> None:
    with pytest.raises(InvalidEvent, match=r"payload\.price: float 1\.25 refused"):
        Event.make(seq=1, ts=T0, type=STATE_SAVED, payload={"price": 1.25}, config_hash=CFG)


def test_nested_float_is_refused() -> None:
    with pytest.raises(InvalidEvent, match=r"positions\[0\]\.qty"):
        Event.make(seq=1, ts=T0, type=STATE_SAVED, payload={"positions": [{"qty": 1.0}]}, config_hash=CFG)


def test_naive_ts_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="aware"):
        Event.make(seq=1, ts=dt.datetime(2026, 11, 24, 9, 30), type=STATE_SAVED, payload={}, config_hash=CFG)


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="unknown event type 'BOGUS'"):
        Event.make(seq=1, ts=T0, type="BOGUS", payload={}, config_hash=CFG)


def test_missing_required_payload_key_is_named() -> None:
    with pytest.raises(InvalidEvent, match="GATE_SKIP payload lacks required key.*threshold"):
        Event.make(seq=1, ts=T0, type="GATE_SKIP", payload={"gate": "DVS", "value": "0.5"}, config_hash=CFG)


def test_declared_extra_types_are_accepted() -> None:
    e = Event.make(seq=1, ts=T0, type="MY_NOTE", payload={"text": "hi"}, config_hash=CFG, extra_types={"MY_NOTE": ["text"]})
    assert e.type == "MY_NOTE"


def test_the_seed_event_types_carry_their_payload_keys() -> None:
    assert EVENT_TYPES["SESSION_EXIT_FLATTEN"] == {"reason", "minutes_remaining", "positions", "late"}
    assert EVENT_TYPES["TRADE_CLOSED"] >= {"gross_pnl", "commission", "net_pnl", "slippage_ticks", "slippage_expected_ticks"}
    assert {"LEARNING_UPDATE", "STATE_SAVED", "BAR_REJECTED", "KILL_SWITCH"} <= set(EVENT_TYPES)


# -- EventLog ------------------------------------------------------------------


def test_lines_are_canonical_json_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    (e,) = write_log(path, 1)
    line = path.read_bytes().splitlines()[0]
    data = json.loads(line)
    assert set(data) == {"seq", "ts", "type", "payload", "config_hash", "prev_hash", "hash"}
    assert line == canonical_json(data)
    assert data["ts"] == "2026-11-24T09:30:00-05:00" and data["payload"]["session"] == "2026-11-24"


def test_seq_counts_from_one_and_each_prev_hash_is_the_previous_hash(tmp_path: Path) -> None:
    events = write_log(tmp_path / "e.jsonl", 4)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_events_read_back_equal_the_events_written(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    written = write_log(path, 3)
    assert read_events(path) == written


def test_reopening_continues_seq_and_chain(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    first = write_log(path, 3)
    with EventLog(path, config_hash="d" * 64) as log:
        assert log.head.seq == 3 and log.last == first[-1]
        e = log.append(T0 + dt.timedelta(hours=1), STATE_SAVED)
    assert e.seq == 4 and e.prev_hash == first[-1].hash
    assert verify(path).events == 4


def test_invalid_event_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        with pytest.raises(InvalidEvent):
            log.append(T0, STATE_SAVED, {"x": 0.5})
        assert log.append(T0, STATE_SAVED).seq == 1
    assert verify(path).events == 1


def test_appending_after_close_is_an_error(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "e.jsonl", config_hash=CFG)
    log.close()
    log.close()
    with pytest.raises(EventLogError, match="closed"):
        log.append(T0, STATE_SAVED)


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG):
        with pytest.raises(EventLogError, match="another writer"):
            EventLog(path, config_hash=CFG)


def test_reopening_a_broken_log_refuses_to_append(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 3)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + lines[2])
    with pytest.raises(ChainBroken) as info:
        EventLog(path, config_hash=CFG)
    assert info.value.line == 2
    assert path.read_bytes() == lines[0] + lines[2]


@pytest.mark.parametrize("durability", ["live", "simulation"])
def test_either_durability_writes_a_verifying_log(tmp_path: Path, durability: str) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG, durability=durability) as log:  # type: ignore[arg-type]
        for i in range(5):
            log.append(T0 + dt.timedelta(minutes=i), STATE_SAVED if i % 2 else SESSION_TRANSITION,
                       {} if i % 2 else _session(i)[1])
    assert verify(path).events == 5


def test_unknown_durability_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match="durability 'sometimes' must be one of live, simulation"):
        EventLog(tmp_path / "e.jsonl", config_hash=CFG, durability="sometimes")  # type: ignore[arg-type]


# -- tampering -------------------------------------------------------------------


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


@pytest.mark.invariant("the event log's hash chain detects a modified line and names it", machine="eventlog")
def test_modified_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 5)
    lines = _lines(path)
    lines[2] = lines[2].replace(b'"i":2', b'"i":9')
    path.write_bytes(b"".join(lines))
    with pytest.raises(ChainBroken, match="line 3: hash does not match") as info:
        verify(path)
    assert info.value.line == 3


@pytest.mark.invariant("the event log's hash chain detects a modified line even when its hash is recomputed", machine="eventlog")
def test_modified_line_with_recomputed_hash_breaks_the_next_line(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 5)
    lines = _lines(path)
    data = json.loads(lines[1])
    data["payload"]["i"] = 99
    del data["hash"]
    data["hash"] = hashlib.sha256(canonical_json(data)).hexdigest()
    lines[1] = canonical_json(data) + b"\n"
    path.write_bytes(b"".join(lines))
    with pytest.raises(ChainBroken, match="line 3: prev_hash does not match line 2") as info:
        verify(path)
    assert info.value.line == 3


@pytest.mark.invariant("the event log's hash chain detects a removed line and names where", machine="eventlog")
def test_removed_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 5)
    lines = _lines(path)
    del lines[1]
    path.write_bytes(b"".join(lines))
    with pytest.raises(ChainBroken, match="line 2: seq 3, expected 2") as info:
        verify(path)
    assert info.value.line == 2


@pytest.mark.invariant("the event log's hash chain detects reordered lines and names where", machine="eventlog")
def test_reordered_lines_are_reported_with_the_line_number(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 5)
    lines = _lines(path)
    lines[3], lines[4] = lines[4], lines[3]
    path.write_bytes(b"".join(lines))
    with pytest.raises(ChainBroken) as info:
        verify(path)
    assert info.value.line == 4


def test_garbage_line_is_reported_as_not_json(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 3)
    lines = _lines(path)
    lines[1] = b"\xff\xfe not json\n"
    path.write_bytes(b"".join(lines))
    with pytest.raises(ChainBroken, match="line 2: not a JSON object"):
        verify(path)


@pytest.mark.invariant("the event log's hash chain detects any modified, removed, duplicated or reordered line", machine="eventlog")
@given(data=st.data())
def test_any_edit_of_the_lines_is_detected(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """Invariant: any change to the sequence of complete lines other than cutting
    the end is reported, at a line number no later than the first changed line + 1."""
    path = tmp_path_factory.mktemp("log") / "e.jsonl"
    n = data.draw(st.integers(min_value=2, max_value=8), label="n")
    write_log(path, n)
    lines = _lines(path)
    kind = data.draw(st.sampled_from(["modify", "remove", "swap", "duplicate"]), label="kind")
    i = data.draw(st.integers(min_value=0, max_value=n - 2), label="i")
    edited = list(lines)
    if kind == "modify":
        raw = bytearray(lines[i])
        pos = data.draw(st.integers(min_value=0, max_value=len(raw) - 2), label="pos")
        raw[pos] = (raw[pos] + data.draw(st.integers(min_value=1, max_value=255))) % 256 or 1
        if raw[pos] == ord("\n"):
            raw[pos] = ord("x")
        edited[i] = bytes(raw)
    elif kind == "remove":
        del edited[i]
    elif kind == "swap":
        edited[i], edited[i + 1] = edited[i + 1], edited[i]
    else:
        edited.insert(i + 1, lines[i])
    path.write_bytes(b"".join(edited))
    with pytest.raises(ChainBroken) as info:
        verify(path)
    assert info.value.line is not None and info.value.line <= i + 2


# -- torn tails --------------------------------------------------------------------


def test_verify_reports_a_torn_tail_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 3)
    with open(path, "ab") as f:
        f.write(b'{"config_hash":"cc')
    with pytest.raises(TornTail, match="line 4: partial last line"):
        verify(path)


@pytest.mark.invariant("reopening a log with a torn last line keeps every complete line and moves the torn bytes aside, recorded", machine="eventlog")
def test_reopen_moves_a_torn_tail_aside_and_records_it(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    events = write_log(path, 3)
    with open(path, "ab") as f:
        f.write(b'{"config_hash":"cc')
    with EventLog(path, config_hash=CFG) as log:
        assert log.moved_tail == tmp_path / "e.jsonl.torn-1"
        moved = log.last
        assert moved is not None and moved.type == EVENT_LOG_TAIL_MOVED and moved.seq == 4
        assert moved.payload == {"line": 4, "bytes": 18, "moved_to": "e.jsonl.torn-1"}
        assert moved.ts == events[-1].ts
        log.append(T0 + dt.timedelta(hours=1), STATE_SAVED)
    assert (tmp_path / "e.jsonl.torn-1").read_bytes() == b'{"config_hash":"cc'
    assert read_events(path)[:3] == events
    assert verify(path).events == 5


def test_reopen_keeps_a_complete_last_event_that_lacks_only_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    events = write_log(path, 3)
    path.write_bytes(path.read_bytes()[:-1])
    with EventLog(path, config_hash=CFG) as log:
        assert log.moved_tail is None and log.head.seq == 3
    assert read_events(path) == events


def test_refuse_policy_leaves_a_torn_log_untouched(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 2)
    with open(path, "ab") as f:
        f.write(b"{")
    before = path.read_bytes()
    with pytest.raises(TornTail):
        EventLog(path, config_hash=CFG, torn_tail="refuse")
    assert path.read_bytes() == before


def test_torn_first_line_is_recorded_at_the_first_append(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"conf')
    with EventLog(path, config_hash=CFG) as log:
        assert log.head.seq == 0
        e = log.append(T0, STATE_SAVED)
    first, second = read_events(path)
    assert first.type == EVENT_LOG_TAIL_MOVED and first.ts == T0 and second == e and e.seq == 2


def test_a_refused_append_after_a_torn_first_line_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"conf')
    with EventLog(path, config_hash=CFG) as log:
        with pytest.raises(InvalidEvent):
            log.append(T0, FILL, {"order_id": "o1"})
        assert path.read_bytes() == b""
        log.append(T0, STATE_SAVED)
    assert [e.type for e in read_events(path)] == [EVENT_LOG_TAIL_MOVED, STATE_SAVED]


def test_a_line_with_a_json_float_is_a_broken_chain_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        log.append(T0, "BAR_REJECTED", {"reason": "x"})
    path.write_bytes(path.read_bytes().replace(b'"reason":"x"', b'"reason":1.5'))
    with pytest.raises(ChainBroken) as err:
        verify(path)
    assert err.value.line == 1


def test_a_local_time_in_a_dst_gap_reads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    gap = dt.datetime(2026, 3, 8, 2, 30, tzinfo=ZoneInfo("America/New_York"))  # does not exist locally
    with EventLog(path, config_hash=CFG) as log:
        written = log.append(gap, STATE_SAVED)
    (read,) = read_events(path)
    assert read == written and read.ts.utcoffset() == gap.utcoffset()


def test_a_second_torn_tail_gets_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    write_log(path, 1)
    for _ in range(2):
        with open(path, "ab") as f:
            f.write(b"{")
        EventLog(path, config_hash=CFG).close()
    assert (tmp_path / "e.jsonl.torn-1").exists() and (tmp_path / "e.jsonl.torn-2").exists()
    assert verify(path).events == 3


# -- durability --------------------------------------------------------------------


def _count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import os

    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr("statebot.journal.log.os.fsync", counting)
    return calls


def test_live_hands_each_append_to_the_os_and_fsyncs_at_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "e.jsonl"
    log = EventLog(path, config_hash=CFG, durability="live")
    calls = _count_fsyncs(monkeypatch)
    for i in range(4):
        log.append(T0, STATE_SAVED, {"i": i})
    assert len(path.read_bytes().splitlines()) == 4 and calls == []
    log.commit()
    assert len(calls) == 1
    log.commit()  # nothing new: no second fsync
    assert len(calls) == 1
    log.close()


def test_simulation_buffers_until_sync_and_commit_does_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "e.jsonl"
    log = EventLog(path, config_hash=CFG, durability="simulation")
    calls = _count_fsyncs(monkeypatch)
    for i in range(7):
        log.append(T0, STATE_SAVED, {"i": i})
    log.commit()
    assert path.read_bytes() == b"" and calls == []
    log.sync()
    assert len(path.read_bytes().splitlines()) == 7 and len(calls) == 1
    log.append(T0, STATE_SAVED)
    log.close()
    assert verify(path).events == 8 and len(calls) == 2


def test_both_durabilities_write_the_same_bytes(tmp_path: Path) -> None:
    for mode in ("live", "simulation"):
        with EventLog(tmp_path / f"{mode}.jsonl", config_hash=CFG, durability=mode) as log:  # type: ignore[arg-type]
            for i in range(5):
                log.append(T0 + dt.timedelta(minutes=i), *_session(i))
                log.commit()
    assert (tmp_path / "live.jsonl").read_bytes() == (tmp_path / "simulation.jsonl").read_bytes()


def test_a_new_log_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        log.append(T0, STATE_SAVED)
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.invariant("a failed write (disk full) leaves no partial line: the log still verifies and can continue", machine="eventlog")
def test_a_failed_write_is_cut_back_and_the_chain_continues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.disk_faults import fill_disk_mid_write

    path = tmp_path / "e.jsonl"
    log = EventLog(path, config_hash=CFG)
    log.append(T0, STATE_SAVED)
    fill_disk_mid_write(monkeypatch)
    with pytest.raises(OSError, match="No space"):
        log.append(T0, *_session(1))
    monkeypatch.undo()
    assert verify(path).events == 1
    assert log.append(T0, STATE_SAVED).seq == 2
    log.close()
    assert verify(path).events == 2


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    with EventLog(tmp_path / "a" / "b" / "e.jsonl", config_hash=CFG) as log:
        log.append(T0, STATE_SAVED)
    assert verify(tmp_path / "a" / "b" / "e.jsonl").events == 1


def test_minutes_gives_a_storable_decimal() -> None:
    from statebot.journal.log import minutes

    assert minutes(dt.timedelta(minutes=4, seconds=30)) == Decimal("4.50")
    assert minutes(dt.timedelta(seconds=-20)) == Decimal("-0.33")
    e = Event.make(seq=1, ts=T0, type="SESSION_EXIT_FLATTEN", config_hash=CFG, payload={
        "reason": "flatten_lead", "minutes_remaining": minutes(dt.timedelta(minutes=5)), "positions": 1, "late": False})
    assert e.payload["minutes_remaining"] == "5.00"


@pytest.mark.invariant("every event the log accepts is read back equal and the log verifies", machine="eventlog")
@given(batch=st.lists(st.tuples(st.datetimes(timezones=zones), payloads), max_size=6))
def test_whatever_is_appended_reads_back_equal(tmp_path_factory: pytest.TempPathFactory, batch: list[tuple[dt.datetime, dict[str, object]]]) -> None:
    """Invariant: append -> read_events is the identity on the stored form, and verify passes."""
    path = tmp_path_factory.mktemp("log") / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        written = [log.append(ts, STATE_SAVED, payload) for ts, payload in batch]
    assert read_events(path) == written
    assert verify(path).events == len(batch)


def test_an_event_in_the_fall_back_hour_reads_back_equal(tmp_path: Path) -> None:
    """01:00 EST on 2026-11-01 (fold=1) is ambiguous in New York; the stored offset says which."""
    from zoneinfo import ZoneInfo

    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        written = log.append(dt.datetime(2026, 11, 1, 1, 0, fold=1, tzinfo=ZoneInfo("America/New_York")), STATE_SAVED,
                             {"path": "state.json", "seq": 1})
    assert read_events(path) == [written]
    assert written.ts.utcoffset() == dt.timedelta(hours=-5)
