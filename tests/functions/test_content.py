"""`content` through the real handler against the real database: items, who may read and write them,
optimistic concurrency and the lifecycle."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.content.payloads import AGENT_SECRETS
from shared.platform.caching import strong_etag
from tests.content_helpers import PAYLOADS, grant, item_row, make_item, new_item, versions
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    GLOBEX_ADMIN,
    MANAGER,
    SPECIALIST,
    SUPER,
    auth,
)
from tests.helpers import Sql, assert_problem, count

CONTENT = "/content"
NOBODY = "signed out"
FORGED = "forged token"
EXPIRED = "expired token"


def headers(caller: str, **extra: str) -> dict[str, str]:
    if caller == NOBODY:
        return dict(extra)
    if caller == FORGED:
        return {**auth(MANAGER, secret="not-the-secret-but-long-enough-for-hs256-keys"), **extra}
    if caller == EXPIRED:
        return {**auth(MANAGER, ttl_s=-120), **extra}
    return {**auth(caller), **extra}


def etag(sql: Sql, item: str) -> str:
    row = item_row(sql, item)
    assert row is not None
    return strong_etag(row["id"], row["revision"])


def audit_actions(sql: Sql) -> list[str]:
    return [
        r["action"]
        for r in sql("select action from audit_log where target_type = 'content_item' order by id")
    ]


def items_count(sql: Sql) -> int:
    return count(sql, "select count(*) as n from content_items")


SIGNED_OUT = [
    (NOBODY, 401, "unauthenticated"),
    (FORGED, 401, "unauthenticated"),
    (EXPIRED, 401, "unauthenticated"),
]

# ----------------------------------------------------------------------------------------------------
# Create
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", sorted(PAYLOADS))
async def test_staff_create_platform_content_of_every_type(
    client: httpx.AsyncClient, sql: Sql, content_type: str
) -> None:
    response = await client.post(CONTENT, json=new_item(content_type), headers=auth(MANAGER))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == content_type and body["community_id"] is None and body["status"] == "draft"
    assert body["revision"] == 1 and body["created_by"] == MANAGER
    assert response.headers["location"] == f"/functions/v1/content/{body['id']}"
    assert response.headers["etag"] == strong_etag(body["id"], 1)
    assert response.headers["cache-control"] == "private, no-store"
    row = item_row(sql, body["id"])
    no_file = {"upload_id": None, "object_key": None} if content_type in ("image", "pdf") else {}
    secrets = sql("select keys from content_item_keys where item_id = %s", (body["id"],))
    kept_apart = secrets[0]["keys"] if content_type == "ai_agent" else {}
    assert secrets == ([{"keys": kept_apart}] if content_type == "ai_agent" else [])
    assert row is not None and row["payload"] | no_file | kept_apart == body["payload"] and row["latest_version"] == 0
    assert not set(AGENT_SECRETS) & set(row["payload"])
    assert audit_actions(sql) == ["content.created"]


async def test_derived_figures_are_computed_by_the_server(client: httpx.AsyncClient, sql: Sql) -> None:
    document = {"html_body": "<p>" + "word " * 401 + "</p>"}
    response = await client.post(CONTENT, json=new_item("document", payload=document), headers=auth(SUPER))
    assert response.status_code == 201, response.text
    assert response.json()["payload"] | {"html_body": ""} == {
        "html_body": "",
        "json_body": None,
        "word_count": 401,
        "reading_minutes": 3,
    }
    video = await client.post(CONTENT, json=new_item("video"), headers=auth(SUPER))
    stored = item_row(sql, video.json()["id"])
    assert stored is not None and stored["payload"]["platform_video_id"] == "dQw4w9WgXcQ"


async def test_trusted_looking_derived_fields_are_refused(client: httpx.AsyncClient, sql: Sql) -> None:
    payload = {"html_body": "<p>short</p>", "word_count": 10_000, "reading_minutes": 50}
    response = await client.post(CONTENT, json=new_item("document", payload=payload), headers=auth(SUPER))
    body = assert_problem(response, 422, "validation_failed")
    assert {e["loc"] for e in body["errors"]} == {
        "body.document.payload.word_count",
        "body.document.payload.reading_minutes",
    }
    assert items_count(sql) == 0


@pytest.mark.parametrize(
    ("caller", "community", "status", "code"),
    [
        (SUPER, None, 201, None),
        (MANAGER, None, 201, None),
        (SPECIALIST, None, 403, "forbidden"),
        (ACME_ADMIN, None, 403, "forbidden"),
        (ACME_LENA, None, 403, "forbidden"),
        (MANAGER, ACME, 201, None),
        (ACME_ADMIN, ACME, 201, None),
        (SPECIALIST, ACME, 403, "forbidden"),
        (GLOBEX_ADMIN, ACME, 404, "not_found"),
        (ACME_LENA, ACME, 403, "forbidden"),
        *[(who, ACME, status, code) for who, status, code in SIGNED_OUT],
    ],
)
async def test_who_may_create_content(
    client: httpx.AsyncClient, sql: Sql, caller: str, community: str | None, status: int, code: str | None
) -> None:
    response = await client.post(CONTENT, json=new_item("prompt", community), headers=headers(caller))

    if code is None:
        assert response.status_code == status, response.text
        assert response.json()["community_id"] == community
        assert items_count(sql) == 1
    else:
        assert_problem(response, status, code)
        assert items_count(sql) == 0
        assert audit_actions(sql) == []


async def test_a_community_item_needs_an_existing_community(client: httpx.AsyncClient, sql: Sql) -> None:
    body = new_item("prompt", "c0000000-0000-4000-8000-0000000000ff")
    assert_problem(await client.post(CONTENT, json=body, headers=auth(MANAGER)), 404, "not_found")


async def test_a_folder_must_be_a_content_folder_of_the_same_owner(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    theirs = sql(
        "insert into content_folders (community_id, repository, name) values (%s, 'content', 'G') returning id::text",
        (GLOBEX,),
    )
    wods = sql(
        "insert into content_folders (community_id, repository, name) values (%s, 'wods', 'W') returning id::text",
        (ACME,),
    )
    ours = sql(
        "insert into content_folders (community_id, repository, name) values (%s, 'content', 'A') returning id::text",
        (ACME,),
    )
    for folder in (theirs[0]["id"], wods[0]["id"]):
        response = await client.post(
            CONTENT, json=new_item("prompt", ACME, folder_id=folder), headers=auth(ACME_ADMIN)
        )
        body = assert_problem(response, 422, "validation_failed")
        assert body["errors"][0]["loc"] == "body.folder_id"
    response = await client.post(
        CONTENT, json=new_item("prompt", ACME, folder_id=ours[0]["id"]), headers=auth(ACME_ADMIN)
    )
    assert response.status_code == 201 and response.json()["folder_id"] == ours[0]["id"]


async def test_creating_is_idempotent_with_a_key(client: httpx.AsyncClient, sql: Sql) -> None:
    key = {"Idempotency-Key": "create-content-1"}
    first = await client.post(CONTENT, json=new_item(), headers={**auth(MANAGER), **key})
    again = await client.post(CONTENT, json=new_item(), headers={**auth(MANAGER), **key})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["etag"] == first.headers["etag"]
    assert items_count(sql) == 1


# ----------------------------------------------------------------------------------------------------
# Read
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def owned(sql: Sql) -> dict[str, str]:
    """Platform content granted to Acme, platform content granted nowhere, and each community's own item."""
    platform = make_item(sql, None, title="Platform, granted", status="published")
    grant(sql, platform, ACME)
    return {
        "platform_granted": platform,
        "platform_draft": make_item(sql, None, title="Platform draft"),
        "acme": make_item(sql, ACME, title="Acme's own"),
        "globex": make_item(sql, GLOBEX, title="Globex's own"),
    }


