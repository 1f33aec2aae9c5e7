"""Mutation testing of the transition tables: every row of every MachineSpec.

    python tools/mutate_tables.py                      # every spec in all_specs()
    python tools/mutate_tables.py --module killswitch  # the specs of statebot/core/fsm/killswitch.py
    python tools/mutate_tables.py --list               # the mutations only, nothing run

For each row of each spec the generator makes: the row deleted; its guards and
unless-guards dropped (rows that have some); its destination changed to each
other state. Each mutant runs in its own pytest process with the mutated spec
installed before any test is collected (the machine class's dispatch is
recompiled from it, every module-level name bound to the original spec is
rebound), against that machine's tests, stopping at the first failure.

A mutant whose spec the MachineSpec checks or ``transitions`` refuse, or that the
machine class would refuse when defined (it executes an effect no row asks for any
more), is killed at construction. A surviving mutant is printed; a survivor that no behaviour
can observe is listed in ``tools/equivalent_table_mutants.txt`` as
``<mutant id>  # <one-line reason>``. Exit status 1 when a mutant survives
that is not listed there, 2 for a bad argument.

Run by ``tools/mutate.py`` for fsm modules; not part of the CI suite (the CI
suite checks only that the generator covers every row: tests/tools/).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tools" / "equivalent_table_mutants.txt"
ENV = "STATEBOT_TABLE_MUTANT"

# spec name -> the file-name patterns, in tests/core/fsm/, of the tests that state its machine's behaviour
MACHINE_TEST_PATTERNS: dict[str, tuple[str, ...]] = {
    "session": ("test_session*.py",),
    "position": ("test_position*.py",),
    "protector": ("test_protector*.py",),
    "throttle": ("test_throttle*.py",),
    "killswitch": ("test_killswitch*.py",),
    "flatten": ("test_flatten*.py",),
    "venue_connection": ("test_connection*.py",),
}


def machine_tests(spec_name: str) -> list[str]:
    """The test files of one machine (empty when none match or the spec is unknown here)."""
    folder = ROOT / "tests" / "core" / "fsm"
    found = {p for pattern in MACHINE_TEST_PATTERNS.get(spec_name, ()) for p in folder.glob(pattern)}
    return sorted(p.relative_to(ROOT).as_posix() for p in found)


@attrs.frozen
class TableMutant:
    """One change to one row: ``kind`` is delete, drop_guards or dest (to ``new_dest``)."""

    spec: str
    row: int
    kind: str
    new_dest: str = ""

    @property
    def id(self) -> str:
        return f"{self.spec}:{self.row}:{self.kind}" + (f":{self.new_dest}" if self.new_dest else "")

    @classmethod
    def parse(cls, text: str) -> TableMutant:
        spec, row, kind, *dest = text.split(":")
        return cls(spec, int(row), kind, dest[0] if dest else "")


def specs() -> tuple:  # type: ignore[type-arg]
    from statebot.core.fsm import all_specs

    return all_specs()


def module_of(spec) -> str:  # type: ignore[no-untyped-def]
    """The stem of the statebot/core/fsm module that defines ``spec``."""
    for name, module in list(sys.modules.items()):
        if name.startswith("statebot.core.fsm.") and any(v is spec for v in vars(module).values()):
            return name.rsplit(".", 1)[1]
    raise LookupError(f"spec {spec.name!r} is defined in no statebot.core.fsm module")


def generate(all_specs: tuple | None = None) -> Iterator[TableMutant]:  # type: ignore[type-arg]
    """Every mutation of every row of every spec, in table order."""
    for spec in specs() if all_specs is None else all_specs:
        for index, row in enumerate(spec.transitions):
            yield TableMutant(spec.name, index, "delete")
            if row.guard or row.unless:
                yield TableMutant(spec.name, index, "drop_guards")
            for state in spec.states:
                if state != row.dest:
                    yield TableMutant(spec.name, index, "dest", state)


def mutated_spec(spec, mutant: TableMutant):  # type: ignore[no-untyped-def]
    """The spec with the mutation applied; raises ValueError when MachineSpec refuses it."""
    rows = list(spec.transitions)
    if mutant.kind == "delete":
        del rows[mutant.row]
    elif mutant.kind == "drop_guards":
        rows[mutant.row] = attrs.evolve(rows[mutant.row], guard=(), unless=())
    elif mutant.kind == "dest":
        rows[mutant.row] = attrs.evolve(rows[mutant.row], dest=mutant.new_dest)
    else:
        raise ValueError(f"unknown table mutation kind {mutant.kind!r}")
    return attrs.evolve(spec, transitions=tuple(rows))


def install(mutant: TableMutant) -> None:
    """Replace the named spec everywhere it is bound and recompile its machines' dispatch."""
    from statebot.core.fsm import table

    original = next(s for s in specs() if s.name == mutant.spec)
    mutated = mutated_spec(original, mutant)
    table.validate_with_transitions(mutated)
    for module in list(sys.modules.values()):
        if module is None or not getattr(module, "__name__", "").startswith("statebot"):
            continue
        for name, value in list(vars(module).items()):
            if value is original:
                setattr(module, name, mutated)
            elif isinstance(value, type) and issubclass(value, table.TableMachine) and value.__dict__.get("SPEC") is original:
                value.SPEC = mutated
                value.__init_subclass__()  # recompiles _DISPATCH from the class's own SPEC


