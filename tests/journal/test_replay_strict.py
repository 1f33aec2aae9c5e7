"""``replay --strict``: every line must be exactly the canonical bytes the writer writes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statebot.cli import main
from statebot.journal.log import STATE_SAVED, EventLog

NY = ZoneInfo("America/New_York")
T0 = dt.datetime(2026, 11, 24, 9, 30, tzinfo=NY)


def three_lines(path: Path) -> list[bytes]:
    with EventLog(path, config_hash="c" * 64) as log:
        for i in range(3):
            log.append(T0 + dt.timedelta(minutes=i), STATE_SAVED, {"i": i, "note": "x"})
    return path.read_bytes().splitlines(keepends=True)


def reformatted(line: bytes) -> bytes:
    return json.dumps(json.loads(line), indent=None, separators=(", ", ": "), sort_keys=True).encode() + b"\n"


def duplicated_key(line: bytes) -> bytes:
    return line.replace(b'"config_hash":', b'"config_hash":"x","config_hash":', 1)


@pytest.mark.invariant("replay --strict refuses any line that is not exactly the bytes the writer writes, naming it", machine="eventlog")
@pytest.mark.parametrize(("name", "mangle"), [
    ("re-formatted JSON", reformatted),
    ("CRLF", lambda line: line[:-1] + b"\r\n"),
    ("extra whitespace", lambda line: b" " + line),
    ("a duplicated key", duplicated_key),
    ("keys out of order", lambda line: json.dumps(dict(reversed(list(json.loads(line).items()))),
                                                  separators=(",", ":")).encode() + b"\n"),
])
def test_strict_refuses_a_line_that_is_not_the_writers_bytes_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, mangle: object) -> None:
    path = tmp_path / "e.jsonl"
    lines = three_lines(path)
    lines[1] = mangle(lines[1])  # type: ignore[operator]
    path.write_bytes(b"".join(lines))
    assert main(["replay", str(path)]) == 0, name  # the hash chain alone still verifies
    capsys.readouterr()
    assert main(["replay", "--strict", str(path)]) == 1, name
    err = capsys.readouterr().err
    assert "line 2: not the canonical bytes the writer writes" in err and err.count("\n") == 1


def test_strict_accepts_the_writers_own_log(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    three_lines(path)
    assert main(["replay", "--strict", str(path)]) == 0


def test_strict_refuses_a_ts_the_writer_would_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    from statebot.journal.log import canonical_json

    path = tmp_path / "e.jsonl"
    lines = three_lines(path)
    data = json.loads(lines[0])
    data["ts"] = "2026-11-24T14:30:00Z"  # the same instant, not as isoformat writes it
    body = {k: v for k, v in data.items() if k != "hash"}
    data["hash"] = hashlib.sha256(canonical_json(body)).hexdigest()
    path.write_bytes(canonical_json(data) + b"\n")
    assert main(["replay", "--strict", str(path)]) == 1
    assert "line 1: ts '2026-11-24T14:30:00Z' is not written as the writer writes it" in capsys.readouterr().err
