"""`blocks`: BLOCKs: reusable workout blocks of pages, their lifecycle and versions."""

from __future__ import annotations

from shared.authoring.bulk_routes import mount_bulk
from shared.authoring.schemas import BLOCKS
from shared.content import routes
from shared.platform.http import Function

fn = Function(
    "blocks",
    body_limit=1024 * 1024,
    description="BLOCKs: reusable workout blocks of pages, their lifecycle and versions.",
)
routes.mount(fn, BLOCKS)
mount_bulk(fn, BLOCKS)  # a copy's pages keep their ids until the pages bring a fresh-ids hook

handler = fn.handler
