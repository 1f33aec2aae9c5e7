"""Current states for a live review, read from an event log or a bot's state folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from statebot.errors import DocsError
from statebot.journal.log import EventLog
from statebot.store.livestate import states_from_events, states_from_learning_state, states_from_state_dir
from statebot.core.fsm import all_specs
from statebot.store.persistence import encode_state

SPECS = all_specs()  # the real machines: event types must map onto their names and states


T0 = dt.datetime(2026, 11, 24, 15, 50, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def log(tmp_path: Path, *events: tuple[str, dict], extra_types: dict | None = None) -> Path:
    """A real, hash-chained event log holding ``events`` (type, payload), a minute apart."""
    path = tmp_path / "events.jsonl"
    with EventLog(path, config_hash="c" * 64, extra_types=extra_types) as events_log:
        for n, (kind, payload) in enumerate(events):
            events_log.append(T0 + dt.timedelta(minutes=n), kind, payload)
    return path


def session(to: str) -> tuple[str, dict]:
    return "SESSION_TRANSITION", {"from": "TRADING", "to": to, "session": "2026-11-24"}


def test_the_last_transition_of_each_machine_instance_wins(tmp_path: Path) -> None:
    path = log(
        tmp_path,
        ("SESSION_TRANSITION", {"from": "PRE_OPEN", "to": "TRADING", "session": "2026-11-24"}),
        ("POSITION_TRANSITION", {"strategy": "orb", "symbol": "MES", "qty": 0, "from": "FLAT", "to": "ENTERING"}),
        ("BAR_REJECTED", {"reason": "not_after_previous", "symbol": "MES", "ts": T0}),
        ("POSITION_TRANSITION", {"strategy": "orb", "symbol": "MES", "qty": 1, "from": "ENTERING", "to": "OPEN"}),
        ("POSITION_TRANSITION", {"strategy": "vwap", "symbol": "MES", "qty": 0, "from": "ENTERING", "to": "FLAT"}),
        ("THROTTLE_TRANSITION", {"strategy": "vwap", "reason": "eqs", "from": "ACTIVE", "to": "THROTTLED"}),
        ("KILL_SWITCH", {"reason": "open at close", "from": "ARMED", "to": "TRIPPED"}),
        session("FLATTENING"),
    )
    assert states_from_events(path, SPECS) == {
        "session": {"": "FLATTENING"},
        "position": {"orb/MES": "OPEN", "vwap/MES": "FLAT"},
        "throttle": {"vwap": "THROTTLED"},
        "killswitch": {"": "TRIPPED"},
    }


def test_an_event_naming_a_machine_statebot_does_not_know_is_an_error(tmp_path: Path) -> None:
    path = log(tmp_path, ("ORDER_TRANSITION", {"from": "NEW", "to": "FILLED"}), extra_types={"ORDER_TRANSITION": ("from", "to")})
    with pytest.raises(DocsError, match=r"events.jsonl:1: machine 'order' is not one statebot knows"):
        states_from_events(path, SPECS)


def test_a_state_the_machine_does_not_have_is_an_error(tmp_path: Path) -> None:
    path = log(tmp_path, session("LUNCH"))
    with pytest.raises(DocsError, match=r"events.jsonl:1: 'LUNCH' is not a state of session"):
        states_from_events(path, SPECS)


def test_a_broken_hash_chain_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = log(tmp_path, session("FLATTENING"), session("CLOSED"))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0].replace("FLATTENING", "TRADING") + lines[1])
    with pytest.raises(DocsError, match=r"events.jsonl: line 1: hash does not match the content"):
        states_from_events(path, SPECS)


def test_a_torn_last_line_of_a_log_being_written_is_left_out(tmp_path: Path) -> None:
    path = log(tmp_path, session("FLATTENING"))
    with path.open("a") as f:
        f.write('{"config_hash":"cc')
    assert states_from_events(path, SPECS) == {"session": {"": "FLATTENING"}}


def test_a_missing_event_log_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocsError, match=r"cannot read event log .*nope.jsonl"):
        states_from_events(tmp_path / "nope.jsonl", SPECS)


def learning_state(folder: Path, throttles: dict[str, str]) -> Path:
    """A learning state file as statebot.store.persistence writes it (envelope, checksum)."""
    state = {"schema_version": 1, "fail_closed_reason": None, "fail_closed_at": None, "strategies": {
        name: {"metrics": {}, "judged": {}, "throttle": {"state": value, "reason": None}, "trade_ids": []}
        for name, value in throttles.items()
    }}
    path = folder / "learning_state.json"
    path.write_bytes(encode_state(state, T0))
    return path


def test_throttle_states_are_read_from_a_saved_learning_state(tmp_path: Path) -> None:
    path = learning_state(tmp_path, {"orb": "THROTTLED", "vwap": "ACTIVE"})
    assert states_from_learning_state(path, SPECS) == {"throttle": {"orb": "THROTTLED", "vwap": "ACTIVE"}}


def test_an_altered_learning_state_is_an_error(tmp_path: Path) -> None:
    path = learning_state(tmp_path, {"orb": "THROTTLED"})
    path.write_text(path.read_text().replace("THROTTLED", "ACTIVE"))
    with pytest.raises(DocsError, match=r"learning_state.json fails its checksum"):
        states_from_learning_state(path, SPECS)


def test_a_torn_learning_state_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "learning_state.json"
    path.write_text('{"format": "statebot.learning_state", "state": {"strategies": ')
    with pytest.raises(DocsError, match=r"learning_state.json is truncated or not JSON"):
        states_from_learning_state(path, SPECS)


def test_a_throttle_state_the_machine_does_not_have_is_an_error(tmp_path: Path) -> None:
    path = learning_state(tmp_path, {"orb": "NAPPING"})
    with pytest.raises(DocsError, match=r"strategy 'orb' throttle: 'NAPPING' is not a state of throttle"):
        states_from_learning_state(path, SPECS)


def test_a_state_folder_reads_the_log_then_the_saved_throttle_states(tmp_path: Path) -> None:
    log(tmp_path, ("THROTTLE_TRANSITION", {"strategy": "orb", "reason": "losses", "from": "ACTIVE", "to": "THROTTLED"}),
        ("SESSION_TRANSITION", {"from": "PRE_OPEN", "to": "TRADING", "session": "2026-11-24"}))
    learning_state(tmp_path, {"orb": "PROBATION"})
    assert states_from_state_dir(tmp_path, SPECS) == {"session": {"": "TRADING"}, "throttle": {"orb": "PROBATION"}}


def test_a_state_folder_with_nothing_to_read_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocsError, match=r"holds none of events.jsonl, checkpoint.json, learning_state.json"):
        states_from_state_dir(tmp_path, SPECS)


def test_a_bots_folder_is_read_from_its_checkpoint(tmp_path: Path) -> None:
    from statebot.core.fsm import all_specs
    from tests.runner_helpers import Scripted, bar_at, broker, et, long, make_runner

    sim = broker()
    runner = make_runner(tmp_path, Scripted(long()), sim)
    for minute in range(3):
        b = bar_at(et("2026-11-24", f"10:0{minute}"))
        sim.on_bar(b)
        runner.run_once(b)
    runner.close()
    states = states_from_state_dir(tmp_path / "state", all_specs())
    assert {"": "ARMED"} in states.values()
    assert any(v == {"scripted/MES": "OPEN"} for v in states.values())
    assert any(v == {"scripted": "ACTIVE"} for v in states.values())
