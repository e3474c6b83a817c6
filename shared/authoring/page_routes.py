"""The page routes of `wods` and `blocks`, mounted beside the item routes for the function's scope.

Every change names the revision it is made against (If-Match, or `revision` in the body; `?revision=` on
DELETE) and answers the item as its editors see it, with the new ETag. Pages and blocks are addressed by
their own ids, which are unique in the item.

Annotations here are evaluated when `mount` runs (no postponed annotations), as in shared/content/routes.py.
"""

from typing import Any
from uuid import UUID

from shared.authoring import page_service
from shared.authoring.page_schemas import Duplicate, MoveBlock, MovePage, NewPage, SavePage
from shared.content.item_schemas import DeleteQuery
from shared.content.routes import ITEM, PRECONDITION, WRITERS, if_match, written
from shared.content.scope import Scope
from shared.platform.audit import meta_of
from shared.platform.http import Context, Function

PAGES = ITEM + "/pages"
PAGE = PAGES + "/{page_id:uuid}"
BLOCK = ITEM + "/blocks/{block_id:uuid}"
CHANGES: dict[str, Any] = {"rate_limit": "admin", "allow": WRITERS, "responses": PRECONDITION}


def mount(fn: Function, scope: Scope) -> None:
    """Serve the page routes of `scope` (WODs or BLOCKs) on `fn`."""

    def context(ctx: Context) -> dict[str, Any]:
        return {"scope": scope, "if_match": if_match(ctx), "tx": ctx.db, "principal": ctx.user, "meta": meta_of(ctx)}

    @fn.post(PAGES, body=NewPage, **CHANGES)
    async def add_page(ctx: Context, item_id: UUID, body: NewPage) -> Any:
        """Add a page (its blocks' ids are assigned when absent) at `position`, or after the last."""
        return written(ctx, await page_service.add_page(item_id, body, **context(ctx)))

    @fn.put(PAGE, body=SavePage, **CHANGES)
    async def save_page(ctx: Context, item_id: UUID, page_id: UUID, body: SavePage) -> Any:
        """Save a page: its title and blocks replace what it held (a quiz with its answers). What it newly
        embeds must be an item you see, of the block's type, that the item's owner may use (422)."""
        return written(ctx, await page_service.save_page(item_id, page_id, body, **context(ctx)))

    @fn.post(PAGE + "/move", body=MovePage, **CHANGES)
    async def move_page(ctx: Context, item_id: UUID, page_id: UUID, body: MovePage) -> Any:
        """Move a page to `position` in the resulting order."""
        return written(ctx, await page_service.move_page(item_id, page_id, body, **context(ctx)))

    @fn.delete(PAGE, query=DeleteQuery, **CHANGES)
    async def remove_page(ctx: Context, item_id: UUID, page_id: UUID, query: DeleteQuery) -> Any:
        """Remove a page with its blocks."""
        view = await page_service.remove_page(item_id, page_id, revision=query.revision, **context(ctx))
        return written(ctx, view)

    @fn.post(BLOCK + "/move", body=MoveBlock, **CHANGES)
    async def move_block(ctx: Context, item_id: UUID, block_id: UUID, body: MoveBlock) -> Any:
        """Move a block to `position` on its page, or on page `page_id`."""
        return written(ctx, await page_service.move_block(item_id, block_id, body, **context(ctx)))

    @fn.delete(BLOCK, query=DeleteQuery, **CHANGES)
    async def remove_block(ctx: Context, item_id: UUID, block_id: UUID, query: DeleteQuery) -> Any:
        """Remove a block."""
        view = await page_service.remove_block(item_id, block_id, revision=query.revision, **context(ctx))
        return written(ctx, view)

    @fn.post(ITEM + "/duplicate", body=Duplicate, status=201, idempotent=True, rate_limit="admin", allow=WRITERS)
    async def duplicate(ctx: Context, item_id: UUID, body: Duplicate) -> Any:
        """Copy the item as a new draft of the same owner, in the same folder, with new ids throughout
        (Idempotency-Key); only its editors may."""
        view = await page_service.duplicate(
            item_id, body, scope=scope, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
        )
        ctx.response_headers["Location"] = f"/functions/v1/{scope.name}/{view.id}"
        return written(ctx, view)

    for endpoint in (add_page, save_page, move_page, remove_page, move_block, remove_block, duplicate):
        endpoint.__annotations__["return"] = scope.view
