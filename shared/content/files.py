"""An image or PDF item's file: which upload may be attached, and the payload that records it.

An attached file is a confirmed upload of the item's own owner and kind. The payload records it
(`upload_id`, `object_key`) with what the confirmation read from the object (`byte_size`, an image's
`mime_type`), and its `url` is the item's file route, which answers a short-lived signed URL to whoever
the database shows the item to. The database refuses any other file in a payload, whoever writes it
(app.guard_content_file).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import ValidationError

from shared.content.model import FILE_FIELDS, ContentType
from shared.platform.errors import FieldError, ValidationFailedError

if TYPE_CHECKING:
    from shared.content.uploads.service import ConfirmedFile
    from shared.platform.db import Tx

FILE_TYPES = frozenset({"image", "pdf"})
"""The item types that hold a file."""
FILE_FACTS = ("byte_size", "mime_type")
"""What the confirmation read from the object: an attached file's, never a body's."""
STALE_FACTS: Mapping[str, tuple[str, ...]] = {"image": ("width", "height"), "pdf": ("page_count",)}
"""What described the previous file and cannot be read from the new one; PATCH sets them again."""


def file_route(public_url: str, item_id: UUID) -> str:
    """The item's file route: a stable address that answers a fresh signed URL (GET, with a token)."""
    return f"{public_url}/functions/v1/content/{item_id}/file"


async def attachable(tx: Tx, upload_id: UUID, *, owner: UUID | None, kind: str) -> ConfirmedFile:
    """The upload, if it may become the file of an item of this owner and kind; 422 or 409 saying why not."""
    # cold start: uploads are read only when a file is attached (the content function's file route)
    from shared.content.uploads import repository as uploads
    from shared.content.uploads.errors import (
        UploadExpiredError,
        UploadNotConfirmedError,
        UploadWasRejectedError,
    )
    from shared.content.uploads.service import confirmed_file

    row = await uploads.get_upload(tx, upload_id)  # as the caller: an upload they cannot see is unknown
    if row is None:
        raise _refused("unknown_upload", "No such upload.")
    if row["community_id"] != owner:
        raise _refused("upload_owner_mismatch", "The upload belongs to another owner than the item.")
    if row["kind"] != kind:
        raise _refused("upload_kind_mismatch", f"A {row['kind']} upload cannot be a {kind} item's file.")
    if row["status"] == "rejected":
        raise UploadWasRejectedError(f"This upload was rejected ({row['rejection_code']}); upload again.")
    if row["status"] == "pending" and row["expires_at"] <= datetime.now(UTC):
        raise UploadExpiredError("This upload was never confirmed and its URL has expired; upload again.")
    found = await confirmed_file(tx, upload_id, owner=owner)
    if found is None:
        raise UploadNotConfirmedError("Confirm the upload (POST /uploads/{id}/confirm) before attaching it.")
    return found


def with_file(
    content_type: ContentType, current: Mapping[str, Any], file: ConfirmedFile, url: str
) -> dict[str, Any]:
    """The item's payload with `file` attached: its alt text kept, the file's facts and route taken."""
    from shared.content.payloads import VIEWS, stored  # cold start: built only when a file is attached

    kept = {name: value for name, value in current.items() if name not in STALE_FACTS[content_type]}
    values = kept | {
        "url": url,
        "byte_size": file.byte_size,
        "upload_id": file.upload_id,
        "object_key": file.object_key,
    }
    if content_type == "image":
        values["mime_type"] = file.mime_type
    try:
        checked = VIEWS[content_type].model_validate(values, strict=False)
    except ValidationError as exc:  # the upload's limits and the content model's must agree; say so if not
        errors = [FieldError("body.upload_id", str(e["msg"]), "file_not_allowed") for e in exc.errors()]
        raise ValidationFailedError(errors) from None
    return stored(checked)


def carried(content_type: str, before: Mapping[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """A replaced payload keeps the attached file while its `url` still names the file (whose facts win);
    pointing `url` elsewhere detaches it."""
    if (
        content_type not in FILE_TYPES
        or before.get("object_key") is None
        or after.get("url") != before["url"]
    ):
        return after
    return after | {name: before[name] for name in (*FILE_FIELDS, *FILE_FACTS) if name in before}


def copied(content_type: str, payload: Mapping[str, Any], source_id: UUID, copy_id: UUID) -> dict[str, Any]:
    """A copy's payload: the same file, its `url` now the copy's own file route (not the original's)."""
    url = payload.get("url")
    route = f"/functions/v1/content/{source_id}/file"
    if content_type not in FILE_TYPES or not isinstance(url, str) or not url.endswith(route):
        return dict(payload)
    return {**payload, "url": url.removesuffix(route) + f"/functions/v1/content/{copy_id}/file"}


def object_key(content_type: str, payload: Mapping[str, Any]) -> str | None:
    """Where the item's attached file is stored (a payload, or a row with its `object_key`), or None."""
    key = payload.get("object_key") if content_type in FILE_TYPES else None
    return key if isinstance(key, str) else None


def _refused(code: str, message: str) -> ValidationFailedError:
    return ValidationFailedError([FieldError("body.upload_id", message, code)])
