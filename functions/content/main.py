"""`content`: the content repository's items of seven types, their lifecycle, search and versions."""

from __future__ import annotations

from uuid import UUID

from shared.authoring.bulk_routes import mount_bulk
from shared.content import repository, routes, service
from shared.content.schemas import CONTENT, AttachFile, ItemView
from shared.content.uploads.links import DownloadLink
from shared.platform.audit import meta_of
from shared.platform.http import Context, Function, Reply

fn = Function(
    "content", body_limit=1024 * 1024, description="The content repository: items, lifecycle, versions."
)
routes.mount(fn, CONTENT)
mount_bulk(fn, CONTENT)
FILE = routes.ITEM + "/file"
WRITERS = routes.WRITERS
PRECONDITION = routes.PRECONDITION


@fn.put(
    FILE,
    body=AttachFile,
    rate_limit="admin",
    allow=WRITERS,
    responses={
        **PRECONDITION,
        409: "Stale revision, archived item, not an image or PDF item (not_a_file_item), or an upload that is"
        " pending (upload_not_confirmed), expired (upload_expired) or rejected (upload_rejected)",
    },
)
async def attach_file(ctx: Context, item_id: UUID, body: AttachFile) -> ItemView:
    """Make a confirmed upload the file of an image or PDF item (If-Match or `revision` required). The
    upload must be of the item's owner and kind (422 `unknown_upload`, `upload_owner_mismatch`,
    `upload_kind_mismatch`); the payload then records it, takes its size and type, and its `url` becomes
    this item's file route. A published item's change is saved as a version."""
    view = await service.attach_file(
        item_id,
        body,
        scope=CONTENT,
        if_match=routes.if_match(ctx),
        tx=ctx.db,
        principal=ctx.user,
        meta=meta_of(ctx),
        settings=ctx.settings.storage,
    )
    return routes.written(ctx, view)


@fn.get(
    FILE,
    read=repository.file_statement,
    responses={409: "The item has no uploaded file (no_file): its payload's url says where it is"},
)
async def download_file(ctx: Context, item_id: UUID) -> Reply[DownloadLink]:
    """A short-lived URL of an image or PDF item's file, for anyone who may read the item (a learner: a
    published item granted to them); an item they may not read is a 404, as a missing one."""
    link = service.file_link(ctx.rows, settings=ctx.settings.storage)
    return Reply(link, headers={"Cache-Control": "private, no-store"})


handler = fn.handler
