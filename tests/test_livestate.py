"""Current states for a live review, read from an event log or a bot's state folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statebot.errors import DocsError
from statebot.livestate import states_from_events, states_from_learning_state, states_from_state_dir
from statebot.machines import SESSION_SPEC
from statebot.machines._table import MachineSpec, Transition

THROTTLE = MachineSpec(
    name="throttle",
    states=("ACTIVE", "THROTTLED", "PROBATION"),
    initial="ACTIVE",
    transitions=(
        Transition(trigger="throttle", source=("ACTIVE", "PROBATION"), dest="THROTTLED", why="unreliable"),
        Transition(trigger="probe", source="THROTTLED", dest="PROBATION", why="cool-down over"),
        Transition(trigger="restore", source="PROBATION", dest="ACTIVE", why="reliable again"),
    ),
)
POSITION = MachineSpec(
    name="position",
    states=("FLAT", "ENTERING", "OPEN", "EXITING"),
    initial="FLAT",
    transitions=(Transition(trigger="enter", source="FLAT", dest="ENTERING", why="entry sent"),),
)
KILL = MachineSpec(
    name="kill_switch", states=("ARMED", "TRIPPED"), initial="ARMED",
    transitions=(Transition(trigger="trip", source="ARMED", dest="TRIPPED", why="critical"),),
)
SPECS = (SESSION_SPEC, POSITION, THROTTLE, KILL)


def event(seq: int, kind: str, **payload: object) -> str:
    return json.dumps({"seq": seq, "ts": "2026-11-24T15:55:00-05:00", "type": kind, "payload": payload,
                       "config_hash": "c", "prev_hash": "p", "hash": "h"})


def log(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_last_transition_of_each_machine_instance_wins(tmp_path: Path) -> None:
    path = log(
        tmp_path,
        event(1, "SESSION_TRANSITION", **{"from": "PRE_OPEN", "to": "TRADING", "session": "2026-11-24"}),
        event(2, "POSITION_TRANSITION", strategy="orb", symbol="MES", qty=1, **{"from": "FLAT", "to": "ENTERING"}),
        event(3, "BAR_REJECTED", reason="not_after_previous"),
        event(4, "POSITION_TRANSITION", strategy="orb", symbol="MES", qty=1, **{"from": "ENTERING", "to": "OPEN"}),
        event(5, "POSITION_TRANSITION", strategy="vwap", symbol="MES", qty=0, **{"from": "ENTERING", "to": "FLAT"}),
        event(6, "THROTTLE_TRANSITION", strategy="vwap", reason="eqs", **{"from": "ACTIVE", "to": "THROTTLED"}),
        event(7, "KILL_SWITCH", reason="open at close", **{"from": "ARMED", "to": "TRIPPED"}),
        event(8, "SESSION_TRANSITION", **{"from": "TRADING", "to": "FLATTENING", "session": "2026-11-24"}),
    )
    assert states_from_events(path, SPECS) == {
        "session": {"": "FLATTENING"},
        "position": {"orb/MES": "OPEN", "vwap/MES": "FLAT"},
        "throttle": {"vwap": "THROTTLED"},
        "kill_switch": {"": "TRIPPED"},
    }


def test_an_event_naming_a_machine_statebot_does_not_know_is_an_error(tmp_path: Path) -> None:
    path = log(tmp_path, event(1, "ORDER_TRANSITION", **{"from": "NEW", "to": "FILLED"}))
    with pytest.raises(DocsError, match=r"events.jsonl:1: machine 'order' is not one statebot knows"):
        states_from_events(path, SPECS)


def test_a_state_the_machine_does_not_have_is_an_error(tmp_path: Path) -> None:
    path = log(tmp_path, event(1, "SESSION_TRANSITION", **{"from": "TRADING", "to": "LUNCH"}))
    with pytest.raises(DocsError, match=r"events.jsonl:1: 'LUNCH' is not a state of session"):
        states_from_events(path, SPECS)


def test_a_line_that_is_not_json_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = log(tmp_path, event(1, "BAR_REJECTED"), '{"seq": 2, "type": "SESSION_TRA')
    with pytest.raises(DocsError, match=r"events.jsonl:2: not a JSON event"):
        states_from_events(path, SPECS)


def test_a_transition_without_a_destination_is_an_error(tmp_path: Path) -> None:
    path = log(tmp_path, event(1, "THROTTLE_TRANSITION", strategy="orb"))
    with pytest.raises(DocsError, match=r"events.jsonl:1: THROTTLE_TRANSITION needs a payload object with 'to'"):
        states_from_events(path, SPECS)


def test_a_missing_event_log_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocsError, match=r"cannot read event log .*nope.jsonl"):
        states_from_events(tmp_path / "nope.jsonl", SPECS)


@pytest.mark.parametrize(
    "document",
    [
        {"strategies": {"orb": {"state": "THROTTLED", "trades": 12}, "vwap": {"state": "ACTIVE"}}},
        {"schema": 1, "checksum": "x", "data": {"throttle": {"orb": "THROTTLED", "vwap": "ACTIVE"}}},
        {"payload": {"strategies": {"orb": {"throttle_state": "THROTTLED"}, "vwap": {"throttle": "ACTIVE"}}}},
    ],
    ids=["strategies", "wrapped-throttle", "other-keys"],
)
def test_throttle_states_are_found_in_a_learning_state(tmp_path: Path, document: dict) -> None:
    path = tmp_path / "learning_state.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert states_from_learning_state(path, SPECS) == {"throttle": {"orb": "THROTTLED", "vwap": "ACTIVE"}}


def test_a_learning_state_without_throttle_states_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "learning_state.json"
    path.write_text(json.dumps({"metrics": [1, 2]}), encoding="utf-8")
    with pytest.raises(DocsError, match=r"no per-strategy throttle states found"):
        states_from_learning_state(path, SPECS)


def test_a_torn_learning_state_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "learning_state.json"
    path.write_text('{"strategies": {"orb": ', encoding="utf-8")
    with pytest.raises(DocsError, match=r"learning_state.json: not a JSON learning state"):
        states_from_learning_state(path, SPECS)


def test_a_state_folder_reads_the_log_then_the_saved_throttle_states(tmp_path: Path) -> None:
    log(tmp_path, event(1, "THROTTLE_TRANSITION", strategy="orb", **{"from": "ACTIVE", "to": "THROTTLED"}),
        event(2, "SESSION_TRANSITION", **{"from": "PRE_OPEN", "to": "TRADING"}))
    (tmp_path / "learning_state.json").write_text(json.dumps({"strategies": {"orb": {"state": "PROBATION"}}}))
    assert states_from_state_dir(tmp_path, SPECS) == {"session": {"": "TRADING"}, "throttle": {"orb": "PROBATION"}}


def test_a_state_folder_with_nothing_to_read_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocsError, match=r"holds none of events.jsonl, learning_state.json"):
        states_from_state_dir(tmp_path, SPECS)
