"""Errors of uploads, each with its stable problem code."""

from __future__ import annotations

from shared.platform.errors import AppError, ConflictError, NotFoundError


class UploadNotFoundError(NotFoundError):
    title = "No such upload"


class UploadNotStoredError(ConflictError):
    code, title = "upload_not_stored", "Nothing was uploaded yet"


class UploadNotConfirmedError(ConflictError):
    code, title = "upload_not_confirmed", "The upload is not confirmed"


class UploadWasRejectedError(ConflictError):
    code, title = "upload_rejected", "The upload was rejected"


class UploadRefusedError(AppError):
    """The stored object is not what was declared: it was deleted and the upload rejected (the code says why)."""

    status, code, title = 422, "upload_refused", "Upload refused"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


REFUSALS = {
    "upload_too_large": "The stored file is larger than its kind allows; it was deleted.",
    "upload_type_mismatch": "The stored file's first bytes are not those of the declared type; it was deleted.",
    "upload_size_mismatch": "The stored file's size is not the declared one; it was deleted.",
}
"""Each rejection code the confirmation answers with (422), and what it tells the caller."""


class UploadExpiredError(ConflictError):
    code, title = "upload_expired", "The upload expired"
