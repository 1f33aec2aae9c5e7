"""Crash-safe learning state: atomic files, checksums, fail closed, failed saves never silent."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import stat
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import statebot
from statebot import (
    ConfigError,
    DurableLearningLoop,
    LearningLoop,
    StateCorrupt,
    StateInUse,
    StateSaveFailed,
    ThrottleRules,
)
from statebot.store import persistence
from statebot.journal.log import Event
from statebot.core.learning.loop import SCHEMA_VERSION
from statebot.store.persistence import (
    canonical_json,
    decode_state,
    default_state_dir,
    encode_state,
    read_state_file,
    resolve_state_dir,
)
from tests.strategies import json_states
from tests.core.learning.test_metrics import outcome

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)
RULES = ThrottleRules(max_consecutive_losses=2, cooldown=dt.timedelta(minutes=10))


def open_loop(folder: Path, **kw: object) -> DurableLearningLoop:
    kw.setdefault("rules", RULES)
    kw.setdefault("strategies", ["orb"])
    return DurableLearningLoop.open(folder, T0, **kw)  # type: ignore[arg-type]


def saved_state(folder: Path) -> dict:  # type: ignore[type-arg]
    state = read_state_file(folder / "learning_state.json")
    assert state is not None
    return state


# the file --------------------------------------------------------------------


def test_missing_file_is_a_fresh_start(tmp_path: Path) -> None:
    with open_loop(tmp_path) as durable:
        assert durable.startup_error is None
        assert durable.loop.allows_entry("orb")
        assert durable.startup == "fresh"
        assert durable.drain_events() == ()


def test_every_trade_is_saved_by_default(tmp_path: Path) -> None:
    with open_loop(tmp_path) as durable:
        durable.record_trade(outcome("5"), T0)
        assert saved_state(tmp_path)["strategies"]["orb"]["metrics"]["trades"] == 1


def test_save_every_n_trades_is_configurable(tmp_path: Path) -> None:
    with open_loop(tmp_path, save_every_trades=3) as durable:
        durable.record_trade(outcome("5"), T0)
        durable.record_trade(outcome("5"), T0)
        assert read_state_file(tmp_path / "learning_state.json") is None
        durable.record_trade(outcome("5"), T0)
        assert saved_state(tmp_path)["strategies"]["orb"]["metrics"]["trades"] == 3


@pytest.mark.invariant("a throttle transition is on disk before the call that caused it returns", machine="throttle")
def test_a_throttle_transition_is_saved_at_once_even_between_periodic_saves(tmp_path: Path) -> None:
    with open_loop(tmp_path, save_every_trades=100) as durable:
        durable.record_trade(outcome("-5"), T0)
        update = durable.record_trade(outcome("-5"), T0)
        assert [t.dest for t in update.transitions] == ["THROTTLED"]
        assert saved_state(tmp_path)["strategies"]["orb"]["throttle"]["state"] == "THROTTLED"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with open_loop(tmp_path) as durable:
        durable.record_trade(outcome("-5"), T0)
        durable.record_trade(outcome("-5"), T0)
        before = durable.loop.export_to_dict()
    with open_loop(tmp_path) as again:
        assert again.loop.export_to_dict() == before
        assert not again.allows_entry("orb")
        assert again.startup == "loaded"


def test_state_file_is_mode_0600_and_no_temp_file_is_left(tmp_path: Path) -> None:
    with open_loop(tmp_path) as durable:
        durable.record_trade(outcome("5"), T0)
    path = tmp_path / "learning_state.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["learning_state.json", "learning_state.json.lock"]


def test_file_is_json_with_format_version_and_checksum(tmp_path: Path) -> None:
    with open_loop(tmp_path) as durable:
        durable.record_trade(outcome("5"), T0)
    envelope = json.loads((tmp_path / "learning_state.json").read_text())
    assert envelope["format"] == "statebot.learning_state"
    assert envelope["schema_version"] == 1
    assert envelope["checksum"].startswith("sha256:")
    assert envelope["state"]["schema_version"] == SCHEMA_VERSION


def test_file_is_one_line_of_canonical_json_whose_checksum_covers_the_rest(tmp_path: Path) -> None:
    with open_loop(tmp_path) as durable:
        durable.record_trade(outcome("5"), T0)
    raw = (tmp_path / "learning_state.json").read_bytes()
    envelope = json.loads(raw)
    assert raw == canonical_json(envelope) + b"\n"
    body = {k: v for k, v in envelope.items() if k != "checksum"}
    assert envelope["checksum"] == "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


@given(state=json_states())
def test_encoded_state_round_trips_and_is_canonical(state: dict) -> None:  # type: ignore[type-arg]
    """Any float-free JSON state encodes to the canonical JSON of its envelope and decodes to itself."""
    raw = encode_state(state, T0)
    assert raw == canonical_json(json.loads(raw)) + b"\n"
    assert decode_state(raw) == state


def test_a_float_anywhere_in_the_state_is_refused_on_save_naming_where() -> None:
    state = {"schema_version": 2, "strategies": {"orb": {"recent": [True, {"x": 0.5}]}}}
    with pytest.raises(ValueError, match=r"float at state\.strategies\.orb\.recent\[1\]\.x"):
        encode_state(state, T0)


def test_a_save_is_an_atomic_replace_with_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    persistence.atomic_write(tmp_path / "f.json", b"{}")
    assert calls == ["fsync", "replace", "fsync"]  # the file, then the folder after the rename


def test_without_fsync_a_save_never_fsyncs_yet_replaces_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_replace = os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync"))
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(f"replace {Path(a).name} -> {Path(b).name}"), real_replace(a, b))[1])
    with open_loop(tmp_path, fsync=False) as durable:
        durable.record_trade(outcome("-5"), T0)
        durable.record_trade(outcome("-5"), T0)
    assert calls and all(c.startswith("replace .learning_state.json.") and c.endswith(".tmp -> learning_state.json") for c in calls)
    assert saved_state(tmp_path)["strategies"]["orb"]["throttle"]["state"] == "THROTTLED"
    assert stat.S_IMODE((tmp_path / "learning_state.json").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["learning_state.json", "learning_state.json.lock"]


def test_fsync_must_be_a_bool(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fsync 'no' must be True or False"):
        open_loop(tmp_path, fsync="no")


def test_stale_temp_files_from_an_interrupted_save_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".learning_state.json.abc.tmp"
    stale.write_bytes(b'{"half')
    with open_loop(tmp_path):
        assert not stale.exists()


# corrupt files ---------------------------------------------------------------


def good_file(folder: Path) -> bytes:
    with open_loop(folder) as durable:
        durable.record_trade(outcome("-5"), T0)
        durable.record_trade(outcome("12"), T0)
    return (folder / "learning_state.json").read_bytes()


def flip_a_bit(raw: bytes) -> bytes:
    i = raw.index(b'"trades":') + 9  # the first digit of a count: still valid JSON
    return raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1:]


def other_version(raw: bytes) -> bytes:
    envelope = json.loads(raw)
    envelope["schema_version"] = 2
    return json.dumps(envelope).encode()


CORRUPTIONS = {
    "truncated": (lambda raw: raw[: len(raw) // 2], "truncated or not JSON"),
    "bit_flipped": (flip_a_bit, "fails its checksum"),
    "empty": (lambda raw: b"", "is empty"),
    "unknown_version": (other_version, "schema_version 2; this statebot reads 1"),
    "wrong_json_type": (lambda raw: b"[1, 2, 3]\n", "holds a JSON list, not an object"),
    "other_format": (lambda raw: b'{"format": "something.else"}', "has format 'something.else'"),
    "inner_version": (lambda raw: encode_state({"schema_version": 7, "strategies": {}}, T0), "schema_version 7"),
    "float_money": (lambda raw: raw.replace(b'"net_pnl_usd":"7"', b'"net_pnl_usd":7.0', 1), "float 7.0"),
}


@pytest.mark.invariant("a corrupt, truncated, empty or unknown-version state file starts every strategy THROTTLED", machine="throttle")
@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_file_fails_closed_and_is_kept_beside(kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    damage, message = CORRUPTIONS[kind]
    broken = damage(good_file(tmp_path))
    (tmp_path / "learning_state.json").write_bytes(broken)
    with caplog.at_level(logging.ERROR, logger="statebot.persistence"), open_loop(tmp_path) as durable:
        error = durable.startup_error
        assert isinstance(error, StateCorrupt)
        assert error.moved_to is not None
        assert Path(error.moved_to).read_bytes() == broken  # the original, kept for inspection
        assert Path(error.moved_to).name.startswith("learning_state.json.corrupt-20260302T150000Z")
        assert re.search(message, str(error))
        assert not durable.allows_entry("orb")
        assert durable.loop.throttle("orb").reason == "state_corrupt"
        assert not durable.allows_entry("any_other_strategy")
        assert durable.startup == "corrupt"
        (event,) = [e for e in durable.drain_events() if e.type == "STATE_LOAD_FAILED"]
        assert event.payload()["moved_to"] == error.moved_to
    assert any("learning state corrupt" in r.getMessage() for r in caplog.records)


@pytest.mark.invariant("a restart after a corrupt state file stays fail closed until an operator resets", machine="throttle")
def test_restart_after_corruption_stays_fail_closed(tmp_path: Path) -> None:
    good_file(tmp_path)
    (tmp_path / "learning_state.json").write_bytes(b"")
    with open_loop(tmp_path):
        pass
    with open_loop(tmp_path) as again:
        assert again.startup_error is None
        assert not again.allows_entry("orb")
        assert not again.allows_entry("any_other_strategy")
        again.reset("orb", "file inspected, metrics lost, accepted", T0)
        assert again.allows_entry("orb")
    with open_loop(tmp_path) as third:
        assert third.allows_entry("orb")
        assert third.loop.throttle("orb").resets[-1]["note"] == "file inspected, metrics lost, accepted"


def test_a_second_corruption_the_same_second_does_not_overwrite_the_first(tmp_path: Path) -> None:
    (tmp_path / "learning_state.json").write_bytes(b"one")
    with open_loop(tmp_path):
        pass
    (tmp_path / "learning_state.json").write_bytes(b"two")
    with open_loop(tmp_path):
        pass
    kept = sorted(p.read_bytes() for p in tmp_path.glob("learning_state.json.corrupt-*"))
    assert kept == [b"one", b"two"]


def test_a_file_the_previous_statebot_wrote_loads_without_failing_closed(tmp_path: Path) -> None:
    """Version 1: pretty-printed envelope, full trade ids in the state (schema_version 1)."""
    loop = LearningLoop(RULES, strategies=["orb"])
    loop.record_trade(attrs.evolve(outcome("-5"), trade_id="exec-1"), T0)
    state = loop.export_to_dict()
    state["schema_version"] = 1
    state["strategies"]["orb"]["trade_ids"] = ["exec-1"]
    del state["strategies"]["orb"]["trade_digests"]
    envelope = {"format": "statebot.learning_state", "schema_version": 1, "saved_at": T0.isoformat(), "state": state}
    envelope["checksum"] = persistence.checksum_of(envelope)
    (tmp_path / "learning_state.json").write_text(json.dumps(envelope, sort_keys=True, indent=1) + "\n")
    with open_loop(tmp_path) as durable:
        assert durable.startup == "loaded" and durable.startup_error is None
        assert durable.loop.metrics("orb").trades == 1
        assert durable.record_trade(attrs.evolve(outcome("-5"), trade_id="exec-1"), T0).duplicate


def test_decode_refuses_a_checksum_mismatch() -> None:
    raw = encode_state({"schema_version": 1, "strategies": {}}, T0)
    envelope = json.loads(raw)
    envelope["saved_at"] = "2030-01-01T00:00:00+00:00"
    with pytest.raises(StateCorrupt, match="fails its checksum") as info:
        decode_state(json.dumps(envelope).encode())
    assert info.value.reason == "checksum_mismatch"


# failed saves ----------------------------------------------------------------


def failing_writes(monkeypatch: pytest.MonkeyPatch, failures: list[int]) -> None:
    real = persistence.atomic_write

    def write(path: Path, data: bytes, **options: object) -> None:
        if failures[0] > 0:
            failures[0] -= 1
            raise OSError(28, "No space left on device")
        real(path, data, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(persistence, "atomic_write", write)


def test_a_failed_save_is_logged_recorded_and_retried_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with open_loop(tmp_path) as durable:
        durable.drain_events()
        failing_writes(monkeypatch, [1])
        with caplog.at_level(logging.WARNING, logger="statebot.persistence"):
            durable.record_trade(outcome("5"), T0)
        assert "No space left on device" in caplog.text
        assert not durable.dirty  # the immediate retry wrote it
        assert saved_state(tmp_path)["strategies"]["orb"]["metrics"]["trades"] == 1


def test_a_save_that_keeps_failing_emits_events_and_is_retried_on_the_next_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_loop(tmp_path, save_retries=1) as durable:
        durable.drain_events()
        failing_writes(monkeypatch, [2])
        durable.record_trade(outcome("5"), T0)
        assert durable.dirty
        (failed,) = durable.drain_events()
        assert failed.type == "STATE_SAVE_FAILED" and not failed.gave_up
        assert "No space left on device" in failed.payload()["error"]
        durable.on_time(T0 + dt.timedelta(minutes=1))
        assert not durable.dirty
        (recovered,) = durable.drain_events()
        assert recovered.type == "STATE_SAVED" and "after 1 failed saves" in recovered.error


@pytest.mark.invariant("repeated failed saves trip the kill switch callback", machine="throttle")
def test_k_consecutive_failures_call_the_kill_switch_callback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tripped: list[str] = []
    with open_loop(tmp_path, max_consecutive_failures=3, save_retries=0, on_persistent_failure=tripped.append) as durable:
        failing_writes(monkeypatch, [100])
        durable.record_trade(outcome("5"), T0)
        durable.record_trade(outcome("5"), T0)
        assert tripped == []
        durable.record_trade(outcome("5"), T0)
        assert len(tripped) == 1 and "failed 3 times in a row" in tripped[0]
        assert [e.gave_up for e in durable.drain_events()] == [False, False, True]


def test_without_a_callback_repeated_failures_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_loop(tmp_path, max_consecutive_failures=2, save_retries=0) as durable:
        failing_writes(monkeypatch, [100])
        durable.record_trade(outcome("5"), T0)
        with pytest.raises(StateSaveFailed, match="failed 2 times in a row"):
            durable.record_trade(outcome("5"), T0)


@pytest.mark.invariant("a transition that would allow entries again allows none until it is on disk", machine="throttle")
def test_an_unsaved_release_does_not_allow_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_loop(tmp_path, save_retries=0, on_persistent_failure=lambda reason: None) as durable:
        durable.record_trade(outcome("-5"), T0)
        durable.record_trade(outcome("-5"), T0)
        failing_writes(monkeypatch, [1])
        (change,) = durable.on_time(T0 + dt.timedelta(minutes=10))
        assert change.dest == "PROBATION"
        assert durable.loop.allows_entry("orb")
        assert not durable.allows_entry("orb") and durable.size_cap("orb") == 0
        durable.on_time(T0 + dt.timedelta(minutes=11))  # the retry succeeds
        assert durable.allows_entry("orb") and durable.size_cap("orb") == 1


# the folder ------------------------------------------------------------------


def test_state_folder_inside_the_package_is_refused() -> None:
    inside = Path(statebot.__file__).parent / "data"
    with pytest.raises(ConfigError, match="inside the installed statebot package"):
        resolve_state_dir(inside)


def test_state_folder_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_state_dir("state") == tmp_path.resolve() / "state"


def test_default_state_folder_is_env_then_dot_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_state_dir({}) == tmp_path.resolve() / "state"
    assert default_state_dir({"STATEBOT_STATE_DIR": str(tmp_path / "s")}) == tmp_path.resolve() / "s"


def test_a_second_process_cannot_open_the_same_state(tmp_path: Path) -> None:
    with open_loop(tmp_path):
        with pytest.raises(StateInUse, match="in use by another process"):
            open_loop(tmp_path)
    with open_loop(tmp_path):
        pass  # released on close


@given(data=st.data())
def test_any_single_bit_flip_is_detected_or_harmless(data: st.DataObject) -> None:
    """Flipping any one bit of a state file either makes it StateCorrupt or leaves the
    decoded state identical (a whitespace change): altered content never loads."""
    loop = LearningLoop(RULES, strategies=["orb"])
    loop.record_trade(outcome("-5"), T0)
    raw = encode_state(loop.export_to_dict(), T0)
    i = data.draw(st.integers(0, len(raw) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = raw[:i] + bytes([raw[i] ^ (1 << bit)]) + raw[i + 1:]
    try:
        state = decode_state(flipped)
    except StateCorrupt:
        return
    assert state == loop.export_to_dict()


def test_persistence_events_are_valid_event_log_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "learning_state.json").write_bytes(b"")
    with open_loop(tmp_path, save_retries=0, on_persistent_failure=lambda reason: None) as durable:
        failing_writes(monkeypatch, [1])
        durable.record_trade(outcome("5"), T0)
        durable.on_time(T0 + dt.timedelta(minutes=1))  # retried: saved
        events = durable.drain_events()
    assert [e.type for e in events] == ["STATE_LOAD_FAILED", "STATE_SAVE_FAILED", "STATE_SAVED"]
    for i, e in enumerate(events, start=1):
        Event.make(seq=i, ts=e.at, type=e.type, payload=e.payload(), config_hash="0" * 64)
