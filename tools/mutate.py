"""Mutation testing of one core module against that module's own tests.

    python tools/mutate.py statebot/core/risk/sizing.py
    python tools/mutate.py statebot.core.costs --tests tests/core/test_costs_commission.py

Runs mutmut (installed by the ``mutation`` extra) in a scratch copy of the
repository under ``.mutation/<module>/`` so the worktree is never touched and
runs of different modules do not share state. The tests are the module's
mirror folder (``statebot/core/risk/sizing.py`` -> the test files directly in
``tests/core/risk/``) unless ``--tests`` names others.

Prints every mutant that no test kills with its diff, and the score:

    score = killed / (mutants - listed equivalent)

where killed includes timeouts and mutants the type checker rejects, and a
mutant no test reaches counts as surviving. Equivalent mutants (a change no
behaviour can observe) are listed in ``tools/equivalent_mutants.txt``, one a
line: ``<mutant name>  # <one-line reason>``. A listed mutant that tests now
kill, or that no longer exists, is reported as stale so the list stays honest.

For a module under ``statebot/core/fsm/`` the transition tables are mutated
too (``tools/mutate_tables.py``) unless ``--no-tables``.

``--recheck TEST...`` runs the last run's surviving mutants again against the
test files named (with the worktree's current tests copied in), one pytest
session per mutant in one process, and records each one they now kill. Tests
are only ever added, so every earlier kill stands: the score that follows is
the score against the old and the new tests together, without rerunning the
mutants already killed.

Exit status: 0 when the score is >= ``--fail-under`` (default 0: report
only), 1 when below, 2 for a bad argument or a mutmut run that failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tools" / "equivalent_mutants.txt"
SCRATCH = ROOT / ".mutation"

KILLED = {"killed", "timeout", "caught by type check", "segfault"}
NOT_RUN = {"not checked", "skipped"}
_RESULT_LINE = re.compile(r"^\s+(?P<name>[\w.]+__mutmut_\d+): (?P<status>.+)$")
_EQUIVALENT_LINE = re.compile(r"^(?P<name>[\w.]+__mutmut_\d+)\s+#\s*(?P<reason>\S.*)$")


class UsageError(Exception):
    """A bad argument: printed as one line, exit status 2."""


def module_path(arg: str) -> Path:
    """``statebot.core.costs`` or ``statebot/core/costs.py`` -> the file, relative to the root."""
    rel = Path(arg) if arg.endswith(".py") else Path(*arg.split(".")).with_suffix(".py")
    if rel.is_absolute():
        rel = rel.relative_to(ROOT)
    if not (ROOT / rel).is_file():
        raise UsageError(f"module {arg!r}: no file {rel}")
    if rel.parts[:2] != ("statebot", "core"):
        raise UsageError(f"module {arg!r}: only modules under statebot/core/ are mutated by this command")
    return rel


def dotted(rel: Path) -> str:
    return ".".join(rel.with_suffix("").parts)


def mirror_tests(rel: Path) -> list[Path]:
    """The test files directly in the module's mirror folder: statebot/core/risk/x.py -> tests/core/risk/test_*.py."""
    folder = ROOT / "tests" / Path(*rel.parts[1:-1])
    files = sorted(p.relative_to(ROOT) for p in folder.glob("test_*.py"))
    if not files:
        raise UsageError(f"no test files in {folder.relative_to(ROOT)} for {rel}; name them with --tests")
    return files


def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    """Mutant name -> reason. Raises UsageError naming the line of a malformed entry."""
    found: dict[str, str] = {}
    if not path.exists():
        return found
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = _EQUIVALENT_LINE.match(text)
        if match is None:
            raise UsageError(f"{path.name}:{number}: expected '<mutant name>  # <reason>', got {text!r}")
        found[match["name"]] = match["reason"]
    return found


def prepare(rel: Path, tests: list[Path], timeout_multiplier: float = 3.0) -> Path:
    """A fresh scratch copy of the package and tests with a mutmut section for this module only."""
    work = SCRATCH / dotted(rel)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis")
    shutil.copytree(ROOT / "statebot", work / "statebot", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    # some tests load a tool (tests/core/fsm/test_table_mutation_generator.py reads tools/mutate_tables.py)
    shutil.copytree(ROOT / "tools", work / "tools", ignore=ignore)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    pytest_opts = project["tool"]["pytest"]["ini_options"]
    lines = ["[tool.pytest.ini_options]"]
    for key, value in pytest_opts.items():
        lines.append(f"{key} = {json.dumps(value)}")
    lines += [
        "",
        "[tool.mutmut]",
        'source_paths = ["statebot"]',
        'also_copy = ["tools"]',
        f"timeout_multiplier = {timeout_multiplier}",
        f"only_mutate = {json.dumps([rel.as_posix()])}",
        f"pytest_add_cli_args_test_selection = {json.dumps([t.as_posix() for t in tests])}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:randomly"]',
        "",
    ]
    (work / "pyproject.toml").write_text("\n".join(lines), "utf-8")
    return work


