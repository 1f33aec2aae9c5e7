"""Which Interactive Brokers client library to use: ib_insync, or ib_async in its place.

ib_insync (final release 0.9.86, archived) and ib_async (its maintained
continuation) share one API under different module names. Only the adapter
module that talks to IB calls ``client_library()``; importing statebot, or the
pure parts of this package, never imports either library.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from statebot.errors import MissingDependency

LIBRARY_NAMES = ("ib_insync", "ib_async")
"""Tried in this order; the ``ibkr`` extra installs the first."""


def client_library() -> ModuleType:
    """The first of ``LIBRARY_NAMES`` that imports.

    Raises ``MissingDependency`` (an ``ImportError``) naming the extra to
    install when neither is available. A library that is installed but fails
    to import (a broken dependency of its own) raises that error instead of
    being passed over.
    """
    for name in LIBRARY_NAMES:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    raise MissingDependency(
        "the Interactive Brokers adapter needs ib_insync or ib_async; install it with: "
        "pip install '.[ibkr]' from a clone of statebot (or pip install ib_async)"
    )
