"""Object storage: settings, the local backend's tokens and keys, and that boto3 loads only with S3."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.platform.config import load_settings
from shared.platform.errors import ConfigError
from shared.platform.storage import storage_for
from shared.platform.storage_local import LocalStorage, TokenError, make_token, read_token

BASE = {"DATABASE_URL": "postgresql://app@db.example.com/app", "SUPABASE_URL": "https://ref.supabase.co"}
KEY = b"a-signing-key-of-at-least-32-characters!"
OBJECT = "c0000000-0000-4000-8000-000000000001/0e0e0e0e-0000-4000-8000-000000000001.png"
ROOT = Path(__file__).resolve().parents[3]


def test_storage_settings_default_to_s3_and_check_their_shape() -> None:
    storage = load_settings(BASE).storage
    assert (storage.backend, storage.bucket, storage.s3_region) == ("s3", None, "us-east-1")
    assert (storage.upload_url_ttl_s, storage.download_url_ttl_s) == (600, 300)
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                **BASE,
                "STORAGE_BACKEND": "ftp",
                "STORAGE_SIGNING_KEY": "short",
                "UPLOAD_URL_TTL_SECONDS": "7200",
            }
        )
    message = str(caught.value)
    assert (
        "STORAGE_BACKEND" in message
        and "STORAGE_SIGNING_KEY" in message
        and "UPLOAD_URL_TTL_SECONDS" in message
    )
    assert "short" not in message  # a secret's value is never told


def test_an_s3_store_without_its_bucket_or_keys_is_not_configured() -> None:
    settings = load_settings({**BASE, "STORAGE_BUCKET": "files"}).storage
    with pytest.raises(ConfigError, match="STORAGE_S3_ACCESS_KEY_ID"):
        storage_for(settings)


def test_a_token_reads_back_only_for_its_operation_unexpired_and_unforged() -> None:
    claims = {"op": "put", "key": OBJECT, "type": "image/png", "size": 3, "exp": int(time.time()) + 60}
    token = make_token(KEY, claims)
    assert read_token(KEY, token, "put") == claims
    for wrong in (
        lambda: read_token(KEY, token, "get"),
        lambda: read_token(b"another key of at least 32 characters!!", token, "put"),
        lambda: read_token(KEY, token[:-1], "put"),
        lambda: read_token(KEY, make_token(KEY, {**claims, "exp": int(time.time()) - 1}), "put"),
        lambda: read_token(KEY, make_token(KEY, {**claims, "key": "../etc/passwd"}), "put"),
    ):
        with pytest.raises(TokenError):
            wrong()


async def test_the_local_store_keeps_files_only_at_keys_of_the_uploads_shape(tmp_path: Path) -> None:
    store = LocalStorage(str(tmp_path), KEY, "http://127.0.0.1:54321")
    store.store(OBJECT, b"\x89PNG\r\n\x1a\nrest")
    found = await store.inspect(OBJECT, first_bytes=4)
    assert found is not None and (found.size, found.head) == (12, b"\x89PNG")
    await store.delete(OBJECT)
    assert await store.inspect(OBJECT, first_bytes=4) is None
    with pytest.raises(ValueError):
        store.path_of("../outside.png")
    target = store.upload_url(
        OBJECT, content_type="image/png", size=12, expires_at=datetime.now(UTC) + timedelta(minutes=5)
    )
    assert target.url.startswith("http://127.0.0.1:54321/storage/v1/local/upload/")
    assert dict(target.headers) == {"Content-Type": "image/png", "Content-Length": "12", "If-None-Match": "*"}


def test_building_the_local_store_does_not_load_boto3() -> None:
    probe = (
        "import sys; from shared.platform.config import load_settings; from shared.platform.storage import storage_for;"
        "storage_for(load_settings({'DATABASE_URL': 'x', 'SUPABASE_URL': 'http://h', 'STORAGE_BACKEND': 'local',"
        " 'STORAGE_LOCAL_DIR': '/tmp', 'STORAGE_SIGNING_KEY': 'k' * 32}).storage);"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
