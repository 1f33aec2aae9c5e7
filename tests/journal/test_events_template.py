"""A payload written through its type's template is the bytes the generic path writes.

``EventLog.append`` learns a template per event type and key order from a
payload the validating path accepted, and writes later payloads of that shape
through it. These properties draw every event type, its required keys plus
extra ones in any order, and any storable values, and compare the log's
lines and hashes with ``Event.make`` (the generic path); a value the generic
path refuses is refused by the template with the same message, writing nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statebot.core.effects import EventType
from statebot.errors import InvalidEvent
from statebot.journal.log import _TEMPLATES_PER_LOG, EVENT_TYPES, GENESIS_HASH, Event, EventLog, seal_of
from tests.strategies import aware_datetimes, storable_payloads, storable_scalars

CFG = "c" * 64
KEY = b"template seal key"

class NoOffset(dt.tzinfo):
    """A zone that knows no UTC offset: a datetime in it is as naive as one without a zone."""

    def utcoffset(self, when: dt.datetime | None) -> None:
        return None


values = st.one_of(storable_scalars, storable_payloads, st.lists(storable_scalars, max_size=3).map(tuple))
refused = st.one_of(
    st.floats(),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.just(NoOffset())),
    st.sampled_from([Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN"), {1: "a non-str key"}, b"bytes", object()]),
    st.lists(st.floats(), min_size=1, max_size=2),
)


@st.composite
def shapes(draw: st.DrawFn) -> tuple[str, list[str]]:
    """An event type and its payload keys in insertion order: the required ones and extras, shuffled."""
    event_type = draw(st.sampled_from(sorted(EVENT_TYPES)))
    required = sorted(EVENT_TYPES[event_type])
    extra = draw(st.lists(st.text(max_size=8).filter(lambda k: k not in required), unique=True, max_size=4))
    return event_type, draw(st.permutations(required + extra))


def expected_lines(batch: list[tuple[dt.datetime, str, dict[str, Any]]], key: bytes | None) -> tuple[bytes, list[Event]]:
    """The log's bytes and events by the generic path: ``Event.make`` and ``to_line`` per event."""
    lines, events, prev = [], [], GENESIS_HASH
    for seq, (ts, event_type, payload) in enumerate(batch, start=1):
        event = Event.make(seq=seq, ts=ts, type=event_type, payload=payload, config_hash=CFG, prev_hash=prev)
        line = event.to_line()
        if key is not None:  # the seal sits between prev_hash and seq
            line = line.replace(b',"seq":', f',"seal":"{seal_of(key, event.hash)}","seq":'.encode(), 1)
        lines.append(line)
        events.append(event)
        prev = event.hash
    return b"".join(lines), events


@pytest.mark.invariant("a payload written through its type's template is the bytes and hash of the generic path", machine="eventlog")
@given(shape=shapes(), data=st.data(), enum=st.booleans(), sealed=st.booleans())
def test_the_template_path_writes_the_generic_paths_bytes(tmp_path_factory: pytest.TempPathFactory, shape: tuple[str, list[str]],
                                                          data: st.DataObject, enum: bool, sealed: bool) -> None:
    """Invariant: for every event type, any key order and any storable values, the lines (hence the
    hashes and the chain) written once the template is learned equal ``Event.make``'s, and the
    returned events equal the generic path's."""
    event_type, keys = shape
    batch = []
    for _ in range(data.draw(st.integers(min_value=2, max_value=4), label="events")):
        drawn = data.draw(st.lists(values, min_size=len(keys), max_size=len(keys)), label="values")
        batch.append((data.draw(aware_datetimes, label="ts"), event_type, dict(zip(keys, drawn))))
    key = KEY if sealed else None
    path = tmp_path_factory.mktemp("template") / "events.jsonl"
    with EventLog(path, config_hash=CFG, durability="simulation", seal_key=key) as log:
        written = []
        for ts, name, payload in batch:
            written.append(log.append(ts, EventType(name) if enum else name, payload))
            assert (name, *keys) in log._templates  # learned from the first: the others took the template
    expected, events = expected_lines(batch, key)
    assert path.read_bytes() == expected
    assert written == events
    assert [e.hash for e in written] == [e.hash for e in events]


@given(shape=shapes(), data=st.data())
def test_a_value_the_generic_path_refuses_the_template_refuses_alike(tmp_path_factory: pytest.TempPathFactory,
                                                                     shape: tuple[str, list[str]], data: st.DataObject) -> None:
    """A refused value (float, naive datetime, NaN, a non-str nested key, bytes...) at any key raises the
    generic path's ``InvalidEvent`` message through the template, and nothing is written."""
    event_type, keys = shape
    if not keys:
        return
    ts = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)
    good = dict(zip(keys, data.draw(st.lists(values, min_size=len(keys), max_size=len(keys)), label="values")))
    bad = dict(good)
    bad[data.draw(st.sampled_from(keys), label="bad key")] = data.draw(refused, label="refused value")
    with pytest.raises(InvalidEvent) as generic:
        Event.make(seq=2, ts=ts, type=event_type, payload=bad, config_hash=CFG)
    path = tmp_path_factory.mktemp("template") / "events.jsonl"
    with EventLog(path, config_hash=CFG, durability="live") as log:
        log.append(ts, event_type, good)
        before, head = path.read_bytes(), log.head
        with pytest.raises(InvalidEvent) as templated:
            log.append(ts, event_type, bad)
        assert str(templated.value) == str(generic.value)
        assert (path.read_bytes(), log.head) == (before, head)


def test_a_naive_ts_is_refused_on_the_template_path_too(tmp_path: Path) -> None:
    with EventLog(tmp_path / "events.jsonl", config_hash=CFG) as log:
        log.append(dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc), "LEARNING_UPDATE",
                   {"strategy": "s", "trades": 1, "net_pnl": Decimal("1.25")})
        with pytest.raises(InvalidEvent, match="must be an aware datetime"):
            log.append(dt.datetime(2026, 11, 24, 15, 1), "LEARNING_UPDATE", {"strategy": "s", "trades": 2, "net_pnl": Decimal(0)})
        assert log.head.seq == 1


def test_a_log_keeps_a_bounded_number_of_templates(tmp_path: Path) -> None:
    """Payloads of ever new shapes (extra keys are allowed) do not grow a log's templates without bound."""
    ts = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)
    with EventLog(tmp_path / "events.jsonl", config_hash=CFG, durability="simulation") as log:
        for n in range(200):
            log.append(ts, "LEARNING_UPDATE", {"strategy": "s", "trades": n, "net_pnl": Decimal(n), f"extra{n}": n})
        assert len(log._templates) == _TEMPLATES_PER_LOG