READS = [
    (SUPER, {"platform_granted", "platform_draft", "acme", "globex"}),
    (MANAGER, {"platform_granted", "platform_draft", "acme", "globex"}),
    (SPECIALIST, {"platform_granted", "platform_draft", "acme", "globex"}),
    (ACME_ADMIN, {"platform_granted", "acme"}),
    (GLOBEX_ADMIN, {"globex"}),
]


@pytest.mark.parametrize(("caller", "visible"), READS)
async def test_each_role_reads_what_the_database_shows_it(
    client: httpx.AsyncClient, owned: dict[str, str], caller: str, visible: set[str]
) -> None:
    for name, item in owned.items():
        response = await client.get(f"{CONTENT}/{item}", headers=auth(caller))
        if name in visible:
            assert response.status_code == 200, (name, response.text)
            assert response.json()["id"] == item
        else:
            body = assert_problem(response, 404, "not_found")
            assert (
                body["detail"]
                == assert_problem(
                    await client.get(f"{CONTENT}/00000000-0000-4000-8000-000000000000", headers=auth(caller)),
                    404,
                    "not_found",
                )["detail"]
            )  # another's item answers exactly as a missing one
    listed = await client.get(CONTENT, headers=auth(caller))
    assert {i["id"] for i in listed.json()["items"]} == {owned[name] for name in visible}


