"""How statebot connects to IB in each mode, and the checks that keep real money out of reach.

- OBSERVE: read-only connection, default port 7497 (TWS paper); every write is
  stopped by ``ObserveOnly`` before it reaches the adapter.
- PAPER: default port 7497; refuses TWS's or IB Gateway's live port (7496,
  4001), and after connecting refuses an account that is not a paper account
  (paper account ids start with ``D``, e.g. ``DU1234567``).
- LIVE: default port 7496; refuses to be built unless ``live_flag`` is set
  (the ``--live`` command-line flag) AND ``live_acknowledgement`` in the
  configuration equals ``LIVE_ACKNOWLEDGEMENT`` word for word.

Bad settings raise ``ConfigError`` naming the value and the rule.
"""

from __future__ import annotations

import attrs

from statebot.core.ports import BrokerAdapter
from statebot.venues.ibkr.adapter import LIVE_PORT, PAPER_PORT, IBKRAdapter
from statebot.venues.observe import ObserveOnly
from statebot.errors import ConfigError

OBSERVE = "OBSERVE"
PAPER = "PAPER"
LIVE = "LIVE"
MODES = (OBSERVE, PAPER, LIVE)

LIVE_ACKNOWLEDGEMENT = "I understand that LIVE mode trades real money"
"""What ``live_acknowledgement`` must say, exactly, before LIVE mode starts."""

MAX_PORT = 65535
MAX_CLIENT_ID = 2**31 - 1
"""TWS reads the client id as a signed 32-bit integer."""

LIVE_PORTS = frozenset({LIVE_PORT, 4001})
PAPER_PORTS = frozenset({PAPER_PORT, 4002})


@attrs.frozen(kw_only=True)
class IBKRSettings:
    """Connection settings for one mode; validated at construction (``ConfigError``)."""

    mode: str = attrs.field(converter=lambda v: v.upper() if isinstance(v, str) else v)
    host: str = "127.0.0.1"
    port: int | None = None
    client_id: int = 1
    symbols: tuple[str, ...] = ("MES",)
    account: str = ""
    live_flag: bool = False
    live_acknowledgement: str = ""

    def __attrs_post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode {self.mode!r} must be one of {', '.join(MODES)} (any case)")
        if self.mode == LIVE:
            if not self.live_flag:
                raise ConfigError("LIVE mode needs the explicit --live flag")
            if self.live_acknowledgement != LIVE_ACKNOWLEDGEMENT:
                raise ConfigError(f"LIVE mode needs live_acknowledgement set to {LIVE_ACKNOWLEDGEMENT!r} in the config")
            if self.resolved_port in PAPER_PORTS:
                raise ConfigError(f"LIVE mode on port {self.resolved_port}, a paper-trading port; use the live port ({LIVE_PORT} TWS, 4001 IB Gateway)")
        elif self.live_flag:
            raise ConfigError(f"--live was given but the mode is {self.mode}; LIVE mode must be chosen explicitly")
        if self.mode == PAPER and self.resolved_port in LIVE_PORTS:
            raise ConfigError(f"PAPER mode on port {self.resolved_port}, a live-trading port; use {PAPER_PORT} (TWS) or 4002 (IB Gateway)")
        if isinstance(self.client_id, bool) or not isinstance(self.client_id, int) or not 0 <= self.client_id <= MAX_CLIENT_ID:
            raise ConfigError(f"client id {self.client_id!r} must be an integer from 0 to {MAX_CLIENT_ID}")
        port = self.port
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= MAX_PORT):
            raise ConfigError(f"port {port!r} must be an integer from 1 to {MAX_PORT}")

    @property
    def resolved_port(self) -> int:
        """``port``, or the mode's default (7496 for LIVE, else 7497)."""
        if self.port is not None:
            return self.port
        return LIVE_PORT if self.mode == LIVE else PAPER_PORT

    def adapter(self, **options: object) -> tuple[BrokerAdapter, IBKRAdapter]:
        """The adapter for this mode and the IB adapter under it (to connect and stream bars).

        OBSERVE wraps a read-only ``IBKRAdapter`` in ``ObserveOnly``; PAPER and
        LIVE return it as it is. ``options`` go to ``IBKRAdapter``.
        """
        ib_adapter = IBKRAdapter(
            host=self.host,
            port=self.resolved_port,
            client_id=self.client_id,
            symbols=self.symbols,
            account=self.account,
            readonly=self.mode == OBSERVE,
            expect_paper=True if self.mode == PAPER else (False if self.mode == LIVE else None),
            **options,  # type: ignore[arg-type]
        )
        venue: BrokerAdapter = ObserveOnly(ib_adapter) if self.mode == OBSERVE else ib_adapter
        return venue, ib_adapter
