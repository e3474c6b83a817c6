"""Hand-written SQL for signup links, invitations and imports, always with bound parameters.

Request paths run these as the caller, under row level security (the worker's own statements are in
`worker_repository`). Statements over many rows are set-based (arrays unnested in one statement), never
one statement per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

Position = tuple[datetime, UUID]
"""Where a newest-first page starts: the (created_at, id) of the last row served."""

# --- communities and tags -----------------------------------------------------------------------------

_TAG_NAMES_SQL = "select id, lower(name) as name from public.user_tags where community_id = %s"


async def tag_ids_by_name(tx: Tx, community_id: UUID) -> dict[str, UUID]:
    """The community's tags, by lower-cased name."""
    rows = await tx.fetch_all(_TAG_NAMES_SQL, (community_id,))
    return {row["name"]: row["id"] for row in rows}


# --- signup links -------------------------------------------------------------------------------------

_LINK_STATUS = """case when l.revoked_at is not null then 'revoked'
                 when l.expires_at <= now() then 'expired'
                 when l.max_uses is not null and l.use_count >= l.max_uses then 'exhausted'
                 else 'active' end"""
"""The same order of checks as app.redeem_signup_link."""
_LINK_COLUMNS = f"""l.id, l.community_id, l.label, {_LINK_STATUS} as status, l.expires_at, l.max_uses, l.use_count,
       coalesce((select array_agg(t.tag_id order by t.tag_id) from public.signup_link_tags t
                  where t.link_id = l.id), '{{}}') as tag_ids,
       l.created_by, l.created_at, l.revoked_at"""  # noqa: S608 - reviewed constants
_INSERT_LINK_SQL = """
insert into public.signup_links (community_id, token_hash, label, expires_at, max_uses, created_by)
values (%(community_id)s, %(token_hash)s, %(label)s, %(expires_at)s, %(max_uses)s, %(created_by)s)
returning id
"""
_INSERT_LINK_TAGS_SQL = """
insert into public.signup_link_tags (link_id, tag_id, community_id)
select %s, t, %s from unnest(%s::uuid[]) t
"""
_LINKS_SQL = f"select {_LINK_COLUMNS} from public.signup_links l"  # noqa: S608 - reviewed constants
_LINK_STATUS_IS = f"{_LINK_STATUS} = %(status)s"
_LINK_SQL = _LINKS_SQL + " where l.id = %s"
_LINKS_NEWEST_FIRST = Order(("l.created_at", "l.id"), descending=True)
_REVOKE_LINK_SQL = """
update public.signup_links set revoked_at = now()
where id = %s and revoked_at is null
returning id
"""
_REDEEM_SQL = "select app.redeem_signup_link(%s) as result"


async def insert_link(
    tx: Tx,
    *,
    community_id: UUID,
    token_hash: bytes,
    label: str,
    expires_at: datetime,
    max_uses: int | None,
    created_by: UUID,
    tag_ids: Sequence[UUID],
) -> Row:
    """Store a new link (its token's hash only) with its tags; return it as listed."""
    link_id = await tx.fetch_val(
        _INSERT_LINK_SQL,
        {
            "community_id": community_id,
            "token_hash": token_hash,
            "label": label,
            "expires_at": expires_at,
            "max_uses": max_uses,
            "created_by": created_by,
        },
    )
    if tag_ids:
        await tx.execute(_INSERT_LINK_TAGS_SQL, (link_id, community_id, list(tag_ids)))
    row = await link(tx, link_id)
    assert row is not None  # just inserted in this transaction
    return row


async def link(tx: Tx, link_id: UUID) -> Row | None:
    """One link, as listed (None when absent or hidden by row level security)."""
    return await tx.fetch_one(_LINK_SQL, (link_id,))


async def list_links(
    tx: Tx, community_id: UUID, *, status: str | None, after: Position | None, limit: int
) -> list[Row]:
    """Up to `limit` links, newest first, after the keyset position."""
    links = (
        Select(_LINKS_SQL)
        .where("l.community_id = %(community_id)s", community_id=community_id)
        .filter(_LINK_STATUS_IS, status=status)
    )
    return await tx.fetch_all(*links.page(_LINKS_NEWEST_FIRST, after, limit))


async def revoke_link(tx: Tx, link_id: UUID) -> bool:
    """Revoke the link; False when it was revoked already (or is not there)."""
    return await tx.fetch_one(_REVOKE_LINK_SQL, (link_id,)) is not None


async def redeem(tx: Tx, token_hash: bytes) -> dict[str, Any]:
    """Redeem a link as the caller (exactly once, under the link's row lock): the outcome object."""
    result: dict[str, Any] = await tx.fetch_val(_REDEEM_SQL, (token_hash,))
    return result


# --- members and tags ---------------------------------------------------------------------------------

