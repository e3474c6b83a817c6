"""Hand-written SQL for communities' members, their tags and account status.

Everything runs in the caller's transaction, under row level security: a community admin's queries can
only ever reach their own community's rows, whatever the parameters say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

MAY_WRITE_SQL = (
    "select app.has_staff_role(array['super_admin', 'manager']) or app.is_admin_of(%s) as may_write"
)

_MEMBER_SELECT = """
select m.user_id, p.email, p.first_name, p.last_name, m.role, m.joined_at, m.source, p.status,
       coalesce((select jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name, 'color', t.color)
                                  order by lower(t.name), t.id)
                 from public.user_tag_assignments a join public.user_tags t on t.id = a.tag_id
                 where a.community_id = m.community_id and a.user_id = m.user_id), '[]'::jsonb) as tags
from public.memberships m
join public.profiles p on p.id = m.user_id
"""
"""A member with their tags in one row: a list page is one query, however many members it shows."""

_MEMBER_PATTERN = (
    "(p.email ilike %(pattern)s escape '\\' or p.first_name ilike %(pattern)s escape '\\'"
    " or p.last_name ilike %(pattern)s escape '\\'"
    " or (p.first_name || ' ' || p.last_name) ilike %(pattern)s escape '\\')"
)
_MEMBER_TAG = (
    "exists (select 1 from public.user_tag_assignments f"
    " where f.community_id = m.community_id and f.user_id = m.user_id and f.tag_id = %(tag_id)s)"
)
GET_MEMBER_SQL = _MEMBER_SELECT + "where m.community_id = %s and m.user_id = %s"
NEWEST_FIRST = Order(("m.joined_at", "m.user_id"), descending=True)

LOCK_MEMBERSHIPS_SQL = """
select m.user_id, m.role, m.source, m.joined_at from public.memberships m
where m.community_id = %s and m.user_id = any(%s)
order by m.user_id
for update
"""
"""Locked in one order, so two admins changing each other's memberships at once queue instead of deadlocking."""
SET_ROLE_SQL = "update public.memberships set role = %s where community_id = %s and user_id = %s"
DELETE_MEMBERSHIP_SQL = "delete from public.memberships where community_id = %s and user_id = %s"
MEMBER_TAG_IDS_SQL = """
select a.tag_id from public.user_tag_assignments a
where a.community_id = %s and a.user_id = %s
order by a.tag_id
"""
COMMUNITY_TAG_IDS_SQL = (
    "select t.id from public.user_tags t where t.community_id = %s and t.id = any(%s) for key share"
)
"""Key-share locked: a concurrent deletion of the tag waits, so an assignment never meets a vanished tag."""
REMOVE_OTHER_TAGS_SQL = """
delete from public.user_tag_assignments
where community_id = %s and user_id = %s and not (tag_id = any(%s))
"""
ADD_TAGS_SQL = """
insert into public.user_tag_assignments (tag_id, user_id, community_id, assigned_by)
select tag_id, %(user_id)s, %(community_id)s, %(assigned_by)s from unnest(%(tag_ids)s::uuid[]) as tag_id
on conflict (tag_id, user_id) do nothing
"""
REMOVE_TAG_SQL = """
delete from public.user_tag_assignments where community_id = %s and user_id = %s and tag_id = %s
"""

LOCK_ACCOUNT_SQL = """
select p.id as user_id, p.email, p.status, s.role as staff_role
from public.profiles p left join public.platform_staff s on s.user_id = p.id
where p.id = %s
for update of p
"""
SET_STATUS_SQL = "update public.profiles set status = %s where id = %s"


@dataclass(frozen=True, slots=True)
class MemberFilter:
    """What narrows a member list: role, a LIKE pattern (already escaped), a tag, the keyset position."""

    role: str | None = None
    pattern: str | None = None
    tag_id: UUID | None = None
    after: tuple[datetime, UUID] | None = None


def like_pattern(text: str) -> str:
    """A case-insensitive "contains" pattern in which the caller's `%`, `_` and `\\` match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def may_write(tx: Tx, community_id: UUID) -> bool:
    """Whether the caller may change the community's members now (authority read afresh, as RLS does)."""
    return bool(await tx.fetch_val(MAY_WRITE_SQL, (community_id,)))


