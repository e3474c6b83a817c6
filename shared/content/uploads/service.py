"""Upload use cases: issue a signed upload URL, confirm what was stored, hand out a download URL.

The browser sends the file straight to object storage; a function only ever reads an object's size and
first bytes. A rejection is recorded in the request's transaction, which commits, and answered as a 422
(`problem_reply`); the object is deleted only once this transaction holds the rejected row, so a file
another confirmation has accepted meanwhile is never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from shared.content import ownership
from shared.content.uploads import repository as repository
from shared.content.uploads.errors import (
    REFUSALS,
    UploadNotConfirmedError,
    UploadNotFoundError,
    UploadNotStoredError,
    UploadRefusedError,
    UploadWasRejectedError,
)
from shared.content.uploads.model import MAX_BYTES, SNIFF_BYTES, Kind, MediaType, kind_of, rejection, sniff
from shared.content.uploads.schemas import CreateUpload, DownloadLink, IssuedUpload, UploadTarget, UploadView
from shared.identity.communities.scope import require_existing
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.config import StorageSettings
from shared.platform.db import Row, Tx, as_service
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.storage import storage_for

UPLOAD = "upload"


@dataclass(frozen=True, slots=True)
class ConfirmedFile:
    """A confirmed upload as a content item's image or PDF payload records it."""

    upload_id: UUID
    community_id: UUID | None
    kind: Kind
    object_key: str
    byte_size: int
    mime_type: MediaType


async def create_upload(
    cmd: CreateUpload, *, tx: Tx, principal: Principal, meta: RequestMeta, settings: StorageSettings
) -> IssuedUpload:
    """Check type, size and the caller's right to the owner; record a pending upload and sign its URL."""
    ownership.require_owner_writer(principal, cmd.community_id)
    if cmd.community_id is not None:
        await require_existing(tx, principal, cmd.community_id)
    kind = kind_of(cmd.mime_type)
    if cmd.byte_size > MAX_BYTES[kind]:
        message = f"An {kind} may have at most {MAX_BYTES[kind]} bytes."
        raise ValidationFailedError([FieldError("body.byte_size", message, "file_too_large")])
    storage = storage_for(settings)  # an unconfigured store is a 503 before anything is written
    row = await repository.create_upload(
        tx, cmd.community_id, cmd.mime_type, cmd.byte_size, settings.upload_url_ttl_s
    )
    signed = storage.upload_url(
        row["object_key"], content_type=cmd.mime_type, size=cmd.byte_size, expires_at=row["expires_at"]
    )
    await _record(tx, meta, "upload.issued", row)
    target = UploadTarget(
        method="PUT", url=signed.url, headers=dict(signed.headers), expires_at=signed.expires_at
    )
    return IssuedUpload(upload=UploadView.model_validate(row), target=target)


async def get_upload(upload_id: UUID, *, tx: Tx, principal: Principal) -> UploadView:
    """One upload, for staff and its community's admins."""
    return UploadView.model_validate(await _visible(tx, principal, upload_id))


async def confirm_upload(
    upload_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta, settings: StorageSettings
) -> UploadView | UploadRefusedError:
    """Check the stored object (size, type by its first bytes) and record it; reject and delete a mismatch.

    A refusal is returned, not raised: the rejection is recorded in this transaction, which must commit.
    """
    row = await _visible(tx, principal, upload_id)
    ownership.require_thing_writer(principal, row["community_id"], UploadNotFoundError)
    if row["status"] != "pending":
        return _settled(row)
    storage = storage_for(settings)
    stored = await storage.inspect(row["object_key"], first_bytes=SNIFF_BYTES)
    if stored is None:
        raise UploadNotStoredError("Nothing is stored for this upload yet: send the file to its URL first.")
    detected = sniff(stored.head)
    code = rejection(row["mime_type"], row["declared_size"], stored.size, detected)
    if code is None:
        settled = await repository.confirm_upload(tx, upload_id, stored.size, row["mime_type"])
    else:
        settled = await repository.reject_upload(tx, upload_id, stored.size, detected, code)
    if settled is None:  # another confirmation settled it first
        return _settled(await _visible(tx, principal, upload_id))
    await _record(tx, meta, f"upload.{settled['status']}", settled)
    if code is None:
        return UploadView.model_validate(settled)
    await storage.delete(row["object_key"])  # only once this transaction holds the rejected row
    return UploadRefusedError(code, REFUSALS[code])


async def download_link(
    upload_id: UUID, *, tx: Tx, principal: Principal, settings: StorageSettings
) -> DownloadLink:
    """A short-lived URL of a confirmed upload's object."""
    row = await _visible(tx, principal, upload_id)
    if row["status"] != "confirmed":
        raise UploadNotConfirmedError("Only a confirmed upload can be downloaded.")
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.download_url_ttl_s)
    url = storage_for(settings).download_url(row["object_key"], expires_at=expires_at)
    return DownloadLink(url=url, expires_at=expires_at)


async def confirmed_file(tx: Tx, upload_id: UUID, *, owner: UUID | None) -> ConfirmedFile | None:
    """A confirmed upload of `owner` (a community, None: the platform) as the caller sees it; None otherwise.

    For attaching a file to a content item: the item's owner must be the upload's.
    """
    row = await repository.get_upload(tx, upload_id)
    if row is None or row["status"] != "confirmed" or row["community_id"] != owner:
        return None
    return ConfirmedFile(
        upload_id, owner, row["kind"], row["object_key"], row["byte_size"], row["detected_mime_type"]
    )


async def _visible(tx: Tx, principal: Principal, upload_id: UUID) -> Row:
    row = await repository.get_upload(tx, upload_id)
    if row is None:
        raise UploadNotFoundError()
    ownership.require_thing_reader(principal, row["community_id"], UploadNotFoundError)
    return row


def _settled(row: Row) -> UploadView:
    """A confirmed upload's view (confirming again changes nothing); a rejected one is a 409."""
    if row["status"] == "rejected":
        raise UploadWasRejectedError(
            f"This upload was rejected ({row['rejection_code']}); ask for a new one."
        )
    return UploadView.model_validate(row)


def _facts(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: row[key]
        for key in (
            "object_key",
            "mime_type",
            "declared_size",
            "status",
            "byte_size",
            "detected_mime_type",
            "rejection_code",
        )
    }


async def _record(tx: Tx, meta: RequestMeta, action: str, row: Mapping[str, Any]) -> None:
    await audit.record_row(tx, meta, action, row, after=_facts(row), target_type=UPLOAD)


async def purge_dead(settings: StorageSettings, *, limit: int = 1000) -> int:
    """Delete up to `limit` uploads nobody can use any more, and whatever a client stored for them.

    The objects go first: a row left behind by a failure is found again next night (deleting a missing
    object is harmless), while an object whose row was gone would be found by nothing.
    """
    async with as_service() as tx:
        dead = await repository.dead_uploads(tx, limit)
    if not dead:
        return 0
    storage = storage_for(settings)
    for row in dead:
        await storage.delete(row["object_key"])
    async with as_service() as tx:
        return await repository.delete_dead(tx, [row["id"] for row in dead])
