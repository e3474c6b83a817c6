"""Hand-written SQL for platform staff roles. Runs in the caller's transaction, under row level security."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

_STAFF_SELECT = """
select s.user_id, p.email, p.first_name, p.last_name, s.role, s.granted_by, s.created_at, s.updated_at
from public.platform_staff s join public.profiles p on p.id = s.user_id
"""
LONGEST_SERVING_FIRST = Order(("s.created_at", "s.user_id"))
GET_SQL = _STAFF_SELECT + "where s.user_id = %s"
LOCK_SQL = """
select s.user_id, s.role from public.platform_staff s
where s.role = 'super_admin' or s.user_id = any(%s)
order by s.user_id
for update
"""
"""Every super admin row and the rows named, locked in one order: two super admins demoting each other
at once are serialised here instead of deadlocking inside the last-super-admin trigger."""
PROFILE_EXISTS_SQL = "select exists (select 1 from public.profiles where id = %s) as found"
GRANT_SQL = """
insert into public.platform_staff (user_id, role, granted_by) values (%s, %s, %s)
on conflict (user_id) do nothing
returning user_id
"""
"""No row back: a concurrent request made the user staff first (the key decides, not a raw violation)."""
CHANGE_SQL = "update public.platform_staff set role = %s, granted_by = %s where user_id = %s"
REVOKE_SQL = "delete from public.platform_staff where user_id = %s"


async def list_staff(tx: Tx, after: tuple[datetime, UUID] | None, limit: int) -> list[Row]:
    """Up to `limit` staff members after the keyset position, longest-serving first."""
    return await tx.fetch_all(*Select(_STAFF_SELECT).page(LONGEST_SERVING_FIRST, after, limit))


async def get_staff(tx: Tx, user_id: UUID) -> Row | None:
    """One staff member with their profile, or None."""
    return await tx.fetch_one(GET_SQL, (user_id,))


async def lock_roles(tx: Tx, user_ids: Sequence[UUID]) -> dict[UUID, str]:
    """Lock every super admin's row and those of `user_ids`; their current roles by user id."""
    rows = await tx.fetch_all(LOCK_SQL, (list(user_ids),))
    return {row["user_id"]: row["role"] for row in rows}


async def profile_exists(tx: Tx, user_id: UUID) -> bool:
    """Whether the user exists (has a profile)."""
    return bool(await tx.fetch_val(PROFILE_EXISTS_SQL, (user_id,)))


async def grant(tx: Tx, user_id: UUID, role: str, granted_by: UUID) -> bool:
    """Make the user staff with `role`; False when they became staff meanwhile (own row: own_staff_role)."""
    return await tx.fetch_one(GRANT_SQL, (user_id, role, granted_by)) is not None


async def change(tx: Tx, user_id: UUID, role: str, granted_by: UUID) -> int:
    """Change a staff member's role (own_staff_role, last_super_admin are the database's); rows changed."""
    return await tx.execute(CHANGE_SQL, (role, granted_by, user_id))


async def revoke(tx: Tx, user_id: UUID) -> int:
    """Remove the staff role (own_staff_role, last_super_admin are the database's); rows removed."""
    return await tx.execute(REVOKE_SQL, (user_id,))
