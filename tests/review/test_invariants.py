"""docs/invariants.md is collected from the tests' invariant markers, and refuses to lie."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from statebot.errors import DocsError
from statebot.review.invariants import (
    SUBJECTS,
    Marker,
    SourceMarker,
    Subject,
    collect_markers,
    generate,
    invariants_markdown,
    prove,
    scan_source_markers,
)
from statebot.core.fsm import SESSION_SPEC, all_specs
from statebot.core.fsm.table import MachineSpec, Transition

TOY = MachineSpec(
    name="toy",
    states=("IDLE", "BUSY"),
    initial="IDLE",
    transitions=(Transition(trigger="go", source="IDLE", dest="BUSY", why="work"),),
    invariants=("toy is never busy twice",),
)


def marker(nodeid: str, text: str = "toy is never busy twice", machine: str = "toy") -> Marker:
    return Marker(nodeid=nodeid, path=nodeid.split("::")[0], text=text, machine=machine)


def write_tests(root: Path, source: str) -> None:
    (root / "tests").mkdir()
    (root / "tests" / "test_toy.py").write_text(textwrap.dedent(source), encoding="utf-8")


def test_each_invariant_lists_its_tests_once_with_parameters_folded() -> None:
    (inv,) = prove([TOY], [marker("tests/t.py::test_b[1]"), marker("tests/t.py::test_b[2]"), marker("tests/t.py::test_a")])
    assert inv.tests == ("tests/t.py::test_a", "tests/t.py::test_b") and inv.declared


def test_a_declared_invariant_without_a_test_fails_the_generation() -> None:
    with pytest.raises(DocsError, match=r"toy: declared invariant 'toy is never busy twice' has no test marked with it"):
        prove([TOY], [])


def test_a_marker_naming_an_unknown_machine_fails_the_generation() -> None:
    with pytest.raises(DocsError, match=r"tests/t.py::test_x: invariant marker names unknown machine 'toi' \(known: toy\)"):
        prove([TOY], [marker("tests/t.py::test_a"), marker("tests/t.py::test_x", machine="toi")])


def test_a_marker_on_something_pytest_does_not_collect_fails_the_generation() -> None:
    lost = SourceMarker(path="tests/t.py", line=7, target="test_gone", text="toy is never busy twice", machine="toy")
    with pytest.raises(DocsError, match=r"tests/t.py:7: invariant 'toy is never busy twice' on test_gone marks a test pytest does not collect"):
        prove([TOY], [marker("tests/other.py::test_a")], [lost])


def test_an_undeclared_marked_invariant_is_documented_and_flagged() -> None:
    found = prove([TOY], [marker("tests/t.py::test_a"), marker("tests/t.py::test_z", text="toy wakes up")])
    assert [(i.text, i.declared) for i in found] == [("toy is never busy twice", True), ("toy wakes up", False)]
    assert "toy wakes up *(marked in tests; not declared)*" in invariants_markdown([TOY], found)


def test_a_machine_without_invariants_says_so() -> None:
    bare = MachineSpec(name="bare", states=("A",), initial="A", transitions=())
    assert "No invariant is declared or marked for this yet." in invariants_markdown([bare], ())


def test_a_spec_refuses_a_multi_line_or_repeated_invariant() -> None:
    with pytest.raises(ValueError, match="one non-empty line"):
        MachineSpec(name="x", states=("A",), initial="A", transitions=(), invariants=("a\nb",))
    with pytest.raises(ValueError, match="listed twice"):
        MachineSpec(name="x", states=("A",), initial="A", transitions=(), invariants=("a", "a"))


def test_the_repository_proves_every_declared_invariant() -> None:
    """Reads this repository's real markers through pytest's collection (a subprocess)."""
    root = Path(__file__).resolve().parents[2]
    markers, problems = collect_markers(root)
    assert problems == ()
    subjects = (*all_specs(), *SUBJECTS)
    found = prove(subjects, markers, scan_source_markers(root))
    assert {i.text for i in found if i.machine == "session"} >= set(SESSION_SPEC.invariants)
    for subject in SUBJECTS:
        assert {i.text for i in found if i.machine == subject.name} >= set(subject.invariants)


def test_a_part_that_is_not_a_machine_is_proven_and_described_the_same_way() -> None:
    log = Subject(name="log", description="The event log.", invariants=("a modified line is detected",))
    found = prove([TOY, log], [marker("tests/t.py::test_a"), marker("tests/l.py::test_m", text="a modified line is detected", machine="log")])
    text = invariants_markdown([TOY, log], found)
    assert "## log\n\nThe event log.\n\n1 invariants, proven by 1 tests.\n\n1. a modified line is detected\n    - `tests/l.py::test_m`" in text


def test_collection_reads_markers_on_functions_and_classes(tmp_path: Path) -> None:
    write_tests(tmp_path, '''
        import pytest

        @pytest.mark.invariant("toy is never busy twice", machine="toy")
        @pytest.mark.parametrize("n", [1, 2])
        def test_a(n):
            pass

        @pytest.mark.invariant("toy is never busy twice", machine="toy")
        class TestToy:
            def test_b(self):
                pass
    ''')
    (inv,) = prove([TOY], *collect_markers(tmp_path)[:1], scan_source_markers(tmp_path))
    assert inv.tests == ("tests/test_toy.py::TestToy::test_b", "tests/test_toy.py::test_a")


def test_a_marked_function_that_is_no_longer_a_test_fails_the_generation(tmp_path: Path) -> None:
    write_tests(tmp_path, '''
        import pytest

        @pytest.mark.invariant("toy is never busy twice", machine="toy")
        def test_a():
            pass

        @pytest.mark.invariant("toy is never busy twice", machine="toy")
        def check_renamed():
            pass
    ''')
    with pytest.raises(DocsError, match=r"tests/test_toy.py:8: invariant 'toy is never busy twice' on check_renamed marks a test pytest does not collect"):
        generate(tmp_path, [TOY])


def test_a_test_module_that_does_not_import_fails_the_generation(tmp_path: Path) -> None:
    write_tests(tmp_path, "import no_such_module_here\n")
    with pytest.raises(DocsError, match=r"pytest --collect-only failed"):
        generate(tmp_path, [TOY])


def test_a_missing_tests_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocsError, match=r"no tests/ folder under"):
        generate(tmp_path, [TOY])
