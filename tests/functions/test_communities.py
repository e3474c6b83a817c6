"""`communities` through the real handler, against the real database (row level security on)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from cryptography.exceptions import InvalidTag

from shared.platform import logging as log
from shared.platform.crypto import decrypt
from shared.platform.errors import ConflictError
from tests.content_rows import make_grant, make_item
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
from tests.helpers import Sql, count

API_KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


async def create(client: httpx.AsyncClient, user: str = MANAGER, **fields: Any) -> httpx.Response:
    """POST a community with sensible defaults for the fields not given."""
    slug = fields.pop("slug", f"c-{uuid.uuid4().hex[:10]}")
    body = {"name": fields.pop("name", f"Community {slug}"), "slug": slug, **fields}
    return await client.post("/communities", headers=auth(user), json=body)


def audit_rows(sql: Sql, action: str) -> list[dict[str, Any]]:
    return sql(
        "select actor_id::text, actor_type, target_type, target_id, community_id::text, before, after,"
        " request_id from audit_log where action = %s order by id",
        (action,),
    )


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Capture the structured log; returns everything written so far."""
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    return buffer.getvalue


# --- create -------------------------------------------------------------------------------------------


async def test_manager_creates_community_with_default_ai_settings_and_audit_entry(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await create(
        client,
        name="Initech",
        slug="initech",
        project_name="Initech AI",
        brand_color="#AABBCC",
        logo_url="https://cdn.example.com/initech.png",
        features={"chat": True, "leaderboard": False},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["access"] == "full"
    assert body["name"] == "Initech" and body["slug"] == "initech"
    assert body["brand_color"] == "#aabbcc"
    assert body["features"] == {"chat": True, "leaderboard": False}
    assert body["status"] == "active" and body["is_template"] is False and body["member_count"] == 0
    assert body["ai_settings"]["default_provider"] == "offline"
    assert body["ai_settings"]["has_own_key"] is False
    assert response.headers["location"] == f"/functions/v1/communities/{body['id']}"
    assert response.headers["etag"] == f'W/"{body["version"]}"'
    assert sql("select name, slug from communities where id = %s", (body["id"],)) == [
        {"name": "Initech", "slug": "initech"}
    ]
    assert (
        count(sql, "select count(*) as n from community_ai_settings where community_id = %s", (body["id"],))
        == 1
    )
    [entry] = audit_rows(sql, "community.created")
    assert entry["actor_id"] == MANAGER and entry["actor_type"] == "user"
    assert entry["request_id"] == response.headers["x-request-id"]
    assert entry["target_type"] == "community" and entry["target_id"] == body["id"]
    assert entry["community_id"] == body["id"]
    assert entry["after"]["slug"] == "initech" and entry["before"] is None


@pytest.mark.parametrize("user", [ACME_LENA, ACME_ADMIN, SPECIALIST], ids=["learner", "admin", "specialist"])
async def test_non_writers_cannot_create_community(
    client: httpx.AsyncClient, db: str, sql: Sql, user: str
) -> None:
    response = await create(client, user, slug="nope")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert sql("select id from communities where slug = 'nope'") == []
    assert audit_rows(sql, "community.created") == []


async def test_duplicate_name_is_409_community_name_taken_ignoring_case(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await create(client, name="ACME corp", slug="acme-two")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "community_name_taken"
    assert count(sql, "select count(*) as n from communities") == 2


async def test_duplicate_slug_is_409_community_slug_taken(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await create(client, name="Acme Two", slug="acme")
    assert response.status_code == 409
    assert response.json()["code"] == "community_slug_taken"
    assert count(sql, "select count(*) as n from communities") == 2


async def test_invalid_slug_colour_and_feature_name_are_422_with_field_errors(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await create(
        client,
        slug="Bad_Slug",
        brand_color="blue",
        features={"Forum": True, "ok_flag": "yes"},
        logo_url="ftp://x.example.com/a.png",
    )
    assert response.status_code == 422
    locs = {e["loc"] for e in response.json()["errors"]}
    assert {"body.slug", "body.brand_color", "body.logo_url", "body.features.ok_flag"} <= locs
    assert any(loc.startswith("body.features.Forum") for loc in locs)
    assert count(sql, "select count(*) as n from communities") == 2


async def test_more_than_fifty_features_is_422(client: httpx.AsyncClient, db: str) -> None:
    response = await create(client, features={f"flag_{i}": True for i in range(51)})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == ["body.features"]


async def test_idempotent_create_replay_returns_same_body_and_creates_one_community(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    headers = {**auth(MANAGER), "Idempotency-Key": "create-initech-1"}
    body = {"name": "Initech", "slug": "initech"}
    first = await client.post("/communities", headers=headers, json=body)
    again = await client.post("/communities", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert count(sql, "select count(*) as n from communities where slug = 'initech'") == 1
    assert len(audit_rows(sql, "community.created")) == 1


# --- templates ----------------------------------------------------------------------------------------


async def _template_with_everything(client: httpx.AsyncClient, sql: Sql) -> str:
    """A template community with features, tags held by a member, custom AI settings and its own key."""
    response = await create(
        client,
        name="Starter",
        slug="starter",
        is_template=True,
        brand_color="#123456",
        features={"chat": True, "streaks": False},
    )
    assert response.status_code == 201, response.text
    template_id: str = response.json()["id"]
    sql(
        "insert into memberships (community_id, user_id, role) values (%s, %s, 'admin')",
        (template_id, ACME_LENA),
    )
    sql(
        "insert into user_tags (community_id, name, color) values (%s, 'Sales', '#ff0000'), (%s, 'Ops', '#00ff00')",
        (template_id, template_id),
    )
    sql(
        "insert into user_tag_assignments (tag_id, user_id, community_id)"
        " select id, %s, community_id from user_tags where community_id = %s",
        (ACME_LENA, template_id),
    )
    sql(
        "update community_ai_settings set default_provider = 'anthropic', default_model = 'claude-x',"
        " monthly_token_quota = 5000, conversation_retention_days = 90 where community_id = %s",
        (template_id,),
    )
    sql(
        "insert into app.community_secrets (community_id, provider, ciphertext) values (%s, 'anthropic', %s)",
        (template_id, b"\x01" + b"x" * 40),
    )
    sql(
        "update community_ai_settings set has_own_key = true, own_key_provider = 'anthropic'"
        " where community_id = %s",
        (template_id,),
    )
    return template_id


async def test_create_from_template_copies_features_tags_and_ai_settings_and_nothing_else(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    template_id = await _template_with_everything(client, sql)
    response = await create(
        client, name="Clone", slug="clone", template_id=template_id, features={"streaks": True, "quiz": True}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    clone_id = body["id"]
    assert body["template_source_id"] == template_id
    assert body["features"] == {"chat": True, "streaks": True, "quiz": True}
    assert body["brand_color"] is None and body["is_template"] is False
    assert body["member_count"] == 0
    assert body["ai_settings"] | {"updated_at": None} == {
        "community_id": clone_id,
        "default_provider": "anthropic",
        "default_model": "claude-x",
        "monthly_token_quota": 5000,
        "conversation_retention_days": 90,
        "has_own_key": False,
        "own_key_provider": None,
        "updated_at": None,
    }
    assert sql("select name, color from user_tags where community_id = %s order by name", (clone_id,)) == [
        {"name": "Ops", "color": "#00ff00"},
        {"name": "Sales", "color": "#ff0000"},
    ]
    assert (
        count(sql, "select count(*) as n from user_tag_assignments where community_id = %s", (clone_id,)) == 0
    )
    assert count(sql, "select count(*) as n from memberships where community_id = %s", (clone_id,)) == 0
    assert (
        count(sql, "select count(*) as n from app.community_secrets where community_id = %s", (clone_id,))
        == 0
    )
    # The template itself is untouched.
    assert count(sql, "select count(*) as n from user_tags where community_id = %s", (template_id,)) == 2
    [entry] = [e for e in audit_rows(sql, "community.created") if e["target_id"] == clone_id]
    assert entry["after"]["template_source_id"] == template_id and entry["after"]["cloned_tags"] == 2


async def test_create_from_template_grants_the_platform_content_the_template_is_granted(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    template_id = await _template_with_everything(client, sql)
    [sales] = sql("select id::text from user_tags where community_id = %s and name = 'Sales'", (template_id,))
    platform = make_item(sql, title="for everyone")
    tagged = make_item(sql, title="for sales")
    personal = make_item(sql, title="for lena")
    own = make_item(sql, community=template_id, title="the template's own")
    make_grant(sql, platform, template_id, starts="-1 day", ends="30 days")
    make_grant(sql, tagged, template_id, tag=sales["id"])
    make_grant(sql, personal, template_id, user=ACME_LENA)
    make_grant(sql, own, template_id)

    response = await create(client, name="Clone", slug="clone", template_id=template_id)

    assert response.status_code == 201, response.text
    clone_id = response.json()["id"]
    cloned = sql(
        "select g.item_id::text, t.name as tag, g.user_id, g.starts_at, g.ends_at, g.created_by::text"
        " from content_grants g left join user_tags t on t.id = g.tag_id where g.community_id = %s"
        " order by g.item_id = %s desc",
        (clone_id, platform),
    )
    [original] = sql(
        "select starts_at, ends_at from content_grants where item_id = %s and community_id = %s",
        (platform, template_id),
    )
    assert [(g["item_id"], g["tag"], g["user_id"]) for g in cloned] == [
        (platform, None, None),
        (tagged, "Sales", None),
    ]
    assert (cloned[0]["starts_at"], cloned[0]["ends_at"]) == (original["starts_at"], original["ends_at"])
    assert {g["created_by"] for g in cloned} == {MANAGER}
    assert count(sql, "select count(*) as n from content_grants where community_id = %s", (template_id,)) == 4
    [entry] = [e for e in audit_rows(sql, "community.created") if e["target_id"] == clone_id]
    assert entry["after"]["cloned_grants"] == 2


async def test_create_from_a_community_that_is_not_a_template_is_422(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await create(client, template_id=ACME)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body.template_id"
    assert count(sql, "select count(*) as n from communities") == 2


async def test_clone_into_taken_slug_is_409_and_creates_no_tags(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    template_id = await _template_with_everything(client, sql)
    response = await create(client, name="Clone", slug="acme", template_id=template_id)
    assert response.status_code == 409
    assert response.json()["code"] == "community_slug_taken"
    assert count(sql, "select count(*) as n from user_tags") == 2, "only the template's own tags"
    assert sql("select id from communities where name = 'Clone'") == []


async def test_failure_mid_clone_leaves_nothing_behind(
    client: httpx.AsyncClient, db: str, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.identity.communities import service

    template_id = await _template_with_everything(client, sql)
    audited = len(audit_rows(sql, "community.created"))

    async def failing_hook(*args: Any, **kwargs: Any) -> None:
        raise ConflictError("Refused on purpose, after the tags and AI settings were cloned.")

    monkeypatch.setattr(service, "clone_content_assignments", failing_hook)
    response = await create(client, name="Clone", slug="clone", template_id=template_id)
    assert response.status_code == 409
    assert sql("select id from communities where slug = 'clone'") == []
    assert count(sql, "select count(*) as n from user_tags") == 2
    assert count(sql, "select count(*) as n from community_ai_settings") == 3  # acme, globex, template
    assert len(audit_rows(sql, "community.created")) == audited


# --- list ---------------------------------------------------------------------------------------------


async def test_list_pages_chain_without_duplicates_or_omissions(client: httpx.AsyncClient, db: str) -> None:
    created = set()
    for i in (5, 2, 7, 1, 6, 3, 4):
        response = await create(client, name=f"Page {i}", slug=f"page-{i}")
        assert response.status_code == 201
        created.add(response.json()["id"])
    seen: list[str] = []
    params: dict[str, Any] = {"q": "page", "limit": 3}
    pages = 0
    while True:
        response = await client.get("/communities", headers=auth(SPECIALIST), params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += [item["name"] for item in page["items"]]
        created -= {item["id"] for item in page["items"]}
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert pages == 3
    assert seen == [f"Page {i}" for i in range(1, 8)]
    assert created == set()


async def test_list_items_carry_member_counts(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get("/communities", headers=auth(MANAGER))
    assert response.status_code == 200
    counts = {item["slug"]: item["member_count"] for item in response.json()["items"]}
    assert counts == {"acme": 3, "globex": 2}
    assert response.json()["next_cursor"] is None


async def test_list_search_takes_percent_and_underscore_literally(client: httpx.AsyncClient, db: str) -> None:
    for name, slug in [("100% Fit", "fit-100"), ("1000 Fit", "fit-1000"), ("a_b", "a-b"), ("axb", "axb")]:
        assert (await create(client, name=name, slug=slug)).status_code == 201

    async def names(q: str) -> list[str]:
        response = await client.get("/communities", headers=auth(MANAGER), params={"q": q})
        assert response.status_code == 200
        return [item["name"] for item in response.json()["items"]]

    assert await names("100%") == ["100% Fit"]
    assert await names("a_b") == ["a_b"]
    assert await names("FIT") == ["100% Fit", "1000 Fit"]
    assert await names("globex") == ["Globex"]


async def test_list_filters_by_status_and_template(client: httpx.AsyncClient, db: str, sql: Sql) -> None:
    assert (await create(client, name="Tpl", slug="tpl", is_template=True)).status_code == 201
    sql("update communities set status = 'archived' where id = %s", (GLOBEX,))

    async def slugs(**params: Any) -> list[str]:
        response = await client.get("/communities", headers=auth(MANAGER), params=params)
        assert response.status_code == 200, response.text
        return [item["slug"] for item in response.json()["items"]]

    assert await slugs(status="archived") == ["globex"]
    assert await slugs(status="active") == ["acme", "tpl"]
    assert await slugs(is_template="true") == ["tpl"]
    assert await slugs(is_template="false", status="active") == ["acme"]


@pytest.mark.parametrize("user", [ACME_ADMIN, ACME_LENA], ids=["admin", "learner"])
async def test_list_is_refused_to_non_staff(client: httpx.AsyncClient, db: str, user: str) -> None:
    response = await client.get("/communities", headers=auth(user))
    assert response.status_code == 403


async def test_list_refuses_bad_filters_and_foreign_cursors(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(
        "/communities",
        headers=auth(MANAGER),
        params={"status": "deleted", "limit": 0, "cursor": "bm90LWEtY3Vyc29y"},
    )
    assert response.status_code == 422
    assert {e["loc"] for e in response.json()["errors"]} == {"query.status", "query.limit"}
    response = await client.get(
        "/communities", headers=auth(MANAGER), params={"cursor": "WyJ4Iiwibm90LWEtdXVpZCJd"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "query.cursor"


# --- read ---------------------------------------------------------------------------------------------


async def test_acme_admin_reads_acme_with_every_setting(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(f"/communities/{ACME}", headers=auth(ACME_ADMIN))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["access"] == "full"
    assert body["member_count"] == 3
    assert body["features"] == {"leaderboard": True}
    assert body["ai_settings"]["default_model"] == "offline-echo"
    assert response.headers["etag"] == f'W/"{body["version"]}"'


async def test_learner_reads_only_basic_info_of_own_community(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(f"/communities/{ACME}", headers=auth(ACME_LENA))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "access": "basic",
        "id": ACME,
        "name": "Acme Corp",
        "slug": "acme",
        "project_name": "Acme AI Academy",
        "logo_url": None,
        "brand_color": "#0055ff",
        "forum_enabled": True,
        "features": {"leaderboard": True},
    }


@pytest.mark.parametrize("user", [ACME_ADMIN, ACME_LENA], ids=["admin", "learner"])
async def test_other_communitys_id_is_404_not_403(client: httpx.AsyncClient, db: str, user: str) -> None:
    response = await client.get(f"/communities/{GLOBEX}", headers=auth(user))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_staff_reading_unknown_community_gets_404(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(f"/communities/{uuid.uuid4()}", headers=auth(SPECIALIST))
    assert response.status_code == 404


# --- update -------------------------------------------------------------------------------------------


async def test_admin_updates_branding_and_audit_keeps_before_and_after(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await client.patch(
        f"/communities/{ACME}",
        headers=auth(ACME_ADMIN),
        json={
            "name": "Acme Corporation",
            "brand_color": "#00AA00",
            "project_name": None,
            "forum_enabled": True,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["name"] == "Acme Corporation"
        and body["brand_color"] == "#00aa00"
        and body["project_name"] is None
    )
    assert body["member_count"] == 3
    assert response.headers["etag"] == f'W/"{body["version"]}"'
    [entry] = audit_rows(sql, "community.updated")
    assert entry["actor_id"] == ACME_ADMIN and entry["community_id"] == ACME
    assert entry["request_id"] == response.headers["x-request-id"]
    # forum_enabled did not change, so it is not part of the entry.
    assert entry["before"] == {
        "name": "Acme Corp",
        "brand_color": "#0055ff",
        "project_name": "Acme AI Academy",
    }
    assert entry["after"] == {"name": "Acme Corporation", "brand_color": "#00aa00", "project_name": None}


@pytest.mark.parametrize(
    "change",
    [
        {"slug": "acme-new"},
        {"is_template": True},
        {"status": "archived"},
        {"name": "Renamed", "slug": "renamed"},
    ],
    ids=["slug", "is_template", "status", "name-and-slug"],
)
async def test_admin_cannot_change_platform_fields_and_nothing_changes(
    client: httpx.AsyncClient, db: str, sql: Sql, change: dict[str, Any]
) -> None:
    response = await client.patch(f"/communities/{ACME}", headers=auth(ACME_ADMIN), json=change)
    assert response.status_code == 403
    assert sql("select name, slug, status, is_template from communities where id = %s", (ACME,)) == [
        {"name": "Acme Corp", "slug": "acme", "status": "active", "is_template": False}
    ]
    assert audit_rows(sql, "community.updated") == []


@pytest.mark.parametrize(
    ("user", "status"),
    [(SPECIALIST, 403), (ACME_LENA, 403), (GLOBEX_ADMIN, 404)],
    ids=["specialist", "learner", "other-admin"],
)
async def test_patch_refused_to_callers_who_may_not_write(
    client: httpx.AsyncClient, db: str, sql: Sql, user: str, status: int
) -> None:
    response = await client.patch(f"/communities/{ACME}", headers=auth(user), json={"name": "Hijacked"})
    assert response.status_code == status
    assert sql("select name from communities where id = %s", (ACME,)) == [{"name": "Acme Corp"}]


async def test_manager_changes_slug_and_taken_name_is_409(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await client.patch(f"/communities/{ACME}", headers=auth(MANAGER), json={"slug": "acme-corp"})
    assert response.status_code == 200, response.text
    assert response.json()["slug"] == "acme-corp"
    taken = await client.patch(f"/communities/{ACME}", headers=auth(MANAGER), json={"name": "globex"})
    assert taken.status_code == 409
    assert taken.json()["code"] == "community_name_taken"
    assert sql("select name, slug from communities where id = %s", (ACME,)) == [
        {"name": "Acme Corp", "slug": "acme-corp"}
    ]


async def test_stale_if_match_is_409_and_current_one_succeeds(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    first = await client.get(f"/communities/{ACME}", headers=auth(ACME_ADMIN))
    etag = first.headers["etag"]
    changed = await client.patch(
        f"/communities/{ACME}", headers={**auth(ACME_ADMIN), "If-Match": etag}, json={"name": "Acme One"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != etag
    stale = await client.patch(
        f"/communities/{ACME}", headers={**auth(MANAGER), "If-Match": etag}, json={"name": "Acme Two"}
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert sql("select name from communities where id = %s", (ACME,)) == [{"name": "Acme One"}]
    strong = changed.headers["etag"].removeprefix("W/")
    fresh = await client.patch(
        f"/communities/{ACME}", headers={**auth(MANAGER), "If-Match": strong}, json={"name": "Acme Two"}
    )
    assert fresh.status_code == 200
    assert len(audit_rows(sql, "community.updated")) == 2


async def test_patch_with_nothing_to_change_writes_no_audit_entry(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await client.patch(
        f"/communities/{ACME}", headers=auth(ACME_ADMIN), json={"name": "Acme Corp"}
    )
    assert response.status_code == 200
    assert audit_rows(sql, "community.updated") == []


# --- archive / restore --------------------------------------------------------------------------------


async def test_archive_hides_community_from_its_members_and_restore_brings_it_back(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    archived = await client.post(f"/communities/{ACME}/archive", headers=auth(MANAGER))
    assert archived.status_code == 200, archived.text
    assert archived.json()["status"] == "archived"
    me = (await client.get("/me", headers=auth(ACME_LENA))).json()
    assert me["memberships"] == []
    for user in (ACME_LENA, ACME_ADMIN):
        assert (await client.get(f"/communities/{ACME}", headers=auth(user))).status_code == 404
    assert (
        await client.patch(f"/communities/{ACME}", headers=auth(ACME_ADMIN), json={"name": "X"})
    ).status_code == 404
    assert (await client.get(f"/communities/{ACME}", headers=auth(SPECIALIST))).json()["status"] == "archived"
    [entry] = audit_rows(sql, "community.archived")
    assert entry["actor_id"] == MANAGER and entry["request_id"] == archived.headers["x-request-id"]
    assert (entry["before"], entry["after"]) == ({"status": "active"}, {"status": "archived"})

    again = await client.post(f"/communities/{ACME}/archive", headers=auth(MANAGER))
    assert again.status_code == 200 and len(audit_rows(sql, "community.archived")) == 1

    restored = await client.post(f"/communities/{ACME}/restore", headers=auth(SUPER))
    assert restored.status_code == 200 and restored.json()["status"] == "active"
    assert (await client.get(f"/communities/{ACME}", headers=auth(ACME_LENA))).status_code == 200
    [entry] = audit_rows(sql, "community.restored")
    assert entry["actor_id"] == SUPER and entry["request_id"] == restored.headers["x-request-id"]


@pytest.mark.parametrize("user", [ACME_ADMIN, SPECIALIST, ACME_LENA], ids=["admin", "specialist", "learner"])
async def test_only_staff_writers_archive(client: httpx.AsyncClient, db: str, sql: Sql, user: str) -> None:
    response = await client.post(f"/communities/{ACME}/archive", headers=auth(user))
    assert response.status_code == 403
    assert sql("select status from communities where id = %s", (ACME,)) == [{"status": "active"}]


# --- features -----------------------------------------------------------------------------------------


async def test_admin_replaces_feature_flags_with_audit_entry(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await client.put(
        f"/communities/{ACME}/features", headers=auth(ACME_ADMIN), json={"features": {"streaks": True}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["features"] == {"streaks": True}
    assert sql("select features from communities where id = %s", (ACME,)) == [{"features": {"streaks": True}}]
    [entry] = audit_rows(sql, "community.features_replaced")
    assert entry["actor_id"] == ACME_ADMIN and entry["request_id"] == response.headers["x-request-id"]
    assert (entry["before"], entry["after"]) == (
        {"features": {"leaderboard": True}},
        {"features": {"streaks": True}},
    )


async def test_feature_replacement_refuses_bad_names_learners_and_stale_versions(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    bad = await client.put(
        f"/communities/{ACME}/features", headers=auth(MANAGER), json={"features": {"9lives": True}}
    )
    assert bad.status_code == 422
    learner = await client.put(
        f"/communities/{ACME}/features", headers=auth(ACME_LENA), json={"features": {}}
    )
    assert learner.status_code == 403
    stale = await client.put(
        f"/communities/{ACME}/features", headers={**auth(MANAGER), "If-Match": 'W/"1"'}, json={"features": {}}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert sql("select features from communities where id = %s", (ACME,)) == [{"features": {"leaderboard": True}}]


# --- AI settings --------------------------------------------------------------------------------------


async def test_ai_settings_are_read_by_staff_and_the_admin_only(client: httpx.AsyncClient, db: str) -> None:
    for user in (ACME_ADMIN, SPECIALIST):
        response = await client.get(f"/communities/{ACME}/ai-settings", headers=auth(user))
        assert response.status_code == 200, response.text
        assert response.json()["has_own_key"] is False
    assert (await client.get(f"/communities/{ACME}/ai-settings", headers=auth(ACME_LENA))).status_code == 403
    assert (
        await client.get(f"/communities/{ACME}/ai-settings", headers=auth(GLOBEX_ADMIN))
    ).status_code == 404


async def test_admin_sets_provider_and_model_but_not_the_quota(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await client.patch(
        f"/communities/{ACME}/ai-settings",
        headers=auth(ACME_ADMIN),
        json={"default_provider": "openai", "default_model": "gpt-4o-mini"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["default_provider"] == "openai"
    quota = await client.patch(
        f"/communities/{ACME}/ai-settings", headers=auth(ACME_ADMIN), json={"monthly_token_quota": 10**9}
    )
    assert quota.status_code == 403
    assert sql("select monthly_token_quota from community_ai_settings where community_id = %s", (ACME,)) == [
        {"monthly_token_quota": 1000000}
    ]
    [entry] = audit_rows(sql, "community.ai_settings_updated")
    assert (
        entry["before"]["default_provider"] == "offline" and entry["after"]["default_model"] == "gpt-4o-mini"
    )


async def test_manager_sets_the_quota(client: httpx.AsyncClient, db: str, sql: Sql) -> None:
    response = await client.patch(
        f"/communities/{ACME}/ai-settings", headers=auth(MANAGER), json={"monthly_token_quota": 250000}
    )
    assert response.status_code == 200, response.text
    assert response.json()["monthly_token_quota"] == 250000
    [entry] = audit_rows(sql, "community.ai_settings_updated")
    assert entry["actor_id"] == MANAGER and entry["request_id"] == response.headers["x-request-id"]
    assert (entry["before"]["monthly_token_quota"], entry["after"]["monthly_token_quota"]) == (
        1000000,
        250000,
    )


async def test_own_api_key_is_write_only_encrypted_and_never_logged(
    client: httpx.AsyncClient, db: str, sql: Sql, log_lines: Callable[[], str]
) -> None:
    response = await client.patch(
        f"/communities/{ACME}/ai-settings",
        headers=auth(ACME_ADMIN),
        json={"default_provider": "openai", "api_key": API_KEY},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["has_own_key"] is True and body["own_key_provider"] == "openai"
    assert API_KEY not in response.text
    read = await client.get(f"/communities/{ACME}/ai-settings", headers=auth(SUPER))
    assert read.json()["has_own_key"] is True and API_KEY not in read.text
    full = await client.get(f"/communities/{ACME}", headers=auth(SUPER))
    assert full.json()["ai_settings"]["has_own_key"] is True and API_KEY not in full.text

    [secret] = sql("select provider, ciphertext from app.community_secrets where community_id = %s", (ACME,))
    ciphertext = bytes(secret["ciphertext"])
    assert secret["provider"] == "openai"
    assert API_KEY.encode() not in ciphertext
    assert decrypt(ciphertext, bound_to=ACME) == API_KEY
    with pytest.raises(InvalidTag):  # bound to Acme: another community cannot decrypt it
        decrypt(ciphertext, bound_to=GLOBEX)

    assert API_KEY not in log_lines()
    [entry] = audit_rows(sql, "community.ai_settings_updated")
    assert API_KEY not in json.dumps(entry)
    assert entry["after"]["own_key"] == "set" and entry["after"]["has_own_key"] is True
    assert entry["before"]["has_own_key"] is False


async def test_null_api_key_removes_the_key(client: httpx.AsyncClient, db: str, sql: Sql) -> None:
    url = f"/communities/{ACME}/ai-settings"
    await client.patch(url, headers=auth(SUPER), json={"api_key": API_KEY, "api_key_provider": "gemini"})
    assert sql("select own_key_provider from community_ai_settings where community_id = %s", (ACME,)) == [
        {"own_key_provider": "gemini"}
    ]
    response = await client.patch(url, headers=auth(ACME_ADMIN), json={"api_key": None})
    assert response.status_code == 200, response.text
    assert response.json()["has_own_key"] is False and response.json()["own_key_provider"] is None
    assert sql("select * from app.community_secrets") == []
    assert [e["after"]["own_key"] for e in audit_rows(sql, "community.ai_settings_updated")] == [
        "set",
        "removed",
    ]


async def test_manager_cannot_handle_provider_keys(client: httpx.AsyncClient, db: str, sql: Sql) -> None:
    response = await client.patch(
        f"/communities/{ACME}/ai-settings",
        headers=auth(MANAGER),
        json={"api_key": API_KEY, "api_key_provider": "openai"},
    )
    assert response.status_code == 403
    assert sql("select * from app.community_secrets") == []


async def test_key_for_the_offline_provider_needs_a_key_provider(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    response = await client.patch(
        f"/communities/{ACME}/ai-settings", headers=auth(ACME_ADMIN), json={"api_key": API_KEY}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body.api_key_provider"
    assert sql("select * from app.community_secrets") == []


async def test_malformed_api_key_is_422_without_echoing_it(
    client: httpx.AsyncClient, db: str, log_lines: Callable[[], str]
) -> None:
    short = "sk-short-secret"
    response = await client.patch(
        f"/communities/{ACME}/ai-settings",
        headers=auth(ACME_ADMIN),
        json={"api_key": short, "api_key_provider": "openai"},
    )
    assert response.status_code == 422
    assert "body.api_key" in {e["loc"] for e in response.json()["errors"]}
    assert short not in response.text and short not in log_lines()


# --- delete -------------------------------------------------------------------------------------------


async def test_delete_needs_a_super_admin_and_the_slug_as_confirmation(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    manager = await client.delete(
        f"/communities/{GLOBEX}", headers=auth(MANAGER), params={"confirm": "globex"}
    )
    assert manager.status_code == 403
    missing = await client.delete(f"/communities/{GLOBEX}", headers=auth(SUPER))
    assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == "query.confirm"
    wrong = await client.delete(f"/communities/{GLOBEX}", headers=auth(SUPER), params={"confirm": "acme"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == "query.confirm"
    assert count(sql, "select count(*) as n from communities where id = %s", (GLOBEX,)) == 1
    assert audit_rows(sql, "community.deleted") == []

    deleted = await client.delete(f"/communities/{GLOBEX}", headers=auth(SUPER), params={"confirm": "globex"})
    assert deleted.status_code == 204, deleted.text
    assert count(sql, "select count(*) as n from communities where id = %s", (GLOBEX,)) == 0
    assert count(sql, "select count(*) as n from memberships where community_id = %s", (GLOBEX,)) == 0
    assert (
        count(sql, "select count(*) as n from community_ai_settings where community_id = %s", (GLOBEX,)) == 0
    )
    [entry] = audit_rows(sql, "community.deleted")
    assert entry["actor_id"] == SUPER and entry["request_id"] == deleted.headers["x-request-id"]
    assert entry["before"]["slug"] == "globex" and entry["before"]["member_count"] == 2
    gone = await client.delete(f"/communities/{GLOBEX}", headers=auth(SUPER), params={"confirm": "globex"})
    assert gone.status_code == 404


# --- the database's own guards ------------------------------------------------------------------------


def as_user(dsn: str, user: str, statement: str, params: Any = None) -> None:
    """Run one statement as the signed-in `user`, under row level security (as PostgREST would)."""
    import psycopg

    claims = json.dumps({"sub": user, "role": "authenticated"})
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "select set_config('request.jwt.claims', %s, true), set_config('role', 'authenticated', true)",
            (claims,),
        )
        conn.execute(statement, params)


@pytest.mark.parametrize(
    "statement",
    [
        "update community_ai_settings set monthly_token_quota = 1 where community_id = %s",
        "update community_ai_settings set has_own_key = true where community_id = %s",
        "select * from app.community_secrets where community_id = %s",
        "update communities set slug = 'acme-x' where id = %s",
    ],
    ids=["quota", "has_own_key", "read-secrets", "slug"],
)
def test_database_refuses_community_admin_platform_writes_and_secret_reads(db: str, statement: str) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_user(db, ACME_ADMIN, statement, (ACME,))


def test_database_lets_only_super_admin_or_the_admin_set_a_key(db: str, sql: Sql) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_user(db, MANAGER, "select app.set_community_provider_key(%s, 'openai', %s)", (ACME, b"\x01" * 40))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_user(db, GLOBEX_ADMIN, "select app.clear_community_provider_key(%s)", (ACME,))
    assert sql("select * from app.community_secrets") == []


async def test_forum_is_switched_by_forum_enabled_alone(client: httpx.AsyncClient, db: str, sql: Sql) -> None:
    flag = await client.put(
        f"/communities/{ACME}/features", headers=auth(MANAGER), json={"features": {"forum": False}}
    )
    assert flag.status_code == 422
    assert flag.json()["errors"][0]["loc"] == "body.features"
    off = await client.patch(f"/communities/{ACME}", headers=auth(ACME_ADMIN), json={"forum_enabled": False})
    assert off.status_code == 200 and off.json()["forum_enabled"] is False
    assert sql("select forum_enabled, features from communities where id = %s", (ACME,)) == [
        {"forum_enabled": False, "features": {"leaderboard": True}}
    ]
    with pytest.raises(psycopg.errors.CheckViolation):  # the database refuses the old flag from anyone
        sql("update communities set features = '{\"forum\": true}' where id = %s", (ACME,))
