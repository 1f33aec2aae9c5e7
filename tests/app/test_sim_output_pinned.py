"""``statebot sim``'s output is pinned byte for byte: its printed summary and its ``--report`` JSON
for the sample CSV and two scenarios (a throttle cycle across a restart, a data outage over a
close) equal the files in ``tests/app/golden/``. A change to how the summary is computed (e.g.
from the fold rather than a reader of its own) must leave them as they are.

To re-pin after an intended change of output: ``STATEBOT_REPIN=1 python -m pytest tests/app/test_sim_output_pinned.py``,
then read the diff of the golden files before committing it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from statebot.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"

RUNS = {
    "sample-csv": ["--bars", str(ROOT / "data" / "sample-mes-1m.csv")],
    "throttle-cycle-with-restart": [str(ROOT / "sims" / "throttle-cycle-with-restart.toml")],
    "data-outage-over-close": [str(ROOT / "sims" / "data-outage-over-close.toml")],
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_sim_summary_and_report_are_unchanged(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    code = main(["sim", *RUNS[name], "--state-dir", str(tmp_path / "state"), "--events", str(tmp_path / "events.jsonl"),
                 "--report", str(report)])
    out = capsys.readouterr().out.replace(str(tmp_path), "<tmp>").replace(str(ROOT), "<root>")
    data = (json.dumps(json.loads(report.read_text()), indent=2, sort_keys=True) + "\n").replace(
        str(tmp_path), "<tmp>").replace(str(ROOT), "<root>")
    text_file, json_file = GOLDEN / f"sim-{name}.txt", GOLDEN / f"sim-{name}.json"
    if os.environ.get("STATEBOT_REPIN"):
        text_file.write_text(f"exit {code}\n{out}", encoding="utf-8")
        json_file.write_text(data, encoding="utf-8")
    assert f"exit {code}\n{out}" == text_file.read_text(encoding="utf-8")
    assert data == json_file.read_text(encoding="utf-8")
