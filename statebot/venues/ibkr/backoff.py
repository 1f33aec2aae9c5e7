"""How long to wait before each reconnect attempt: exponential, capped, optionally jittered.

Pure: the attempt number and a jitter draw come in as arguments, so a test (or
a replay) gets the same delays every time. The caller decides when to stop
trying; during FLATTENING it never stops.
"""

from __future__ import annotations

import math

import attrs

from statebot.errors import ConfigError


def _positive(instance: object, attribute: attrs.Attribute, value: float) -> None:  # type: ignore[type-arg]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"reconnect {attribute.name} {value!r} must be a finite number > 0")


@attrs.frozen(kw_only=True)
class ReconnectBackoff:
    """Delay before reconnect attempt ``n`` (1, 2, ...): ``initial_s * factor**(n-1)``, at most ``max_s``.

    With ``jitter`` j (0 <= j < 1) and a uniform draw u in [0, 1], the delay is
    scaled by ``1 - j + 2*j*u`` and then capped at ``max_s``, so clients that
    lost the same gateway do not all return at the same instant. Invalid
    settings raise ``ConfigError``.
    """

    initial_s: float = attrs.field(default=1.0, validator=_positive)
    factor: float = attrs.field(default=2.0, validator=_positive)
    max_s: float = attrs.field(default=60.0, validator=_positive)
    jitter: float = 0.0

    def __attrs_post_init__(self) -> None:
        if self.factor < 1:
            raise ConfigError(f"reconnect factor {self.factor!r} must be >= 1 (delays never shrink)")
        if self.max_s < self.initial_s:
            raise ConfigError(f"reconnect max_s {self.max_s!r} must be >= initial_s {self.initial_s!r}")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, (int, float)) or not 0 <= self.jitter < 1:
            raise ConfigError(f"reconnect jitter {self.jitter!r} must be in [0, 1)")

    def delay_s(self, attempt: int, u: float = 0.5) -> float:
        """Seconds to wait before attempt ``attempt`` (>= 1), for jitter draw ``u`` in [0, 1].

        ``u = 0.5`` (the default) means no jitter. Raises ``ConfigError`` for
        an attempt below 1 or a draw outside [0, 1].
        """
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            raise ConfigError(f"reconnect attempt {attempt!r} must be an integer >= 1")
        if not 0 <= u <= 1:
            raise ConfigError(f"jitter draw {u!r} must be in [0, 1]")
        # past the cap the exponent no longer matters; this also keeps huge attempts from overflowing
        steps = min(attempt - 1, 1 + int(math.log(self.max_s / self.initial_s, self.factor)) if self.factor > 1 else 0)
        base = min(self.max_s, self.initial_s * self.factor**steps)
        return min(self.max_s, base * (1 - self.jitter + 2 * self.jitter * u))

    def schedule(self, attempts: int) -> tuple[float, ...]:
        """The delays before attempts 1..``attempts``, without jitter."""
        return tuple(self.delay_s(n) for n in range(1, attempts + 1))
