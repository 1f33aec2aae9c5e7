"""``statebot state show|reset`` on a bot's state folder: the checkpoint and the event log, not a state file."""

from __future__ import annotations

from pathlib import Path

from statebot.cli import main
from tests.runner_helpers import Scripted, bar_at, broker, config, et, long, make_runner, short

CFG = "[throttle]\nmax_consecutive_losses = 1\n"


def throttled_bot(tmp: Path) -> None:
    sim = broker()
    strat = Scripted(long())
    runner = make_runner(tmp, strat, sim, cfg=config(CFG))
    for minute, want in ((0, long()), (1, long()), (2, short()), (3, short())):
        strat.want = want
        b = bar_at(et("2026-11-24", f"10:0{minute}"))
        sim.on_bar(b)
        runner.run_once(b)
    assert runner.throttle_state == "THROTTLED"
    runner.close()


def test_show_reads_a_bots_checkpoint(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    throttled_bot(tmp_path)
    assert main(["state", "show", "--state-dir", str(tmp_path / "state"), "--events", str(tmp_path / "events.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "scripted: THROTTLED (consecutive_losses" in out and "trades 1 (wins 0, losses 1)" in out


def test_a_reset_is_appended_to_the_log_and_the_next_start_folds_it_in(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    throttled_bot(tmp_path)
    argv = ["state", "reset", "scripted", "--note", "checked the fills", "--state-dir", str(tmp_path / "state"),
            "--events", str(tmp_path / "events.jsonl")]
    assert main(argv) == 0
    assert "THROTTLED -> ACTIVE" in capsys.readouterr().out
    again = make_runner(tmp_path, Scripted(), broker(), cfg=config(CFG))
    assert again.throttle_state == "ACTIVE"
    assert again.learning.throttle("scripted").resets[-1]["note"] == "checked the fills"
    assert again.fold_anomalies == ()
    again.close()


def test_a_reset_of_a_bots_folder_without_its_log_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    throttled_bot(tmp_path)
    assert main(["state", "reset", "scripted", "--note", "x", "--state-dir", str(tmp_path / "state")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give its event log with --events" in err


def test_times_are_shown_in_the_exchanges_zone_with_their_offset(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The bot went THROTTLED at the 10:03 New York bar end: shown as 10:03-05:00, not 15:03+00:00."""
    throttled_bot(tmp_path)
    folder = ["--state-dir", str(tmp_path / "state"), "--events", str(tmp_path / "events.jsonl")]
    assert main(["state", "show", *folder]) == 0
    assert "THROTTLED (consecutive_losses" in (out := capsys.readouterr().out)
    assert " since 2026-11-24T10:03:00-05:00" in out and "+00:00" not in out
    assert main(["state", "show", *folder, "--calendar", "CME_GLOBEX_EQUITY"]) == 0
    assert " since 2026-11-24T09:03:00-06:00" in capsys.readouterr().out
    assert main(["state", "reset", "scripted", "--note", "checked", *folder]) == 0
    assert "THROTTLED -> ACTIVE at 2026-11-2" in (out := capsys.readouterr().out) and "+00:00" not in out
