"""Hand-written SQL for signup links, invitations and imports, always with bound parameters.

Request paths run these as the caller, under row level security; the import worker runs them as the
service role. Statements over many rows are set-based (arrays unnested in one statement), never one
statement per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx

# --- communities and tags -----------------------------------------------------------------------------

_COMMUNITY_SQL = "select id, status from public.communities where id = %s"
_TAGS_OF_SQL = (
    "select id from public.user_tags where community_id = %s and id = any(%s::uuid[]) for key share"
)
"""Key-share locked: a concurrent deletion of a tag waits until what names it has committed."""
_TAG_NAMES_SQL = "select id, lower(name) as name from public.user_tags where community_id = %s"


async def community(tx: Tx, community_id: UUID) -> Row | None:
    """The community's id and status, if the caller may see it."""
    return await tx.fetch_one(_COMMUNITY_SQL, (community_id,))


async def existing_tags(tx: Tx, community_id: UUID, tag_ids: Sequence[UUID]) -> set[UUID]:
    """Which of `tag_ids` are tags of this community."""
    if not tag_ids:
        return set()
    rows = await tx.fetch_all(_TAGS_OF_SQL, (community_id, list(tag_ids)))
    return {row["id"] for row in rows}


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
       l.created_by, l.created_at, l.revoked_at"""
_INSERT_LINK_SQL = """
insert into public.signup_links (community_id, token_hash, label, expires_at, max_uses, created_by)
values (%(community_id)s, %(token_hash)s, %(label)s, %(expires_at)s, %(max_uses)s, %(created_by)s)
returning id
"""
_INSERT_LINK_TAGS_SQL = """
insert into public.signup_link_tags (link_id, tag_id, community_id)
select %s, t, %s from unnest(%s::uuid[]) t
"""
_LINK_SQL = f"select {_LINK_COLUMNS} from public.signup_links l where l.id = %s and l.community_id = %s"
_LIST_LINKS_SQL = f"""
select {_LINK_COLUMNS}
from public.signup_links l
where l.community_id = %(community_id)s
  and (%(status)s::text is null or {_LINK_STATUS} = %(status)s::text)
  and (%(after_ts)s::timestamptz is null or (l.created_at, l.id) < (%(after_ts)s::timestamptz, %(after_id)s::uuid))
order by l.created_at desc, l.id desc
limit %(n)s
"""
_REVOKE_LINK_SQL = """
update public.signup_links set revoked_at = now()
where id = %s and community_id = %s and revoked_at is null
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
    row = await link(tx, community_id, link_id)
    assert row is not None  # just inserted in this transaction
    return row


async def link(tx: Tx, community_id: UUID, link_id: UUID) -> Row | None:
    """One link of the community, as listed."""
    return await tx.fetch_one(_LINK_SQL, (link_id, community_id))


async def list_links(
    tx: Tx, community_id: UUID, *, status: str | None, after: list[Any] | None, limit: int
) -> list[Row]:
    """Up to `limit` links, newest first, after the cursor's key."""
    return await tx.fetch_all(
        _LIST_LINKS_SQL,
        {
            "community_id": community_id,
            "status": status,
            "after_ts": after[0] if after else None,
            "after_id": after[1] if after else None,
            "n": limit,
        },
    )


async def revoke_link(tx: Tx, community_id: UUID, link_id: UUID) -> bool:
    """Revoke the link; False when it was revoked already (or is not there)."""
    return await tx.fetch_one(_REVOKE_LINK_SQL, (link_id, community_id)) is not None


async def redeem(tx: Tx, token_hash: bytes) -> dict[str, Any]:
    """Redeem a link as the caller (exactly once, under the link's row lock): the outcome object."""
    result: dict[str, Any] = await tx.fetch_val(_REDEEM_SQL, (token_hash,))
    return result


# --- memberships and accounts -------------------------------------------------------------------------

