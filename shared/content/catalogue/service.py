"""The learner's catalogue: what row level security shows the caller of the content granted to them."""

from __future__ import annotations

from shared.content.catalogue import repository
from shared.content.catalogue.schemas import CatalogueEntry, CatalogueItem, CataloguePage, CatalogueQuery
from shared.content.errors import ItemNotFoundError
from shared.identity import policy as identity
from shared.platform import cursors
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.errors import ForbiddenError
from shared.platform.pagination import page_of, time_and_id


async def list_catalogue(query: CatalogueQuery, *, tx: Tx, principal: Principal) -> CataloguePage:
    """A page of the published items granted to the caller, newest first; 403 in a community they are not in."""
    after = cursors.time_and_id(query.cursor)
    if query.community_id is not None:
        identity.require_visible(principal, query.community_id)
        if principal.community_role(query.community_id) is None:
            raise ForbiddenError("The catalogue shows what a community grants its members; you are not one.")
    rows = await repository.list_catalogue(
        tx,
        community_id=query.community_id,
        type=query.type,
        tag=query.tag,
        q=query.q,
        after=after,
        limit=query.limit + 1,
    )
    page, next_cursor = page_of(rows, query.limit, key=time_and_id("published_at", "id"))
    return CataloguePage(items=[CatalogueItem.model_validate(r) for r in page], next_cursor=next_cursor)


def entry(rows: list[Row]) -> CatalogueEntry:
    """The item of `repository.entry_statement`, run as the caller; 404 when it is not theirs to open."""
    if not rows:
        raise ItemNotFoundError()
    return CatalogueEntry.model_validate(rows[0])
