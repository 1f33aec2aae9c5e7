"""``statebot check EVENTS.jsonl``: verify an event log and check it against the lifecycle invariants.

The chain (and the seal, with ``--key``) is verified by the reader ``statebot replay``
uses; the invariants (``statebot.testing.invariants``) are judged against the exchange
calendar with the bot's flatten lead and entry cut-off: from ``--config`` (the bot's
TOML), the calendar overridden by ``--calendar``; without either, XNYS with the default
5-minute flatten lead. Prints one row per invariant (pass, or FAIL with the first
offending line and how many events break it); ``--json`` prints the same as JSON.

Exit 0: the chain verified and every invariant holds. Exit 1: an invariant fails, or the
chain is broken or the last line torn (stderr names the line). Exit 2: a bad config or
calendar name. Exit 3: a file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from statebot.cli.exit_codes import EXIT_EXPECTATION_FAILED, EXIT_OK
from statebot.errors import ChainBroken, EventLogError, FileAccessError


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="verify an event log and check it against the lifecycle invariants",
                       description="Verify every line of an event log as 'statebot replay' does, then check it "
                       "against the lifecycle invariants (flat at every close, flatten on time or marked late, no "
                       "entry outside TRADING or while tripped or throttled, net = gross - commission, positions "
                       "equal their fills, transitions along their tables, restarts that resume where the log "
                       "ended). Exit 1 when one fails or the chain is broken.")
    p.add_argument("events", metavar="EVENTS.jsonl", help="the event log to check")
    p.add_argument("--calendar", metavar="NAME", default=None,
                   help="the exchange calendar the bot traded (default: the config's, else XNYS)")
    p.add_argument("--config", metavar="FILE", default=None,
                   help="the bot's TOML config: its calendar, flatten lead and entry cut-off")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--key", metavar="FILE", default=None,
                   help="the sealing key file: exit 1 unless every line carries its seal under this key")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from statebot.config.model import Config, load_config
    from statebot.core.time.calendar import get_calendar
    from statebot.core.time.schedule import SessionSchedule
    from statebot.journal.seal import read_key_file
    from statebot.testing.invariants import check_log

    config = load_config(args.config) if args.config is not None else Config()
    name = args.calendar or config.instrument.session_calendar(config.calendar.name)
    schedule = SessionSchedule(get_calendar(name), flatten_lead=config.calendar.flatten_lead,
                               entry_cutoff=config.calendar.entry_cutoff)
    key = read_key_file(args.key, "--key") if args.key is not None else None
    try:
        result = check_log(args.events, schedule, seal_key=key)
    except ChainBroken as exc:
        print(f"statebot check: {args.events}: chain broken at {exc}", file=sys.stderr)
        return EXIT_EXPECTATION_FAILED
    except EventLogError as exc:
        print(f"statebot check: {args.events}: {exc}", file=sys.stderr)
        return EXIT_EXPECTATION_FAILED
    except OSError as exc:
        raise FileAccessError(f"cannot read {args.events}: {exc.strerror or exc}") from None
    setting = {"calendar": name, "flatten_lead_s": int(schedule.flatten_lead.total_seconds()),
               "entry_cutoff_s": None if schedule.entry_cutoff is None else int(schedule.entry_cutoff.total_seconds())}
    if args.json:
        print(json.dumps({
            "events": result.events, "sealed": key is not None, **setting, "passed": result.passed,
            "invariants": [{"name": v.name, "text": v.text, "passed": v.passed, "violations": v.violations,
                            "line": v.line or None, "detail": v.detail or None, "note": v.note or None}
                           for v in result.verdicts],
        }, indent=2))
    else:
        print(as_text(args.events, result, setting, sealed=key is not None))
    return EXIT_OK if result.passed else EXIT_EXPECTATION_FAILED


def as_text(name: str, result: Any, setting: dict[str, Any], *, sealed: bool) -> str:
    from statebot.core.time.durations import format_duration
    import datetime as dt

    lead = format_duration(dt.timedelta(seconds=setting["flatten_lead_s"]))
    cutoff = setting["entry_cutoff_s"]
    lines = [f"{name}: {result.events} events, chain verified{' and sealed' if sealed else ''}; "
             f"calendar {setting['calendar']}, flatten lead {lead}"
             + (f", entry cut-off {format_duration(dt.timedelta(seconds=cutoff))}" if cutoff is not None else ""),
             f"{'invariant':<22} {'verdict':<7} first offending line"]
    for v in result.verdicts:
        if v.passed:
            lines.append(f"{v.name:<22} {'pass':<7} -" + (f"  ({v.note})" if v.note else ""))
        else:
            more = f" (+{v.violations - 1} more)" if v.violations > 1 else ""
            lines.append(f"{v.name:<22} {'FAIL':<7} line {v.line}: {v.detail}{more}")
    failed = [v.name for v in result.verdicts if not v.passed]
    lines.append(f"{len(failed)} of {len(result.verdicts)} invariants fail: {', '.join(failed)}" if failed
                 else f"all {len(result.verdicts)} invariants hold")
    return "\n".join(lines)
