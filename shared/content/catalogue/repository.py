"""The catalogue's SQL. Runs as the caller, under row level security, which alone decides visibility.

The query repeats the learner's rule as its own condition: `id = any(<granted to the caller>)` compares
uuids with a leakproof operator, so Postgres may use it as the primary key condition and read only the
caller's granted rows (a policy's OR of several audiences cannot be an index condition). Row level
security still filters every row it returns; the rest (type, label, text) is checked on those rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Params, Select

if TYPE_CHECKING:
    from psycopg.sql import Composed

_CATALOGUE_SELECT = """
select i.id, i.type, i.title, i.description, i.thumbnail_url, i.tags, i.community_id, i.published_at, i.revision
from public.content_items i
"""
NEWEST_FIRST = Order(("i.published_at", "i.id"), descending=True)


async def list_catalogue(
    tx: Tx,
    *,
    community_id: UUID | None,
    type: str | None,
    tag: str | None,
    q: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` published items granted to the caller (through one community, or any), newest first."""
    statement = catalogue_statement(
        community_id=community_id, type=type, tag=tag, q=q, after=after, limit=limit
    )
    return await tx.fetch_all(*statement)


def catalogue_statement(
    *,
    community_id: UUID | None,
    type: str | None,
    tag: str | None,
    q: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> tuple[Composed, Params]:
    """The catalogue's select and its parameters."""
    items = Select(_CATALOGUE_SELECT).where("i.status = 'published'")
    if community_id is None:
        items.where("i.id = any ((select app.granted_content_ids())::uuid[])")
    else:
        items.where(
            "i.id = any ((select app.granted_content_ids(%(community_id)s::uuid))::uuid[])",
            community_id=community_id,
        )
    items.filter("i.type = %(type)s", type=type)
    items.filter("i.tags @> array[%(tag)s]::text[]", tag=tag)
    items.filter("i.search @@ websearch_to_tsquery('english', %(q)s)", q=q)
    return items.page(NEWEST_FIRST, after, limit)
