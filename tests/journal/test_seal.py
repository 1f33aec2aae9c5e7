"""A keyed seal: HMAC-SHA256 of each line's hash; forging or re-chaining a line needs the key."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statebot.cli import main
from statebot.errors import ChainBroken, ConfigError, EventLogError
from statebot.journal.log import GENESIS_HASH, KILL_SWITCH, STATE_SAVED, EventLog, canonical_json, iter_events, seal_of
from statebot.journal.replay import verify
from statebot.journal.seal import configured_key, read_key_file
from tests.runner_helpers import config

NY = ZoneInfo("America/New_York")
T0 = dt.datetime(2026, 11, 24, 9, 30, tzinfo=NY)
CFG = "c" * 64
KEY = b"0123456789abcdef0123456789abcdef"


def keyed_log(path: Path, n: int = 4, key: bytes = KEY) -> None:
    with EventLog(path, config_hash=CFG, seal_key=key) as log:
        for i in range(n):
            log.append(T0 + dt.timedelta(minutes=i), STATE_SAVED, {"i": i, "net_pnl": "10.00"})


def rechain(lines: list[dict[str, object]], key: bytes | None = None) -> bytes:
    """What a forger without the key can do: recompute every hash and prev_hash (and seals with ``key``)."""
    out, prev = [], GENESIS_HASH
    for seq, data in enumerate(lines, start=1):
        body = {k: v for k, v in data.items() if k not in ("hash", "seal")}
        body.update(seq=seq, prev_hash=prev)
        digest = hashlib.sha256(canonical_json(body)).hexdigest()
        fields = {**body, "hash": digest}
        if key is not None:
            fields["seal"] = seal_of(key, digest)
        elif "seal" in data:
            fields["seal"] = data["seal"]
        out.append(canonical_json(fields) + b"\n")
        prev = digest
    return b"".join(out)


def key_file(tmp_path: Path, key: bytes = KEY) -> Path:
    f = tmp_path / "seal.key"
    f.write_bytes(key + b"\n")
    return f


def test_a_keyed_log_verifies_with_its_key_and_its_chain_without_it(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    keyed_log(path)
    assert [e.seq for _, e in iter_events(path, key=KEY)] == [1, 2, 3, 4]
    assert verify(path).events == 4


def test_each_keyed_line_carries_the_hmac_of_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    keyed_log(path, n=1)
    line = json.loads(path.read_bytes())
    assert line["seal"] == seal_of(KEY, line["hash"])
    assert list(line) == sorted(line)  # still canonical: seal sits between prev_hash and seq


@pytest.mark.invariant("with the sealing key, an appended forged line is refused naming it", machine="eventlog")
def test_an_appended_forged_line_is_refused_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    keyed_log(path)
    lines = [json.loads(raw) for raw in path.read_bytes().splitlines()]
    forged = {**lines[-1], "type": KILL_SWITCH, "payload": {"from": "TRIPPED", "to": "ARMED", "reason": "manual_reset"}}
    path.write_bytes(rechain([*lines, forged], key=b"a guessed key"))
    assert verify(path).events == 5  # the chain alone cannot tell
    with pytest.raises(ChainBroken, match="line 1: seal does not match"):
        list(iter_events(path, key=KEY))
    path.write_bytes(rechain([*lines, {k: v for k, v in forged.items() if k != "seal"}]))
    with pytest.raises(ChainBroken, match="line 5: no seal"):
        list(iter_events(path, key=KEY))


@pytest.mark.invariant("with the sealing key, an edited line whose followers were re-chained is refused naming it", machine="eventlog")
def test_an_edited_line_with_the_following_lines_rechained_is_refused_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    keyed_log(path)
    lines = [json.loads(raw) for raw in path.read_bytes().splitlines()]
    lines[1]["payload"] = {"i": 1, "net_pnl": "9999.00"}
    path.write_bytes(rechain(lines))  # old seals kept: hashes changed from line 2 on
    assert verify(path).events == 4
    with pytest.raises(ChainBroken) as info:
        list(iter_events(path, key=KEY))
    assert info.value.line == 2 and "seal does not match" in str(info.value)


def test_an_unkeyed_log_fails_a_keyed_check_at_line_1(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventLog(path, config_hash=CFG) as log:
        log.append(T0, STATE_SAVED)
    with pytest.raises(ChainBroken, match="line 1: no seal"):
        list(iter_events(path, key=KEY))


def test_a_keyed_log_is_continued_only_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    keyed_log(path)
    with pytest.raises(EventLogError, match="line 1 is sealed: open it with its key"):
        EventLog(path, config_hash=CFG)
    with pytest.raises(ChainBroken, match="seal does not match"):
        EventLog(path, config_hash=CFG, seal_key=b"another key")
    with EventLog(path, config_hash=CFG, seal_key=KEY) as log:
        assert log.append(T0 + dt.timedelta(hours=1), STATE_SAVED).seq == 5
    assert len(list(iter_events(path, key=KEY))) == 5


def test_replay_key_exits_1_naming_the_forged_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.jsonl"
    keyed_log(path)
    lines = [json.loads(raw) for raw in path.read_bytes().splitlines()]
    lines[2]["payload"] = {"i": 2, "net_pnl": "-0.01"}
    path.write_bytes(rechain(lines))
    assert main(["replay", "--strict", str(path)]) == 0  # today's check passes it
    capsys.readouterr()
    assert main(["replay", "--strict", "--key", str(key_file(tmp_path)), str(path)]) == 1
    assert "line 3: seal does not match" in capsys.readouterr().err


def test_replay_key_passes_an_untouched_keyed_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.jsonl"
    keyed_log(path)
    assert main(["replay", "--strict", "--key", str(key_file(tmp_path)), str(path)]) == 0


def test_replay_key_names_a_missing_key_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.jsonl"
    keyed_log(path)
    assert main(["replay", "--key", str(tmp_path / "nope.key"), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.key: cannot read" in err


def test_the_config_names_the_key_by_file_or_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = key_file(tmp_path)
    assert configured_key(config(f'[event_log]\nkey_file = "{f}"\n')) == KEY
    monkeypatch.setenv("STATEBOT_TEST_SEAL", KEY.decode())
    assert configured_key(config('[event_log]\nkey_env = "STATEBOT_TEST_SEAL"\n')) == KEY
    assert configured_key(config("")) is None


def test_an_unset_key_variable_or_an_empty_key_file_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATEBOT_TEST_SEAL", raising=False)
    with pytest.raises(ConfigError, match="event_log.key_env: environment variable STATEBOT_TEST_SEAL is not set"):
        configured_key(config('[event_log]\nkey_env = "STATEBOT_TEST_SEAL"\n'))
    (tmp_path / "empty.key").write_bytes(b"\n")
    with pytest.raises(ConfigError, match="empty.key: is empty"):
        read_key_file(tmp_path / "empty.key")


def test_key_file_and_key_env_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="event_log.key_env: give key_file or key_env, not both"):
        config('[event_log]\nkey_file = "a"\nkey_env = "B"\n')


def test_a_runner_configured_with_a_key_file_seals_every_line(tmp_path: Path) -> None:
    from tests.runner_helpers import broker, drive, et, make_runner, minute_bars, Scripted

    f = key_file(tmp_path)
    sim = broker()
    runner = make_runner(tmp_path, Scripted(), sim, cfg=config(f'[event_log]\nkey_file = "{f}"\n'),
                         start=et("2026-11-24", "09:00"))
    drive(runner, sim, minute_bars("2026-11-24", "09:31", "09:40"))
    runner.close()
    sealed = list(iter_events(tmp_path / "events.jsonl", key=KEY))
    assert len(sealed) > 0
    assert main(["replay", "--strict", "--key", str(f), str(tmp_path / "events.jsonl")]) == 0
