"""`catalogue`: the learner's view of content, exactly what row level security shows them."""

from __future__ import annotations

from shared.content.catalogue import service
from shared.content.catalogue.schemas import CataloguePage, CatalogueQuery
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.http import Context, Function

fn = Function("catalogue", description="The published content granted to the signed-in learner.")


@fn.get("/", query=CatalogueQuery, responses=NO_SUCH_COMMUNITY)
async def list_catalogue(ctx: Context, query: CatalogueQuery) -> CataloguePage:
    """The published items granted to the caller (through `?community_id=`, or any of theirs), newest first.

    Filters: `type`, `tag` (a content label), `q` (full-text over title, description and the item's
    text). An item is listed while a grant's window holds and its community is active.
    """
    return await service.list_catalogue(query, tx=ctx.db, principal=ctx.user)


handler = fn.handler
