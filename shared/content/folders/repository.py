"""Hand-written SQL for folders, run as the caller: row level security, keys and triggers hold the tree.

A parent must be a folder of the same owner and repository (a composite foreign key); a move that would
close a cycle raises `folder_cycle`, deleting a folder that holds folders or items `folder_not_empty`
(both 409, from the triggers of supabase/migrations/20261201000100_content.sql).
"""

from __future__ import annotations

from uuid import UUID

from shared.platform.db import Row, Tx

_COLUMNS = "f.id, f.community_id, f.repository, f.parent_id, f.name, f.created_at"
_COUNTS = """
(select count(*) from public.content_folders c where c.parent_id = f.id)::int as folder_count,
(select count(*) from public.content_items i where i.folder_id = f.id)::int as item_count
"""
# Parents before children (depth first, siblings by name), so a client builds the tree in one pass.
TREE_SQL = f"""
with recursive tree as (
  select f.id, array[lower(f.name) || chr(1) || f.id::text] as path
  from public.content_folders f
  where f.tenant_key = coalesce(%(community_id)s::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
    and f.repository = %(repository)s and f.parent_id is null
  union all
  select f.id, t.path || (lower(f.name) || chr(1) || f.id::text)
  from public.content_folders f join tree t on f.parent_id = t.id
)
select {_COLUMNS}, {_COUNTS}
from tree join public.content_folders f on f.id = tree.id
order by tree.path
"""  # noqa: S608 - reviewed constants
GET_SQL = f"select {_COLUMNS}, {_COUNTS} from public.content_folders f where f.id = %s"  # noqa: S608
LOCK_SQL = "select f.id, f.community_id, f.repository, f.parent_id, f.name from public.content_folders f where f.id = %s for update"
INSERT_SQL = f"""
insert into public.content_folders as f (community_id, repository, parent_id, name) values (%s, %s, %s, %s)
returning {_COLUMNS}, 0 as folder_count, 0 as item_count
"""  # noqa: S608 - reviewed constants
UPDATE_SQL = "update public.content_folders set name = %s, parent_id = %s where id = %s"
DELETE_SQL = "delete from public.content_folders where id = %s"


async def tree(tx: Tx, community_id: UUID | None, repository: str) -> list[Row]:
    """Every folder of the owner's repository that the caller can see, parents first."""
    return await tx.fetch_all(TREE_SQL, {"community_id": community_id, "repository": repository})


async def get_folder(tx: Tx, folder_id: UUID) -> Row | None:
    """One folder with its counts, or None (also when row level security hides it)."""
    return await tx.fetch_one(GET_SQL, (folder_id,))


async def lock_folder(tx: Tx, folder_id: UUID) -> Row | None:
    """The folder, locked for this transaction; None when absent or hidden from the caller."""
    return await tx.fetch_one(LOCK_SQL, (folder_id,))


async def create_folder(
    tx: Tx, community_id: UUID | None, repository: str, parent_id: UUID | None, name: str
) -> Row:
    """Insert the folder (the cycle trigger and the parent's key check it)."""
    row = await tx.fetch_one(INSERT_SQL, (community_id, repository, parent_id, name))
    if row is None:
        raise RuntimeError("insert returned no row")
    return row


async def update_folder(tx: Tx, folder_id: UUID, name: str, parent_id: UUID | None) -> None:
    """Set the folder's name and parent; a cycle is a 409 folder_cycle."""
    await tx.execute(UPDATE_SQL, (name, parent_id, folder_id))


async def delete_folder(tx: Tx, folder_id: UUID) -> None:
    """Delete the folder; one holding folders or items is a 409 folder_not_empty."""
    await tx.execute(DELETE_SQL, (folder_id,))
