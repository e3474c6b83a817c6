"""Hand-written SQL of the authoring context's pages. Runs in the caller's transaction, under RLS."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from shared.platform.db import Row, Tx

EMBEDDABLE_SQL = """
select t.id, t.type,
       t.community_id is not distinct from %(owner)s::uuid
       or (t.community_id is null and exists (
             select 1 from public.content_grants g where g.item_id = t.id and g.community_id = %(owner)s::uuid))
         as usable
from public.content_items t
where t.id = any(%(ids)s::uuid[])
"""
"""The named items the caller sees, their type, and whether the owner may use them: its own, or a platform
item granted to the owning community (platform content uses platform items only)."""


async def embeddable(tx: Tx, owner: UUID | None, ids: Sequence[UUID]) -> dict[UUID, Row]:
    """The items of `ids` the caller can see, by id, with `type` and `usable` (by `owner`)."""
    rows = await tx.fetch_all(EMBEDDABLE_SQL, {"owner": owner, "ids": list(ids)})
    return {row["id"]: row for row in rows}
