"""One machine fire, in microseconds: the kill switch's trip and guarded reset, alternating.

Run: ``python benchmarks/fsm_dispatch.py`` (a few seconds). Prints µs per fire; nothing is
asserted: the figure is for docs/performance.md, measured before and after a change to the
firing path (``statebot.core.fsm.table``).
"""

from __future__ import annotations

import time

from statebot.core.fsm.killswitch import KillSwitch

PAIRS = 20_000
ROUNDS = 3


def per_fire_us() -> float:
    ks = KillSwitch()
    fire = ks.fire
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(PAIRS):
            fire("trip")
            fire("reset", note="operator note")
        best = min(best, time.perf_counter() - start)
    return best / (2 * PAIRS) * 1e6


def build_us() -> float:
    n = 2_000
    start = time.perf_counter()
    for _ in range(n):
        KillSwitch()
    return (time.perf_counter() - start) / n * 1e6


if __name__ == "__main__":
    print(f"kill switch fire (trip / guarded reset): {per_fire_us():.2f} µs per fire (best of {ROUNDS} x {2 * PAIRS})")
    print(f"kill switch construction: {build_us():.1f} µs per instance")
