"""The uploads contract: asking for an upload URL, the upload record, its confirmation and download URL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.content.uploads.links import DownloadLink as DownloadLink  # also the content function's
from shared.content.uploads.model import MAX_BYTES, Kind, MediaType
from shared.platform.validation import Body, Integral, View

UploadStatus = Literal["pending", "confirmed", "rejected"]


class CreateUpload(Body):
    """The file the browser is about to send: its owner, type and exact size in bytes."""

    community_id: UUID | None = Field(
        default=None, description="The community that owns the file; absent or null: the platform"
    )
    mime_type: MediaType = Field(description="The file's type: jpeg, png, webp or gif images, or a PDF")
    byte_size: Annotated[int, Integral] = Field(
        ge=1, le=MAX_BYTES["pdf"], description="The file's exact size: images ≤ 10 MB, PDFs ≤ 50 MB"
    )


class UploadView(View):
    """An upload: what was declared, and once confirmed what was stored (size and type read from the object)."""

    id: UUID
    community_id: UUID | None
    kind: Kind
    mime_type: MediaType = Field(description="The declared type")
    declared_size: int
    status: UploadStatus
    byte_size: int | None = Field(description="The stored object's size, once checked")
    detected_mime_type: MediaType | None = Field(
        description="The type the object's first bytes show, once checked"
    )
    rejection_code: str | None
    object_key: str = Field(description="Where the object lives in the bucket (chosen by the server)")
    created_by: UUID | None
    created_at: datetime
    confirmed_at: datetime | None
    expires_at: datetime = Field(description="When the upload URL stops accepting the file")


class UploadTarget(View):
    """Send the file with this method to this URL, with exactly these headers, before `expires_at`."""

    method: Literal["PUT"]
    url: str
    headers: dict[str, str]
    expires_at: datetime


class IssuedUpload(View):
    """The new upload record and where to send the file; then confirm it."""

    upload: UploadView
    target: UploadTarget
