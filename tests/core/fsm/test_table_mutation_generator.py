"""The table-mutation generator (tools/mutate_tables.py) reaches every row of every spec.

The mutation run itself is scheduled, not part of CI; this checks, fast, that it would
delete each row, drop each row's guards and move each row to every other state, for
every machine in all_specs() (so a machine or row added later is mutated too), and
that the equivalent-mutant list names only mutants the generator makes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from statebot.core.fsm import all_specs

ROOT = Path(__file__).resolve().parents[3]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tables", ROOT / "tools" / "mutate_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mutate_tables", module)
    spec.loader.exec_module(module)
    return module


tool = _tool()


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_every_row_is_deleted_unguarded_and_redirected(spec) -> None:  # type: ignore[no-untyped-def]
    made = {m.id for m in tool.generate() if m.spec == spec.name}
    expected = set()
    for index, row in enumerate(spec.transitions):
        expected.add(f"{spec.name}:{index}:delete")
        if row.guard or row.unless:
            expected.add(f"{spec.name}:{index}:drop_guards")
        expected |= {f"{spec.name}:{index}:dest:{state}" for state in spec.states if state != row.dest}
    assert made == expected


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_every_machine_has_tests_named_for_its_mutants(spec) -> None:  # type: ignore[no-untyped-def]
    files = tool.machine_tests(spec.name)
    assert files and all((ROOT / f).is_file() for f in files)


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_each_mutation_changes_exactly_its_row(spec) -> None:  # type: ignore[no-untyped-def]
    for mutant in (m for m in tool.generate() if m.spec == spec.name):
        try:
            rows = tool.mutated_spec(spec, mutant).transitions
        except ValueError as refused:  # the spec's own checks kill it (e.g. an unguarded duplicate row)
            assert spec.name in str(refused)
            continue
        original = spec.transitions[mutant.row]
        if mutant.kind == "delete":
            assert rows == spec.transitions[: mutant.row] + spec.transitions[mutant.row + 1:]
            continue
        assert rows[: mutant.row] + rows[mutant.row + 1:] == spec.transitions[: mutant.row] + spec.transitions[mutant.row + 1:]
        if mutant.kind == "drop_guards":
            assert (rows[mutant.row].guard, rows[mutant.row].unless) == ((), ())
        else:
            assert rows[mutant.row].dest == mutant.new_dest != original.dest


def test_the_equivalent_table_mutants_are_all_generated() -> None:
    generated = {m.id for m in tool.generate()}
    listed = tool.load_equivalents()
    assert listed and set(listed) <= generated