def refused_by_a_machine_class(original, mutated) -> bool:  # type: ignore[no-untyped-def]
    """True when a machine class running ``original`` would refuse ``mutated`` when defined: it executes
    an effect (``OWN_EFFECTS``) that no row of the mutated table asks for any more (``TableMachine``'s check)."""
    from statebot.core.fsm.table import TableMachine

    classes = list(TableMachine.__subclasses__())
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls.__dict__.get("SPEC") is original and set(cls.OWN_EFFECTS) - set(mutated.actions):
            return True
    return False


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    """pytest plugin hook: install the mutant named in the environment before collection."""
    text = os.environ.get(ENV)
    if text:
        import statebot.core.fsm  # noqa: F401  (load every machine before rebinding)

        install(TableMutant.parse(text))


def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    found: dict[str, str] = {}
    if not path.exists():
        return found
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = re.match(r"^(\S+)\s+#\s*(\S.*)$", text)
        if match is None:
            raise SystemExit(f"{path.name}:{number}: expected '<mutant id>  # <reason>', got {text!r}")
        found[match[1]] = match[2]
    return found


def run(mutant: TableMutant, timeout: int) -> str:
    """killed, survived, refused (the spec checks caught it) or timeout."""
    spec = next(s for s in specs() if s.name == mutant.spec)
    try:
        from statebot.core.fsm.table import validate_with_transitions

        mutated = mutated_spec(spec, mutant)
        validate_with_transitions(mutated)
    except (ValueError, TypeError, Exception) as exc:  # noqa: BLE001 - any refusal of the spec kills it
        del exc
        return "refused"
    if refused_by_a_machine_class(spec, mutated):
        return "refused"
    env = dict(os.environ, **{ENV: mutant.id}, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT / "tools"))
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "mutate_tables",
               *machine_tests(mutant.spec)]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    if done.returncode == 0:
        return "survived"
    if done.returncode == 1:
        return "killed"
    raise SystemExit(f"{mutant.id}: pytest exited {done.returncode}:\n{done.stdout.decode()[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", help="only the specs of statebot/core/fsm/<module>.py")
    parser.add_argument("--spec", help="only this spec name")
    parser.add_argument("--list", action="store_true", help="list the mutations, run nothing")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per mutant run")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every mutant's outcome as it comes")
    args = parser.parse_args(argv)
    chosen = specs()
    if args.module:
        chosen = tuple(s for s in chosen if module_of(s) == args.module)
        if not chosen:
            print(f"mutate_tables: statebot/core/fsm/{args.module}.py holds no spec in all_specs()")
            return 0
    if args.spec:
        chosen = tuple(s for s in chosen if s.name == args.spec)
        if not chosen:
            print(f"mutate_tables: no spec named {args.spec!r}", file=sys.stderr)
            return 2
    mutants = list(generate(chosen))
    if args.list:
        for mutant in mutants:
            print(mutant.id)
        return 0
    equivalents = load_equivalents()
    survivors: list[str] = []
    counts: dict[str, int] = {}
    for mutant in mutants:
        outcome = run(mutant, args.timeout)
        if outcome == "survived" and mutant.id in equivalents:
            outcome = "equivalent"
        counts[outcome] = counts.get(outcome, 0) + 1
        if args.verbose and outcome != "survived":
            print(f"  {outcome} {mutant.id}", flush=True)
        if outcome == "survived":
            survivors.append(mutant.id)
            print(f"  SURVIVED {mutant.id}", flush=True)
    killed = counts.get("killed", 0) + counts.get("refused", 0) + counts.get("timeout", 0)
    counted = len(mutants) - counts.get("equivalent", 0)
    score = 100.0 * killed / counted if counted else 100.0
    names = ", ".join(s.name for s in chosen)
    print(f"tables {names}: {len(mutants)} row mutants, {counts.get('killed', 0)} killed by tests, "
          f"{counts.get('refused', 0)} refused by the spec checks, {counts.get('equivalent', 0)} equivalent, "
          f"{len(survivors)} surviving -> score {score:.1f}%")
    return 1 if survivors else 0


if __name__ == "__main__":
    raise SystemExit(main())
