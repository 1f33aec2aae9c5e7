"""Shared builders of the sweep tests: a tiny sweep file (two days, a 2 x 2 grid or less) and hand-made results."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from statebot.app.sweep import PointResult

TINY = """\
name = "tiny"
[sim]
start = 2026-11-23
end = 2026-11-24
seed = 1
[sweep]
seeds = {seeds}
[sweep.params]
fast = {fast}
slow = [20, 30]
"""


def write_sweep(folder: Path, *, seeds: str = "1", fast: str = "[5, 10]", extra: str = "", name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(TINY.format(seeds=seeds, fast=fast) + extra, encoding="utf-8")
    return path


def result(fast: int, slow: int, seed: int, net: str, *, status: str = "ok", sharpe: float | None = None) -> PointResult:
    params: dict[str, Any] = {"fast": fast, "slow": slow}
    return PointResult(key=f"{fast}/{slow}/{seed}", id=f"{fast}-{slow}-{seed}", params=params, config={}, period="p",
                       seed=seed, status=status, error="" if status == "ok" else "ConfigError: bad",
                       net_pnl=Decimal(net) if status == "ok" else None, max_drawdown=Decimal(0) if status == "ok" else None,
                       sharpe=sharpe, trades=1, kill_switch_trips=0, late_flattens=0, sessions=2, log_verifies=True,
                       log_hash="h")


class ExitingStrategy:
    """A strategy whose construction ends its process when ``exit_now``: a worker process that dies."""

    name = "exiting"

    def __init__(self, exit_now: bool = False, n: int = 0) -> None:
        if exit_now:
            import os

            os._exit(1)

    def on_bar(self, bar: object, ctx: object) -> None:
        return None
