"""An image or PDF item's file: a confirmed upload attached (PUT /content/{id}/file) and handed out as a
signed URL to whoever may read the item (GET /content/{id}/file), through the real handlers, real
Postgres and an S3 store faked by moto (the local store in the last tests)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from shared.content.files import with_file
from shared.content.repository import SNAPSHOT
from shared.content.uploads.service import ConfirmedFile
from shared.platform.caching import strong_etag
from shared.platform.config import reset_settings
from shared.platform.db import as_user
from shared.platform.errors import ConflictError, ValidationFailedError
from shared.platform.storage import storage_for
from tests.content_helpers import grant, item_row, make_item, versions
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    ACME_LIAM,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    MANAGER,
    SPECIALIST,
    SUPABASE_URL,
    SUPER,
    auth,
)
from tests.functions.uploads_support import JPEG, PDF, PNG, fetch, send
from tests.helpers import Sql, assert_problem

CONTENT = "/content"
IMAGE = {
    "url": "https://cdn.example.com/old.png",
    "alt_text": "A cover",
    "byte_size": 999,
    "mime_type": "image/png",
    "width": 640,
    "height": 480,
}
SAVE_AS_IS = f"""
insert into content_versions (item_id, kind, snapshot) select id, 'publish', {SNAPSHOT}
from content_items i where id = %s
"""  # noqa: S608 - constants
SAVE_FORGED = f"""
insert into content_versions (item_id, kind, snapshot, author_id)
select id, 'save', {SNAPSHOT} || jsonb_build_object('payload', %s::jsonb), %s from content_items i where id = %s
"""  # noqa: S608 - constants
"""A version whose snapshot is the item's with another payload (as PostgREST lets an admin write one)."""
EXTERNAL_PDF = {"url": "https://cdn.example.com/old.pdf", "byte_size": 999, "page_count": 3}


def claims(user: str) -> dict[str, str]:
    return {"sub": user, "role": "authenticated"}


def file_url(item: str) -> str:
    return f"{CONTENT}/{item}/file"


def route_of(item: str) -> str:
    """The stable address an attached file's `url` names."""
    return f"{SUPABASE_URL}/functions/v1/content/{item}/file"


def etag_of(sql: Sql, item: str) -> str:
    row = item_row(sql, item)
    assert row is not None
    return strong_etag(item, row["revision"])


async def uploaded(
    client: httpx.AsyncClient,
    mime: str,
    data: bytes,
    *,
    owner: str | None = ACME,
    caller: str = ACME_ADMIN,
    confirm: bool = True,
) -> dict[str, Any]:
    """An upload issued, sent and (unless told otherwise) confirmed through the uploads function."""
    body: dict[str, Any] = {"mime_type": mime, "byte_size": len(data)}
    if owner is not None:
        body["community_id"] = owner
    issued = await client.post("/uploads", json=body, headers=auth(caller))
    assert issued.status_code == 201, issued.text
    upload: dict[str, Any] = issued.json()["upload"]
    if confirm:
        assert send(issued.json()["target"], data) == 200
        confirmed = await client.post(f"/uploads/{upload['id']}/confirm", headers=auth(caller))
        assert confirmed.status_code == 200, confirmed.text
    return upload


async def attach(
    client: httpx.AsyncClient, item: str, upload_id: str, caller: str, etag: str | None, **body: Any
) -> httpx.Response:
    headers = auth(caller) | ({"If-Match": etag} if etag is not None else {})
    return await client.put(file_url(item), json={"upload_id": upload_id, **body}, headers=headers)


def attached_audit(sql: Sql) -> list[str]:
    rows = sql("select action from audit_log where action = 'content.file_attached' order by id")
    return [r["action"] for r in rows]


# ----------------------------------------------------------------------------------------------------
# The whole way: attach, then the item's readers get the file
# ----------------------------------------------------------------------------------------------------