@pytest.mark.parametrize(("caller", "status", "code"), [(ACME_LENA, 403, "forbidden"), *SIGNED_OUT])
async def test_learners_and_the_signed_out_read_nothing_here(
    client: httpx.AsyncClient, owned: dict[str, str], caller: str, status: int, code: str
) -> None:
    # Lena sees the granted item in her catalogue; this authoring surface is not hers.
    for path in (f"{CONTENT}/{owned['platform_granted']}", CONTENT, f"{CONTENT}/{owned['acme']}/versions"):
        assert_problem(await client.get(path, headers=headers(caller)), status, code)


# ----------------------------------------------------------------------------------------------------
# Update and optimistic concurrency
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "target", "status", "code"),
    [
        (SUPER, "acme", 200, None),
        (MANAGER, "acme", 200, None),
        (ACME_ADMIN, "acme", 200, None),
        (MANAGER, "platform_draft", 200, None),
        (SPECIALIST, "acme", 403, "forbidden"),
        (ACME_ADMIN, "platform_granted", 403, "forbidden"),
        (ACME_ADMIN, "platform_draft", 404, "not_found"),
        (GLOBEX_ADMIN, "acme", 404, "not_found"),
        (ACME_LENA, "acme", 403, "forbidden"),
        *[(who, "acme", status, code) for who, status, code in SIGNED_OUT],
    ],
)
async def test_who_may_change_an_item(
    client: httpx.AsyncClient,
    sql: Sql,
    owned: dict[str, str],
    caller: str,
    target: str,
    status: int,
    code: str | None,
) -> None:
    item = owned[target]
    before = item_row(sql, item)
    response = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "prompt", "title": "Changed"},
        headers=headers(caller, **{"If-Match": etag(sql, item)}),
    )
    after = item_row(sql, item)
    if code is None:
        assert response.status_code == status, response.text
        assert after is not None and after["title"] == "Changed" and after["revision"] == 2
        assert after["updated_by"] == caller
        assert response.headers["etag"] == strong_etag(item, 2)
        assert audit_actions(sql) == ["content.updated"]
    else:
        assert_problem(response, status, code)
        assert after == before
        assert audit_actions(sql) == []


async def test_a_write_without_a_revision_is_428_and_changes_nothing(
    client: httpx.AsyncClient, sql: Sql, owned: dict[str, str]
) -> None:
    item = owned["acme"]
    before = item_row(sql, item)
    calls = [
        client.patch(f"{CONTENT}/{item}", json={"type": "prompt", "title": "X"}, headers=auth(ACME_ADMIN)),
        client.patch(
            f"{CONTENT}/{item}",
            json={"type": "prompt", "title": "X"},
            headers={**auth(ACME_ADMIN), "If-Match": "*"},
        ),
        client.post(f"{CONTENT}/{item}/publish", json={}, headers=auth(ACME_ADMIN)),
        client.delete(f"{CONTENT}/{item}", headers=auth(ACME_ADMIN)),
    ]
    statuses = []
    for call in calls:
        response = await call
        statuses.append(response.status_code)
        if response.status_code == 428:
            assert_problem(response, 428, "precondition_required")
    # `If-Match: *` ("whatever is there") names no revision.
    assert statuses == [428, 428, 428, 428]
    assert item_row(sql, item) == before and versions(sql, item) == []


