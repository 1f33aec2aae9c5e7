"""``statebot diagrams``: the risk-review docs, generated from the machines' own tables.

Without state sources it writes ``state-machines.md`` (every machine's diagram
and transition table) and ``invariants.md`` (every invariant and the tests
that prove it) into ``--out``. With ``--events FILE`` or ``--state-dir D`` it
draws the same diagrams with the current states highlighted, on stdout or into
``--out/live-states.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from statebot.review import diagrams, invariants
from statebot.store import livestate
from statebot.core.fsm import all_specs

STATE_MACHINES = "state-machines.md"
INVARIANTS = "invariants.md"
LIVE = "live-states.md"


def register(sub: Any) -> None:
    p = sub.add_parser("diagrams", help="write the risk-review docs (diagrams, transition tables, invariants)",
                       description="Write state-machines.md and invariants.md from the transition tables and the "
                       "tests' invariant markers (run from the repository root). With --events or --state-dir, "
                       "draw the diagrams with the current states highlighted instead.")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="folder to write into (default docs/; for a live review default: print to stdout)")
    p.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                   help="repository root whose tests/ prove the invariants (default: current folder)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--events", type=Path, metavar="FILE", help="JSONL event log: highlight each machine's last state")
    source.add_argument("--state-dir", type=Path, metavar="DIR",
                        help="a bot's state folder (events.jsonl, checkpoint.json or learning_state.json): highlight current states")
    p.add_argument("--svg", action="store_true", help="also write <machine>.svg with graphviz dot (must be installed)")
    p.set_defaults(run=run)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # newline="\n": the same bytes on every platform, so the freshness check is exact
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text if text.endswith("\n") else text + "\n")


def _note_undeclared(proven: tuple[invariants.Invariant, ...]) -> None:
    """Marked but undeclared invariants are documented; say how to make them required."""
    undeclared = [i for i in proven if not i.declared]
    if not undeclared:
        return
    print(f"note: {len(undeclared)} invariant(s) are marked in tests but not declared; declaring them makes "
          "a lost test fail the generation:", file=sys.stderr)
    for name in dict.fromkeys(i.machine for i in undeclared):
        print(f"  {name} (its MachineSpec invariants=, or statebot.review.invariants.SUBJECTS):", file=sys.stderr)
        for inv in undeclared:
            if inv.machine == name:
                print(f"    {inv.text!r},", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    specs = all_specs()
    if args.svg:
        diagrams.require_dot()
    if args.events is not None or args.state_dir is not None:
        if args.events is not None:
            current = livestate.states_from_events(args.events, specs)
        else:
            current = livestate.states_from_state_dir(args.state_dir, specs)
        text = diagrams.state_machines_markdown(specs, current, read_from=str(args.events or args.state_dir))
        if args.out is None:
            print(text)
        else:
            _write(args.out / LIVE, text)
            print(args.out / LIVE)
        return 0
    out = args.out or Path("docs")
    document, proven = invariants.generate(args.root.resolve(), specs)
    _write(out / STATE_MACHINES, diagrams.state_machines_markdown(specs))
    _write(out / INVARIANTS, document)
    written = [out / STATE_MACHINES, out / INVARIANTS]
    if args.svg:
        for spec in specs:
            diagrams.write_svg(spec, str(out / f"{spec.name}.svg"))
            written.append(out / f"{spec.name}.svg")
    for path in written:
        print(path)
    sys.stdout.flush()
    _note_undeclared(proven)
    return 0