async def test_admin_attaches_a_png_and_a_granted_learner_downloads_it(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    item = make_item(sql, ACME, content_type="image", payload=IMAGE)
    upload = await uploaded(client, "image/png", PNG)

    response = await attach(client, item, upload["id"], ACME_ADMIN, strong_etag(item, 1))

    assert response.status_code == 200, response.text
    payload = response.json()["payload"]
    expected = {
        "url": route_of(item),
        "alt_text": "A cover",  # describes the content: kept
        "byte_size": len(PNG),  # the checked object's, not the old 999
        "mime_type": "image/png",
        "width": None,  # described the old file
        "height": None,
        "upload_id": upload["id"],
        "object_key": upload["object_key"],
    }
    assert payload == expected
    assert response.headers["etag"] == strong_etag(item, 2)
    row = item_row(sql, item)
    assert row is not None and row["payload"] == expected
    assert (row["revision"], row["latest_version"], row["updated_by"]) == (2, 0, ACME_ADMIN)
    assert versions(sql, item) == []  # a draft's change is not a version
    assert attached_audit(sql) == ["content.file_attached"]

    sql("update content_items set status = 'published' where id = %s", (item,))
    grant(sql, item, ACME)
    link = await client.get(file_url(item), headers=auth(ACME_LENA))

    assert link.status_code == 200, link.text
    assert link.headers["cache-control"] == "private, no-store"
    assert set(link.json()) == {"url", "expires_at"}
    assert fetch(link.json()["url"]) == PNG


async def test_manager_attaches_a_pdf_to_published_platform_content_as_a_new_version(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    item = make_item(sql, None, content_type="pdf", payload=EXTERNAL_PDF, status="published")
    upload = await uploaded(client, "application/pdf", PDF, owner=None, caller=MANAGER)

    response = await attach(
        client, item, upload["id"], MANAGER, None, revision=1, change_summary="The real file"
    )

    assert response.status_code == 200, response.text
    expected = {
        "url": route_of(item),
        "byte_size": len(PDF),
        "page_count": None,
        "upload_id": upload["id"],
        "object_key": upload["object_key"],
    }
    assert response.json()["payload"] == expected
    row = item_row(sql, item)
    assert row is not None and (row["payload"], row["revision"], row["latest_version"]) == (expected, 2, 1)
    [version] = versions(sql, item)
    assert (version["kind"], version["change_summary"], version["author_id"]) == (
        "publish",
        "The real file",
        MANAGER,
    )
    assert version["snapshot"]["payload"] == expected

    grant(sql, item, GLOBEX)
    link = await client.get(file_url(item), headers=auth(GLOBEX_GINA))
    assert link.status_code == 200, link.text
    assert fetch(link.json()["url"]) == PDF


async def test_attaching_the_same_file_again_changes_nothing(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    item = make_item(sql, ACME, content_type="image", payload=IMAGE)
    upload = await uploaded(client, "image/png", PNG)
    await attach(client, item, upload["id"], ACME_ADMIN, strong_etag(item, 1))

    again = await attach(client, item, upload["id"], ACME_ADMIN, strong_etag(item, 2))

    assert again.status_code == 200 and again.json()["revision"] == 2
    assert attached_audit(sql) == ["content.file_attached"]


# ----------------------------------------------------------------------------------------------------
# Refusals: each changes nothing
# ----------------------------------------------------------------------------------------------------


def _expired_upload(sql: Sql) -> str:
    rows = sql(
        "insert into uploads (community_id, declared_mime, declared_size, created_at, expires_at)"
        " values (%s, 'image/png', 64, now() - interval '2 hours', now() - interval '90 minutes')"
        " returning id::text as id",
        (ACME,),
    )
    return str(rows[0]["id"])


async def _rejected_upload(client: httpx.AsyncClient) -> str:
    issued = await client.post(
        "/uploads",
        json={"community_id": ACME, "mime_type": "image/png", "byte_size": len(JPEG)},
        headers=auth(ACME_ADMIN),
    )
    send(issued.json()["target"], JPEG)
    upload_id: str = issued.json()["upload"]["id"]
    refused = await client.post(f"/uploads/{upload_id}/confirm", headers=auth(ACME_ADMIN))
    assert refused.status_code == 422
    return upload_id


@pytest.mark.parametrize(
    ("case", "caller", "status", "code"),
    [
        ("unknown", ACME_ADMIN, 422, "unknown_upload"),
        ("globex upload, hidden from acme's admin", ACME_ADMIN, 422, "unknown_upload"),
        ("globex upload, seen by a super admin", SUPER, 422, "upload_owner_mismatch"),
        ("platform upload", SUPER, 422, "upload_owner_mismatch"),
        ("pdf upload", ACME_ADMIN, 422, "upload_kind_mismatch"),
        ("pending", ACME_ADMIN, 409, "upload_not_confirmed"),
        ("expired", ACME_ADMIN, 409, "upload_expired"),
        ("rejected", ACME_ADMIN, 409, "upload_rejected"),
    ],
)
async def test_an_upload_that_cannot_be_the_items_file_is_refused(
    client: httpx.AsyncClient, sql: Sql, s3: Any, case: str, caller: str, status: int, code: str
) -> None:
    item = make_item(sql, ACME, content_type="image", payload=IMAGE)
    before = item_row(sql, item)
    if case == "unknown":
        upload_id = str(uuid.uuid4())
    elif case.startswith("globex upload"):
        upload_id = (await uploaded(client, "image/png", PNG, owner=GLOBEX, caller=GLOBEX_ADMIN))["id"]
    elif case == "platform upload":
        upload_id = (await uploaded(client, "image/png", PNG, owner=None, caller=SUPER))["id"]
    elif case == "pdf upload":
        upload_id = (await uploaded(client, "application/pdf", PDF))["id"]
    elif case == "pending":
        upload_id = (await uploaded(client, "image/png", PNG, confirm=False))["id"]
    elif case == "expired":
        upload_id = _expired_upload(sql)
    else:
        upload_id = await _rejected_upload(client)

    response = await attach(client, item, upload_id, caller, strong_etag(item, 1))

    body = assert_problem(response, status, code if status == 409 else "validation_failed")
    if status == 422:
        assert [(e["loc"], e["type"]) for e in body["errors"]] == [("body.upload_id", code)]
    assert item_row(sql, item) == before
    assert versions(sql, item) == [] and attached_audit(sql) == []


@pytest.mark.parametrize(
    ("content_type", "status", "code"),
    [("prompt", "draft", "not_a_file_item"), ("image", "archived", "item_archived")],
)
async def test_an_item_that_cannot_take_a_file_is_refused(
    client: httpx.AsyncClient, sql: Sql, s3: Any, content_type: str, status: str, code: str
) -> None:
    payload = IMAGE if content_type == "image" else None
    item = make_item(sql, ACME, content_type=content_type, status=status, payload=payload)
    before = item_row(sql, item)
    upload = await uploaded(client, "image/png", PNG)

    response = await attach(client, item, upload["id"], ACME_ADMIN, strong_etag(item, 1))

    assert_problem(response, 409, code)
    assert item_row(sql, item) == before and attached_audit(sql) == []


async def test_a_stale_or_missing_revision_changes_nothing(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    item = make_item(sql, ACME, content_type="image", payload=IMAGE)
    sql("update content_items set title = 'Edited meanwhile' where id = %s", (item,))
    before = item_row(sql, item)
    upload = await uploaded(client, "image/png", PNG)

    stale = await attach(client, item, upload["id"], ACME_ADMIN, strong_etag(item, 1))
    stale_body = await attach(client, item, upload["id"], ACME_ADMIN, None, revision=1)
    missing = await attach(client, item, upload["id"], ACME_ADMIN, None)

    assert_problem(stale, 409, "stale_version")
    assert_problem(stale_body, 409, "stale_version")
    assert_problem(missing, 428, "precondition_required")
    assert item_row(sql, item) == before and attached_audit(sql) == []


def test_a_file_outside_the_content_models_limits_is_refused() -> None:
    # The uploads table holds the same limits, so no confirmed upload is outside them; should the two
    # ever disagree, the payload model still refuses the file.
    too_large = ConfirmedFile(
        uuid.uuid4(), None, "image", "platform/x.png", 10 * 1024 * 1024 + 1, "image/png"
    )
    wrong_type = ConfirmedFile(uuid.uuid4(), None, "image", "platform/x.pdf", 64, "application/pdf")
    for file in (too_large, wrong_type):
        with pytest.raises(ValidationFailedError) as refused:
            with_file("image", IMAGE, file, "https://example.com/file")
        assert {e.type for e in refused.value.errors} == {"file_not_allowed"}


# ----------------------------------------------------------------------------------------------------
# Who may attach, who may download
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status"),
    [(SPECIALIST, 403), (GLOBEX_ADMIN, 404), (ACME_LENA, 403)],
    ids=["specialist", "other community's admin", "learner"],
)
async def test_who_may_not_attach_a_file(
    client: httpx.AsyncClient, sql: Sql, s3: Any, caller: str, status: int
) -> None:
    item = make_item(sql, ACME, content_type="image", payload=IMAGE, status="published")
    grant(sql, item, ACME)
    before = item_row(sql, item)
    upload = await uploaded(client, "image/png", PNG)

    response = await attach(client, item, upload["id"], caller, strong_etag(item, 1))

    assert response.status_code == status, response.text
    assert item_row(sql, item) == before and attached_audit(sql) == []


async def test_a_community_admin_may_not_attach_to_platform_content_granted_to_them(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    item = make_item(sql, None, content_type="image", payload=IMAGE, status="published")
    grant(sql, item, ACME)
    upload = await uploaded(client, "image/png", PNG)

    response = await attach(client, item, upload["id"], ACME_ADMIN, strong_etag(item, 1))

    assert_problem(response, 403, "forbidden")


@pytest.fixture
async def acme_image(client: httpx.AsyncClient, sql: Sql, s3: Any) -> str:
    """An Acme image item with an attached PNG, published and granted to Acme's learner Lena only."""
    item = make_item(sql, ACME, content_type="image", payload=IMAGE)
    upload = await uploaded(client, "image/png", PNG)
    assert (await attach(client, item, upload["id"], ACME_ADMIN, strong_etag(item, 1))).status_code == 200
    sql("update content_items set status = 'published' where id = %s", (item,))
    sql(
        "insert into content_grants (item_id, community_id, user_id) values (%s, %s, %s)",
        (item, ACME, ACME_LENA),
    )
    return item


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        (SUPER, 200),
        (MANAGER, 200),
        (SPECIALIST, 200),
        (ACME_ADMIN, 200),
        (ACME_LENA, 200),
        (ACME_LIAM, 404),
        (GLOBEX_ADMIN, 404),
        (GLOBEX_GINA, 404),
    ],
    ids=[
        "super",
        "manager",
        "specialist",
        "acme admin",
        "granted learner",
        "ungranted learner",
        "globex admin",
        "globex learner",
    ],
)
async def test_who_may_download_an_items_file(
    client: httpx.AsyncClient, acme_image: str, caller: str, status: int
) -> None:
    response = await client.get(file_url(acme_image), headers=auth(caller))

    assert response.status_code == status, response.text
    if status == 200:
        assert fetch(response.json()["url"]) == PNG
    else:
        missing = await client.get(file_url(str(uuid.uuid4())), headers=auth(caller))
        hidden, absent = assert_problem(response, 404, "not_found"), assert_problem(missing, 404, "not_found")
        assert {k: v for k, v in hidden.items() if k != "request_id"} == {
            k: v for k, v in absent.items() if k != "request_id"
        }


async def test_an_unpublished_item_is_missing_to_its_granted_learner(
    client: httpx.AsyncClient, sql: Sql, acme_image: str
) -> None:
    sql("update content_items set status = 'draft' where id = %s", (acme_image,))

    assert_problem(await client.get(file_url(acme_image), headers=auth(ACME_LENA)), 404, "not_found")
    assert (await client.get(file_url(acme_image), headers=auth(ACME_ADMIN))).status_code == 200


async def test_an_item_without_an_uploaded_file_has_none_to_hand_out(
    client: httpx.AsyncClient, sql: Sql, s3: Any
) -> None:
    item = make_item(sql, ACME, content_type="image", payload=IMAGE)
    prompt = make_item(sql, ACME)

    assert_problem(await client.get(file_url(item), headers=auth(ACME_ADMIN)), 409, "no_file")
    assert_problem(await client.get(file_url(prompt), headers=auth(ACME_ADMIN)), 409, "no_file")


async def test_a_copy_keeps_the_file_under_its_own_route(client: httpx.AsyncClient, sql: Sql, acme_image: str) -> None:
    response = await client.post(
        f"{CONTENT}/bulk", json={"action": "copy", "ids": [acme_image]}, headers=auth(ACME_ADMIN)
    )

    assert response.status_code == 200, response.text
    copy = response.json()["copies"][0]["id"]
    original, copied = item_row(sql, acme_image), item_row(sql, copy)
    assert original is not None and copied is not None
    assert copied["payload"] == original["payload"] | {"url": route_of(copy)}
    link = await client.get(file_url(copy), headers=auth(ACME_ADMIN))
    assert link.status_code == 200, link.text
    assert fetch(link.json()["url"]) == PNG


# ----------------------------------------------------------------------------------------------------
# Later changes: PATCH keeps or detaches the file; restore brings it back; the database guards it
# ----------------------------------------------------------------------------------------------------


async def test_a_patch_keeps_the_file_while_its_url_names_it_and_detaches_it_otherwise(
    client: httpx.AsyncClient, sql: Sql, acme_image: str
) -> None:
    row = item_row(sql, acme_image)
    assert row is not None
    kept = {k: v for k, v in row["payload"].items() if k not in ("upload_id", "object_key")}
    headers = auth(ACME_ADMIN) | {"If-Match": etag_of(sql, acme_image)}
    body = {"type": "image", "payload": {**kept, "alt_text": "Better words", "byte_size": 1, "width": 10}}

    edited = await client.patch(f"{CONTENT}/{acme_image}", json=body, headers=headers)

    assert edited.status_code == 200, edited.text
    assert edited.json()["payload"] == {
        **row["payload"],
        "alt_text": "Better words",
        "width": 10,
    }  # the file's own size wins over the body's
    headers = auth(ACME_ADMIN) | {"If-Match": edited.headers["etag"]}
    body = {"type": "image", "payload": IMAGE}
    moved = await client.patch(f"{CONTENT}/{acme_image}", json=body, headers=headers)

    assert moved.status_code == 200, moved.text
    assert moved.json()["payload"] == {**IMAGE, "upload_id": None, "object_key": None}
    assert_problem(await client.get(file_url(acme_image), headers=auth(ACME_LENA)), 409, "no_file")


async def test_restoring_a_version_brings_its_file_back(
    client: httpx.AsyncClient, sql: Sql, acme_image: str
) -> None:
    # The attached state is saved as a version, then the file is detached by a PATCH.
    sql(SAVE_AS_IS, (acme_image,))
    attached = item_row(sql, acme_image)
    assert attached is not None
    headers = auth(ACME_ADMIN) | {"If-Match": etag_of(sql, acme_image)}
    await client.patch(f"{CONTENT}/{acme_image}", json={"type": "image", "payload": IMAGE}, headers=headers)

    headers = auth(ACME_ADMIN) | {"If-Match": etag_of(sql, acme_image)}
    restored = await client.post(f"{CONTENT}/{acme_image}/versions/1/restore", json={}, headers=headers)

    assert restored.status_code == 200, restored.text
    assert restored.json()["payload"] == attached["payload"]
    assert (await client.get(file_url(acme_image), headers=auth(ACME_LENA))).status_code == 200


async def test_a_version_naming_another_communitys_file_is_not_restored(
    client: httpx.AsyncClient, sql: Sql, acme_image: str
) -> None:
    globex = await uploaded(client, "image/png", PNG, owner=GLOBEX, caller=GLOBEX_ADMIN)
    row = item_row(sql, acme_image)
    assert row is not None
    forged = {**row["payload"], "upload_id": globex["id"], "object_key": globex["object_key"]}
    async with as_user(
        claims(ACME_ADMIN)
    ) as tx:  # an admin writes a version directly, as PostgREST lets them
        await tx.execute(SAVE_FORGED, (json.dumps(forged), ACME_ADMIN, acme_image))
    row = item_row(sql, acme_image)
    headers = auth(ACME_ADMIN) | {"If-Match": etag_of(sql, acme_image)}

    response = await client.post(f"{CONTENT}/{acme_image}/versions/1/restore", json={}, headers=headers)

    assert_problem(response, 409, "file_not_attachable")
    assert item_row(sql, acme_image) == row


@pytest.mark.parametrize(
    "forge",
    [
        "another community's key",
        "a pending upload of its own",
        "a rejected upload of its own",
        "an upload of its own with another key",
        "a file on a prompt",
        "another size",
    ],
)
async def test_an_admin_speaking_sql_cannot_point_an_item_at_a_file_it_was_not_given(
    client: httpx.AsyncClient, sql: Sql, acme_image: str, forge: str
) -> None:
    row = item_row(sql, acme_image)
    assert row is not None
    payload, target = dict(row["payload"]), acme_image
    if forge == "another community's key":
        globex = await uploaded(client, "image/png", PNG, owner=GLOBEX, caller=GLOBEX_ADMIN)
        payload["object_key"] = globex["object_key"]
    elif forge == "a pending upload of its own":
        pending = await uploaded(client, "image/png", PNG, confirm=False)
        payload |= {"upload_id": pending["id"], "object_key": pending["object_key"]}
    elif (
        forge == "a rejected upload of its own"
    ):  # rejected for its size: its row holds the stored size and type
        issued = await client.post(
            "/uploads",
            json={"community_id": ACME, "mime_type": "image/png", "byte_size": len(PNG) + 1},
            headers=auth(ACME_ADMIN),
        )
        send(issued.json()["target"], PNG)
        rejected = issued.json()["upload"]
        await client.post(f"/uploads/{rejected['id']}/confirm", headers=auth(ACME_ADMIN))
        assert sql("select status from uploads where id = %s", (rejected["id"],))[0]["status"] == "rejected"
        payload |= {"upload_id": rejected["id"], "object_key": rejected["object_key"], "byte_size": len(PNG)}
    elif forge == "an upload of its own with another key":
        payload["object_key"] = f"{GLOBEX}/{payload['upload_id']}.png"
    elif forge == "a file on a prompt":
        target = make_item(sql, ACME)
        payload = {"prompt_text": "x", **{k: payload[k] for k in ("upload_id", "object_key")}}
    else:
        payload["byte_size"] = 10
    with pytest.raises(ConflictError) as refused:
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute(
                "update content_items set payload = %s::jsonb where id = %s", (json.dumps(payload), target)
            )
    assert refused.value.code == "file_not_attachable"
    assert item_row(sql, acme_image) == row


# ----------------------------------------------------------------------------------------------------
# The local store
# ----------------------------------------------------------------------------------------------------


async def test_an_attached_pdf_comes_back_from_the_local_store(
    client: httpx.AsyncClient, sql: Sql, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.functions.test_uploads_local import local, put

    monkeypatch.setenv("STORAGE_BACKEND", "local")
    monkeypatch.setenv("STORAGE_LOCAL_DIR", str(tmp_path))
    reset_settings()
    storage_for.cache_clear()
    item = make_item(sql, ACME, content_type="pdf", payload=EXTERNAL_PDF, status="published")
    grant(sql, item, ACME)
    issued = await client.post(
        "/uploads",
        json={"community_id": ACME, "mime_type": "application/pdf", "byte_size": len(PDF)},
        headers=auth(ACME_ADMIN),
    )
    upload = issued.json()["upload"]
    assert (await put(client, issued.json()["target"], PDF)).status_code == 200
    await client.post(f"/uploads/{upload['id']}/confirm", headers=auth(ACME_ADMIN))

    response = await attach(client, item, upload["id"], ACME_ADMIN, strong_etag(item, 1))
    link = await client.get(file_url(item), headers=auth(ACME_LENA))

    assert response.status_code == 200, response.text
    assert link.status_code == 200, link.text
    fetched = await client.get(local(link.json()["url"]))
    assert fetched.status_code == 200 and fetched.content == PDF
    assert UUID(response.json()["payload"]["upload_id"]) == UUID(upload["id"])
    storage_for.cache_clear()
