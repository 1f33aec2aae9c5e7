"""The distribution has a name of its own, and nothing tells a user to install someone else's.

The name ``statebot`` on the package index belongs to an unrelated, empty project: ``pip install
statebot[...]`` would install it. From a clone the extras are ``pip install '.[extra]'``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOREIGN_INSTALL = re.compile(r"""pip3?\s+install\s+(?:-\S+\s+)*['"]?statebot(?:\[|['"\s]|$)""", re.M)


def test_the_distribution_is_named_statebot_trading() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "statebot-trading"
    assert project["scripts"]["statebot"] == "statebot.cli:main"


def _texts() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "statebot").rglob("*.py"))]
    return [f for f in files if f.is_file()]


def test_no_doc_or_hint_installs_the_unrelated_statebot_project() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0).strip()}"
        for path in _texts()
        for text in [path.read_text(encoding="utf-8")]
        for m in FOREIGN_INSTALL.finditer(text)
    ]
    assert offenders == []


def test_the_pattern_catches_the_forms_a_doc_would_use() -> None:
    for bad in ("pip install 'statebot[ibkr]'", 'pip install "statebot[plots]"', "pip install statebot[ibkr]",
                "pip install statebot", "pip install -U statebot"):
        assert FOREIGN_INSTALL.search(bad), bad
    for good in ("pip install '.[ibkr]'", "pip install statebot-trading", "pip install ib_insync"):
        assert not FOREIGN_INSTALL.search(good), good
