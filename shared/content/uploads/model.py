"""What may be uploaded, and how a stored file is judged: by its size and its first bytes. Standard library only."""

from __future__ import annotations

from typing import Literal

ImageType = Literal["image/jpeg", "image/png", "image/webp", "image/gif"]
MediaType = Literal["image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"]
Kind = Literal["image", "pdf"]
PDF: MediaType = "application/pdf"

MAX_BYTES: dict[Kind, int] = {"image": 10 * 1024 * 1024, "pdf": 50 * 1024 * 1024}
"""The largest file of each kind (the uploads table holds the same limits)."""
SNIFF_BYTES = 16
"""How much of a stored object's beginning its type is told from."""


def kind_of(media_type: MediaType) -> Kind:
    """`pdf` for a PDF, `image` for the rest."""
    return "pdf" if media_type == PDF else "image"


def sniff(head: bytes) -> MediaType | None:
    """The type a file's first bytes say it is (magic numbers), or None when they name none we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def rejection(
    declared_type: MediaType, declared_size: int, size: int, detected: MediaType | None
) -> str | None:
    """Why a stored object cannot be accepted as declared (a stable code), or None when it can."""
    if size > MAX_BYTES[kind_of(declared_type)]:
        return "upload_too_large"
    if detected != declared_type:
        return "upload_type_mismatch"
    if size != declared_size:
        return "upload_size_mismatch"
    return None
