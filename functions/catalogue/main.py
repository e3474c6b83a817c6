"""`catalogue`: the learner's view of content, exactly what row level security shows them."""

from __future__ import annotations

from starlette.responses import Response

from shared.content.catalogue import service
from shared.content.catalogue.schemas import CataloguePage, CatalogueQuery
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


handler = fn.handler
