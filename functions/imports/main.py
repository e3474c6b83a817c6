"""`imports`: bulk-import people from a CSV as a background job; poll its progress; get its errors."""

from __future__ import annotations

from uuid import UUID

from starlette.responses import Response

from shared.identity import policy
from shared.identity.onboarding import imports
from shared.identity.onboarding.schemas import (
    MAX_IMPORT_BYTES,
    CreateImport,
    ImportJobPage,
    ImportJobView,
    UploadQuery,
)
from shared.identity.schemas import NO_SUCH_COMMUNITY, CommunityPageQuery
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("imports", body_limit=MAX_IMPORT_BYTES, description="Bulk imports of people from CSV.")
READERS = caller(policy.require_any_community_reader)
JOB = "/{job_id:uuid}"


# The body is the file, so the community is named in the query (`?community_id=`), in both forms.
@fn.post(
    "/",
    body=CreateImport,
    raw_types=("text/csv",),
    query=UploadQuery,
    idempotent=True,
    status=202,
    rate_limit="bulk",
    allow=caller(policy.require_any_community_writer),
    responses=NO_SUCH_COMMUNITY,
)
async def create_import(
    ctx: Context, body: CreateImport | None, raw: bytes | None, query: UploadQuery
) -> ImportJobView:
    """Upload a CSV (`text/csv`, or JSON {csv, filename}) with header firstName,lastName,email,tags."""
    data = raw if raw is not None else (body.csv.encode() if body is not None else b"")
    filename = body.filename if body is not None else query.filename
    return await imports.create_import(
        data, filename, query.community_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.get("/", query=CommunityPageQuery, allow=READERS, responses=NO_SUCH_COMMUNITY)
async def list_imports(ctx: Context, query: CommunityPageQuery) -> ImportJobPage:
    """A community's imports (`?community_id=`), newest first, with their progress."""
    return await imports.list_jobs(query, tx=ctx.db, principal=ctx.user)


@fn.get(JOB, allow=READERS)
async def get_import(ctx: Context, job_id: UUID) -> ImportJobView:
    """An import's status and progress: total, processed, succeeded, failed."""
    return await imports.get_job(job_id, tx=ctx.db, principal=ctx.user)


@fn.get(JOB + "/errors.csv", allow=READERS)
async def import_errors(ctx: Context, job_id: UUID) -> Response:
    """The failed rows as CSV: the original columns plus `error`, safe to open in a spreadsheet."""
    text, filename = await imports.error_report(job_id, tx=ctx.db, principal=ctx.user)
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(text.encode(), media_type="text/csv; charset=utf-8", headers=headers)


handler = fn.handler
