"""The item routes every repository function serves (`content`, `wods`, `blocks`, `programs`), for its scope.

One set of routes over one service: creating, reading, searching, changing, the lifecycle, deleting and
the versions of an item work alike whatever its type; each function mounts them for its own types and
contract models (`Scope`) and adds what only its types have (a file, pages).

Annotations here are evaluated when `mount` runs (no postponed annotations): the contract reads each
route's return type from its endpoint, and those types are the scope's own.
"""

from typing import Any, TypeVar
from uuid import UUID

from starlette.responses import Response

from shared.content import policy, repository, service
from shared.content.item_schemas import (
    CompareQuery,
    Comparison,
    DeleteQuery,
    ItemPage,
    ItemQuery,
    ItemSummary,
    Publish,
    Restore,
    Transition,
    VersionPage,
    VersionView,
)
from shared.content.scope import Scope
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform import caching
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function, Reply
from shared.platform.pagination import PageQuery

Item = TypeVar("Item", bound=ItemSummary)
ITEM = "/{item_id:uuid}"
VERSION = ITEM + "/versions/{number:int}"
READERS = caller(policy.require_reader)
WRITERS = caller(policy.require_writer)
PRECONDITION = {428: "Neither If-Match nor `revision` named the revision being changed"}


def written(ctx: Context, view: Item) -> Item:
    """Send the new revision's ETag, for the next If-Match."""
    ctx.response_headers.update(caching.headers(service.etag(view), caching.NO_STORE))
    return view


def if_match(ctx: Context) -> str | None:
    """The revision a write names in If-Match, if it does."""
    return ctx.request.headers.get("if-match")


def mount(fn: Function, scope: Scope) -> None:
    """Serve the item routes of `scope` on `fn`."""
    _mount_items(fn, scope)
    _mount_lifecycle(fn, scope)
    _mount_versions(fn, scope)


def _returns(endpoint: Any, model: Any) -> None:
    endpoint.__annotations__["return"] = model


