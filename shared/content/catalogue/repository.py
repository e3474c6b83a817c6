"""The catalogue's SQL. Runs as the caller, under row level security, which alone decides visibility.

The list names what is granted to the caller (`app.directly_granted_content_ids()`); one item opens also
when a granted item uses it (`app.granted_content_ids()`, the learner's rule in row level security).
The queries repeat the learner's rule as their own condition: `id = any(<granted to the caller>)` compares
uuids with a leakproof operator, so Postgres may use it as the primary key condition and read only the
caller's granted rows (a policy's OR of several audiences cannot be an index condition). Row level
security still filters every row it returns; the rest (type, label, text) is checked on those rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.platform.db import Row, Statement, Tx
from shared.platform.sql import Order, Params, Select

if TYPE_CHECKING:
    from psycopg.sql import Composed

_COLUMNS = (
    "select i.id, i.type, i.title, i.description, i.thumbnail_url, i.tags, i.community_id, i.published_at,"
    " i.revision"
)
_CATALOGUE_SELECT = _COLUMNS + "\nfrom public.content_items i\n"
NEWEST_FIRST = Order(("i.published_at", "i.id"), descending=True)
HIDDEN_FROM_LEARNERS = ("system_prompt", "model_settings", "object_key", "upload_id")
"""Payload members a learner never reads: an agent's instructions to its model (the server loads them for
a chat), and where a file is stored (they download it through the item's file route)."""
_ENTRY_SQL = (
    _COLUMNS
    + """, i.payload - %(hidden)s::text[] as payload
from public.content_items i
where i.id = %(id)s and i.status = 'published' and i.id = any ((select app.granted_content_ids())::uuid[])
"""
)


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
        items.where("i.id = any ((select app.directly_granted_content_ids())::uuid[])")
    else:
        items.where(
            "i.id = any ((select app.directly_granted_content_ids(%(community_id)s::uuid))::uuid[])",
            community_id=community_id,
        )
    items.filter("i.type = %(type)s", type=type)
    items.filter("i.tags @> array[%(tag)s]::text[]", tag=tag)
    items.filter("i.search @@ websearch_to_tsquery('english', %(q)s)", q=q)
    return items.page(NEWEST_FIRST, after, limit)


def entry_statement(item_id: UUID) -> Statement:
    """One published item granted to the caller now (or reached through one), with its payload as a
    learner reads it; no row otherwise."""
    return _ENTRY_SQL, {"id": item_id, "hidden": list(HIDDEN_FROM_LEARNERS)}
