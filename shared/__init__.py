"""AI GYM backend shared library."""

from __future__ import annotations

from shared.platform import startup as _startup

__version__ = "0.1.0"

# A served function's collector is paused while it imports (shared.platform.startup says why).
_startup.pause_while_importing()