_ACCOUNT_SQL = "select user_id, is_member from app.onboarding_account(%s, %s)"
_INSERT_MEMBERSHIP_SQL = """
insert into public.memberships (community_id, user_id, role, source, invited_by)
values (%s, %s, %s, %s, %s)
on conflict (community_id, user_id) do nothing
returning user_id
"""
_ASSIGN_TAGS_SQL = """
insert into public.user_tag_assignments (tag_id, user_id, community_id, assigned_by)
select x.tag_id, x.user_id, %s, %s from unnest(%s::uuid[], %s::uuid[]) as x(user_id, tag_id)
on conflict (tag_id, user_id) do nothing
"""
_DELETE_INVITED_MEMBERSHIP_SQL = """
delete from public.memberships where community_id = %s and user_id = %s and source = 'invitation'
"""


async def account_for_email(tx: Tx, community_id: UUID, email: str) -> Row | None:
    """The account (user_id, is_member here) whose profile has this email, in any case.

    No API role may call `app.onboarding_account` (it reads profiles beyond the caller's reach), so the
    platform asks as its own role; the function still checks the caller named by the claims.
    """
    rows = await tx.as_platform(_ACCOUNT_SQL, (community_id, email))
    return rows[0] if rows else None


async def add_membership(
    tx: Tx, community_id: UUID, user_id: UUID, *, role: str, source: str, invited_by: UUID | None
) -> bool:
    """Make the user a member; False when they were one already (nothing changes then)."""
    row = await tx.fetch_one(_INSERT_MEMBERSHIP_SQL, (community_id, user_id, role, source, invited_by))
    return row is not None


async def assign_tags(
    tx: Tx, community_id: UUID, pairs: Sequence[tuple[UUID, UUID]], *, assigned_by: UUID | None
) -> None:
    """Give each (user, tag) pair's user the tag; pairs already held stay as they are."""
    if pairs:
        users, tags = [p[0] for p in pairs], [p[1] for p in pairs]
        await tx.execute(_ASSIGN_TAGS_SQL, (community_id, assigned_by, users, tags))


async def remove_invited_membership(tx: Tx, community_id: UUID, user_id: UUID) -> None:
    """Remove the membership an invitation created (a membership of another source stays)."""
    await tx.execute(_DELETE_INVITED_MEMBERSHIP_SQL, (community_id, user_id))


# --- invitations --------------------------------------------------------------------------------------

_INVITATION_COLUMNS = (
    "id, community_id, email, role, tag_ids, user_id, status, invited_by, created_at, updated_at"
)
_INSERT_INVITATION_SQL = f"""
insert into public.invitations (community_id, email, role, tag_ids, user_id, status, invited_by)
values (%(community_id)s, %(email)s, %(role)s, %(tag_ids)s::uuid[], %(user_id)s, %(status)s, %(invited_by)s)
returning {_INVITATION_COLUMNS}
"""
_INVITATION_FOR_UPDATE_SQL = (
    f"select {_INVITATION_COLUMNS} from public.invitations where id = %s and community_id = %s for update"
)
_SET_INVITATION_STATUS_SQL = (
    f"update public.invitations set status = %s where id = %s returning {_INVITATION_COLUMNS}"
)
_LIST_INVITATIONS_SQL = f"""
select {_INVITATION_COLUMNS}
from public.invitations
where community_id = %(community_id)s
  and (%(status)s::text is null or status = %(status)s::text)
  and (%(after_ts)s::timestamptz is null or (created_at, id) < (%(after_ts)s::timestamptz, %(after_id)s::uuid))
order by created_at desc, id desc
limit %(n)s
"""


async def insert_invitation(
    tx: Tx,
    *,
    community_id: UUID,
    email: str,
    role: str,
    tag_ids: Sequence[UUID],
    user_id: UUID | None,
    status: str,
    invited_by: UUID,
) -> Row:
    """Record an invitation."""
    row = await tx.fetch_one(
        _INSERT_INVITATION_SQL,
        {
            "community_id": community_id,
            "email": email,
            "role": role,
            "tag_ids": list(tag_ids),
            "user_id": user_id,
            "status": status,
            "invited_by": invited_by,
        },
    )
    assert row is not None
    return row


async def invitation_for_update(tx: Tx, community_id: UUID, invitation_id: UUID) -> Row | None:
    """One invitation of the community, locked until the transaction ends."""
    return await tx.fetch_one(_INVITATION_FOR_UPDATE_SQL, (invitation_id, community_id))