async def list_members(tx: Tx, community_id: UUID, where: MemberFilter, limit: int) -> list[Row]:
    """Up to `limit` members of the community matching `where`, newest first, each with their tags."""
    members = (
        Select(_MEMBER_SELECT)
        .where("m.community_id = %(community_id)s", community_id=community_id)
        .filter("m.role = %(role)s", role=where.role)
        .filter(_MEMBER_PATTERN, pattern=where.pattern)
        .filter(_MEMBER_TAG, tag_id=where.tag_id)
    )
    return await tx.fetch_all(*members.page(NEWEST_FIRST, where.after, limit))


async def get_member(tx: Tx, community_id: UUID, user_id: UUID) -> Row | None:
    """One member of the community with their tags, or None."""
    return await tx.fetch_one(GET_MEMBER_SQL, (community_id, user_id))


async def lock_memberships(tx: Tx, community_id: UUID, user_ids: Sequence[UUID]) -> dict[UUID, Row]:
    """These users' memberships (role, source, joined_at), locked for this transaction, by user id."""
    rows = await tx.fetch_all(LOCK_MEMBERSHIPS_SQL, (community_id, list(user_ids)))
    return {row.pop("user_id"): row for row in rows}


async def set_role(tx: Tx, community_id: UUID, user_id: UUID, role: str) -> int:
    """Change the member's role (the database keeps the last admin); the number of rows changed."""
    return await tx.execute(SET_ROLE_SQL, (role, community_id, user_id))


async def delete_membership(tx: Tx, community_id: UUID, user_id: UUID) -> int:
    """Remove the membership (its tag assignments cascade); the number of rows removed."""
    return await tx.execute(DELETE_MEMBERSHIP_SQL, (community_id, user_id))


async def member_tag_ids(tx: Tx, community_id: UUID, user_id: UUID) -> list[UUID]:
    """The ids of the tags the member holds, in a stable order."""
    rows = await tx.fetch_all(MEMBER_TAG_IDS_SQL, (community_id, user_id))
    return [row["tag_id"] for row in rows]


async def community_tag_ids(tx: Tx, community_id: UUID, tag_ids: Sequence[UUID]) -> set[UUID]:
    """Which of `tag_ids` are tags of this community."""
    if not tag_ids:
        return set()
    rows = await tx.fetch_all(COMMUNITY_TAG_IDS_SQL, (community_id, list(tag_ids)))
    return {row["id"] for row in rows}


async def replace_tags(
    tx: Tx, community_id: UUID, user_id: UUID, tag_ids: Sequence[UUID], assigned_by: UUID
) -> None:
    """Make `tag_ids` exactly the member's tags: drop the others, add the missing ones."""
    await tx.execute(REMOVE_OTHER_TAGS_SQL, (community_id, user_id, list(tag_ids)))
    await add_tags(tx, community_id, user_id, tag_ids, assigned_by)


async def add_tags(
    tx: Tx, community_id: UUID, user_id: UUID, tag_ids: Sequence[UUID], assigned_by: UUID
) -> int:
    """Give the member these tags (those already held stay as they are); the number added."""
    if not tag_ids:
        return 0
    params = {
        "user_id": user_id,
        "community_id": community_id,
        "assigned_by": assigned_by,
        "tag_ids": list(tag_ids),
    }
    return await tx.execute(ADD_TAGS_SQL, params)


async def remove_tag(tx: Tx, community_id: UUID, user_id: UUID, tag_id: UUID) -> int:
    """Take one tag from the member; the number of assignments removed (0 or 1)."""
    return await tx.execute(REMOVE_TAG_SQL, (community_id, user_id, tag_id))


async def lock_account(tx: Tx, user_id: UUID) -> Row | None:
    """The user's email, status and staff role, the profile locked for this transaction; None when absent."""
    return await tx.fetch_one(LOCK_ACCOUNT_SQL, (user_id,))


async def set_status(tx: Tx, user_id: UUID, status: str) -> int:
    """Set the account's status (the database lets only staff writers do it); the rows changed."""
    return await tx.execute(SET_STATUS_SQL, (status, user_id))
