"""Run a driver process and SIGKILL it at a chosen moment: the crash tests' one harness."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sigkill_after_ready(module: str, *args: str, delay: float) -> list[str]:
    """Start ``python -m module args...`` from the project root, wait for its ``READY`` line,
    SIGKILL it ``delay`` seconds later and return the words it printed after ``READY``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready == b"READY\n", f"driver did not start: {ready!r} {proc.stderr.read() if proc.stderr else ''}"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return proc.stdout.read().decode().split()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