_ASSIGN_TAGS_SQL = """
insert into public.user_tag_assignments (tag_id, user_id, community_id, assigned_by)
select x.tag_id, x.user_id, %s, %s from unnest(%s::uuid[], %s::uuid[]) as x(user_id, tag_id)
on conflict (tag_id, user_id) do nothing
"""
_IS_MEMBER_EMAIL_SQL = """
select exists (
  select 1 from public.memberships m join public.profiles p on p.id = m.user_id
  where m.community_id = %s and lower(p.email) = lower(%s))
"""


async def assign_tags(
    tx: Tx, community_id: UUID, pairs: Sequence[tuple[UUID, UUID]], *, assigned_by: UUID | None
) -> None:
    """Give each (user, tag) pair's user the tag; pairs already held stay as they are."""
    if pairs:
        users, tags = [p[0] for p in pairs], [p[1] for p in pairs]
        await tx.execute(_ASSIGN_TAGS_SQL, (community_id, assigned_by, users, tags))


async def is_member_email(tx: Tx, community_id: UUID, email: str) -> bool:
    """Whether a member of the community has this address (what its admins see anyway; nobody else)."""
    return bool(await tx.fetch_val(_IS_MEMBER_EMAIL_SQL, (community_id, email)))


# --- invitations --------------------------------------------------------------------------------------

INVITATION_COLUMNS = (
    "id, community_id, email, role, tag_ids, first_name, last_name, source, user_id, status, delivery,"
    " delivery_error, delivered_at, invited_by, created_at, updated_at"
)
_INSERT_INVITATION_SQL = f"""
insert into public.invitations (community_id, email, role, tag_ids, first_name, last_name, redirect_to)
values (%(community_id)s, %(email)s, %(role)s, %(tag_ids)s::uuid[], %(first_name)s, %(last_name)s,
        %(redirect_to)s)
on conflict (community_id, lower(email)) where status = 'sent' do nothing
returning {INVITATION_COLUMNS}
"""  # noqa: S608 - reviewed constants
_INVITATIONS_SQL = f"select {INVITATION_COLUMNS} from public.invitations"  # noqa: S608 - reviewed constants
_INVITATION_FOR_UPDATE_SQL = _INVITATIONS_SQL + " where id = %s for update"
_SET_INVITATION_STATUS_SQL = (
    f"update public.invitations set status = %s where id = %s returning {INVITATION_COLUMNS}"  # noqa: S608
)
NEWEST_FIRST = Order(("created_at", "id"), descending=True)
RESEND_SQL = """
with inv as (
  update public.invitations
     set delivery = 'pending', delivery_error = null, delivered_at = null, delivery_claimed_at = null
   where id = %s and status = 'sent' and delivery = 'failed'
  returning id)
update public.import_rows r set status = 'invited', error = null
  from inv where r.invitation_id = inv.id and r.status = 'failed'
"""
"""Make a failed delivery pending again, with the import row it came from (the platform's to write)."""
_MY_INVITATIONS_SQL = "select * from app.my_invitations(%s, %s, %s)"
_ACCEPT_SQL = "select app.accept_invitation(%s, %s::jsonb) as result"
_DECLINE_SQL = "select app.decline_invitation(%s, %s::jsonb) as result"


async def insert_invitation(
    tx: Tx,
    *,
    community_id: UUID,
    email: str,
    role: str,
    tag_ids: Sequence[UUID],
    first_name: str,
    last_name: str,
    redirect_to: str | None,
) -> Row | None:
    """Record a pending invitation from the caller; None when the address has a pending one here already."""
    return await tx.fetch_one(
        _INSERT_INVITATION_SQL,
        {
            "community_id": community_id,
            "email": email,
            "role": role,
            "tag_ids": list(tag_ids),
            "first_name": first_name,
            "last_name": last_name,
            "redirect_to": redirect_to,
        },
    )


async def invitation_for_update(tx: Tx, invitation_id: UUID) -> Row | None:
    """One invitation, locked until the transaction ends (None when absent or not the caller's to change)."""
    return await tx.fetch_one(_INVITATION_FOR_UPDATE_SQL, (invitation_id,))


def request_redelivery(tx: Tx, invitation_id: UUID) -> None:
    """Queue the failed delivery again, with the COMMIT (delivery columns are the platform's)."""
    tx.as_platform_at_commit(RESEND_SQL, (invitation_id,))


async def set_invitation_status(tx: Tx, invitation_id: UUID, status: str) -> Row:
    """Change an invitation's status; return it."""
    row = await tx.fetch_one(_SET_INVITATION_STATUS_SQL, (status, invitation_id))
    assert row is not None
    return row