def run_mutmut(work: Path, children: int, timeout: int) -> None:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)]
    log = work / "mutmut.log"
    with log.open("w") as out:
        try:
            done = subprocess.run(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise UsageError(f"mutmut did not finish within {timeout}s; see {log}") from None
    if done.returncode != 0:
        raise UsageError(f"mutmut run exited {done.returncode}; see {log}")


def results(work: Path) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=work, capture_output=True, text=True, check=True,
    ).stdout
    return {m["name"]: m["status"] for m in map(_RESULT_LINE.match, out.splitlines()) if m}


def diff(work: Path, name: str) -> str:
    out = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work, capture_output=True, text=True).stdout
    changed = [line for line in out.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    return "\n".join("      " + line for line in changed)


_RECHECK = r"""
import json, os, signal, sys
import pytest

def _alarm(signum, frame):
    raise TimeoutError("mutant run exceeded its time")

signal.signal(signal.SIGALRM, _alarm)
limit, tests, names = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3:]
# import the package and the tests once with no mutant active, as mutmut's own run does:
# code that runs at import time (the specs built by the fsm modules) is never mutated
os.environ["MUTANT_UNDER_TEST"] = ""
code = int(pytest.main(["-q", "--collect-only", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header", *tests]))
print("RECHECK " + json.dumps(["", code]), flush=True)
for name in names:
    os.environ["MUTANT_UNDER_TEST"] = name
    signal.alarm(limit)
    try:
        code = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header", *tests]))
    except TimeoutError:
        code = 36
    finally:
        signal.alarm(0)
    print("RECHECK " + json.dumps([name, code]), flush=True)
"""


def recheck(rel: Path, work: Path, tests: list[Path], statuses: dict[str, str], limit: int = 120) -> int:
    """Run the surviving mutants of ``rel`` (and those an interrupted run had not reached) against
    ``tests``; mark the ones a test fails on as killed in mutmut's results. Returns how many were killed."""
    prefix = dotted(rel) + "."
    names = sorted(n for n, s in statuses.items() if n.startswith(prefix) and s not in KILLED)
    mutants = work / "mutants"
    shutil.rmtree(mutants / "tests")
    shutil.copytree(ROOT / "tests", mutants / "tests", ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("MUTANT_UNDER_TEST", None)
    command = [sys.executable, "-c", _RECHECK, str(limit), ",".join(t.as_posix() for t in tests), *names]
    done = subprocess.run(command, cwd=mutants, env=env, capture_output=True, text=True)
    codes = dict(json.loads(line[len("RECHECK "):]) for line in done.stdout.splitlines() if line.startswith("RECHECK "))
    baseline = codes.pop("", None)
    if baseline != 0:
        tail = (done.stderr or done.stdout)[-2000:]
        raise UsageError(f"--recheck: the tests named do not collect without a mutant (pytest exit {baseline}): {tail}")
    if set(codes) != set(names):
        tail = (done.stderr or done.stdout)[-2000:]
        raise UsageError(f"--recheck ran {len(codes)} of {len(names)} mutants (exit {done.returncode}): {tail}")
    meta = mutants / (rel.as_posix() + ".meta")
    data = json.loads(meta.read_text("utf-8"))
    killed = 0
    for name, code in codes.items():
        if code in (1, 3, 36):  # a test failed, pytest itself broke, or the run hung: caught (as mutmut counts them)
            data["exit_code_by_key"][name] = code
            killed += 1
        elif code != 0:
            raise UsageError(f"--recheck: pytest exited {code} for {name} (not a test failure); see the tests named")
    meta.write_text(json.dumps(data, indent=4), "utf-8")
    print(f"rechecked {len(names)} surviving mutants against {' '.join(t.as_posix() for t in tests)}: {killed} killed")
    return killed


def report(rel: Path, statuses: dict[str, str], equivalents: dict[str, str], work: Path) -> float:
    prefix = dotted(rel) + "."
    mine = {name: status for name, status in statuses.items() if name.startswith(prefix)}
    not_run = sorted(n for n, s in mine.items() if s in NOT_RUN)
    run = {n: s for n, s in mine.items() if s not in NOT_RUN}
    killed = sorted(n for n, s in run.items() if s in KILLED)
    equivalent = sorted(n for n, s in run.items() if s not in KILLED and n in equivalents)
    survivors = sorted(n for n, s in run.items() if s not in KILLED and n not in equivalents)
    stale = sorted(n for n in equivalents if n.startswith(prefix) and (n not in mine or mine[n] in KILLED))
    counted = len(run) - len(equivalent)
    score = 100.0 * len(killed) / counted if counted else 100.0
    for name in survivors:
        print(f"  SURVIVED ({mine[name]}) {name}")
        print(diff(work, name))
    for name in stale:
        print(f"  STALE equivalent entry {name}: {'killed' if name in mine else 'no such mutant'}; remove it")
    if not_run:
        # an interrupted run (or one rechecked before it finished): the score is over the mutants judged so far
        print(
            f"{rel}: PARTIAL: {len(not_run)} of {len(mine)} mutants not run yet (--resume carries on); "
            f"of the {len(run)} run: {len(killed)} killed, {len(equivalent)} equivalent, "
            f"{len(survivors)} surviving -> partial score {score:.1f}%"
        )
        return 0.0
    print(
        f"{rel}: {len(mine)} mutants, {len(killed)} killed, {len(equivalent)} equivalent, "
        f"{len(survivors)} surviving -> score {score:.1f}%"
    )
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="statebot/core/... .py file or dotted module name")
    parser.add_argument("--tests", nargs="+", type=Path, help="test files or folders (default: the mirror folder)")
    parser.add_argument("--children", type=int, default=1, help="parallel mutant runs (default 1: a shared machine)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds before the mutmut run is abandoned")
    parser.add_argument("--timeout-multiplier", type=float, default=3.0,
                        help="a mutant whose tests use more than 2 x this x (their CPU seconds + 1) is a timeout "
                             "(counted as killed; mutmut's own default, 15, lets a mutant that loops forever "
                             "hold the one worker for many minutes)")
    parser.add_argument("--fail-under", type=float, default=0.0, help="exit 1 when the score is below this")
    parser.add_argument("--report", action="store_true", help="report the last run's results again without rerunning")
    parser.add_argument("--no-tables", action="store_true", help="skip the transition-table mutations for fsm modules")
    parser.add_argument("--resume", action="store_true",
                        help="carry on with an interrupted run in the scratch copy (every verdict kept; the timeouts "
                             "run again when --timeout-multiplier changed)")
    parser.add_argument("--recheck-limit", type=int, default=120,
                        help="seconds one mutant's --recheck session may take before it counts as a timeout (killed)")
    parser.add_argument("--recheck", nargs="+", type=Path, metavar="TEST",
                        help="run the last run's survivors again against these (new) test files and record the kills")
    args = parser.parse_args(argv)
    try:
        rel = module_path(args.module)
        tests = args.tests or mirror_tests(rel)
        for test in tests:
            if not (ROOT / test).exists():
                raise UsageError(f"--tests: no such file or folder {test}")
        equivalents = load_equivalents()
        if args.report or args.recheck:
            work = SCRATCH / dotted(rel)
            if not (work / "mutants").is_dir():
                raise UsageError(f"--report/--recheck: no earlier run of {rel} in {work.relative_to(ROOT)}/")
            for test in args.recheck or ():
                if not (ROOT / test).is_file():
                    raise UsageError(f"--recheck: no such test file {test}")
            if args.recheck:
                recheck(rel, work, args.recheck, results(work), args.recheck_limit)
        elif args.resume:
            work = SCRATCH / dotted(rel)
            config = work / "pyproject.toml"
            if not (work / "mutants").is_dir() or not config.is_file():
                raise UsageError(f"--resume: no earlier run of {rel} in {work.relative_to(ROOT)}/")
            text = re.sub(r"(?m)^timeout_multiplier = .*$", f"timeout_multiplier = {args.timeout_multiplier}",
                          config.read_text("utf-8"))
            config.write_text(text, "utf-8")
            print(f"resuming the run of {rel} in {work.relative_to(ROOT)}/", flush=True)
            run_mutmut(work, args.children, args.timeout)
        else:
            work = prepare(rel, tests, args.timeout_multiplier)
            print(f"mutating {rel} against {' '.join(t.as_posix() for t in tests)} in {work.relative_to(ROOT)}/", flush=True)
            run_mutmut(work, args.children, args.timeout)
        score = report(rel, results(work), equivalents, work)
    except UsageError as exc:
        print(f"mutate: {exc}", file=sys.stderr)
        return 2
    status = 0 if score >= args.fail_under else 1
    if rel.parts[:3] == ("statebot", "core", "fsm") and not (args.no_tables or args.report or args.recheck):
        tables = subprocess.run([sys.executable, str(ROOT / "tools" / "mutate_tables.py"), "--module", rel.stem], cwd=ROOT)
        status = max(status, tables.returncode)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
