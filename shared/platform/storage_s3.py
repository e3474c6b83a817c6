"""Object storage over the S3 protocol (Supabase Storage, S3, moto): boto3 is imported only when built.

Uploads are presigned PUTs whose signature covers `Content-Type` and `Content-Length`, so the store
refuses any other type or size (docs/decisions.md says why not a presigned POST). boto3 is synchronous:
its calls run in a worker thread so the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from shared.platform.storage import SignedUpload, StoredObject

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _seconds_until(moment: datetime) -> int:
    return max(1, int((moment - datetime.now(UTC)).total_seconds()))


class S3Storage:
    """A private bucket reached with one access key; objects are read and written only through signed URLs."""

    def __init__(
        self, *, bucket: str, access_key_id: str, secret_access_key: str, region: str, endpoint: str | None
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            # Supabase Storage answers path-style requests and SigV4 only; short timeouts keep a slow store
            # from holding a request (and its transaction) for long.
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=3,
                read_timeout=5,
                retries={"max_attempts": 2},
            ),
        )

    def upload_url(self, key: str, *, content_type: str, size: int, expires_at: datetime) -> SignedUpload:
        """A presigned PUT for exactly this type and size, that only creates (all three are signed headers).

        `If-None-Match: *` makes S3 refuse (412) a PUT where an object already is: the URL's holder
        cannot replace a file once it was checked and confirmed, however long the URL still lives.
        """
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
            "IfNoneMatch": "*",
        }
        url = self.client.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=_seconds_until(expires_at), HttpMethod="PUT"
        )
        headers = {"Content-Type": content_type, "Content-Length": str(size), "If-None-Match": "*"}
        return SignedUpload("PUT", url, headers, expires_at)

    def download_url(self, key: str, *, expires_at: datetime) -> str:
        """A presigned GET of the object."""
        params = {"Bucket": self.bucket, "Key": key}
        url: str = self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=_seconds_until(expires_at)
        )
        return url

    async def inspect(self, key: str, *, first_bytes: int) -> StoredObject | None:
        """HEAD for the size, then a ranged GET of the first bytes; None when there is no object."""
        return await asyncio.to_thread(self._inspect, key, first_bytes)

    def _inspect(self, key: str, first_bytes: int) -> StoredObject | None:
        from botocore.exceptions import ClientError

        try:
            size = int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
            if size == 0:
                return StoredObject(0, b"")
            part = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{first_bytes - 1}")
            head: bytes = part["Body"].read(first_bytes)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                return None
            raise
        return StoredObject(size, head)

    async def delete(self, key: str) -> None:
        """Delete the object (S3 answers a missing key as a success too)."""
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=key)
