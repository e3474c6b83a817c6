"""Notifications' SQL. The recipient's reads and marks run as them, under row level security (their own
rows only; read_at is the one column they change); the worker writes rows as the service role."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

NOTIFICATION_SELECT = """
select n.id, n.community_id, n.kind, n.subject, n.link, n.data, n.created_at, n.read_at
from public.notifications n
"""
NEWEST_FIRST = Order(("n.created_at", "n.id"), descending=True)
UNREAD_SQL = "select count(*)::int from public.notifications where user_id = %s and read_at is null"
MARK_ONE_SQL = "update public.notifications set read_at = coalesce(read_at, now()) where id = %s returning id"
MARK_ALL_SQL = "update public.notifications set read_at = now() where user_id = %s and read_at is null"
INVITED_SQL = """
select i.id, i.community_id, c.name as community_name, p.id as user_id
from public.invitations i
join public.communities c on c.id = i.community_id
join public.profiles p on lower(p.email) = lower(i.email)
where i.id = any (%s::uuid[]) and i.status = 'sent' and p.created_at < i.created_at
order by i.id
"""
"""Pending invitations addressed to an account that existed before them (not one the delivery creates)."""
INSERT_SQL = """
insert into public.notifications (user_id, community_id, kind, subject, link, data, event_id)
values (%s, %s, %s, %s, %s, %s::jsonb, %s)
on conflict (user_id, event_id) do nothing
"""


async def page(tx: Tx, user_id: UUID, *, unread: bool | None, after: tuple[datetime, UUID] | None, limit: int) -> list[Row]:
    """Up to `limit` of the user's notifications after the keyset position, newest first."""
    rows = Select(NOTIFICATION_SELECT).where("n.user_id = %(user)s", user=user_id)
    if unread is not None:
        rows.where("(n.read_at is null) = %(unread)s", unread=unread)
    return await tx.fetch_all(*rows.page(NEWEST_FIRST, after, limit))


async def unread_count(tx: Tx, user_id: UUID) -> int:
    """How many of the user's notifications are unread."""
    return int(await tx.fetch_val(UNREAD_SQL, (user_id,)) or 0)


async def get(tx: Tx, notification_id: UUID) -> Row | None:
    """One notification, if it is the caller's."""
    return await tx.fetch_one(*Select(NOTIFICATION_SELECT).where("n.id = %(id)s", id=notification_id).statement())


async def mark_read(tx: Tx, notification_id: UUID) -> bool:
    """Mark one of the caller's notifications read (kept as first read); whether there was one."""
    return await tx.fetch_val(MARK_ONE_SQL, (notification_id,)) is not None


async def mark_all_read(tx: Tx, user_id: UUID) -> int:
    """Mark all the user's unread notifications read; how many."""
    return await tx.execute(MARK_ALL_SQL, (user_id,))


async def invited_accounts(tx: Tx, invitation_ids: list[str]) -> list[Row]:
    """The pending ones of these invitations whose address has an account, with its id and the community's name."""
    return await tx.fetch_all(INVITED_SQL, (invitation_ids,))


async def insert(
    tx: Tx,
    *,
    user_id: UUID,
    community_id: UUID | None,
    kind: str,
    subject: str,
    link: str | None,
    data: dict[str, Any],
    event_id: UUID,
) -> None:
    """Write a notification once per event and recipient (the worker's service transaction)."""
    import json

    await tx.execute(INSERT_SQL, (user_id, community_id, kind, subject, link, json.dumps(data), event_id))