async def list_invitations(
    tx: Tx, community_id: UUID, *, status: str | None, after: Position | None, limit: int
) -> list[Row]:
    """Up to `limit` invitations, newest first, after the keyset position."""
    invitations = (
        Select(_INVITATIONS_SQL)
        .where("community_id = %(community_id)s", community_id=community_id)
        .filter("status = %(status)s", status=status)
    )
    return await tx.fetch_all(*invitations.page(NEWEST_FIRST, after, limit))


async def my_invitations(tx: Tx, *, after: Position | None, limit: int) -> list[Row]:
    """Up to `limit` of the caller's pending invitations, newest first, after the cursor's key."""
    return await tx.fetch_all(
        _MY_INVITATIONS_SQL, (after[0] if after else None, after[1] if after else None, limit)
    )


async def accept(tx: Tx, invitation_id: UUID, meta: dict[str, Any]) -> dict[str, Any]:
    """Accept as the caller (checked in the database): the outcome object."""
    result: dict[str, Any] = await tx.fetch_val(_ACCEPT_SQL, (invitation_id, json.dumps(meta)))
    return result


async def decline(tx: Tx, invitation_id: UUID, meta: dict[str, Any]) -> dict[str, Any]:
    """Decline as the caller (checked in the database): the outcome object."""
    result: dict[str, Any] = await tx.fetch_val(_DECLINE_SQL, (invitation_id, json.dumps(meta)))
    return result


# --- imports: upload ----------------------------------------------------------------------------------

JOB_COLUMNS = (
    "id, community_id, filename, status, total, processed, succeeded, failed, failure_reason, created_by,"
    " created_at, started_at, finished_at"
)
_INSERT_JOB_SQL = f"""
insert into public.import_jobs (community_id, created_by, filename, status, total, processed, failed,
                                finished_at)
values (%(community_id)s, %(created_by)s, %(filename)s, %(status)s, %(total)s, %(failed)s, %(failed)s,
        case when %(status)s = 'completed' then now() end)
returning {JOB_COLUMNS}
"""  # noqa: S608 - reviewed constants
_INSERT_ROWS_SQL = """
insert into public.import_rows (job_id, row_number, community_id, first_name, last_name, email, tags,
                                status, error)
select %(job_id)s, r.n, %(community_id)s, r.first_name, r.last_name, r.email, r.tags,
       case when r.error is null then 'pending' else 'failed' end, r.error
from unnest(%(n)s::int[], %(first_name)s::text[], %(last_name)s::text[], %(email)s::text[], %(tags)s::text[],
            %(error)s::text[]) as r(n, first_name, last_name, email, tags, error)
"""
_JOBS_SQL = f"select {JOB_COLUMNS} from public.import_jobs"  # noqa: S608 - reviewed constants
_JOB_SQL = _JOBS_SQL + " where id = %s"
_FAILED_ROWS_SQL = """
select first_name, last_name, email, tags, coalesce(error, '') as error
from public.import_rows
where job_id = %s and status = 'failed'
order by row_number
"""


async def insert_job(
    tx: Tx, *, community_id: UUID, created_by: UUID, filename: str, total: int, failed: int
) -> Row:
    """Create a job; one whose rows all failed validation is completed at once."""
    row = await tx.fetch_one(
        _INSERT_JOB_SQL,
        {
            "community_id": community_id,
            "created_by": created_by,
            "filename": filename,
            "status": "completed" if failed == total else "queued",
            "total": total,
            "failed": failed,
        },
    )
    assert row is not None
    return row


async def insert_rows(tx: Tx, job_id: UUID, community_id: UUID, rows: Sequence[Sequence[Any]]) -> None:
    """Store every row of a job in one statement: (row_number, first, last, email, tags, error or None)."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in range(6)]
    await tx.execute(
        _INSERT_ROWS_SQL,
        {
            "job_id": job_id,
            "community_id": community_id,
            "n": list(columns[0]),
            "first_name": list(columns[1]),
            "last_name": list(columns[2]),
            "email": list(columns[3]),
            "tags": list(columns[4]),
            "error": list(columns[5]),
        },
    )


async def job(tx: Tx, job_id: UUID) -> Row | None:
    """One import job (None when absent or hidden by row level security)."""
    return await tx.fetch_one(_JOB_SQL, (job_id,))


async def list_jobs(tx: Tx, community_id: UUID, *, after: Position | None, limit: int) -> list[Row]:
    """Up to `limit` import jobs, newest first, after the keyset position."""
    jobs = Select(_JOBS_SQL).where("community_id = %(community_id)s", community_id=community_id)
    return await tx.fetch_all(*jobs.page(NEWEST_FIRST, after, limit))


async def failed_rows(tx: Tx, job_id: UUID) -> list[Row]:
    """The failed rows of a job, in file order, with their error."""
    return await tx.fetch_all(_FAILED_ROWS_SQL, (job_id,))
