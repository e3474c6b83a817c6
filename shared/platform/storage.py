"""Object storage behind one interface: signed upload and download URLs, and what a stored object holds.

    storage = storage_for(settings.storage)
    target = storage.upload_url(key, content_type="image/png", size=1234, expires_at=...)

Two implementations, chosen by `STORAGE_BACKEND`: `s3` (any S3-protocol store: Supabase Storage, S3,
moto in tests; boto3 is imported only when one is first built) and `local` (the local stack's folder,
served back by `scripts/serve` behind signed, expiring tokens). Files never pass through a function: the
browser sends them to the URL it is given, and a function only reads an object's size and first bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from shared.platform.config import StorageSettings, require


@dataclass(frozen=True, slots=True)
class SignedUpload:
    """Where and how the browser sends one file: the method, the URL and the headers it must send as given."""

    method: str
    url: str
    headers: Mapping[str, str]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What a function learns of a stored object: its size and its first bytes."""

    size: int
    head: bytes


class ObjectStorage(Protocol):
    """A bucket of private objects, reached only through signed URLs and a few server-side reads."""

    def upload_url(self, key: str, *, content_type: str, size: int, expires_at: datetime) -> SignedUpload:
        """A URL that accepts exactly one object at `key`: this type and exactly this many bytes, until then."""
        ...

    def download_url(self, key: str, *, expires_at: datetime) -> str:
        """A URL that serves the object at `key` until `expires_at`."""
        ...

    async def inspect(self, key: str, *, first_bytes: int) -> StoredObject | None:
        """The object's size and up to `first_bytes` of its beginning; None when nothing is stored there."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object (nothing happens when there is none)."""
        ...


@lru_cache(maxsize=4)
def storage_for(settings: StorageSettings) -> ObjectStorage:
    """The storage these settings describe, built once per instance (its client is reused)."""
    purpose = "uploads cannot be issued or checked"
    if settings.backend == "local":
        from shared.platform.storage_local import LocalStorage

        return LocalStorage(
            require(settings.local_dir, "STORAGE_LOCAL_DIR", purpose),
            require(settings.signing_key, "STORAGE_SIGNING_KEY", purpose),
            require(settings.public_url, "SUPABASE_URL", purpose),
        )
    from shared.platform.storage_s3 import S3Storage

    return S3Storage(
        bucket=require(settings.bucket, "STORAGE_BUCKET", purpose),
        access_key_id=require(settings.s3_access_key_id, "STORAGE_S3_ACCESS_KEY_ID", purpose),
        secret_access_key=require(settings.s3_secret_access_key, "STORAGE_S3_SECRET_ACCESS_KEY", purpose),
        region=settings.s3_region,
        endpoint=settings.s3_endpoint,
    )
