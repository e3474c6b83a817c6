"""`imports`: bulk-import people from a CSV as a background job; poll its progress; get its errors."""

from __future__ import annotations

from uuid import UUID

from starlette.responses import Response

from shared.identity.onboarding import imports
from shared.identity.onboarding.policy import require_reader, require_writer
from shared.identity.onboarding.schemas import (
    MAX_IMPORT_BYTES,
    CreateImport,
    ImportJobPage,
    ImportJobView,
    UploadQuery,
)
from shared.platform.audit import meta_of
from shared.platform.guards import community
from shared.platform.http import Context, Function
from shared.platform.pagination import PageQuery

fn = Function("imports", body_limit=MAX_IMPORT_BYTES, description="Bulk imports of people from CSV.")


@fn.post(
    "/communities/{community_id:uuid}/imports",
    body=CreateImport,
    raw_types=("text/csv",),
    query=UploadQuery,
    idempotent=True,
    status=202,
    rate_limit="bulk",
    allow=community(require_writer),
)
async def create_import(
    ctx: Context, community_id: UUID, body: CreateImport | None, raw: bytes | None, query: UploadQuery
) -> ImportJobView:
    """Upload a CSV (`text/csv`, or JSON {csv, filename}) with header firstName,lastName,email,tags."""
    require_writer(ctx.user, community_id)
    data = raw if raw is not None else (body.csv.encode() if body is not None else b"")
    filename = body.filename if body is not None else query.filename
    return await imports.create_import(
        data, filename, community_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.get("/communities/{community_id:uuid}/imports", query=PageQuery, allow=community(require_reader))
async def list_imports(ctx: Context, community_id: UUID, query: PageQuery) -> ImportJobPage:
    """The community's imports, newest first, with their progress."""
    require_reader(ctx.user, community_id)
    return await imports.list_jobs(ctx.db, community_id, query)


@fn.get("/communities/{community_id:uuid}/imports/{job_id:uuid}", allow=community(require_reader))
async def get_import(ctx: Context, community_id: UUID, job_id: UUID) -> ImportJobView:
    """An import's status and progress: total, processed, succeeded, failed."""
    require_reader(ctx.user, community_id)
    return await imports.get_job(ctx.db, community_id, job_id)


@fn.get("/communities/{community_id:uuid}/imports/{job_id:uuid}/errors.csv", allow=community(require_reader))
async def import_errors(ctx: Context, community_id: UUID, job_id: UUID) -> Response:
    """The failed rows as CSV: the original columns plus `error`, safe to open in a spreadsheet."""
    require_reader(ctx.user, community_id)
    text, filename = await imports.error_report(ctx.db, community_id, job_id)
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(text.encode(), media_type="text/csv; charset=utf-8", headers=headers)


handler = fn.handler
