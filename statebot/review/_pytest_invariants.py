"""pytest plugin used by ``statebot.review.invariants``: writes every collected invariant marker as JSON.

Loaded only inside the ``pytest --collect-only`` subprocess the generator
starts (``-p statebot.review._pytest_invariants``); the output path comes from the
``STATEBOT_INVARIANTS_OUT`` environment variable. Nothing is run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENV_OUT = "STATEBOT_INVARIANTS_OUT"


def pytest_collection_finish(session: Any) -> None:
    out = os.environ.get(ENV_OUT)
    if not out:
        return
    root = Path(str(session.config.rootpath))
    found = []
    for item in session.items:
        for mark in item.iter_markers("invariant"):
            found.append(
                {
                    "nodeid": item.nodeid,
                    "path": Path(str(item.path)).resolve().relative_to(root.resolve()).as_posix(),
                    "args": [str(a) for a in mark.args],
                    "machine": mark.kwargs.get("machine"),
                    "kwargs": sorted(mark.kwargs),
                }
            )
    Path(out).write_text(json.dumps(found), encoding="utf-8")
