"""`programs`: Programs: sections of WODs and BLOCKs, an optional calendar, lifecycle and versions."""

from __future__ import annotations

from shared.authoring.schemas import PROGRAMS
from shared.content import routes
from shared.platform.http import Function

fn = Function(
    "programs",
    body_limit=1024 * 1024,
    description="Programs: sections of WODs and BLOCKs, an optional calendar, lifecycle and versions.",
)
routes.mount(fn, PROGRAMS)

handler = fn.handler
