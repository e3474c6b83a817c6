"""Fixtures of the function tests that need an outside service faked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.platform.config import reset_settings
from shared.platform.storage import storage_for
from tests.functions.uploads_support import BUCKET, S3_ENV


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty private bucket in moto's S3, and settings that point the uploads at it."""
    import boto3
    from moto import mock_aws

    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STORAGE_S3_ENDPOINT", raising=False)
    reset_settings()
    storage_for.cache_clear()
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
    storage_for.cache_clear()
