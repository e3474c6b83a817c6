"""`uploads` through the real handler, real Postgres and an S3 store faked by moto.

moto, like some S3-compatible stores, does not hold a presigned PUT to its signed headers: a file of
another type or size lands anyway, which is exactly what the confirmation must catch.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.platform.config import reset_settings
from shared.platform.storage import storage_for
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    MANAGER,
    SPECIALIST,
    SUPER,
    auth,
)
from tests.functions.uploads_support import (
    BUCKET,
    JPEG,
    PDF,
    PNG,
    SAMPLES,
    fetch,
    send,
    stored_keys,
    upload_audit,
    upload_rows,
)
from tests.helpers import Sql, assert_problem

UPLOADS = "/uploads"


async def issue(
    client: httpx.AsyncClient, caller: str, mime: str, size: int, community: str | None = ACME
) -> httpx.Response:
    body: dict[str, Any] = {"mime_type": mime, "byte_size": size}
    if community is not None:
        body["community_id"] = community
    return await client.post(UPLOADS, json=body, headers=auth(caller))


# ----------------------------------------------------------------------------------------------------
# The whole way: issue, send, confirm, download
# ----------------------------------------------------------------------------------------------------


async def test_acme_admin_uploads_a_png_confirms_it_and_downloads_it(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    response = await issue(client, ACME_ADMIN, "image/png", len(PNG))

    assert response.status_code == 201, response.text
    body = response.json()
    upload, target = body["upload"], body["target"]
    assert upload["object_key"] == f"{ACME}/{upload['id']}.png"
    assert (upload["status"], upload["kind"], upload["community_id"]) == ("pending", "image", ACME)
    assert target["method"] == "PUT"
    assert target["headers"] == {
        "Content-Type": "image/png",
        "Content-Length": str(len(PNG)),
        "If-None-Match": "*",
    }
    assert f"/{BUCKET}/{ACME}/{upload['id']}.png?" in target["url"]
    assert "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match" in target["url"]
    assert stored_keys(s3) == []  # nothing passes through the function

    assert send(target, PNG) == 200
    confirmed = await client.post(f"{UPLOADS}/{upload['id']}/confirm", headers=auth(ACME_ADMIN))

    assert confirmed.status_code == 200, confirmed.text
    view = confirmed.json()
    assert (view["status"], view["byte_size"], view["detected_mime_type"]) == (
        "confirmed",
        len(PNG),
        "image/png",
    )
    [row] = upload_rows(sql)
    assert (row["status"], row["byte_size"], row["detected_mime"], row["created_by"]) == (
        "confirmed",
        len(PNG),
        "image/png",
        ACME_ADMIN,
    )
    assert row["confirmed_at"] is not None
    assert upload_audit(sql) == [("upload.issued", ACME_ADMIN), ("upload.confirmed", ACME_ADMIN)]

    link = await client.get(f"{UPLOADS}/{upload['id']}/download", headers=auth(ACME_ADMIN))
    assert link.status_code == 200, link.text
    assert link.headers["cache-control"] == "private, no-store"
    assert fetch(link.json()["url"]) == PNG


async def test_an_upload_url_only_creates_so_a_confirmed_file_cannot_be_replaced(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    upload, target = body["upload"], body["target"]
    assert send(target, PNG) == 200
    confirmed = await client.post(f"{UPLOADS}/{upload['id']}/confirm", headers=auth(ACME_ADMIN))
    swapped = b"\xff\xd8\xff" + PNG[3:]  # same size, a JPEG's magic number

    assert confirmed.status_code == 200, confirmed.text
    assert send(target, swapped) == 412  # S3 refuses: an object is there already
    # (Leaving the header out breaks the signature, which names it; moto does not check signatures.)
    assert s3.get_object(Bucket=BUCKET, Key=upload["object_key"])["Body"].read() == PNG


@pytest.mark.parametrize("mime", sorted(SAMPLES))
async def test_every_accepted_type_is_confirmed_by_its_magic_number(
    client: httpx.AsyncClient, sql: Sql, s3: Any, mime: str
) -> None:
    data = SAMPLES[mime]
    body = (await issue(client, MANAGER, mime, len(data), community=None)).json()
    assert send(body["target"], data) == 200
    response = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(MANAGER))
    assert response.status_code == 200, response.text
    assert response.json()["detected_mime_type"] == mime
    assert response.json()["kind"] == ("pdf" if mime == "application/pdf" else "image")


async def test_a_platform_pdf_is_issued_to_staff_writers_under_the_platform_prefix(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    response = await issue(client, SUPER, "application/pdf", 50 * 1024 * 1024, community=None)
    assert response.status_code == 201, response.text
    upload = response.json()["upload"]
    assert upload["object_key"] == f"platform/{upload['id']}.pdf"
    assert upload["community_id"] is None
    assert [r["object_key"] for r in upload_rows(sql)] == [upload["object_key"]]


async def test_confirming_twice_answers_the_confirmed_upload_and_records_it_once(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    body = (await issue(client, ACME_ADMIN, "application/pdf", len(PDF))).json()
    send(body["target"], PDF)
    path = f"{UPLOADS}/{body['upload']['id']}/confirm"
    first = await client.post(path, headers=auth(ACME_ADMIN))
    again = await client.post(path, headers=auth(MANAGER))
    assert first.status_code == again.status_code == 200
    assert again.json()["confirmed_at"] == first.json()["confirmed_at"]
    assert [a for a, _ in upload_audit(sql)] == ["upload.issued", "upload.confirmed"]


# ----------------------------------------------------------------------------------------------------
# What is checked before a URL is issued
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mime", "size", "loc", "kind"),
    [
        ("image/svg+xml", 100, "body.mime_type", "literal_error"),
        ("text/html", 100, "body.mime_type", "literal_error"),
        ("image/png", 10 * 1024 * 1024 + 1, "body.byte_size", "file_too_large"),
        ("application/pdf", 50 * 1024 * 1024 + 1, "body.byte_size", "less_than_equal"),
        ("image/png", 0, "body.byte_size", "greater_than_equal"),
    ],
    ids=["svg", "html", "image over 10 MB", "pdf over 50 MB", "empty"],
)
async def test_a_type_or_size_not_accepted_gets_no_url(
    client: httpx.AsyncClient, sql: Sql, s3: Any, mime: str, size: int, loc: str, kind: str
) -> None:
    problem = assert_problem(await issue(client, ACME_ADMIN, mime, size), 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [(loc, kind)]
    assert upload_rows(sql) == []


async def test_the_caller_never_chooses_the_path(client: httpx.AsyncClient, sql: Sql, s3: Any) -> None:
    body = {"community_id": ACME, "mime_type": "image/png", "byte_size": 10, "object_key": "globex/x.png"}
    problem = assert_problem(
        await client.post(UPLOADS, json=body, headers=auth(ACME_ADMIN)), 422, "validation_failed"
    )
    assert [e["loc"] for e in problem["errors"]] == ["body.object_key"]
    assert upload_rows(sql) == []


@pytest.mark.parametrize(
    ("caller", "community", "status", "code"),
    [
        (GLOBEX_ADMIN, ACME, 404, "not_found"),
        (ACME_LENA, ACME, 403, "forbidden"),
        (GLOBEX_GINA, ACME, 403, "forbidden"),
        (SPECIALIST, ACME, 403, "forbidden"),
        (SPECIALIST, None, 403, "forbidden"),
        (ACME_ADMIN, None, 403, "forbidden"),
    ],
    ids=[
        "another community's admin",
        "acme learner",
        "globex learner",
        "specialist, community",
        "specialist, platform",
        "community admin, platform",
    ],
)
async def test_who_may_not_ask_for_an_upload_url(
    client: httpx.AsyncClient, sql: Sql, s3: Any, caller: str, community: str | None, status: int, code: str
) -> None:
    assert_problem(await issue(client, caller, "image/png", 10, community), status, code)
    assert upload_rows(sql) == []
    assert upload_audit(sql) == []


async def test_a_deployment_without_storage_settings_answers_503_on_uploads_only(
    client: httpx.AsyncClient, sql: Sql, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORAGE_BUCKET")
    reset_settings()
    storage_for.cache_clear()
    assert_problem(await issue(client, ACME_ADMIN, "image/png", 10), 503, "not_configured")
    assert upload_rows(sql) == []
    assert (await client.get("/me", headers=auth(ACME_ADMIN))).status_code == 200


# ----------------------------------------------------------------------------------------------------
# The confirmation: what was stored must be what was declared
# ----------------------------------------------------------------------------------------------------


async def test_a_jpeg_sent_as_png_is_rejected_deleted_and_stays_rejected(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    body = (await issue(client, ACME_ADMIN, "image/png", len(JPEG))).json()
    send(body["target"], JPEG)
    path = f"{UPLOADS}/{body['upload']['id']}/confirm"

    assert_problem(await client.post(path, headers=auth(ACME_ADMIN)), 422, "upload_type_mismatch")

    assert stored_keys(s3) == []
    [row] = upload_rows(sql)
    assert (row["status"], row["rejection_code"], row["detected_mime"], row["byte_size"]) == (
        "rejected",
        "upload_type_mismatch",
        "image/jpeg",
        len(JPEG),
    )
    assert upload_audit(sql) == [("upload.issued", ACME_ADMIN), ("upload.rejected", ACME_ADMIN)]
    assert_problem(await client.post(path, headers=auth(ACME_ADMIN)), 409, "upload_rejected")
    download = await client.get(f"{UPLOADS}/{body['upload']['id']}/download", headers=auth(ACME_ADMIN))
    assert_problem(download, 409, "upload_not_confirmed")


async def test_a_file_with_no_known_magic_number_is_rejected(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    html = b"<html><script>alert(1)</script></html>"
    body = (await issue(client, ACME_ADMIN, "application/pdf", len(html))).json()
    send(body["target"], html)
    response = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(ACME_ADMIN))
    assert_problem(response, 422, "upload_type_mismatch")
    assert upload_rows(sql)[0]["detected_mime"] is None
    assert stored_keys(s3) == []


async def test_a_file_of_another_size_than_declared_is_rejected(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    send(body["target"], PNG + b"more")
    response = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(ACME_ADMIN))
    assert_problem(response, 422, "upload_size_mismatch")
    assert upload_rows(sql)[0]["byte_size"] == len(PNG) + 4
    assert stored_keys(s3) == []


async def test_an_image_over_10_mb_is_rejected_whatever_was_declared(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    oversize = PNG + b"\x00" * (10 * 1024 * 1024)
    s3.put_object(Bucket=BUCKET, Key=body["upload"]["object_key"], Body=oversize)
    response = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(ACME_ADMIN))
    assert_problem(response, 422, "upload_too_large")
    assert upload_rows(sql)[0]["rejection_code"] == "upload_too_large"
    assert stored_keys(s3) == []


async def test_confirming_before_the_file_arrived_is_a_409_and_changes_nothing(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    path = f"{UPLOADS}/{body['upload']['id']}/confirm"
    assert_problem(await client.post(path, headers=auth(ACME_ADMIN)), 409, "upload_not_stored")
    assert upload_rows(sql)[0]["status"] == "pending"
    send(body["target"], PNG)  # the URL still works, and so does confirming afterwards
    assert (await client.post(path, headers=auth(ACME_ADMIN))).json()["status"] == "confirmed"


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [
        (GLOBEX_ADMIN, 404, "not_found"),
        (ACME_LENA, 403, "forbidden"),
        (GLOBEX_GINA, 403, "forbidden"),
        (SPECIALIST, 403, "forbidden"),
    ],
    ids=["another community's admin", "acme learner", "globex learner", "specialist"],
)
async def test_only_the_owners_writers_confirm(
    client: httpx.AsyncClient, sql: Sql, s3: Any, caller: str, status: int, code: str
) -> None:
    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    send(body["target"], PNG)
    response = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(caller))
    assert_problem(response, status, code)
    assert upload_rows(sql)[0]["status"] == "pending"
    assert stored_keys(s3) == [body["upload"]["object_key"]]


async def test_a_platform_upload_is_not_confirmed_by_a_community_admin(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    body = (await issue(client, MANAGER, "image/png", len(PNG), community=None)).json()
    send(body["target"], PNG)
    response = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(ACME_ADMIN))
    assert_problem(response, 404, "not_found")
    assert upload_rows(sql)[0]["status"] == "pending"


# ----------------------------------------------------------------------------------------------------
# Reading and downloading
# ----------------------------------------------------------------------------------------------------


async def test_staff_and_the_communitys_admins_read_an_upload_others_do_not_see_it(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    send(body["target"], PNG)
    upload_id = body["upload"]["id"]
    await client.post(f"{UPLOADS}/{upload_id}/confirm", headers=auth(ACME_ADMIN))
    for reader in (ACME_ADMIN, SPECIALIST, MANAGER, SUPER):
        assert (await client.get(f"{UPLOADS}/{upload_id}", headers=auth(reader))).status_code == 200
        assert (await client.get(f"{UPLOADS}/{upload_id}/download", headers=auth(reader))).status_code == 200
    for path in (f"{UPLOADS}/{upload_id}", f"{UPLOADS}/{upload_id}/download"):
        assert_problem(await client.get(path, headers=auth(GLOBEX_ADMIN)), 404, "not_found")
        assert_problem(await client.get(path, headers=auth(ACME_LENA)), 403, "forbidden")


async def test_a_pending_upload_has_no_download(client: httpx.AsyncClient, sql: Sql, s3: Any) -> None:
    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    send(body["target"], PNG)
    response = await client.get(f"{UPLOADS}/{body['upload']['id']}/download", headers=auth(ACME_ADMIN))
    assert_problem(response, 409, "upload_not_confirmed")


async def test_an_unknown_upload_is_a_404(client: httpx.AsyncClient, db: str, s3: Any) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(await client.get(f"{UPLOADS}/{missing}", headers=auth(SUPER)), 404, "not_found")
    assert_problem(await client.post(f"{UPLOADS}/{missing}/confirm", headers=auth(SUPER)), 404, "not_found")


async def test_a_specialist_who_administers_another_community_cannot_confirm_acmes_upload(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    # Staff read every upload (row level security shows it), and an admin passes the route's guard:
    # only the service's own check of the upload's community stands between them and the settling.
    sql(
        "insert into memberships (community_id, user_id, role) values (%s, %s, 'admin')", (GLOBEX, SPECIALIST)
    )
    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    send(body["target"], PNG)
    response = await client.post(f"{UPLOADS}/{body['upload']['id']}/confirm", headers=auth(SPECIALIST))
    assert_problem(response, 403, "forbidden")
    assert upload_rows(sql)[0]["status"] == "pending"
    assert [a for a, _ in upload_audit(sql)] == ["upload.issued"]


async def test_a_confirmed_upload_attaches_only_to_its_own_owners_content(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    from uuid import UUID

    from shared.content.uploads.service import confirmed_file
    from shared.platform.db import as_user

    body = (await issue(client, ACME_ADMIN, "application/pdf", len(PDF))).json()
    upload_id = UUID(body["upload"]["id"])
    claims = {"sub": ACME_ADMIN, "role": "authenticated"}
    async with as_user(claims) as tx:
        assert await confirmed_file(tx, upload_id, owner=UUID(ACME)) is None  # pending
    send(body["target"], PDF)
    await client.post(f"{UPLOADS}/{upload_id}/confirm", headers=auth(ACME_ADMIN))
    async with as_user(claims) as tx:
        found = await confirmed_file(tx, upload_id, owner=UUID(ACME))
        assert await confirmed_file(tx, upload_id, owner=None) is None  # not a platform file
    assert found is not None
    assert (found.kind, found.byte_size, found.mime_type, found.object_key) == (
        "pdf",
        len(PDF),
        "application/pdf",
        body["upload"]["object_key"],
    )
    async with as_user({"sub": GLOBEX_ADMIN, "role": "authenticated"}) as tx:
        assert await confirmed_file(tx, upload_id, owner=UUID(ACME)) is None  # hidden from another community


async def test_concurrent_confirmations_record_the_upload_once(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    import asyncio

    body = (await issue(client, ACME_ADMIN, "image/png", len(PNG))).json()
    send(body["target"], PNG)
    path = f"{UPLOADS}/{body['upload']['id']}/confirm"
    answers = await asyncio.gather(*(client.post(path, headers=auth(ACME_ADMIN)) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert [a for a, _ in upload_audit(sql)] == ["upload.issued", "upload.confirmed"]


async def test_concurrent_refusals_reject_once_and_delete_once(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    import asyncio

    body = (await issue(client, ACME_ADMIN, "image/png", len(JPEG))).json()
    send(body["target"], JPEG)
    path = f"{UPLOADS}/{body['upload']['id']}/confirm"
    answers = await asyncio.gather(*(client.post(path, headers=auth(ACME_ADMIN)) for _ in range(4)))
    codes = sorted(a.json()["code"] for a in answers)
    assert codes.count("upload_type_mismatch") >= 1
    assert set(codes) <= {"upload_type_mismatch", "upload_rejected", "upload_not_stored"}
    assert [a for a, _ in upload_audit(sql)] == ["upload.issued", "upload.rejected"]
    assert stored_keys(s3) == []
