"""The Python example in docs/testing.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def test_the_python_example_in_docs_testing_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "docs/testing.md has no python example"
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {"__name__": "docs_testing"})
