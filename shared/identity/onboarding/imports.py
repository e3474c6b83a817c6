"""Bulk imports: a CSV becomes a job of rows that the worker turns into memberships, chunk by chunk.

Upload (the caller's transaction): the file is parsed and every row validated on its own; the job and
all its rows are stored in one transaction, invalid rows already `failed`; `import.requested` is
enqueued with them. Worker: each delivery locks the job, takes the next CHUNK_SIZE pending rows, turns
them into memberships with a handful of set-based statements, records each row's outcome and the job's
counters, and enqueues `import.chunk_requested` for the next chunk, all in one transaction. So progress
is visible between chunks, a crash loses at most the chunk in flight (it is redone), and rows already
settled are never touched again: re-running adds nobody twice.

Each chunk announces its new members with one `members.imported` event (user ids of the chunk) rather
than one `member.joined` per person, and the last chunk `import.completed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.identity.onboarding import csv_rows, errors, repository
from shared.identity.onboarding.links import require_community
from shared.identity.onboarding.schemas import ImportJobPage, ImportJobView
from shared.identity.provider import provider_for
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.events import Event, enqueue
from shared.platform.pagination import PageQuery, decode_cursor, page_of, time_and_id

CHUNK_SIZE = 500
"""Rows per worker transaction: small enough for every statement to stay far below the timeout."""
DEFAULT_FILENAME = "import.csv"
REQUESTED = "import.requested"
CHUNK_REQUESTED = "import.chunk_requested"
COMPLETED = "import.completed"
MEMBERS_IMPORTED = "members.imported"


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
    rows = parse_upload(data)
    await require_community(tx, community_id)
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
    if view.status != "completed":
        payload = {"job_id": str(job_id), "community_id": str(community_id)}
        await enqueue(tx, Event(name=REQUESTED, payload=payload))
    return view


async def get_job(tx: Tx, community_id: UUID, job_id: UUID) -> ImportJobView:
    """One job and its progress."""
    row = await repository.job(tx, community_id, job_id)
    if row is None:
        raise errors.ImportJobNotFoundError("No such import in this community.")
    return ImportJobView.model_validate(row)


async def list_jobs(tx: Tx, community_id: UUID, query: PageQuery) -> ImportJobPage:
    """A page of the community's imports, newest first."""
    await require_community(tx, community_id)
    rows = await repository.list_jobs(
        tx, community_id, after=decode_cursor(query.cursor, 2), limit=query.limit + 1
    )
    page, cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
    return ImportJobPage(items=[ImportJobView.model_validate(r) for r in page], next_cursor=cursor)


async def error_report(tx: Tx, community_id: UUID, job_id: UUID) -> tuple[str, str]:
    """The job's failed rows as CSV (original columns plus `error`) and a safe file name for it."""
    job = await get_job(tx, community_id, job_id)
    rows = await repository.failed_rows(tx, job_id)
    text = csv_rows.render_report(
        [(r["first_name"], r["last_name"], r["email"], r["tags"], r["error"]) for r in rows]
    )
    return text, csv_rows.report_filename(job.filename, str(job_id))


# --- the worker's side --------------------------------------------------------------------------------


@dataclass(slots=True)
class ChunkOutcome:
    """What one chunk did."""

    rows: int = 0
    succeeded: int = 0
    failed: int = 0
    is_done: bool = False


async def process_chunk(tx: Tx, job_id: UUID, *, chunk_size: int) -> ChunkOutcome:
    """Import the next `chunk_size` pending rows of a job in `tx` (the service role's), then queue the rest."""
    job = await repository.lock_job(tx, job_id)
    if job is None or job["status"] in ("completed", "failed"):
        return ChunkOutcome(is_done=True)
    community_id: UUID = job["community_id"]
    created_by: UUID | None = job["created_by"]
    await repository.start_job(tx, job_id)
    pending = await repository.pending_rows(tx, job_id, chunk_size)
    tags_by_name = await repository.tag_ids_by_name(tx, community_id)

    outcomes: dict[int, tuple[str, str | None]] = {}
    wanted: dict[int, tuple[str, list[UUID]]] = {}  # row number -> (email, tag ids)
    for row in pending:
        names = csv_rows.split_tags(row["tags"])
        unknown = csv_rows.unknown_tag_errors(names, set(tags_by_name))  # a tag deleted since upload
        if unknown:
            outcomes[row["row_number"]] = ("failed", "; ".join(unknown))
        else:
            email = csv_rows.normalize_email(row["email"])
            wanted[row["row_number"]] = (email, [tags_by_name[n.lower()] for n in names])

    emails = sorted({email for email, _ in wanted.values()})
    user_ids = await repository.accounts_by_email(tx, emails)
    invited: list[dict[str, Any]] = []
    names_by_email = {csv_rows.normalize_email(r["email"]): r for r in pending}
    provider = provider_for(tx)
    for email in emails:
        if email in user_ids:
            continue
        source = names_by_email[email]
        data = {"first_name": source["first_name"], "last_name": source["last_name"]}
        result = await provider.invite(email, data=data, redirect_to=None)
        user_ids[email] = result.user_id
        if result.is_new:
            invited.append({"email": email, "user_id": str(result.user_id)})

    joined = await repository.add_import_memberships(
        tx, community_id, sorted({user_ids[e] for e, _ in wanted.values()}), invited_by=created_by
    )
    pairs = [(user_ids[email], tag) for email, tag_ids in wanted.values() for tag in tag_ids]
    await repository.assign_tags(tx, community_id, pairs, assigned_by=created_by)
    tag_ids_of = {email: tag_ids for email, tag_ids in wanted.values()}
    for invitation in invited:
        invitation["tag_ids"] = [str(t) for t in tag_ids_of[invitation["email"]]]
    await repository.insert_sent_invitations(tx, community_id, invited, invited_by=created_by)
    for number in wanted:
        outcomes[number] = ("succeeded", None)
    await repository.settle_rows(tx, job_id, [(n, s, e) for n, (s, e) in sorted(outcomes.items())])

    succeeded = sum(1 for status, _ in outcomes.values() if status == "succeeded")
    is_done = not await repository.has_pending(tx, job_id)
    progress = await repository.count_progress(
        tx, job_id, succeeded=succeeded, failed=len(outcomes) - succeeded, is_done=is_done
    )
    if joined:
        # One event per chunk, not per member: delivering thousands of single events would cost the worker
        # more than the import itself. Consumers of joins subscribe to `member.joined` and to this.
        payload = {
            "community_id": str(community_id),
            "import_job_id": str(job_id),
            "source": "import",
            "user_ids": sorted(str(u) for u in joined),
        }
        await enqueue(tx, Event(name=MEMBERS_IMPORTED, payload=payload))
    if is_done:
        summary = {k: progress[k] for k in ("total", "succeeded", "failed")}
        payload = {"job_id": str(job_id), "community_id": str(community_id), **summary}
        await enqueue(tx, Event(name=COMPLETED, payload=payload))
    else:
        await enqueue(tx, Event(name=CHUNK_REQUESTED, payload={"job_id": str(job_id)}))
    return ChunkOutcome(len(outcomes), succeeded, len(outcomes) - succeeded, is_done)
