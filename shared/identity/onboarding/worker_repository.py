"""Hand-written SQL the worker runs as the service role: import chunks, invitation deliveries, job progress.

Set-based throughout: a chunk of rows or a batch of deliveries is one statement per step, never one per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx, service_round_trip

CLAIM_STALE = "10 minutes"
"""A delivery claimed longer ago than this was left by a worker that died; another may take it."""

# --- import chunks ------------------------------------------------------------------------------------

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
_MEMBER_EMAILS_SQL = """
select lower(p.email) as email, p.id as user_id
from public.memberships m join public.profiles p on p.id = m.user_id
where m.community_id = %s and lower(p.email) = any(%s::text[])
"""
_INSERT_INVITATIONS_SQL = """
insert into public.invitations (community_id, email, role, tag_ids, first_name, last_name, source, invited_by)
select %(community_id)s, x.email, 'member', x.tag_ids, x.first_name, x.last_name, 'import', %(invited_by)s
from jsonb_to_recordset(%(rows)s::jsonb) as x(email text, tag_ids uuid[], first_name text, last_name text)
on conflict (community_id, lower(email)) where status = 'sent' do nothing
returning id, email
"""
_AUDIT_MANY_SQL = """
select count(app.write_audit(%(action)s, %(target_type)s, x.target_id, %(community_id)s, null, x.after,
                             null, null, null)) as n
from jsonb_to_recordset(%(entries)s::jsonb) as x(target_id text, after jsonb)
"""
_SETTLE_ROWS_SQL = """
update public.import_rows r set status = x.status, error = x.error, invitation_id = x.invitation_id
from unnest(%s::int[], %s::text[], %s::text[], %s::uuid[]) as x(n, status, error, invitation_id)
where r.job_id = %s and r.row_number = x.n
"""
_HAS_PENDING_SQL = "select exists (select 1 from public.import_rows where job_id = %s and status = 'pending')"
_RECOUNT_SQL = """
with c as (
  select count(*) filter (where status in ('succeeded', 'failed')) as processed,
         count(*) filter (where status = 'succeeded') as succeeded,
         count(*) filter (where status = 'failed') as failed,
         count(*) filter (where status = 'succeeded' and invitation_id is not null) as invited,
         count(*) filter (where status in ('pending', 'invited')) as open
    from public.import_rows where job_id = %(job_id)s)
update public.import_jobs j
   set processed = c.processed, succeeded = c.succeeded, failed = c.failed,
       status = case when j.status in ('queued', 'running') and c.open = 0 then 'completed' else j.status end,
       finished_at = case when j.status in ('queued', 'running') and c.open = 0 then now() else j.finished_at end
  from c
 where j.id = %(job_id)s
returning j.id, j.community_id, j.created_by, j.status, j.total, j.failure_reason, c.processed, c.succeeded,
          c.failed, c.invited
"""
_FAIL_JOB_SQL = """
update public.import_jobs set status = 'failed', failure_reason = left(%s, 500), finished_at = now()
where id = %s and status in ('queued', 'running')
returning id
"""
_FAIL_PENDING_ROWS_SQL = """
update public.import_rows set status = 'failed', error = %s where job_id = %s and status = 'pending'
"""


async def lock_job(tx: Tx, job_id: UUID) -> Row | None:
    """The job, locked so that two deliveries never work on the same job at once."""
    return await tx.fetch_one(_LOCK_JOB_SQL, (job_id,))


async def start_job(tx: Tx, job_id: UUID) -> None:
    """Mark a queued job running."""
    await tx.execute(_START_JOB_SQL, (job_id,))


async def pending_rows(tx: Tx, job_id: UUID, limit: int) -> list[Row]:
    """The next `limit` rows still to do, in file order."""
    return await tx.fetch_all(_PENDING_ROWS_SQL, (job_id, limit))


async def members_by_email(tx: Tx, community_id: UUID, emails: Sequence[str]) -> dict[str, UUID]:
    """The members of the community among these (lower-cased) addresses."""
    if not emails:
        return {}
    rows = await tx.fetch_all(_MEMBER_EMAILS_SQL, (community_id, list(emails)))
    return {row["email"]: row["user_id"] for row in rows}


async def insert_invitations(
    tx: Tx, community_id: UUID, rows: Sequence[dict[str, Any]], *, invited_by: UUID | None
) -> dict[str, UUID]:
    """Pending invitations from an import: each {email, tag_ids, first_name, last_name}.

    Returns the new invitation per address; an address with a pending invitation here gets none.
    """
    if not rows:
        return {}
    found = await tx.fetch_all(
        _INSERT_INVITATIONS_SQL,
        {"community_id": community_id, "invited_by": invited_by, "rows": json.dumps(rows, default=str)},
    )
    return {row["email"]: row["id"] for row in found}


async def audit_many(
    tx: Tx, action: str, target_type: str, community_id: UUID, entries: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """One audit entry per (target id, after) in one statement, through app.write_audit (a service actor)."""
    if entries:
        payload = json.dumps([{"target_id": t, "after": a} for t, a in entries], default=str)
        await tx.fetch_val(
            _AUDIT_MANY_SQL,
            {"action": action, "target_type": target_type, "community_id": community_id, "entries": payload},
        )


async def settle_rows(
    tx: Tx, job_id: UUID, outcomes: Sequence[tuple[int, str, str | None, UUID | None]]
) -> None:
    """Record each row's outcome: (row_number, status, error, invitation id)."""
    if outcomes:
        numbers, statuses, errors, invitations = (list(col) for col in zip(*outcomes, strict=True))
        await tx.execute(_SETTLE_ROWS_SQL, (numbers, statuses, errors, invitations, job_id))


