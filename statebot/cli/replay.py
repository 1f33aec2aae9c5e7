"""``statebot replay EVENTS.jsonl``: verify an event log and print the final states.

Exit 0: the chain verified (the states follow). Exit 1: the chain is broken
or the last line is torn (stderr names the line). Exit 3: the file cannot be
read. ``--strict`` also exits 1 when the log verifies but tells an
inconsistent story (an event's ``from`` disagrees with the replayed state) or
a line is not exactly the canonical bytes the writer writes (re-formatted
JSON, CRLF, extra whitespace, a duplicated key). ``--key FILE`` also requires
every line's seal under that key (``[event_log] key_file``): a forged line, or
an edited one with the following lines re-chained, exits 1 naming it.
``--state-dir DIR`` also requires the log to hold the head its checkpoint
(``DIR/checkpoint.json``) recorded: a log whose tail was cut, or replaced,
exits 1 (the chain alone cannot show a cut tail).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from statebot.cli.exit_codes import EXIT_EXPECTATION_FAILED, EXIT_OK
from statebot.errors import ChainBroken, EventLogError, FileAccessError
from statebot.journal.replay import ReplayResult, replay
from statebot.journal.seal import read_key_file

EXIT_BROKEN = EXIT_EXPECTATION_FAILED


def register(sub: Any) -> None:
    p = sub.add_parser("replay", help="verify an event log's hash chain and print the final states",
                       description="Verify every line of an event log (hash, seq, prev_hash) and print the "
                       "session, position, throttle and kill-switch states rebuilt from it. "
                       "Exit 1 on a broken chain (naming the line), 3 when the file cannot be read.")
    p.add_argument("events", metavar="EVENTS.jsonl", help="the event log to verify")
    p.add_argument("--json", action="store_true", help="print the final states as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when an event's 'from' disagrees with the replayed state "
                   "or a line is not exactly the bytes the writer writes")
    p.add_argument("--key", metavar="FILE", default=None,
                   help="the sealing key file: exit 1 unless every line carries its seal under this key")
    p.add_argument("--state-dir", metavar="DIR", default=None,
                   help="a bot's state folder: exit 1 unless the log holds the head its checkpoint recorded")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    key = read_key_file(args.key, "--key") if args.key is not None else None
    try:
        result = replay(args.events, canonical=args.strict, seal_key=key)
    except ChainBroken as exc:
        print(f"statebot replay: {args.events}: chain broken at {exc}", file=sys.stderr)
        return EXIT_BROKEN
    except EventLogError as exc:
        # a torn tail or an unusable payload: the file is not a sound log
        print(f"statebot replay: {args.events}: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    except OSError as exc:
        raise FileAccessError(f"cannot read {args.events}: {exc.strerror or exc}") from None
    print(json.dumps(as_json(result), indent=2) if args.json else as_text(args.events, result))
    if args.state_dir is not None:
        problem = _checkpoint_problem(args.events, args.state_dir, result)
        if problem is not None:
            print(f"statebot replay: {problem}", file=sys.stderr)
            return EXIT_BROKEN
    return EXIT_BROKEN if args.strict and result.anomalies else EXIT_OK


def _checkpoint_problem(events: str, state_dir: str, result: ReplayResult) -> str | None:
    """Why the log does not hold the head of the checkpoint in ``state_dir`` (None: it does)."""
    from statebot.app.runner_state import log_head_problem
    from statebot.store.checkpoint import CHECKPOINT_FILENAME, read_checkpoint
    from statebot.errors import StateCorrupt

    path = Path(state_dir) / CHECKPOINT_FILENAME
    try:
        snap = read_checkpoint(path)
    except StateCorrupt as exc:
        return f"{path}: {exc}"
    except OSError as exc:
        raise FileAccessError(f"cannot read {path}: {exc.strerror or exc}") from None
    if snap is None:
        return f"no checkpoint at {path}: nothing to check the log's tail against"
    head = snap["event_log"]
    return log_head_problem(events, result.verified.head.seq, result.verified.head.hash, int(head["seq"]), str(head["hash"]))


def as_json(result: ReplayResult) -> dict[str, Any]:
    v = result.verified
    return {
        "events": v.events,
        "head": {"seq": v.head.seq, "hash": v.head.hash},
        "first_ts": v.first_ts.isoformat() if v.first_ts else None,
        "last_ts": v.last_ts.isoformat() if v.last_ts else None,
        "config_hashes": list(result.config_hashes),
        "session": {"state": result.session, "session": result.session_date},
        "positions": [
            {"strategy": s, "symbol": sym, "state": p.state, "qty": p.qty} for (s, sym), p in sorted(result.positions.items())
        ],
        "throttles": {k: result.throttles[k] for k in sorted(result.throttles)},
        "kill_switch": {"state": result.kill_switch, "reason": result.kill_switch_reason},
        "tails_moved": result.tails_moved,
        "anomalies": [{"line": a.line, "message": a.message} for a in result.anomalies],
    }


def as_text(name: str, result: ReplayResult) -> str:
    v = result.verified
    lines = [f"{name}: {v.events} events, chain verified"
             + (f" (seq 1..{v.head.seq}, {v.first_ts.isoformat()} .. {v.last_ts.isoformat()}, head {v.head.hash[:16]})"
                if v.first_ts and v.last_ts else "")]
    if len(result.config_hashes) > 1:
        lines.append(f"configs:     {len(result.config_hashes)} different config hashes (first {result.config_hashes[0][:16]})")
    lines.append(f"session:     {result.session or '-'}" + (f" (session {result.session_date})" if result.session_date else ""))
    kill = result.kill_switch or "ARMED (no KILL_SWITCH event)"
    lines.append(f"kill switch: {kill}" + (f" ({result.kill_switch_reason})" if result.kill_switch_reason else ""))
    lines.append("positions:" + ("" if result.positions else " none"))
    for (strategy, symbol), p in sorted(result.positions.items()):
        lines.append(f"  {strategy:<20} {symbol:<8} {p.state:<10} qty {p.qty:+d}")
    lines.append("throttles:" + ("" if result.throttles else " none"))
    for strategy in sorted(result.throttles):
        lines.append(f"  {strategy:<20} {result.throttles[strategy]}")
    if result.tails_moved:
        lines.append(f"torn tails moved aside on reopening: {result.tails_moved}")
    for a in result.anomalies:
        lines.append(f"warning: line {a.line}: {a.message}")
    return "\n".join(lines)
