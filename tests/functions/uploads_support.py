"""What the uploads tests share: sample files by their magic numbers, and reading upload rows as the owner."""

from __future__ import annotations

from typing import Any

from tests.helpers import Sql

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
GIF = b"GIF89a" + b"\x00" * 58
WEBP = b"RIFF\x38\x00\x00\x00WEBPVP8 " + b"\x00" * 48
PDF = b"%PDF-1.7\n" + b"\x00" * 55
SAMPLES = {"image/png": PNG, "image/jpeg": JPEG, "image/gif": GIF, "image/webp": WEBP, "application/pdf": PDF}


def upload_rows(sql: Sql) -> list[dict[str, Any]]:
    """Every upload as the owner sees it, oldest first."""
    return sql(
        "select id::text, community_id::text, kind, object_key, declared_mime, declared_size, status,"
        " byte_size, detected_mime, rejection_code, created_by::text, confirmed_at from uploads order by created_at, id"
    )


def upload_audit(sql: Sql) -> list[tuple[str, str | None]]:
    """The uploads' audit entries: action and actor."""
    rows = sql("select action, actor_id::text from audit_log where target_type = 'upload' order by id")
    return [(r["action"], r["actor_id"]) for r in rows]


BUCKET = "aigym-test"
S3_ENV = {
    "STORAGE_BACKEND": "s3",
    "STORAGE_BUCKET": BUCKET,
    "STORAGE_S3_REGION": "us-east-1",
    "STORAGE_S3_ACCESS_KEY_ID": "testing",
    "STORAGE_S3_SECRET_ACCESS_KEY": "testing",
}


def send(target: dict[str, Any], data: bytes) -> int:
    """Send a file as the browser does: the method, URL and headers the upload was issued with."""
    import requests  # moto intercepts `requests`, not httpx

    headers = {k: v for k, v in target["headers"].items() if k.lower() != "content-length"}
    response = requests.request(target["method"], target["url"], data=data, headers=headers, timeout=5)
    return response.status_code


def fetch(url: str) -> bytes:
    """GET a signed URL as the browser does."""
    import requests

    return requests.get(url, timeout=5).content


def stored_keys(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
