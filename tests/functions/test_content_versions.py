"""Versions of content items through the real handler: saving, gapless numbers under races, reading,
comparing and restoring."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from shared.platform.caching import strong_etag
from shared.platform.db import as_user
from tests.content_helpers import AGENT, item_row, make_item, new_item, versions
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    GLOBEX_ADMIN,
    MANAGER,
    SPECIALIST,
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem

CONTENT = "/content"


async def create(
    client: httpx.AsyncClient, body: dict[str, Any], caller: str = ACME_ADMIN
) -> tuple[str, str]:
    response = await client.post(CONTENT, json=body, headers=auth(caller))
    assert response.status_code == 201, response.text
    return response.json()["id"], response.headers["etag"]


async def change(
    client: httpx.AsyncClient, item: str, tag: str, body: dict[str, Any], caller: str = ACME_ADMIN
) -> httpx.Response:
    return await client.patch(f"{CONTENT}/{item}", json=body, headers={**auth(caller), "If-Match": tag})


async def test_an_explicit_save_snapshots_the_result_and_a_plain_edit_does_not(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item, tag = await create(client, new_item("prompt", ACME))
    edited = await change(client, item, tag, {"type": "prompt", "title": "Draft two"})
    assert edited.status_code == 200 and versions(sql, item) == []

    saved = await change(
        client,
        item,
        edited.headers["etag"],
        {"type": "prompt", "title": "Three", "change_summary": "Tighter"},
    )

    assert saved.status_code == 200, saved.text
    (version,) = versions(sql, item)
    assert (version["number"], version["kind"], version["change_summary"], version["author_id"]) == (
        1,
        "save",
        "Tighter",
        ACME_ADMIN,
    )
    assert version["snapshot"]["title"] == "Three" and version["snapshot"]["status"] == "draft"
    assert version["snapshot"]["payload"] == item_row(sql, item)["payload"]  # type: ignore[index]
    checkpoint = await change(
        client, item, saved.headers["etag"], {"type": "prompt", "change_summary": "Checkpoint"}
    )
    assert checkpoint.status_code == 200 and checkpoint.json()["revision"] == saved.json()["revision"]
    actions = [
        r["action"] for r in sql("select action from audit_log where target_id = %s order by id", (item,))
    ]
    assert actions == ["content.created", "content.updated", "content.updated", "content.version_saved"]


async def test_every_change_to_published_content_is_a_version(client: httpx.AsyncClient, sql: Sql) -> None:
    item, tag = await create(client, new_item("prompt", ACME))
    published = await client.post(
        f"{CONTENT}/{item}/publish",
        json={"change_summary": "Go live"},
        headers={**auth(ACME_ADMIN), "If-Match": tag},
    )
    assert published.status_code == 200
    fixed = await change(client, item, published.headers["etag"], {"type": "prompt", "title": "Typo fixed"})
    assert fixed.status_code == 200
    assert [(v["number"], v["kind"], v["change_summary"]) for v in versions(sql, item)] == [
        (1, "publish", "Go live"),
        (2, "publish", ""),
    ]
    assert item_row(sql, item)["latest_version"] == 2  # type: ignore[index]


async def test_concurrent_saves_get_gapless_distinct_numbers(client: httpx.AsyncClient, sql: Sql) -> None:
    item, tag = await create(client, new_item("prompt", ACME))
    # A save that changes no content keeps the revision, so every one of these may succeed.
    saves = [change(client, item, tag, {"type": "prompt", "change_summary": f"save {n}"}) for n in range(12)]

    responses = await asyncio.gather(*saves)

    assert [r.status_code for r in responses] == [200] * 12
    numbers = [v["number"] for v in versions(sql, item)]
    assert numbers == list(range(1, 13))
    assert sorted(v["change_summary"] for v in versions(sql, item)) == sorted(f"save {n}" for n in range(12))
    assert item_row(sql, item)["latest_version"] == 12  # type: ignore[index]


async def test_concurrent_edits_of_one_revision_let_exactly_one_win(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item, tag = await create(client, new_item("prompt", ACME))
    edits = [
        change(client, item, tag, {"type": "prompt", "title": f"Title {n}", "change_summary": "x"})
        for n in range(8)
    ]

    responses = await asyncio.gather(*edits)

    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    assert all(r.json()["code"] == "stale_version" for r in responses if r.status_code == 409)
    winner = next(r.json()["title"] for r in responses if r.status_code == 200)
    row = item_row(sql, item)
    assert row is not None and row["title"] == winner and row["revision"] == 2
    assert [v["number"] for v in versions(sql, item)] == [1]


@pytest.mark.parametrize("first_outcome", ["commit", "rollback"])
async def test_two_transactions_racing_take_consecutive_numbers(sql: Sql, first_outcome: str) -> None:
    # PostgREST-style: two writers insert versions directly; the database numbers them under the row lock.
    item = make_item(sql, ACME)
    insert = "insert into content_versions (item_id, number, kind, snapshot, author_id) values (%s, 99, 'save', '{}', %s)"
    holding, release = asyncio.Event(), asyncio.Event()

    class Abandon(Exception):
        pass

    async def first() -> None:
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute(insert, (item, ACME_ADMIN))
            holding.set()
            await release.wait()
            if first_outcome == "rollback":
                raise Abandon

    async def second() -> None:
        await holding.wait()
        async with as_user(claims(MANAGER)) as tx:
            await tx.execute(insert, (item, MANAGER))

    one, two = asyncio.create_task(first()), asyncio.create_task(second())
    await holding.wait()
    await asyncio.sleep(0.3)
    assert not two.done()  # waiting for the first transaction's lock on the item
    release.set()
    if first_outcome == "rollback":
        with pytest.raises(Abandon):
            await one
    else:
        await one
    await two

    expected = [(1, ACME_ADMIN), (2, MANAGER)] if first_outcome == "commit" else [(1, MANAGER)]
    assert [(v["number"], v["author_id"]) for v in versions(sql, item)] == expected
    assert item_row(sql, item)["latest_version"] == len(expected)  # type: ignore[index]


# ----------------------------------------------------------------------------------------------------
# Listing and reading
# ----------------------------------------------------------------------------------------------------


async def saved_item(client: httpx.AsyncClient, saves: int) -> tuple[str, str]:
    item, tag = await create(client, new_item("prompt", ACME))
    for n in range(saves):
        response = await change(
            client, item, tag, {"type": "prompt", "title": f"Title {n}", "change_summary": f"v{n + 1}"}
        )
        tag = response.headers["etag"]
    return item, tag


async def test_versions_are_listed_newest_first_page_by_page(client: httpx.AsyncClient, sql: Sql) -> None:
    item, _ = await saved_item(client, 5)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (
            await client.get(f"{CONTENT}/{item}/versions", params=params, headers=auth(SPECIALIST))
        ).json()
        seen += [v["number"] for v in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]


async def test_an_item_without_versions_lists_none_and_a_hidden_one_is_404(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    ours, theirs = make_item(sql, ACME), make_item(sql, GLOBEX)
    response = await client.get(f"{CONTENT}/{ours}/versions", headers=auth(ACME_ADMIN))
    assert response.status_code == 200 and response.json() == {"items": [], "next_cursor": None}
    assert_problem(
        await client.get(f"{CONTENT}/{theirs}/versions", headers=auth(ACME_ADMIN)), 404, "not_found"
    )


async def test_a_version_is_read_with_its_snapshot_and_revalidated_with_304(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item, _ = await saved_item(client, 2)
    response = await client.get(f"{CONTENT}/{item}/versions/1", headers=auth(MANAGER))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["number"], body["kind"], body["change_summary"]) == (1, "save", "v1")
    assert body["snapshot"]["title"] == "Title 0"
    tag = response.headers["etag"]
    again = await client.get(f"{CONTENT}/{item}/versions/1", headers={**auth(MANAGER), "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert_problem(await client.get(f"{CONTENT}/{item}/versions/3", headers=auth(MANAGER)), 404, "not_found")
    assert_problem(
        await client.get(f"{CONTENT}/{item}/versions/1", headers=auth(GLOBEX_ADMIN)), 404, "not_found"
    )
    assert_problem(
        await client.get(f"{CONTENT}/{item}/versions/1", headers=auth(ACME_LENA)), 403, "forbidden"
    )


# ----------------------------------------------------------------------------------------------------
# Compare and restore
# ----------------------------------------------------------------------------------------------------


async def agent_with_two_versions(client: httpx.AsyncClient) -> tuple[str, str]:
    item, tag = await create(client, new_item("ai_agent", ACME, title="Coach", tags=["ai"]))
    first = await change(client, item, tag, {"type": "ai_agent", "change_summary": "first"})
    settings = {**AGENT["model_settings"], "model": "gpt-4o", "temperature": 0.9}
    second = await change(
        client,
        item,
        first.headers["etag"],
        {
            "type": "ai_agent",
            "title": "Coach Pro",
            "tags": ["ai", "pro"],
            "payload": {**AGENT, "model_settings": settings},
            "change_summary": "second",
        },
    )
    assert second.status_code == 200, second.text
    return item, second.headers["etag"]


async def test_two_versions_are_compared_field_by_field_inside_the_payload(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item, _ = await agent_with_two_versions(client)
    response = await client.get(
        f"{CONTENT}/{item}/compare", params={"from": 1, "to": 2}, headers=auth(SPECIALIST)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from_version"], body["to_version"]) == (1, 2)
    assert {c["field"]: (c["before"], c["after"]) for c in body["changes"]} == {
        "title": ("Coach", "Coach Pro"),
        "tags": (["ai"], ["ai", "pro"]),
        "payload.model_settings.model": ("gpt-4o-mini", "gpt-4o"),
        "payload.model_settings.temperature": (0.3, 0.9),
    }
    same = await client.get(
        f"{CONTENT}/{item}/compare", params={"from": 2, "to": 2}, headers=auth(SPECIALIST)
    )
    assert same.json()["changes"] == []


async def test_a_version_is_compared_with_the_item_as_it_is_now(client: httpx.AsyncClient, sql: Sql) -> None:
    item, tag = await agent_with_two_versions(client)
    await change(client, item, tag, {"type": "ai_agent", "description": "Unsaved edit"})
    body = (
        await client.get(f"{CONTENT}/{item}/compare", params={"from": 2}, headers=auth(ACME_ADMIN))
    ).json()
    assert body["to_version"] is None
    assert body["changes"] == [{"field": "description", "before": "", "after": "Unsaved edit"}]


@pytest.mark.parametrize("params", [{"from": 1, "to": 9}, {"from": 9}])
async def test_comparing_a_missing_version_is_404(
    client: httpx.AsyncClient, sql: Sql, params: dict[str, int]
) -> None:
    item, _ = await agent_with_two_versions(client)
    assert_problem(
        await client.get(f"{CONTENT}/{item}/compare", params=params, headers=auth(ACME_ADMIN)),
        404,
        "not_found",
    )
    assert_problem(
        await client.get(f"{CONTENT}/{item}/compare", params={"from": 1}, headers=auth(GLOBEX_ADMIN)),
        404,
        "not_found",
    )


async def test_a_restore_is_a_new_version_and_a_new_revision(client: httpx.AsyncClient, sql: Sql) -> None:
    item, tag = await agent_with_two_versions(client)
    before = item_row(sql, item)
    assert before is not None

    response = await client.post(
        f"{CONTENT}/{item}/versions/1/restore", json={}, headers={**auth(ACME_ADMIN), "If-Match": tag}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["title"] == "Coach"
        and body["tags"] == ["ai"]
        and body["payload"]["model_settings"]["model"] == "gpt-4o-mini"
    )
    assert body["revision"] == before["revision"] + 1 and body["status"] == "draft"
    assert response.headers["etag"] == strong_etag(item, body["revision"])
    history = versions(sql, item)
    assert [(v["number"], v["kind"], v["change_summary"]) for v in history] == [
        (1, "save", "first"),
        (2, "save", "second"),
        (3, "restore", "Restored version 1"),
    ]
    audit = sql("select action, after from audit_log where target_id = %s order by id desc limit 1", (item,))
    assert audit[0]["action"] == "content.restored" and audit[0]["after"]["from"] == 1
    assert {k: v for k, v in history[2]["snapshot"].items() if k != "status"} == {
        k: v for k, v in history[0]["snapshot"].items() if k != "status"
    }


async def test_a_stale_or_unauthorised_restore_changes_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    item, tag = await agent_with_two_versions(client)
    before, history = item_row(sql, item), versions(sql, item)
    stale = await client.post(
        f"{CONTENT}/{item}/versions/1/restore", json={"revision": 1}, headers=auth(ACME_ADMIN)
    )
    assert_problem(stale, 409, "stale_version")
    for caller, status, code in [
        (SPECIALIST, 403, "forbidden"),
        (GLOBEX_ADMIN, 404, "not_found"),
        (ACME_LENA, 403, "forbidden"),
    ]:
        response = await client.post(
            f"{CONTENT}/{item}/versions/1/restore", json={}, headers={**auth(caller), "If-Match": tag}
        )
        assert_problem(response, status, code)
    missing = await client.post(
        f"{CONTENT}/{item}/versions/7/restore", json={}, headers={**auth(ACME_ADMIN), "If-Match": tag}
    )
    assert_problem(missing, 404, "not_found")
    assert item_row(sql, item) == before and versions(sql, item) == history


async def test_restoring_published_content_keeps_it_published_and_versions_it(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item, tag = await agent_with_two_versions(client)
    published = await client.post(
        f"{CONTENT}/{item}/publish", json={}, headers={**auth(MANAGER), "If-Match": tag}
    )
    restored = await client.post(
        f"{CONTENT}/{item}/versions/1/restore",
        json={"change_summary": "Back to basics"},
        headers={**auth(MANAGER), "If-Match": published.headers["etag"]},
    )
    assert restored.status_code == 200 and restored.json()["status"] == "published"
    assert [(v["kind"], v["change_summary"]) for v in versions(sql, item)][-1] == (
        "restore",
        "Back to basics",
    )


async def test_an_admin_reads_granted_platform_content_but_not_its_history(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    # Row level security: versions are for those who may write the item (staff, the owning community's admins).
    item, tag = await create(client, new_item("prompt"), caller=MANAGER)
    published = await client.post(
        f"{CONTENT}/{item}/publish", json={}, headers={**auth(MANAGER), "If-Match": tag}
    )
    assert published.status_code == 200
    sql("insert into content_grants (item_id, community_id) values (%s, %s)", (item, ACME))

    assert (await client.get(f"{CONTENT}/{item}", headers=auth(ACME_ADMIN))).status_code == 200
    history = await client.get(f"{CONTENT}/{item}/versions", headers=auth(ACME_ADMIN))
    assert history.status_code == 200 and history.json()["items"] == []
    assert_problem(
        await client.get(f"{CONTENT}/{item}/versions/1", headers=auth(ACME_ADMIN)), 404, "not_found"
    )
    assert [
        v["number"]
        for v in (await client.get(f"{CONTENT}/{item}/versions", headers=auth(SPECIALIST))).json()["items"]
    ] == [1]


@pytest.mark.parametrize(
    "snapshot",
    [
        {"title": "Forged", "description": "", "tags": [], "payload": {"prompt_text": ""}},
        {
            "title": "Forged",
            "description": "",
            "tags": [],
            "payload": {"url": "javascript:alert(1)", "platform": "other"},
        },
        {"title": "", "description": "", "tags": [], "payload": {"prompt_text": "ok"}},
        {"title": "No payload"},
    ],
    ids=["empty prompt", "another type's payload", "empty title", "fields missing"],
)
async def test_a_version_written_around_the_api_is_checked_before_it_is_restored(
    client: httpx.AsyncClient, sql: Sql, snapshot: dict[str, Any]
) -> None:
    # An admin may insert a version through PostgREST with any JSON as its snapshot.
    item = make_item(sql, ACME)
    async with as_user(claims(ACME_ADMIN)) as tx:
        await tx.execute(
            "insert into content_versions (item_id, kind, snapshot, author_id) values (%s, 'save', %s::jsonb, %s)",
            (item, json.dumps(snapshot), ACME_ADMIN),
        )
    before = item_row(sql, item)
    response = await client.post(
        f"{CONTENT}/{item}/versions/1/restore", json={"revision": 1}, headers=auth(ACME_ADMIN)
    )
    assert_problem(response, 409, "version_not_restorable")
    assert item_row(sql, item) == before and len(versions(sql, item)) == 1


async def test_a_restored_document_gets_its_figures_derived_again(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql, ACME, content_type="document", payload={"html_body": "<p>one</p>"})
    forged = {
        "title": "T",
        "description": "",
        "tags": [],
        "thumbnail_url": None,
        "payload": {
            "html_body": "<p>one two three</p>",
            "json_body": None,
            "word_count": 999,
            "reading_minutes": 99,
        },
    }
    sql(
        "insert into content_versions (item_id, kind, snapshot) values (%s, 'save', %s::jsonb)",
        (item, json.dumps(forged)),
    )
    response = await client.post(
        f"{CONTENT}/{item}/versions/1/restore", json={"revision": 1}, headers=auth(ACME_ADMIN)
    )
    assert response.status_code == 200, response.text
    assert (response.json()["payload"]["word_count"], response.json()["payload"]["reading_minutes"]) == (3, 1)
