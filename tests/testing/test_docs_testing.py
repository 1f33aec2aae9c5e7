"""The examples in docs/testing.md run as written: the log check from Python here, the user's
test file (the kit and the plugin) in a fresh project folder, as its author would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
USER_FILE = "# test_my_bot.py\n"


def test_the_python_example_in_docs_testing_runs() -> None:
    examples = [code for code in BLOCKS if not code.startswith(USER_FILE)]
    assert examples, "docs/testing.md has no python example"
    for code in examples:
        exec(compile(code, str(DOC), "exec"), {"__name__": "docs_testing"})


def test_the_users_test_file_in_docs_testing_passes_in_a_project_of_its_own(tmp_path: Path) -> None:
    [test_file] = [code for code in BLOCKS if code.startswith(USER_FILE)]
    (tmp_path / "test_my_bot.py").write_text(test_file, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYPOTHESIS_PROFILE")}
    began = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_bot.py"],
                       cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout, r.stdout
    print(f"docs/testing.md's test file: {time.monotonic() - began:.1f} s")
