"""`wods`: WODs: lessons of pages of typed blocks, their lifecycle and versions."""

from __future__ import annotations

from shared.authoring.bulk_routes import mount_bulk
from shared.authoring.schemas import WODS
from shared.content import routes
from shared.platform.http import Function

fn = Function(
    "wods",
    body_limit=1024 * 1024,
    description="WODs: lessons of pages of typed blocks, their lifecycle and versions.",
)
routes.mount(fn, WODS)
mount_bulk(fn, WODS)  # a copy's pages keep their ids until the pages bring a fresh-ids hook

handler = fn.handler
