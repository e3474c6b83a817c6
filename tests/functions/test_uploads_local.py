"""The local stack's storage through the local gateway (as `scripts/serve` mounts it): the URLs the
`uploads` function issues with STORAGE_BACKEND=local are accepted, checked and served back by it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from shared.platform.config import get_settings, reset_settings
from shared.platform.storage import storage_for
from shared.platform.storage_local import UPLOAD_PATH, make_token
from tests.factories import ACME, ACME_ADMIN, SUPABASE_URL, auth
from tests.functions.uploads_support import GIF, JPEG, PDF, PNG, upload_rows
from tests.helpers import Sql, assert_problem

UPLOADS = "/uploads"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The local backend, keeping files in a folder of this test."""
    monkeypatch.setenv("STORAGE_BACKEND", "local")
    monkeypatch.setenv("STORAGE_LOCAL_DIR", str(tmp_path))
    reset_settings()
    storage_for.cache_clear()
    yield tmp_path
    storage_for.cache_clear()


def local(url: str) -> str:
    """The gateway-relative form of a URL on the local stack's address."""
    assert url.startswith(SUPABASE_URL + "/storage/v1/local/"), url
    parts = urlsplit(url)
    return "http://testserver" + parts.path


async def issue(client: httpx.AsyncClient, mime: str, size: int) -> dict[str, Any]:
    response = await client.post(
        UPLOADS, json={"community_id": ACME, "mime_type": mime, "byte_size": size}, headers=auth(ACME_ADMIN)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def put(
    client: httpx.AsyncClient, target: dict[str, Any], data: bytes, **headers: str
) -> httpx.Response:
    sent = {**target["headers"], **headers}
    sent.pop("Content-Length", None)  # httpx sets it from the data, as a browser does
    return await client.request(target["method"], local(target["url"]), content=data, headers=sent)


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


async def test_a_file_goes_up_through_the_local_url_is_confirmed_and_comes_back(
    client: httpx.AsyncClient, sql: Sql, folder: Path
) -> None:
    body = await issue(client, "image/png", len(PNG))
    key = body["upload"]["object_key"]

    sent = await put(client, body["target"], PNG)

    assert sent.status_code == 200, sent.text
    assert files(folder) == [key]
    confirmed = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(ACME_ADMIN))
    assert confirmed.json()["status"] == "confirmed", confirmed.text
    link = await client.get(f"{UPLOADS}/{body['upload']['id']}/download", headers=auth(ACME_ADMIN))
    fetched = await client.get(local(link.json()["url"]))
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert fetched.headers["content-type"] == "image/png"


async def test_the_local_store_refuses_another_type_than_signed(
    client: httpx.AsyncClient, sql: Sql, folder: Path
) -> None:
    body = await issue(client, "image/png", len(JPEG))
    sent = await put(client, body["target"], JPEG, **{"Content-Type": "image/jpeg"})
    assert sent.status_code == 403
    assert files(folder) == []


async def test_the_local_store_only_creates_a_confirmed_file_cannot_be_replaced(
    client: httpx.AsyncClient, sql: Sql, folder: Path
) -> None:
    body = await issue(client, "image/png", len(PNG))
    first = await put(client, body["target"], PNG)
    confirmed = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(ACME_ADMIN))
    swapped = JPEG[: len(PNG)].ljust(len(PNG), b"\0")
    again = await put(client, body["target"], swapped)
    unconditional = await put(client, body["target"], swapped, **{"If-None-Match": ""})

    assert (first.status_code, confirmed.status_code) == (200, 200)
    assert (again.status_code, unconditional.status_code) == (412, 403)
    stored = get_settings().storage
    assert (await storage_for(stored).inspect(body["upload"]["object_key"], first_bytes=64)).head == PNG[:64]  # type: ignore[union-attr]


@pytest.mark.parametrize("data", [PNG + b"x", PNG[:-1]], ids=["more bytes", "fewer bytes"])
async def test_the_local_store_refuses_another_size_than_signed(
    client: httpx.AsyncClient, sql: Sql, folder: Path, data: bytes
) -> None:
    body = await issue(client, "image/png", len(PNG))
    assert (await put(client, body["target"], data)).status_code in (400, 403)
    assert files(folder) == []


async def test_the_local_store_refuses_forged_expired_and_misused_tokens(
    client: httpx.AsyncClient, sql: Sql, folder: Path
) -> None:
    body = await issue(client, "image/png", len(PNG))
    url = local(body["target"]["url"])
    token = url.rsplit("/", 1)[1]
    payload, _, signature = token.partition(".")
    forged = url.replace(token, payload[:-2] + "xx." + signature)
    headers = {"Content-Type": "image/png"}
    assert (await client.put(forged, content=PNG, headers=headers)).status_code == 403
    key = get_settings().storage.signing_key or b""
    claims = {"op": "put", "key": body["upload"]["object_key"], "type": "image/png", "size": len(PNG)}
    expired = make_token(key, {**claims, "exp": int(time.time()) - 1})
    assert (
        await client.put("http://testserver" + UPLOAD_PATH + expired, content=PNG, headers=headers)
    ).status_code == 403
    other_key = make_token(
        b"another-key-that-is-long-enough-0123456789", {**claims, "exp": int(time.time()) + 60}
    )
    assert (
        await client.put("http://testserver" + UPLOAD_PATH + other_key, content=PNG, headers=headers)
    ).status_code == 403
    as_download = url.replace("/upload/", "/object/")
    assert (await client.get(as_download)).status_code == 403  # an upload token does not download
    traversal = make_token(key, {**claims, "key": "../../etc/passwd", "exp": int(time.time()) + 60})
    assert (
        await client.put("http://testserver" + UPLOAD_PATH + traversal, content=PNG, headers=headers)
    ).status_code == 403
    assert files(folder) == []


async def test_a_mismatched_file_is_rejected_and_removed_from_the_local_folder(
    client: httpx.AsyncClient, sql: Sql, folder: Path
) -> None:
    body = await issue(client, "application/pdf", len(GIF))
    await put(client, body["target"], GIF)
    assert files(folder) == [body["upload"]["object_key"]]
    response = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(ACME_ADMIN))
    assert_problem(response, 422, "upload_type_mismatch")
    assert files(folder) == []
    assert upload_rows(sql)[0]["detected_mime"] == "image/gif"


async def test_a_local_download_url_stops_working_when_it_expires(
    client: httpx.AsyncClient, sql: Sql, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await issue(client, "application/pdf", len(PDF))
    await put(client, body["target"], PDF)
    await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(ACME_ADMIN))
    link = (await client.get(f"{UPLOADS}/{body['upload']['id']}/download", headers=auth(ACME_ADMIN))).json()
    assert (await client.get(local(link["url"]))).status_code == 200
    later = time.time() + get_settings().storage.download_url_ttl_s + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert (await client.get(local(link["url"]))).status_code == 403


async def test_the_local_store_answers_browser_preflights_for_allowed_origins(
    client: httpx.AsyncClient, db: str, folder: Path
) -> None:
    origin = "http://localhost:3000"
    response = await client.options(
        "http://testserver" + UPLOAD_PATH + "anything",
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == origin
    assert "PUT" in response.headers["access-control-allow-methods"]