async def set_invitation_status(tx: Tx, invitation_id: UUID, status: str) -> Row:
    """Change an invitation's status; return it."""
    row = await tx.fetch_one(_SET_INVITATION_STATUS_SQL, (status, invitation_id))
    assert row is not None
    return row


async def list_invitations(
    tx: Tx, community_id: UUID, *, status: str | None, after: list[Any] | None, limit: int
) -> list[Row]:
    """Up to `limit` invitations, newest first, after the cursor's key."""
    return await tx.fetch_all(
        _LIST_INVITATIONS_SQL,
        {
            "community_id": community_id,
            "status": status,
            "after_ts": after[0] if after else None,
            "after_id": after[1] if after else None,
            "n": limit,
        },
    )


# --- imports: upload ----------------------------------------------------------------------------------

_JOB_COLUMNS = (
    "id, community_id, filename, status, total, processed, succeeded, failed, created_by, created_at,"
    " started_at, finished_at"
)
_INSERT_JOB_SQL = f"""
insert into public.import_jobs (community_id, created_by, filename, status, total, processed, failed,
                                finished_at)
values (%(community_id)s, %(created_by)s, %(filename)s, %(status)s, %(total)s, %(failed)s, %(failed)s,
        case when %(status)s = 'completed' then now() end)
returning {_JOB_COLUMNS}
"""
_INSERT_ROWS_SQL = """
insert into public.import_rows (job_id, row_number, community_id, first_name, last_name, email, tags,
                                status, error)
select %(job_id)s, r.n, %(community_id)s, r.first_name, r.last_name, r.email, r.tags,
       case when r.error is null then 'pending' else 'failed' end, r.error
from unnest(%(n)s::int[], %(first_name)s::text[], %(last_name)s::text[], %(email)s::text[], %(tags)s::text[],
            %(error)s::text[]) as r(n, first_name, last_name, email, tags, error)
"""
_JOB_SQL = f"select {_JOB_COLUMNS} from public.import_jobs where id = %s and community_id = %s"
_LIST_JOBS_SQL = f"""
select {_JOB_COLUMNS}
from public.import_jobs
where community_id = %(community_id)s
  and (%(after_ts)s::timestamptz is null or (created_at, id) < (%(after_ts)s::timestamptz, %(after_id)s::uuid))
order by created_at desc, id desc
limit %(n)s
"""
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


async def job(tx: Tx, community_id: UUID, job_id: UUID) -> Row | None:
    """One import job of the community."""
    return await tx.fetch_one(_JOB_SQL, (job_id, community_id))


async def list_jobs(tx: Tx, community_id: UUID, *, after: list[Any] | None, limit: int) -> list[Row]:
    """Up to `limit` import jobs, newest first, after the cursor's key."""
    return await tx.fetch_all(
        _LIST_JOBS_SQL,
        {
            "community_id": community_id,
            "after_ts": after[0] if after else None,
            "after_id": after[1] if after else None,
            "n": limit,
        },
    )


async def failed_rows(tx: Tx, job_id: UUID) -> list[Row]:
    """The failed rows of a job, in file order, with their error."""
    return await tx.fetch_all(_FAILED_ROWS_SQL, (job_id,))


# --- imports: the worker's chunks (service role) ------------------------------------------------------

