"""Bulk imports: a CSV becomes a job of rows that the worker turns into pending invitations, chunk by chunk.

An import is many invitations: nobody becomes a member until they accept (see `invitations`).
Upload (the caller's transaction): the file is parsed and every row validated on its own; the job and
all its rows are stored in one transaction, invalid rows already `failed`; `import.requested` is
enqueued with them. Worker, per chunk, in one transaction with the job row locked: the next CHUNK_SIZE
pending rows become pending invitations (a handful of set-based statements), each row `invited`, or
`succeeded` when its address is a member already (it gets the row's tags) or has a pending invitation
here; then the next chunk is queued. No provider is asked inside it: inserting the invitations queues
their deliveries (`deliveries`), which are made after the commit and settle each row `succeeded`, or
`failed` with the reason. Rows settled are never touched again, so re-running a chunk invites nobody
twice. The job is `completed` when every row is settled, `failed` (with the reason) when the worker
gave up on one of its chunks; each ends with an audit entry and `import.completed`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.identity import errors, policy
from shared.identity.communities.scope import require_existing
from shared.identity.onboarding import csv_rows, repository, worker_repository
from shared.identity.onboarding.schemas import ImportJobPage, ImportJobView
from shared.identity.schemas import CommunityPageQuery
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.events import Event, enqueue
from shared.platform.pagination import page_of, time_and_id

CHUNK_SIZE = 500
"""Rows per worker transaction: small enough for every statement to stay far below the timeout."""
DEFAULT_FILENAME = "import.csv"
REQUESTED = "import.requested"
CHUNK_REQUESTED = "import.chunk_requested"
COMPLETED = "import.completed"
FAILED = "import.failed"


def parse_upload(data: bytes) -> list[csv_rows.ParsedRow]:
    """The file's rows, validated; 422 naming the reason when the file as a whole is unusable."""
    try:
        return csv_rows.parse(csv_rows.decode(data))
    except csv_rows.CsvFormatError as exc:
        raise ValidationFailedError([FieldError("body.csv", str(exc), exc.code)], str(exc)) from None