@pytest.mark.parametrize("how", ["if-match", "revision", "weakened if-match"])
async def test_a_stale_write_is_409_and_changes_nothing(
    client: httpx.AsyncClient, sql: Sql, owned: dict[str, str], how: str
) -> None:
    item = owned["acme"]
    old_tag = etag(sql, item)
    first = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "prompt", "title": "First"},
        headers={**auth(ACME_ADMIN), "If-Match": old_tag},
    )
    assert first.status_code == 200
    after_first = item_row(sql, item)

    body: dict[str, Any] = {"type": "prompt", "title": "Second", "change_summary": "mine"}
    extra = {}
    if how == "revision":
        body["revision"] = 1
    else:
        extra["If-Match"] = old_tag if how == "if-match" else f"W/{old_tag}"
    stale = await client.patch(f"{CONTENT}/{item}", json=body, headers={**auth(MANAGER), **extra})

    problem = assert_problem(stale, 409, "stale_version")
    assert "revision 2" in problem["detail"]
    assert item_row(sql, item) == after_first and versions(sql, item) == []
    assert audit_actions(sql) == ["content.updated"]
    # The current revision is accepted.
    body.pop("revision", None)
    ok = await client.patch(
        f"{CONTENT}/{item}", json=body, headers={**auth(MANAGER), "If-Match": first.headers["etag"]}
    )
    assert ok.status_code == 200, ok.text


async def test_an_etag_of_another_item_is_stale(
    client: httpx.AsyncClient, sql: Sql, owned: dict[str, str]
) -> None:
    # Both are at revision 1: the tag names the item as well as the revision.
    response = await client.patch(
        f"{CONTENT}/{owned['acme']}",
        json={"type": "prompt", "title": "X"},
        headers={**auth(ACME_ADMIN), "If-Match": etag(sql, owned["globex"])},
    )
    assert_problem(response, 409, "stale_version")


async def test_an_items_type_never_changes(
    client: httpx.AsyncClient, sql: Sql, owned: dict[str, str]
) -> None:
    item = owned["acme"]
    response = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "pdf", "payload": PAYLOADS["pdf"]},
        headers={**auth(ACME_ADMIN), "If-Match": etag(sql, item)},
    )
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == "body.type" and body["errors"][0]["type"] == "type_immutable"
    row = item_row(sql, item)
    assert row is not None and row["type"] == "prompt" and row["revision"] == 1


async def test_a_payload_is_replaced_whole_and_checked(
    client: httpx.AsyncClient, sql: Sql, owned: dict[str, str]
) -> None:
    item = owned["acme"]
    bad = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "prompt", "payload": {"prompt_text": ""}},
        headers={**auth(ACME_ADMIN), "If-Match": etag(sql, item)},
    )
    assert_problem(bad, 422, "validation_failed")
    good = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "prompt", "payload": {"prompt_text": "New text"}},
        headers={**auth(ACME_ADMIN), "If-Match": etag(sql, item)},
    )
    assert good.status_code == 200, good.text
    row = item_row(sql, item)
    assert row is not None and row["payload"] == {"prompt_text": "New text", "category": None}


async def test_a_change_to_nothing_writes_nothing(
    client: httpx.AsyncClient, sql: Sql, owned: dict[str, str]
) -> None:
    item = owned["acme"]
    response = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "prompt", "title": "Acme's own"},
        headers={**auth(ACME_ADMIN), "If-Match": etag(sql, item)},
    )
    assert response.status_code == 200 and response.json()["revision"] == 1
    assert audit_actions(sql) == []


# ----------------------------------------------------------------------------------------------------
# Lifecycle
# ----------------------------------------------------------------------------------------------------


async def step(
    client: httpx.AsyncClient, sql: Sql, item: str, action: str, caller: str = ACME_ADMIN
) -> httpx.Response:
    return await client.post(
        f"{CONTENT}/{item}/{action}", json={"revision": item_row(sql, item)["revision"]}, headers=auth(caller)
    )  # type: ignore[index]