def _mount_items(fn: Function, scope: Scope) -> None:
    view, create, changes = scope.view, scope.create, scope.changes

    @fn.get("/", query=ItemQuery, rate_limit="admin", allow=READERS)
    async def list_items(ctx: Context, query: ItemQuery) -> ItemPage:
        """Items the caller sees: full-text search (`q`, by relevance) and filters, newest change first otherwise."""
        return await service.list_items(query, scope=scope, tx=ctx.db, principal=ctx.user)

    @fn.post(
        "/",
        body=create,
        status=201,
        idempotent=True,
        rate_limit="admin",
        allow=WRITERS,
        responses=NO_SUCH_COMMUNITY,
    )
    async def create_item(ctx: Context, body: Any) -> Any:
        """Create a draft item; no `community_id` makes platform content (staff who may write; Idempotency-Key)."""
        item = await service.create_item(
            body.root, scope=scope, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
        )
        ctx.response_headers["Location"] = f"/functions/v1/{scope.name}/{item.id}"
        return written(ctx, item)

    @fn.get(
        ITEM, rate_limit="admin", allow=READERS, read=repository.item_statement, responses=caching.NOT_MODIFIED
    )
    async def get_item(ctx: Context, item_id: UUID) -> Any:
        """An item with its payload; its ETag answers If-None-Match with 304 (published items are cacheable)."""
        item = service.item_of(ctx.rows, scope=scope)
        return caching.conditional(ctx.request, item, service.etag(item), service.cache_control(item))

    @fn.patch(ITEM, body=changes, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
    async def update_item(ctx: Context, item_id: UUID, body: Any) -> Any:
        """Change an item (If-Match or `revision` required; stale: 409 `stale_version`); see the versions rules."""
        item = await service.update_item(
            item_id,
            body.root,
            scope=scope,
            if_match=if_match(ctx),
            tx=ctx.db,
            principal=ctx.user,
            meta=meta_of(ctx),
        )
        return written(ctx, item)

    @fn.delete(ITEM, query=DeleteQuery, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
    async def delete_item(ctx: Context, item_id: UUID, query: DeleteQuery) -> None:
        """Delete a never-published item with its versions; a published one is archived instead (409)."""
        await service.delete_item(
            item_id,
            scope=scope,
            if_match=if_match(ctx),
            revision=query.revision,
            tx=ctx.db,
            principal=ctx.user,
            meta=meta_of(ctx),
        )

    _returns(create_item, view)
    _returns(get_item, Reply[view] | Response)  # type: ignore[valid-type]
    _returns(update_item, view)


def _mount_lifecycle(fn: Function, scope: Scope) -> None:
    async def step(
        ctx: Context, item_id: UUID, action: Any, body: Transition, summary: str | None = None
    ) -> Any:
        item = await service.transition(
            item_id,
            action,
            scope=scope,
            summary=summary,
            if_match=if_match(ctx),
            revision=body.revision,
            tx=ctx.db,
            principal=ctx.user,
            meta=meta_of(ctx),
        )
        return written(ctx, item)

    options: dict[str, Any] = {"rate_limit": "admin", "allow": WRITERS, "responses": PRECONDITION}

    @fn.post(ITEM + "/publish", body=Publish, **options)
    async def publish_item(ctx: Context, item_id: UUID, body: Publish) -> Any:
        """Publish a draft and save it as a version; from any other state a 409 `invalid_transition`."""
        return await step(ctx, item_id, "publish", body, body.change_summary)

    @fn.post(ITEM + "/unpublish", body=Transition, **options)
    async def unpublish_item(ctx: Context, item_id: UUID, body: Transition) -> Any:
        """Take a published item back to draft."""
        return await step(ctx, item_id, "unpublish", body)

    @fn.post(ITEM + "/archive", body=Transition, **options)
    async def archive_item(ctx: Context, item_id: UUID, body: Transition) -> Any:
        """Archive a draft or published item: kept, read-only, out of every catalogue."""
        return await step(ctx, item_id, "archive", body)

    @fn.post(ITEM + "/unarchive", body=Transition, **options)
    async def unarchive_item(ctx: Context, item_id: UUID, body: Transition) -> Any:
        """Bring an archived item back as a draft."""
        return await step(ctx, item_id, "unarchive", body)

    for endpoint in (publish_item, unpublish_item, archive_item, unarchive_item):
        _returns(endpoint, scope.view)


def _mount_versions(fn: Function, scope: Scope) -> None:
    @fn.get(ITEM + "/versions", query=PageQuery, rate_limit="admin", allow=READERS)
    async def list_versions(ctx: Context, item_id: UUID, query: PageQuery) -> VersionPage:
        """The item's saved versions, newest first."""
        return await service.list_versions(item_id, query, scope=scope, tx=ctx.db, principal=ctx.user)

    @fn.get(VERSION, rate_limit="admin", allow=READERS, responses=caching.NOT_MODIFIED)
    async def get_version(ctx: Context, item_id: UUID, number: int) -> Reply[VersionView] | Response:
        """One version with the item's content as it was (a version never changes: its ETag is for good)."""
        version = await service.get_version(item_id, number, scope=scope, tx=ctx.db, principal=ctx.user)
        etag = caching.strong_etag(item_id, "version", number)
        return caching.conditional(ctx.request, version, etag, caching.PRIVATE_REVALIDATE)

    @fn.get(ITEM + "/compare", query=CompareQuery, rate_limit="admin", allow=READERS)
    async def compare_versions(ctx: Context, item_id: UUID, query: CompareQuery) -> Comparison:
        """What changed from version `from` to version `to` (or to the item now), field by field."""
        return await service.compare(
            item_id, query.from_, query.to, scope=scope, tx=ctx.db, principal=ctx.user
        )

    @fn.post(VERSION + "/restore", body=Restore, rate_limit="admin", allow=WRITERS, responses=PRECONDITION)
    async def restore_version(ctx: Context, item_id: UUID, number: int, body: Restore) -> Any:
        """Bring back a version's content (not its status or folder), saved as a new version and revision."""
        item = await service.restore_version(
            item_id,
            number,
            scope=scope,
            summary=body.change_summary,
            if_match=if_match(ctx),
            revision=body.revision,
            tx=ctx.db,
            principal=ctx.user,
            meta=meta_of(ctx),
        )
        return written(ctx, item)

    _returns(restore_version, scope.view)
