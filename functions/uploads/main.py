"""`uploads`: signed URLs that send images and PDFs straight to object storage, the check of what arrived."""

from __future__ import annotations

from uuid import UUID

from shared.content.uploads import service
from shared.content.uploads.errors import UploadRefusedError
from shared.content.uploads.schemas import CreateUpload, DownloadLink, IssuedUpload, UploadView
from shared.identity import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function, Reply
from shared.platform.responses import problem_reply

fn = Function(
    "uploads", body_limit=4 * 1024, description="Signed upload and download URLs for images and PDFs."
)
UPLOAD = "/{upload_id:uuid}"
READERS = caller(policy.require_any_community_reader)
WRITERS = caller(policy.require_any_community_writer)
NOT_STORED = {
    409: "Nothing stored yet (upload_not_stored), or the upload was rejected before (upload_rejected)"
}


@fn.post(
    "/",
    body=CreateUpload,
    status=201,
    idempotent=True,
    rate_limit="admin",
    allow=WRITERS,
    responses=NO_SUCH_COMMUNITY,
)
async def create_upload(ctx: Context, body: CreateUpload) -> IssuedUpload:
    """Ask for a URL to send one file to: the type and exact size are checked first (images: jpeg, png, webp,
    gif ≤ 10 MB; PDFs ≤ 50 MB) and the server chooses where it goes. Send the file with the returned method,
    URL and headers before `expires_at`, then confirm it. `community_id` absent or null: a platform file
    (staff who may write); otherwise that community's admins."""
    return await service.create_upload(
        body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx), settings=ctx.settings.storage
    )


@fn.get(UPLOAD, rate_limit="admin", allow=READERS)
async def get_upload(ctx: Context, upload_id: UUID) -> UploadView:
    """One upload: what was declared and, once confirmed, what was stored."""
    return await service.get_upload(upload_id, tx=ctx.db, principal=ctx.user)


@fn.post(UPLOAD + "/confirm", rate_limit="admin", allow=WRITERS, responses=NOT_STORED)
async def confirm_upload(ctx: Context, upload_id: UUID) -> Reply[UploadView]:
    """Check the stored file (its size and, by its first bytes, its type) and record it. A file that is not
    what was declared is deleted and the upload rejected: 422 with `upload_too_large`,
    `upload_type_mismatch` or `upload_size_mismatch`. Confirming a confirmed upload again answers it as is."""
    outcome = await service.confirm_upload(
        upload_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx), settings=ctx.settings.storage
    )
    if isinstance(outcome, UploadRefusedError):
        return problem_reply(outcome, ctx.request_id)  # the rejection is recorded: commit, then refuse
    return Reply(outcome)


@fn.get(
    UPLOAD + "/download",
    rate_limit="admin",
    allow=READERS,
    responses={409: "Not confirmed (upload_not_confirmed)"},
)
async def download_upload(ctx: Context, upload_id: UUID) -> Reply[DownloadLink]:
    """A short-lived URL that serves a confirmed upload's file (a private object: the URL is the only way in)."""
    link = await service.download_link(
        upload_id, tx=ctx.db, principal=ctx.user, settings=ctx.settings.storage
    )
    return Reply(link, headers={"Cache-Control": "private, no-store"})


handler = fn.handler
