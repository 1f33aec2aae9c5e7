"""Branch coverage of statebot/core/ over the test suite, subprocess runs included.

    python tools/coverage_core.py                 # the suite as CI runs it
    python tools/coverage_core.py tests/core      # only these tests
    python tools/coverage_core.py --fail-under 95

coverage.py (the ``mutation`` extra) measures with ``branch = true`` and
``patch = ["subprocess"]`` from pyproject.toml, so the CLI and crash-driver
runs the tests start in child processes are measured too; their data files
are combined before the report. Prints the per-file table of the core files
not fully covered and the core's total. Exit status: pytest's when it fails,
else 2 when the total is below ``--fail-under``, else 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".coverage-data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="*", help="test paths (default: the whole suite)")
    parser.add_argument("--fail-under", type=float, default=0.0, help="exit 2 when the core's total is below this")
    args = parser.parse_args(argv)
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir()
    coverage = [sys.executable, "-m", "coverage"]
    env = dict(os.environ, COVERAGE_RCFILE=str(ROOT / "pyproject.toml"))
    tests = subprocess.run([*coverage, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.tests], cwd=ROOT, env=env)
    subprocess.run([*coverage, "combine", "-q"], cwd=ROOT, env=env, check=True)
    report = subprocess.run(
        [*coverage, "report", "--include=statebot/core/*", "--precision=1", f"--fail-under={args.fail_under}"],
        cwd=ROOT, env=env,
    )
    if tests.returncode != 0:
        print(f"coverage_core: the tests failed (pytest exit {tests.returncode}); the figure above is incomplete")
        return tests.returncode
    return 2 if report.returncode == 2 else report.returncode


if __name__ == "__main__":
    raise SystemExit(main())
