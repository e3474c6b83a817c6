"""Prerequisites' SQL, as the caller: row level security lets whoever sees an item read what it requires
and its editors (staff writers, the owner community's admins) write it; a trigger holds the types, the
owner and the absence of cycles for every writer."""

from __future__ import annotations

from uuid import UUID

from shared.platform.db import Row, Tx

ITEM_SQL = """
select i.id, i.community_id, i.type,
       (select app.has_staff_role(array['super_admin', 'manager'])) or app.administers_content_item(i.id) as may_edit
from public.content_items i where i.id = %s
"""
USABLE_SQL = """
select i.id from public.content_items i
where i.id = any (%s::uuid[]) and i.type in ('program', 'wod', 'block')
"""
STATUS_SQL = """
select s.required_id as item_id, s.threshold, s.percent::float as percent, s.is_met
from app.prerequisites_of(auth.uid(), %s) s
"""
DELETE_SQL = "delete from public.content_prerequisites where item_id = %s"
INSERT_SQL = """
insert into public.content_prerequisites (item_id, required_id, threshold)
select %s, r.item_id, r.threshold from jsonb_to_recordset(%s::jsonb) as r (item_id uuid, threshold smallint)
"""
LIST_SQL = """
select p.required_id as item_id, p.threshold::int as threshold from public.content_prerequisites p
where p.item_id = %s order by p.required_id
"""


async def item(tx: Tx, item_id: UUID) -> Row | None:
    """The item (id, owner, type) and whether the caller may edit it; None when they cannot see it."""
    return await tx.fetch_one(ITEM_SQL, (item_id,))


async def usable(tx: Tx, item_ids: list[UUID]) -> set[UUID]:
    """Those of the ids that are programs, WODs or BLOCKs the caller sees."""
    return {row["id"] for row in await tx.fetch_all(USABLE_SQL, ([str(i) for i in item_ids],))}


async def status(tx: Tx, item_id: UUID) -> list[Row]:
    """The item's prerequisites with the caller's percent through each and whether it is enough."""
    return await tx.fetch_all(STATUS_SQL, (item_id,))


async def replace(tx: Tx, item_id: UUID, requires: str) -> list[Row]:
    """Set the item's prerequisites to `requires` (JSON [{item_id, threshold}]); what it requires now."""
    await tx.execute(DELETE_SQL, (item_id,))
    await tx.execute(INSERT_SQL, (item_id, requires))
    return await tx.fetch_all(LIST_SQL, (item_id,))


async def listed(tx: Tx, item_id: UUID) -> list[Row]:
    """What the item requires."""
    return await tx.fetch_all(LIST_SQL, (item_id,))
