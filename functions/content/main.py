"""`content`: the content repository's items of seven types, their lifecycle, search and versions."""

from __future__ import annotations

from typing import get_args
from uuid import UUID

from starlette.responses import Response

from shared.authoring.bulk import Scope
from shared.authoring.bulk_routes import mount_bulk
from shared.content import policy, repository, service
from shared.content.model import Action, ContentType
from shared.content.schemas import (
    AttachFile,
    CompareQuery,
    Comparison,
    CreateItem,
    DeleteQuery,
    ItemPage,
    ItemQuery,
    ItemView,
    Publish,
    Restore,
    Transition,
    UpdateItem,
    VersionPage,
    VersionView,
)
from shared.content.uploads.schemas import DownloadLink
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform import caching
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function, Reply
from shared.platform.pagination import PageQuery

fn = Function(
    "content", body_limit=1024 * 1024, description="The content repository: items, lifecycle, versions."
)
ITEM = "/{item_id:uuid}"
VERSION = ITEM + "/versions/{number:int}"
FILE = ITEM + "/file"
READERS = caller(policy.require_reader)
WRITERS = caller(policy.require_writer)
NOT_MODIFIED = caching.NOT_MODIFIED
PRECONDITION = {428: "Neither If-Match nor `revision` named the revision being changed"}


def _written(ctx: Context, view: ItemView) -> ItemView:
    """Send the new revision's ETag, for the next If-Match."""
    ctx.response_headers.update(caching.headers(service.etag(view), caching.NO_STORE))
    return view


def _if_match(ctx: Context) -> str | None:
    return ctx.request.headers.get("if-match")


@fn.get("/", query=ItemQuery, rate_limit="admin", allow=READERS)
async def list_items(ctx: Context, query: ItemQuery) -> ItemPage:
    """Items the caller sees: full-text search (`q`, by relevance) and filters, newest change first otherwise."""
    return await service.list_items(query, tx=ctx.db, principal=ctx.user)


@fn.post(
    "/",
    body=CreateItem,
    status=201,
    idempotent=True,
    rate_limit="admin",
    allow=WRITERS,
    responses=NO_SUCH_COMMUNITY,
)
async def create_item(ctx: Context, body: CreateItem) -> ItemView:
    """Create a draft item; no `community_id` makes platform content (staff who may write; Idempotency-Key)."""
    view = await service.create_item(body.root, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))
    ctx.response_headers["Location"] = f"/functions/v1/content/{view.id}"
    return _written(ctx, view)


mount_bulk(fn, Scope(types=frozenset(get_args(ContentType)), repository="content"))


@fn.get(ITEM, rate_limit="admin", allow=READERS, responses=NOT_MODIFIED)
async def get_item(ctx: Context, item_id: UUID) -> Reply[ItemView] | Response:
    """An item with its payload; its ETag answers If-None-Match with 304 (published items are cacheable)."""
    view = await service.get_item(item_id, tx=ctx.db, principal=ctx.user)
    return caching.conditional(ctx.request, view, service.etag(view), service.cache_control(view))


@fn.patch(ITEM, body=UpdateItem, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
async def update_item(ctx: Context, item_id: UUID, body: UpdateItem) -> ItemView:
    """Change an item (If-Match or `revision` required; stale: 409 `stale_version`); see the versions rules."""
    view = await service.update_item(
        item_id, body.root, if_match=_if_match(ctx), tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )
    return _written(ctx, view)


@fn.delete(ITEM, query=DeleteQuery, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
async def delete_item(ctx: Context, item_id: UUID, query: DeleteQuery) -> None:
    """Delete a never-published item with its versions; a published one is archived instead (409)."""
    await service.delete_item(
        item_id,
        if_match=_if_match(ctx),
        revision=query.revision,
        tx=ctx.db,
        principal=ctx.user,
        meta=meta_of(ctx),
    )


@fn.post(ITEM + "/publish", body=Publish, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
async def publish_item(ctx: Context, item_id: UUID, body: Publish) -> ItemView:
    """Publish a draft and save it as a version; from any other state a 409 `invalid_transition`."""
    return await _step(ctx, item_id, "publish", body, body.change_summary)


@fn.post(ITEM + "/unpublish", body=Transition, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
async def unpublish_item(ctx: Context, item_id: UUID, body: Transition) -> ItemView:
    """Take a published item back to draft."""
    return await _step(ctx, item_id, "unpublish", body)


@fn.post(ITEM + "/archive", body=Transition, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
async def archive_item(ctx: Context, item_id: UUID, body: Transition) -> ItemView:
    """Archive a draft or published item: kept, read-only, out of every catalogue."""
    return await _step(ctx, item_id, "archive", body)


@fn.post(ITEM + "/unarchive", body=Transition, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
async def unarchive_item(ctx: Context, item_id: UUID, body: Transition) -> ItemView:
    """Bring an archived item back as a draft."""
    return await _step(ctx, item_id, "unarchive", body)


async def _step(
    ctx: Context, item_id: UUID, action: Action, body: Transition, summary: str | None = None
) -> ItemView:
    view = await service.transition(
        item_id,
        action,
        summary=summary,
        if_match=_if_match(ctx),
        revision=body.revision,
        tx=ctx.db,
        principal=ctx.user,
        meta=meta_of(ctx),
    )
    return _written(ctx, view)


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
        if_match=_if_match(ctx),
        tx=ctx.db,
        principal=ctx.user,
        meta=meta_of(ctx),
        settings=ctx.settings.storage,
    )
    return _written(ctx, view)


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


@fn.get(ITEM + "/versions", query=PageQuery, rate_limit="admin", allow=READERS)
async def list_versions(ctx: Context, item_id: UUID, query: PageQuery) -> VersionPage:
    """The item's saved versions, newest first."""
    return await service.list_versions(item_id, query, tx=ctx.db, principal=ctx.user)


@fn.get(VERSION, rate_limit="admin", allow=READERS, responses=NOT_MODIFIED)
async def get_version(ctx: Context, item_id: UUID, number: int) -> Reply[VersionView] | Response:
    """One version with the item's content as it was (a version never changes: its ETag is for good)."""
    view = await service.get_version(item_id, number, tx=ctx.db, principal=ctx.user)
    etag = caching.strong_etag(item_id, "version", number)
    return caching.conditional(ctx.request, view, etag, caching.PRIVATE_REVALIDATE)


@fn.get(ITEM + "/compare", query=CompareQuery, rate_limit="admin", allow=READERS)
async def compare_versions(ctx: Context, item_id: UUID, query: CompareQuery) -> Comparison:
    """What changed from version `from` to version `to` (or to the item now), field by field."""
    return await service.compare(item_id, query.from_, query.to, tx=ctx.db, principal=ctx.user)


@fn.post(VERSION + "/restore", body=Restore, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
async def restore_version(ctx: Context, item_id: UUID, number: int, body: Restore) -> ItemView:
    """Bring back a version's content (not its status or folder), saved as a new version and revision."""
    view = await service.restore_version(
        item_id,
        number,
        summary=body.change_summary,
        if_match=_if_match(ctx),
        revision=body.revision,
        tx=ctx.db,
        principal=ctx.user,
        meta=meta_of(ctx),
    )
    return _written(ctx, view)


handler = fn.handler
