"""`wods`: WODs: lessons of pages of typed blocks, their lifecycle, versions and page editing."""

from __future__ import annotations

from shared.authoring import page_routes
from shared.authoring.bulk_routes import mount_bulk
from shared.authoring.wod_schemas import WODS
from shared.content import routes
from shared.platform.http import Function

fn = Function(
    "wods",
    body_limit=1024 * 1024,
    description="WODs: lessons of pages of typed blocks, their lifecycle, versions and page editing.",
)
routes.mount(fn, WODS)
page_routes.mount(fn, WODS)
mount_bulk(fn, WODS)  # a copy keeps its pages' ids (unique per item): its copied answer keys fit

handler = fn.handler
