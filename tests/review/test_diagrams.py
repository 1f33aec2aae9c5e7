"""Risk-review diagrams and tables are generated from the machines' own transition tables."""

from __future__ import annotations

import re

import pytest

from statebot.review.diagrams import fix_mermaid, machine_section, raw_mermaid, state_diagram, state_machines_markdown, transition_table
from statebot.errors import ConfigError
from statebot.core.fsm import all_specs
from statebot.core.fsm.table import MachineSpec, Transition

TOY = MachineSpec(
    name="toy",
    states=("IDLE", "BUSY", "BROKEN"),
    initial="IDLE",
    description="A made-up machine: many sources, a guard, two actions, a pipe in a reason.",
    transitions=(
        Transition(trigger="start", source="IDLE", dest="BUSY", why="work arrived"),
        Transition(trigger="fail", source=("IDLE", "BUSY"), dest="BROKEN", guard="is_fatal",
                   actions=("cancel_entry_orders", "flatten_all_positions"), why="fatal error | any state"),
        Transition(trigger="repair", source="BROKEN", dest="IDLE", why="a person repaired it"),
    ),
)


def edges(diagram: str) -> list[str]:
    return [line.strip() for line in diagram.splitlines() if "-->" in line]


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_every_machine_has_a_diagram_and_a_row_per_transition(spec: MachineSpec) -> None:
    section = machine_section(spec)
    assert section.count("```mermaid") == 1
    rows = [line for line in transition_table(spec).splitlines()[2:]]
    assert len(rows) == len(spec.transitions)
    for row, transition in zip(rows, spec.transitions):
        assert f"`{transition.trigger}`" in row and transition.why.replace("|", "\\|") in row


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_every_transition_of_every_machine_is_an_arrow(spec: MachineSpec) -> None:
    arrows = edges(state_diagram(spec))
    for row in spec.transitions:
        for source in row.source:
            assert any(a.startswith(f"{source} --> {row.dest}: ") and row.trigger in a for a in arrows), row
    assert f"[*] --> {spec.initial}" in arrows


def test_the_document_names_every_machine_in_order() -> None:
    text = state_machines_markdown(all_specs())
    assert re.findall(r"^## (\S+)$", text, re.MULTILINE) == [s.name for s in all_specs()]


def test_generation_is_deterministic() -> None:
    assert state_machines_markdown((*all_specs(), TOY)) == state_machines_markdown((*all_specs(), TOY))


def test_the_diagram_is_transitions_own_output_with_only_the_parser_fixes() -> None:
    raw = raw_mermaid(TOY).splitlines()
    fixed = state_diagram(TOY).splitlines()
    assert len(raw) == len(fixed)
    changed = [(a, b) for a, b in zip(raw, fixed) if a.rstrip() != b]
    assert changed[0] == ("toy", "title: toy")
    assert all(a.strip().startswith("Class ") and b.strip().startswith("class ") for a, b in changed[1:])


def test_a_bare_front_matter_title_becomes_a_yaml_title() -> None:
    assert fix_mermaid("---\nsession\n---\nstateDiagram-v2\n  A --> B") == "---\ntitle: session\n---\nstateDiagram-v2\n  A --> B"


def test_class_lines_use_mermaids_lowercase_keyword_and_lines_lose_trailing_blanks() -> None:
    assert fix_mermaid("stateDiagram-v2\n  \n  Class A s_default  ") == "stateDiagram-v2\n\n  class A s_default"


def test_a_transition_from_several_states_is_an_arrow_from_each_with_its_guard() -> None:
    arrows = edges(state_diagram(TOY))
    assert "IDLE --> BROKEN: fail [is_fatal]" in arrows and "BUSY --> BROKEN: fail [is_fatal]" in arrows


def test_the_table_lists_sources_guard_actions_and_escapes_pipes() -> None:
    row = transition_table(TOY).splitlines()[3]
    assert row == "| `fail` | IDLE, BUSY | BROKEN | `is_fatal` | `cancel_entry_orders`, `flatten_all_positions` | fatal error \\| any state |"


def test_no_state_is_highlighted_in_the_committed_diagrams() -> None:
    diagram = state_diagram(TOY)
    assert [line.strip() for line in diagram.splitlines() if line.strip().startswith("class ")] == [
        "class IDLE s_default", "class BUSY s_default", "class BROKEN s_default"
    ]


def test_current_states_are_highlighted_as_active() -> None:
    diagram = state_diagram(TOY, active=["BUSY", "BROKEN"])
    assert "class BUSY s_active" in diagram and "class BROKEN s_active" in diagram and "class IDLE s_default" in diagram


def test_highlighting_an_unknown_state_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"toy: 'NAPPING' is not one of its states IDLE, BUSY, BROKEN"):
        state_diagram(TOY, active=["NAPPING"])


def test_a_live_document_lists_each_instance_and_says_when_a_machine_was_not_seen() -> None:
    text = state_machines_markdown((TOY, all_specs()[0]), {"toy": {"alpha": "BUSY", "beta": "IDLE"}})
    assert "- alpha: **BUSY**\n- beta: **IDLE**" in text
    assert "Current state: not seen in the sources read." in text