async def has_pending(tx: Tx, job_id: UUID) -> bool:
    """Whether any row of the job is still to do."""
    return bool(await tx.fetch_val(_HAS_PENDING_SQL, (job_id,)))


async def recount_job(tx: Tx, job_id: UUID) -> tuple[str, Row] | None:
    """Lock the job, count its rows again, complete it when none is open: (status before, job after).

    Counting from the rows (not adding increments) makes it idempotent; locking first makes the count,
    a statement of its own, see every row settled by whoever held the lock before.
    """
    locked = await lock_job(tx, job_id)
    if locked is None:
        return None
    row = await tx.fetch_one(_RECOUNT_SQL, {"job_id": job_id})
    assert row is not None
    return str(locked["status"]), row


async def fail_job(tx: Tx, job_id: UUID, reason: str, *, row_error: str) -> bool:
    """Mark an unfinished job failed with its reason and its rows still to do failed; False when it had ended."""
    if await tx.fetch_one(_FAIL_JOB_SQL, (reason, job_id)) is None:
        return False
    await tx.execute(_FAIL_PENDING_ROWS_SQL, (row_error, job_id))
    return True


# --- invitation deliveries ----------------------------------------------------------------------------

_CLAIM_SQL = """
update public.invitations i set delivery_claimed_at = now()
 where i.id = any(%s::uuid[]) and i.delivery = 'pending'
   and (i.delivery_claimed_at is null or i.delivery_claimed_at < now() - %s::interval)
returning i.id, i.community_id, i.email, i.first_name, i.last_name, i.redirect_to, i.status,
          (select p.id from public.profiles p where lower(p.email) = lower(i.email)
            order by p.created_at limit 1) as account_id
"""
_RECORD_SQL = """
select job_id from app.record_invitation_deliveries(%(ids)s::uuid[], %(deliveries)s::text[], %(errors)s::text[],
                                                    %(user_ids)s::uuid[]) as job_id
"""
_RELEASE_SQL = """
update public.invitations set delivery_claimed_at = null
where id = any(%s::uuid[]) and delivery = 'pending'
"""
_UNDELIVERED_SQL = (
    "select count(*) as n from public.invitations where id = any(%s::uuid[]) and delivery = 'pending'"
)


async def claim_deliveries(tx: Tx, invitation_ids: Sequence[UUID]) -> list[Row]:
    """Claim the still pending deliveries among these invitations, with what sending them needs.

    `account_id` is the account the address has already, if any: the provider is not asked then.
    """
    if not invitation_ids:
        return []
    return await tx.fetch_all(_CLAIM_SQL, (list(invitation_ids), CLAIM_STALE))


async def record_deliveries(
    tx: Tx, outcomes: Sequence[tuple[UUID, str, str | None, UUID | None]]
) -> set[UUID]:
    """Record (invitation, 'sent' or 'failed', error code, user id) and settle their import rows.

    Only deliveries still pending change. Returns the import jobs whose rows were settled.
    """
    if not outcomes:
        return set()
    rows = await tx.fetch_all(_RECORD_SQL, _record_params(outcomes))
    return {row["job_id"] for row in rows}


async def record_deliveries_alone(outcomes: Sequence[tuple[UUID, str, str | None, UUID | None]]) -> set[UUID]:
    """`record_deliveries` in a service transaction of its own, sent as one round trip."""
    if not outcomes:
        return set()
    [rows] = await service_round_trip([(_RECORD_SQL, _record_params(outcomes))])
    return {row["job_id"] for row in rows}


def _record_params(outcomes: Sequence[tuple[UUID, str, str | None, UUID | None]]) -> dict[str, Any]:
    ids, deliveries, errors, users = (list(col) for col in zip(*outcomes, strict=True))
    return {"ids": ids, "deliveries": deliveries, "errors": errors, "user_ids": users}


async def release_claims(tx: Tx, invitation_ids: Sequence[UUID]) -> None:
    """Give back claims on deliveries that were never attempted, so a retry need not wait for them."""
    if invitation_ids:
        await tx.execute(_RELEASE_SQL, (list(invitation_ids),))


async def undelivered(tx: Tx, invitation_ids: Sequence[UUID]) -> int:
    """How many of these invitations still wait for their delivery."""
    if not invitation_ids:
        return 0
    return int(await tx.fetch_val(_UNDELIVERED_SQL, (list(invitation_ids),)))