async def test_the_lifecycle_runs_draft_published_draft_archived_draft(
    client: httpx.AsyncClient, sql: Sql, owned: dict[str, str]
) -> None:
    item = owned["acme"]
    seen = []
    for action in ("publish", "unpublish", "publish", "archive", "unarchive"):
        response = await step(client, sql, item, action)
        assert response.status_code == 200, response.text
        seen.append(response.json()["status"])
    assert seen == ["published", "draft", "published", "archived", "draft"]
    assert [(v["number"], v["kind"]) for v in versions(sql, item)] == [(1, "publish"), (2, "publish")]
    assert audit_actions(sql) == [
        "content.published",
        "content.unpublished",
        "content.published",
        "content.archived",
        "content.unarchived",
    ]
    row = item_row(sql, item)
    assert row is not None and row["published_at"] is not None and row["revision"] == 6


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("published", "publish"),
        ("archived", "publish"),
        ("draft", "unpublish"),
        ("archived", "archive"),
        ("draft", "unarchive"),
    ],
)
async def test_invalid_transitions_are_409_and_change_nothing(
    client: httpx.AsyncClient, sql: Sql, status: str, action: str
) -> None:
    item = make_item(sql, ACME, status=status)
    before = item_row(sql, item)
    assert_problem(await step(client, sql, item, action), 409, "invalid_transition")
    assert item_row(sql, item) == before and versions(sql, item) == []


async def test_an_archived_item_is_read_only(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql, ACME, status="archived")
    response = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "prompt", "title": "X"},
        headers={**auth(ACME_ADMIN), "If-Match": etag(sql, item)},
    )
    assert_problem(response, 409, "item_archived")


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [(SPECIALIST, 403, "forbidden"), (GLOBEX_ADMIN, 404, "not_found"), (ACME_LENA, 403, "forbidden")],
)
@pytest.mark.parametrize("action", ["publish", "unpublish", "archive", "unarchive"])
async def test_only_writers_step_the_lifecycle(
    client: httpx.AsyncClient, sql: Sql, caller: str, status: int, code: str, action: str
) -> None:
    item = make_item(
        sql,
        ACME,
        status="archived" if action == "unarchive" else "published" if action == "unpublish" else "draft",
    )
    before = item_row(sql, item)
    assert_problem(await step(client, sql, item, action, caller), status, code)
    assert item_row(sql, item) == before


# ----------------------------------------------------------------------------------------------------
# Delete
# ----------------------------------------------------------------------------------------------------


async def test_a_never_published_item_is_deleted_with_its_versions(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await client.post(CONTENT, json=new_item("prompt", ACME), headers=auth(ACME_ADMIN))
    item = created.json()["id"]
    saved = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "prompt", "change_summary": "checkpoint"},
        headers={**auth(ACME_ADMIN), "If-Match": created.headers["etag"]},
    )
    assert saved.status_code == 200 and len(versions(sql, item)) == 1
    response = await client.delete(f"{CONTENT}/{item}", params={"revision": 1}, headers=auth(ACME_ADMIN))
    assert response.status_code == 204 and response.content == b""
    assert item_row(sql, item) is None and versions(sql, item) == []
    assert audit_actions(sql)[-1] == "content.deleted"


async def test_an_item_once_published_is_archived_not_deleted(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql, ACME, status="published")
    assert (await step(client, sql, item, "unpublish")).status_code == 200
    response = await client.delete(
        f"{CONTENT}/{item}", headers={**auth(ACME_ADMIN), "If-Match": etag(sql, item)}
    )
    assert_problem(response, 409, "item_was_published")
    assert item_row(sql, item) is not None


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [
        (SPECIALIST, 403, "forbidden"),
        (GLOBEX_ADMIN, 404, "not_found"),
        (ACME_LENA, 403, "forbidden"),
        *SIGNED_OUT,
    ],
)
async def test_only_writers_delete(
    client: httpx.AsyncClient, sql: Sql, caller: str, status: int, code: str
) -> None:
    item = make_item(sql, ACME)
    response = await client.delete(
        f"{CONTENT}/{item}", headers=headers(caller, **{"If-Match": etag(sql, item)})
    )
    assert_problem(response, status, code)
    assert item_row(sql, item) is not None
