"""`catalogue`: the learner's view of content, exactly what row level security shows them."""

from __future__ import annotations

from uuid import UUID

from starlette.responses import Response

from shared.content.catalogue import repository, service
from shared.content.catalogue.schemas import CatalogueEntry, CataloguePage, CatalogueQuery
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform import caching
from shared.platform.http import Context, Function, Reply

fn = Function("catalogue", description="The published content granted to the signed-in learner.")


@fn.get("/", query=CatalogueQuery, responses={**NO_SUCH_COMMUNITY, **caching.NOT_MODIFIED})
async def list_catalogue(ctx: Context, query: CatalogueQuery) -> Reply[CataloguePage] | Response:
    """The published items granted to the caller (through `?community_id=`, or any of theirs), newest first.

    Filters: `type`, `tag` (a content label), `q` (full-text over title, description and the item's
    text). An item is listed while a grant's window holds and its community is active. The page's ETag
    (of its exact bytes) answers If-None-Match with 304; the page is the caller's own (`private, no-cache`).
    """
    page = await service.list_catalogue(query, tx=ctx.db, principal=ctx.user)
    etag = caching.strong_etag(page.model_dump_json())
    return caching.conditional(ctx.request, page, etag, caching.PRIVATE_REVALIDATE)


@fn.get("/{item_id:uuid}", read=repository.entry_statement, responses=caching.NOT_MODIFIED)
async def get_entry(ctx: Context, item_id: UUID) -> Reply[CatalogueEntry] | Response:
    """A published item the caller may open now, with its payload: granted to them, or used by one that
    is (a WOD's embedded video, a program's WODs, of the same owner). Anything else is a 404, as a
    missing item. Its ETag answers If-None-Match with 304."""
    item = service.entry(ctx.rows)
    etag = caching.strong_etag(item_id, "catalogue", item.revision)
    return caching.conditional(ctx.request, item, etag, caching.PRIVATE_REVALIDATE)


handler = fn.handler