_LOCK_JOB_SQL = (
    "select id, community_id, created_by, status, total from public.import_jobs where id = %s for update"
)
_START_JOB_SQL = """
update public.import_jobs set status = 'running', started_at = coalesce(started_at, now())
where id = %s and status = 'queued'
"""
_PENDING_ROWS_SQL = """
select row_number, first_name, last_name, email, tags
from public.import_rows
where job_id = %s and status = 'pending'
order by row_number
limit %s
"""
_ACCOUNTS_SQL = """
select distinct on (lower(p.email)) lower(p.email) as email, p.id as user_id
from public.profiles p
where lower(p.email) = any(%s::text[])
order by lower(p.email), p.created_at
"""
_ADD_MEMBERSHIPS_SQL = """
insert into public.memberships (community_id, user_id, role, source, invited_by)
select %s, u, 'member', 'import', %s from unnest(%s::uuid[]) u
on conflict (community_id, user_id) do nothing
returning user_id
"""
_INSERT_INVITATIONS_SQL = """
insert into public.invitations (community_id, email, role, tag_ids, user_id, status, invited_by)
select %s, x.email, 'member', x.tag_ids, x.user_id, 'sent', %s
from jsonb_to_recordset(%s::jsonb) as x(email text, user_id uuid, tag_ids uuid[])
"""
_SETTLE_ROWS_SQL = """
update public.import_rows r set status = x.status, error = x.error
from unnest(%s::int[], %s::text[], %s::text[]) as x(n, status, error)
where r.job_id = %s and r.row_number = x.n
"""
_COUNT_PROGRESS_SQL = f"""
update public.import_jobs
set processed = processed + %s, succeeded = succeeded + %s, failed = failed + %s,
    status = case when %s then 'completed' else status end,
    finished_at = case when %s then now() else finished_at end
where id = %s
returning {_JOB_COLUMNS}
"""
_HAS_PENDING_SQL = "select exists (select 1 from public.import_rows where job_id = %s and status = 'pending')"


async def lock_job(tx: Tx, job_id: UUID) -> Row | None:
    """The job, locked so that two deliveries never work on the same job at once."""
    return await tx.fetch_one(_LOCK_JOB_SQL, (job_id,))


async def start_job(tx: Tx, job_id: UUID) -> None:
    """Mark a queued job running."""
    await tx.execute(_START_JOB_SQL, (job_id,))


async def pending_rows(tx: Tx, job_id: UUID, limit: int) -> list[Row]:
    """The next `limit` rows still to do, in file order."""
    return await tx.fetch_all(_PENDING_ROWS_SQL, (job_id, limit))


async def accounts_by_email(tx: Tx, emails: Sequence[str]) -> dict[str, UUID]:
    """Existing accounts among these (lower-cased) emails."""
    if not emails:
        return {}
    rows = await tx.fetch_all(_ACCOUNTS_SQL, (list(emails),))
    return {row["email"]: row["user_id"] for row in rows}


async def add_import_memberships(
    tx: Tx, community_id: UUID, user_ids: Sequence[UUID], *, invited_by: UUID | None
) -> set[UUID]:
    """Make these users members (source import); return those who were not members before."""
    if not user_ids:
        return set()
    rows = await tx.fetch_all(_ADD_MEMBERSHIPS_SQL, (community_id, invited_by, list(user_ids)))
    return {row["user_id"] for row in rows}


async def insert_sent_invitations(
    tx: Tx, community_id: UUID, invitations: Sequence[dict[str, Any]], *, invited_by: UUID | None
) -> None:
    """Record the invitations the provider sent: each {email, user_id, tag_ids}."""
    if invitations:
        await tx.execute(
            _INSERT_INVITATIONS_SQL, (community_id, invited_by, json.dumps(invitations, default=str))
        )


async def settle_rows(tx: Tx, job_id: UUID, outcomes: Sequence[tuple[int, str, str | None]]) -> None:
    """Record each row's outcome: (row_number, 'succeeded' or 'failed', error)."""
    if outcomes:
        numbers, statuses, errors = (list(col) for col in zip(*outcomes, strict=True))
        await tx.execute(_SETTLE_ROWS_SQL, (numbers, statuses, errors, job_id))


async def count_progress(tx: Tx, job_id: UUID, *, succeeded: int, failed: int, is_done: bool) -> Row:
    """Add a chunk's outcome to the job's counters; complete it when nothing is left."""
    row = await tx.fetch_one(
        _COUNT_PROGRESS_SQL, (succeeded + failed, succeeded, failed, is_done, is_done, job_id)
    )
    assert row is not None
    return row


async def has_pending(tx: Tx, job_id: UUID) -> bool:
    """Whether any row of the job is still to do."""
    return bool(await tx.fetch_val(_HAS_PENDING_SQL, (job_id,)))
