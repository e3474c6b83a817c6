"""What an instance loads once: kept out of the garbage collector's way while it loads, then frozen.

A served function (under functions-framework) loads the platform and pydantic at import, and the
database driver, the pool and a route's pydantic schemas on first use. All of it lives as long as the
instance, and each collection during start-up walks that growing heap again: measured in a fresh `me`,
28 collections (16–28 ms) while its `main.py` imports and 12–23 ms while its first request imports
psycopg, of ~140 and ~100 ms of CPU. So when served, the collector is paused from the moment the `shared`
package is imported until the function is declared (`released`, which freezes what was loaded: moved out
of the collector's reach for good), and again while the first request and the pool load (`loading`).
Outside functions-framework (tests, `serve`) the collector is left alone: that heap is not an instance's.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_paused_at_import = False


def served() -> bool:
    """Whether this process is a function served by functions-framework."""
    return "functions_framework" in sys.modules


def pause_while_importing() -> None:
    """Pause the collector while a served function imports (called once, by the `shared` package)."""
    global _paused_at_import
    if served() and gc.isenabled():
        gc.disable()
        _paused_at_import = True


def released() -> None:
    """The function is declared: freeze what its import loaded and resume a collector paused for it."""
    global _paused_at_import
    gc.freeze()
    if _paused_at_import:
        _paused_at_import = False
        gc.enable()


@contextmanager
def loading() -> Iterator[None]:
    """Pause the collector while lasting things load; freeze them afterwards when served."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if served():
            gc.freeze()
        if was_enabled:
            gc.enable()
