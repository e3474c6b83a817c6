"""`blocks`: BLOCKs: reusable workout blocks of pages, their lifecycle, versions and page editing."""

from __future__ import annotations

from shared.authoring import page_routes
from shared.authoring.block_schemas import BLOCKS
from shared.authoring.bulk_routes import mount_bulk
from shared.content import routes
from shared.platform.http import Function

fn = Function(
    "blocks",
    body_limit=1024 * 1024,
    description="BLOCKs: reusable workout blocks of pages, their lifecycle, versions and page editing.",
)
routes.mount(fn, BLOCKS)
page_routes.mount(fn, BLOCKS)
mount_bulk(fn, BLOCKS)  # a copy keeps its pages' ids (unique per item): its copied answer keys fit

handler = fn.handler
