"""The local stack's object storage: files in a folder, sent and fetched through signed, expiring tokens.

It speaks to the browser as the S3 implementation does: `upload_url` is a PUT that accepts exactly the
signed type and size until it expires, `download_url` a GET that serves the object until it expires.
`scripts/serve` mounts the endpoints that accept them (scripts/local/storage_server.py) under
`/storage/v1/local/`; both check the token with `read_token`. A token is `<base64url JSON>.<base64url
HMAC-SHA256>` over the claims with `STORAGE_SIGNING_KEY`; keys are the ones the uploads table generates,
and a path is only ever built from a key of that exact shape, whatever a token says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from shared.platform.storage import SignedUpload, StoredObject

PREFIX = "/storage/v1/local"
UPLOAD_PATH = PREFIX + "/upload/"
OBJECT_PATH = PREFIX + "/object/"
Operation = Literal["put", "get"]
_KEY = re.compile(
    r"^(platform|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/[0-9a-f-]{36}\.[a-z]{3,4}$"
)


MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
}
"""What the local server says an object is, by its key's extension (the key was chosen from the type)."""


class TokenError(Exception):
    """A local storage token that is malformed, forged, expired or for another operation."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(signing_key: bytes, claims: dict[str, Any]) -> str:
    """Sign `claims` (operation, key, type, size, expiry) into a URL-safe token."""
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(hmac.new(signing_key, body.encode(), hashlib.sha256).digest())}"


def read_token(signing_key: bytes, token: str, operation: Operation) -> dict[str, Any]:
    """The claims of a valid, unexpired token for `operation`; TokenError otherwise."""
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(signing_key, body.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature, expected):
        raise TokenError("bad signature")
    try:
        claims: dict[str, Any] = json.loads(_unb64(body))
    except ValueError:
        raise TokenError("malformed") from None
    if claims.get("op") != operation:
        raise TokenError("wrong operation")
    if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
        raise TokenError("expired")
    if not isinstance(claims.get("key"), str) or not _KEY.match(claims["key"]):
        raise TokenError("bad key")
    return claims


class LocalStorage:
    """Objects as files under `root`; URLs on the local stack's own address."""

    def __init__(self, root: str, signing_key: bytes, public_url: str) -> None:
        self.root = Path(root)
        self.signing_key = signing_key
        self.public_url = public_url

    def path_of(self, key: str) -> Path:
        """The file of an object key (only keys of the uploads table's shape have one)."""
        if not _KEY.match(key):
            raise ValueError("not an object key")
        return self.root / key

    def upload_url(self, key: str, *, content_type: str, size: int, expires_at: datetime) -> SignedUpload:
        """A PUT to the local server that accepts exactly this type and size until `expires_at`."""
        claims = {
            "op": "put",
            "key": key,
            "type": content_type,
            "size": size,
            "exp": int(expires_at.timestamp()),
        }
        url = self.public_url + UPLOAD_PATH + make_token(self.signing_key, claims)
        headers = {"Content-Type": content_type, "Content-Length": str(size), "If-None-Match": "*"}
        return SignedUpload("PUT", url, headers, expires_at)

    def download_url(self, key: str, *, expires_at: datetime) -> str:
        """A GET from the local server that serves the object until `expires_at`."""
        claims = {"op": "get", "key": key, "exp": int(expires_at.timestamp())}
        return self.public_url + OBJECT_PATH + make_token(self.signing_key, claims)

    async def inspect(self, key: str, *, first_bytes: int) -> StoredObject | None:
        """The file's size and first bytes; None when there is no file."""
        try:
            with self.path_of(key).open("rb") as file:
                head = file.read(first_bytes)
                return StoredObject(os.fstat(file.fileno()).st_size, head)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        """Remove the file, if any."""
        self.path_of(key).unlink(missing_ok=True)

    def store(self, key: str, data: bytes, *, create_only: bool = False) -> None:
        """Write an object whole (through a temporary file, so a reader never sees half of one).

        `create_only`: FileExistsError when an object is there already (a hard link is made only where
        no file is, atomically, so of two racing writers one wins).
        """
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{secrets.token_hex(8)}.partial")
        partial.write_bytes(data)
        try:
            if create_only:
                os.link(partial, path)
            else:
                partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