async def create_import(
    data: bytes,
    filename: str | None,
    community_id: UUID,
    *,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> ImportJobView:
    """Store the job and every row in one transaction and queue it for the worker."""
    policy.require_community_writer(principal, community_id)
    rows = parse_upload(data)
    await require_existing(tx, principal, community_id)
    known_tags = await repository.tag_ids_by_name(tx, community_id)
    rows = csv_rows.with_unknown_tags(rows, set(known_tags))
    failed = sum(1 for row in rows if not row.is_valid)
    job = await repository.insert_job(
        tx,
        community_id=community_id,
        created_by=principal.user_id,
        filename=(filename or DEFAULT_FILENAME)[:255],
        total=len(rows),
        failed=failed,
    )
    job_id = job["id"]
    await repository.insert_rows(
        tx,
        job_id,
        community_id,
        [(r.row_number, r.first_name, r.last_name, r.email, r.tags, r.error) for r in rows],
    )
    view = ImportJobView.model_validate(job)
    await audit.record(
        tx,
        meta,
        "import.created",
        target_type="import_job",
        target_id=job_id,
        community_id=community_id,
        after={"filename": view.filename, "total": view.total, "failed_validation": failed},
    )
    if view.status == "completed":  # every row failed validation: nothing for the worker to do
        await _announce_end(tx, {**job, "invited": 0}, COMPLETED)
    else:
        payload = {"job_id": str(job_id), "community_id": str(community_id)}
        await enqueue(tx, Event(name=REQUESTED, payload=payload))
    return view


async def get_job(job_id: UUID, *, tx: Tx, principal: Principal) -> ImportJobView:
    """One job and its progress."""
    row = await repository.job(tx, job_id)
    if row is None:
        raise errors.ImportJobNotFoundError()
    policy.require_item_reader(principal, row["community_id"], errors.ImportJobNotFoundError)
    return ImportJobView.model_validate(row)


async def list_jobs(query: CommunityPageQuery, *, tx: Tx, principal: Principal) -> ImportJobPage:
    """A page of the community's imports, newest first."""
    policy.require_community_reader(principal, query.community_id)
    after = cursors.time_and_id(query.cursor)
    await require_existing(tx, principal, query.community_id)
    rows = await repository.list_jobs(tx, query.community_id, after=after, limit=query.limit + 1)
    page, cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
    return ImportJobPage(items=[ImportJobView.model_validate(r) for r in page], next_cursor=cursor)


async def error_report(job_id: UUID, *, tx: Tx, principal: Principal) -> tuple[str, str]:
    """The job's failed rows as CSV (original columns plus `error`) and a safe file name for it."""
    job = await get_job(job_id, tx=tx, principal=principal)
    rows = await repository.failed_rows(tx, job_id)
    text = csv_rows.render_report(
        [(r["first_name"], r["last_name"], r["email"], r["tags"], r["error"]) for r in rows]
    )
    return text, csv_rows.report_filename(job.filename, str(job_id))


# --- the worker's side --------------------------------------------------------------------------------


RowOutcome = tuple[str, str | None, UUID | None]
"""A row's new status, error and invitation."""


async def process_chunk(tx: Tx, job_id: UUID, *, chunk_size: int) -> None:
    """Turn the next `chunk_size` pending rows of a job into invitations in `tx` (the service role's)."""
    job = await worker_repository.lock_job(tx, job_id)
    if job is None or job["status"] in ("completed", "failed"):
        return
    await worker_repository.start_job(tx, job_id)
    pending = await worker_repository.pending_rows(tx, job_id, chunk_size)
    tags_by_name = await repository.tag_ids_by_name(tx, job["community_id"])
    outcomes, wanted = _read_rows(pending, tags_by_name)
    outcomes |= await _invite(tx, job, wanted)
    await worker_repository.settle_rows(tx, job_id, [(n, *o) for n, o in sorted(outcomes.items())])
    if await worker_repository.has_pending(tx, job_id):
        await enqueue(tx, Event(name=CHUNK_REQUESTED, payload={"job_id": str(job_id)}))
    await settle_job(tx, job_id)


def _read_rows(
    pending: list[Row], tags_by_name: dict[str, UUID]
) -> tuple[dict[int, RowOutcome], dict[str, dict[str, Any]]]:
    """Rows whose tags were deleted since the upload fail; the others are wanted, by e-mail address."""
    failed: dict[int, RowOutcome] = {}
    wanted: dict[str, dict[str, Any]] = {}  # addresses are unique within a file (checked at upload)
    for row in pending:
        names = csv_rows.split_tags(row["tags"])
        unknown = csv_rows.unknown_tag_errors(names, set(tags_by_name))
        if unknown:
            failed[row["row_number"]] = ("failed", "; ".join(unknown), None)
            continue
        wanted[csv_rows.normalize_email(row["email"])] = {
            "row_number": row["row_number"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "tag_ids": [tags_by_name[n.lower()] for n in names],
        }
    return failed, wanted


async def _invite(tx: Tx, job: Row, wanted: dict[str, dict[str, Any]]) -> dict[int, RowOutcome]:
    """Invite the wanted addresses that are not members yet; each row's outcome."""
    community_id: UUID = job["community_id"]
    created_by: UUID | None = job["created_by"]
    members = await worker_repository.members_by_email(tx, community_id, sorted(wanted))
    # A member already: the admin may tag their members without asking them, so the row's tags apply.
    pairs = [(user_id, tag) for email, user_id in members.items() for tag in wanted[email]["tag_ids"]]
    await repository.assign_tags(tx, community_id, pairs, assigned_by=created_by)
    to_invite = [{"email": email, **w} for email, w in wanted.items() if email not in members]
    created = await worker_repository.insert_invitations(tx, community_id, to_invite, invited_by=created_by)
    entries = [
        (str(created[i["email"]]), _audited_invitation(i, job["id"]))
        for i in to_invite
        if i["email"] in created
    ]
    await worker_repository.audit_many(tx, "invitation.created", "invitation", community_id, entries)
    outcomes: dict[int, RowOutcome] = {}
    for email, w in wanted.items():
        # No new invitation: a member already, or a pending invitation here already; nothing to send.
        invitation_id = created.get(email)
        outcomes[w["row_number"]] = ("invited" if invitation_id else "succeeded", None, invitation_id)
    return outcomes


def _audited_invitation(invitation: dict[str, Any], job_id: UUID) -> dict[str, Any]:
    return {
        "email": invitation["email"],
        "role": "member",
        "tag_ids": [str(t) for t in invitation["tag_ids"]],
        "status": "sent",
        "source": "import",
        "import_job_id": str(job_id),
    }


async def settle_job(tx: Tx, job_id: UUID) -> None:
    """Count the job's rows again; when that completes it, write its audit entry and `import.completed`."""
    counted = await worker_repository.recount_job(tx, job_id)
    if counted is None:
        return
    before, job = counted
    if before in ("queued", "running") and job["status"] == "completed":
        await _announce_end(tx, job, COMPLETED)


async def chunk_died(tx: Tx, event: Event, error: str) -> None:
    """The worker gave up on a chunk: the job fails with the reason, its rows still to do with it."""
    job_id = UUID(str(event.payload["job_id"]))
    reason = f"The worker gave up on this import after repeated failures ({_summary(error)})."
    if not await worker_repository.fail_job(tx, job_id, reason, row_error="import_failed"):
        return
    counted = await worker_repository.recount_job(tx, job_id)
    if counted is not None:
        await _announce_end(tx, counted[1], FAILED)


async def _announce_end(tx: Tx, job: Row, action: str) -> None:
    """The audit entry of a finished job (who started it, how it went) and the event of the same name."""
    summary = {k: job[k] for k in ("total", "processed", "succeeded", "failed", "invited")}
    after = {
        "created_by": None if job["created_by"] is None else str(job["created_by"]),
        "status": job["status"],
        "failure_reason": job["failure_reason"],
        **summary,
    }
    await audit.record(
        tx,
        RequestMeta(),
        action,
        target_type="import_job",
        target_id=job["id"],
        community_id=job["community_id"],
        after=after,
    )
    payload = {"job_id": str(job["id"]), "community_id": str(job["community_id"]), "status": job["status"]}
    await enqueue(tx, Event(name=action, payload={**payload, **summary}))


def _summary(error: str) -> str:
    """`handler: ExceptionType` of a dead letter's error, without its message (which may quote a provider)."""
    return ": ".join(error.split(": ")[:2])
