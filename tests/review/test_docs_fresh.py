"""The committed risk-review docs are exactly what the machines and tests generate today.

Generation runs in a subprocess (`python -m statebot diagrams --out TMP`); its
invariant step only collects the tests (`pytest --collect-only`), so this test
does not run itself again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ("state-machines.md", "invariants.md")
HOW = "run `python -m statebot diagrams` and commit"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    done = subprocess.run([sys.executable, "-m", "statebot", "diagrams", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"docs generation failed: {done.stderr.strip()}"
    return out


@pytest.mark.parametrize("name", GENERATED)
def test_committed_doc_equals_a_fresh_generation(fresh: Path, name: str) -> None:
    committed = ROOT / "docs" / name
    assert committed.exists(), f"docs/{name} is missing: {HOW}"
    assert committed.read_bytes() == (fresh / name).read_bytes(), f"docs/{name} is stale: {HOW}"


def test_generation_is_byte_identical_on_rerun(fresh: Path, tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "statebot", "diagrams", "--out", str(tmp_path)],
                   cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (fresh / name).read_bytes(), name
