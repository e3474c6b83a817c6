"""Hand-written SQL for a community's user tags. Runs in the caller's transaction, under row level security."""

from __future__ import annotations

from uuid import UUID

from shared.identity.errors import TagNameTakenError
from shared.platform.db import Row, Statement, Tx
from shared.platform.sql import Order, Select

_TAG_COLUMNS = "t.id, t.community_id, t.name, t.color, t.created_at, t.updated_at"
_TAG_SELECT = f"""
select {_TAG_COLUMNS},
       (select count(*) from public.user_tag_assignments a where a.tag_id = t.id)::int as member_count,
       lower(t.name) as sort_name
from public.user_tags t
"""  # noqa: S608 - reviewed constants
BY_NAME = Order(("lower(t.name)", "t.id"))
GET_SQL = _TAG_SELECT + "where t.id = %s"
CREATE_SQL = f"""
insert into public.user_tags as t (community_id, name, color) values (%s, %s, %s)
on conflict (community_id, lower(name)) do nothing
returning {_TAG_COLUMNS}, 0 as member_count
"""  # noqa: S608 - reviewed constants
"""No row back means the name is taken: the unique index decides, so two concurrent creates cannot both win."""
LOCK_SQL = "select t.id, t.community_id, t.name, t.color from public.user_tags t where t.id = %s for update"
UPDATE_SQL = "update public.user_tags set name = %s, color = %s where id = %s"
COUNT_ASSIGNMENTS_SQL = "select count(*)::int from public.user_tag_assignments where tag_id = %s"
DELETE_ASSIGNMENTS_SQL = "delete from public.user_tag_assignments where tag_id = %s"
DELETE_SQL = "delete from public.user_tags where id = %s"


async def list_tags(tx: Tx, community_id: UUID, after: tuple[str, UUID] | None, limit: int) -> list[Row]:
    """Up to `limit` of the community's tags after the keyset position, by name, with member counts."""
    tags = Select(_TAG_SELECT).where("t.community_id = %(community_id)s", community_id=community_id)
    return await tx.fetch_all(*tags.page(BY_NAME, after, limit))


async def get_tag(tx: Tx, tag_id: UUID) -> Row | None:
    """One tag with its member count, or None (also when row level security hides it)."""
    return await tx.fetch_one(*get_tag_statement(tag_id))


def get_tag_statement(tag_id: UUID) -> Statement:
    """The query of one tag with its member count (no row when row level security hides it)."""
    return GET_SQL, (tag_id,)


async def create_tag(tx: Tx, community_id: UUID, name: str, color: str) -> Row:
    """Insert the tag; a name the community already has, in any case, is a 409 tag_name_taken."""
    row = await tx.fetch_one(CREATE_SQL, (community_id, name, color))
    if row is None:
        raise TagNameTakenError(f"This community already has a tag named {name!r}.")
    return row


async def lock_tag(tx: Tx, tag_id: UUID) -> Row | None:
    """The tag's community, name and colour, locked for this transaction (new assignments of it wait).

    None when absent, or when row level security lets the caller neither see nor change it.
    """
    return await tx.fetch_one(LOCK_SQL, (tag_id,))


async def update_tag(tx: Tx, tag_id: UUID, name: str, color: str) -> None:
    """Set the tag's name and colour; a name taken by another tag of the community is a 409."""
    import psycopg  # already loaded by the open transaction

    try:
        await tx.execute(UPDATE_SQL, (name, color, tag_id))
    except psycopg.errors.UniqueViolation:
        raise TagNameTakenError(f"This community already has a tag named {name!r}.") from None


async def count_assignments(tx: Tx, tag_id: UUID) -> int:
    """How many members hold the tag."""
    return int(await tx.fetch_val(COUNT_ASSIGNMENTS_SQL, (tag_id,)) or 0)


async def delete_tag(tx: Tx, tag_id: UUID) -> int:
    """Remove the tag's assignments, then the tag; the number of assignments removed."""
    removed = await tx.execute(DELETE_ASSIGNMENTS_SQL, (tag_id,))
    await tx.execute(DELETE_SQL, (tag_id,))
    return removed
