"""Hand-written SQL for content grants. Runs in the caller's transaction, under row level security."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

_GRANT_COLUMNS = """g.id, g.item_id, g.community_id, g.tag_id, g.user_id, g.starts_at, g.ends_at, g.created_by,
       g.created_at,
       case when g.tag_id is not null then 'tag' when g.user_id is not null then 'user' else 'community' end
         as target,
       case when g.starts_at > now() then 'scheduled' when g.ends_at <= now() then 'ended' else 'open' end
         as window_state"""
_GRANT_SELECT = f"select {_GRANT_COLUMNS} from public.content_grants g"  # noqa: S608 - reviewed constants
NEWEST_FIRST = Order(("g.created_at", "g.id"), descending=True)

ITEM_SQL = "select i.id, i.community_id from public.content_items i where i.id = %s"
TAG_IN_COMMUNITY_SQL = "select exists (select 1 from public.user_tags where id = %s and community_id = %s)"
MEMBER_SQL = "select exists (select 1 from public.memberships where community_id = %s and user_id = %s)"
INSERT_SQL = f"""
insert into public.content_grants as g (item_id, community_id, tag_id, user_id, starts_at, ends_at, created_by)
values (%s, %s, %s, %s, %s, %s, %s)
on conflict on constraint content_grants_target_key do nothing
returning {_GRANT_COLUMNS}
"""  # noqa: S608 - reviewed constants
"""No row back means the target already has a grant of this item: the unique key decides, races included."""
GET_SQL = _GRANT_SELECT + " where g.id = %s"
# The item's owner comes along: a community's admins change only grants of their community's own items.
# (An item hidden from the caller reads as platform content, which only staff who may write change.)
LOCK_SQL = f"""
select {_GRANT_COLUMNS}, i.community_id as item_owner
from public.content_grants g left join public.content_items i on i.id = g.item_id
where g.id = %s
for update of g
"""  # noqa: S608 - reviewed constants
UPDATE_WINDOW_SQL = f"""
update public.content_grants g set starts_at = %s, ends_at = %s where g.id = %s returning {_GRANT_COLUMNS}
"""  # noqa: S608 - reviewed constants
DELETE_SQL = "delete from public.content_grants where id = %s"
# A template's platform-content grants, onto the community cloned from it: community-wide grants as they
# are, tag grants onto the clone's tag of the same name, windows kept. Grants to single members stay
# behind (the clone has no members), and so do the template's own items (they are the template's).
CLONE_SQL = """
insert into public.content_grants (item_id, community_id, tag_id, starts_at, ends_at, created_by)
select g.item_id, %(target)s, copy.id, g.starts_at, g.ends_at, auth.uid()
  from public.content_grants g
  join public.content_items i on i.id = g.item_id and i.community_id is null
  left join public.user_tags tag on tag.id = g.tag_id
  left join public.user_tags copy on copy.community_id = %(target)s and lower(copy.name) = lower(tag.name)
 where g.community_id = %(source)s and g.user_id is null and (g.tag_id is null or copy.id is not null)
on conflict on constraint content_grants_target_key do nothing
"""


async def get_item(tx: Tx, item_id: UUID) -> Row | None:
    """The item's id and owner, or None (also when row level security hides it)."""
    return await tx.fetch_one(ITEM_SQL, (item_id,))


async def is_tag_of(tx: Tx, tag_id: UUID, community_id: UUID) -> bool:
    """Whether the tag is one of the community's."""
    return bool(await tx.fetch_val(TAG_IN_COMMUNITY_SQL, (tag_id, community_id)))


async def is_member_of(tx: Tx, community_id: UUID, user_id: UUID) -> bool:
    """Whether the user belongs to the community."""
    return bool(await tx.fetch_val(MEMBER_SQL, (community_id, user_id)))


async def insert_grant(
    tx: Tx,
    *,
    item_id: UUID,
    community_id: UUID,
    tag_id: UUID | None,
    user_id: UUID | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    created_by: UUID,
) -> Row | None:
    """Add the grant; None when the same item already has a grant for this target."""
    params = (item_id, community_id, tag_id, user_id, starts_at, ends_at, created_by)
    return await tx.fetch_one(INSERT_SQL, params)


async def get_grant(tx: Tx, grant_id: UUID) -> Row | None:
    """One grant, or None (also when row level security hides it)."""
    return await tx.fetch_one(GET_SQL, (grant_id,))


async def lock_grant(tx: Tx, grant_id: UUID) -> Row | None:
    """The grant with its item's owner, locked for this transaction; None when absent or hidden."""
    return await tx.fetch_one(LOCK_SQL, (grant_id,))


async def update_window(tx: Tx, grant_id: UUID, starts_at: datetime | None, ends_at: datetime | None) -> Row:
    """Set the grant's window; the grant as it is now."""
    row = await tx.fetch_one(UPDATE_WINDOW_SQL, (starts_at, ends_at, grant_id))
    if row is None:  # locked by this transaction a moment ago, and allowed by the same policy
        raise RuntimeError("a locked grant vanished")
    return row


async def delete_grant(tx: Tx, grant_id: UUID) -> None:
    """Remove the grant."""
    await tx.execute(DELETE_SQL, (grant_id,))


async def list_grants(
    tx: Tx,
    *,
    item_id: UUID | None,
    community_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` grants of the item or in the community after the keyset position, newest first."""
    grants = (
        Select(_GRANT_SELECT)
        .filter("g.item_id = %(item_id)s", item_id=item_id)
        .filter("g.community_id = %(community_id)s", community_id=community_id)
    )
    return await tx.fetch_all(*grants.page(NEWEST_FIRST, after, limit))


async def clone_grants(tx: Tx, *, source: UUID, target: UUID) -> int:
    """Grant `target` the platform content its template `source` is granted; how many grants were made."""
    return await tx.execute(CLONE_SQL, {"source": source, "target": target})
