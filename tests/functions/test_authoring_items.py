"""WODs, BLOCKs and programs are content items: one mechanism, each function serving its own types.

What the database holds for every caller: the references a payload names (an item the owner may not use
is refused, a used item cannot be deleted) and quiz answer keys that only editors read.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shared.platform.db import RuleViolationError, as_user
from tests.content_helpers import grant, item_row, make_item
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, MANAGER, auth, claims
from tests.helpers import Sql, assert_problem, count

pytestmark = pytest.mark.asyncio


def wod_with(*content_ids: str) -> dict[str, Any]:
    """A WOD payload whose one page embeds the given prompt items."""
    blocks = [{"type": "prompt", "content_id": cid} for cid in content_ids]
    return {"difficulty": "beginner", "pages": [{"title": "One", "blocks": blocks}]}


@pytest.mark.parametrize(
    ("function", "body"),
    [
        ("wods", {"type": "wod", "title": "Prompting 101"}),
        ("blocks", {"type": "block", "title": "Warm-up", "payload": {"category": "warm-up"}}),
        ("programs", {"type": "program", "title": "Four weeks", "payload": {"estimated_weeks": 4}}),
    ],
)
async def test_each_function_creates_and_serves_only_its_own_type(
    client: httpx.AsyncClient, sql: Sql, function: str, body: dict[str, Any]
) -> None:
    created = await client.post(f"/{function}", json={**body, "community_id": ACME}, headers=auth(ACME_ADMIN))
    assert created.status_code == 201, created.text
    item = created.json()["id"]
    assert created.headers["Location"] == f"/functions/v1/{function}/{item}"
    assert item_row(sql, item)["type"] == body["type"]  # type: ignore[index]

    listed = await client.get(f"/{function}", headers=auth(ACME_ADMIN))
    as_content = await client.get(f"/content/{item}", headers=auth(ACME_ADMIN))
    content_list = await client.get("/content", headers=auth(ACME_ADMIN))
    prompt = make_item(sql, ACME)
    prompt_here = await client.get(f"/{function}/{prompt}", headers=auth(ACME_ADMIN))
    other_type = await client.post(f"/{function}", json={**body, "type": "prompt"}, headers=auth(ACME_ADMIN))

    assert [i["id"] for i in listed.json()["items"]] == [item]
    assert_problem(as_content, 404, "not_found")
    assert item not in {i["id"] for i in content_list.json()["items"]}
    assert_problem(prompt_here, 404, "not_found")
    assert_problem(other_type, 422, "validation_failed")


async def test_the_lifecycle_and_versions_are_the_content_mechanism(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await client.post(
        "/wods", json={"type": "wod", "title": "Lesson", "community_id": ACME}, headers=auth(ACME_ADMIN)
    )
    wod = created.json()["id"]
    published = await client.post(
        f"/wods/{wod}/publish", json={"revision": 1, "change_summary": "First"}, headers=auth(ACME_ADMIN)
    )
    stale = await client.patch(
        f"/wods/{wod}", json={"type": "wod", "title": "Late", "revision": 1}, headers=auth(ACME_ADMIN)
    )
    history = await client.get(f"/wods/{wod}/versions", headers=auth(ACME_ADMIN))

    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert_problem(stale, 409, "stale_version")
    assert [v["number"] for v in history.json()["items"]] == [1]
    assert item_row(sql, wod)["title"] == "Lesson"  # type: ignore[index]


async def test_programs_are_not_filed_in_folders(client: httpx.AsyncClient, sql: Sql) -> None:
    folder = sql(
        "insert into content_folders (community_id, repository, name) values (%s, 'wods', 'f') returning id::text",
        (ACME,),
    )[0]["id"]
    program = await client.post(
        "/programs",
        json={"type": "program", "title": "P", "community_id": ACME, "folder_id": folder},
        headers=auth(ACME_ADMIN),
    )
    wod = await client.post(
        "/wods",
        json={"type": "wod", "title": "W", "community_id": ACME, "folder_id": folder},
        headers=auth(ACME_ADMIN),
    )
    assert_problem(program, 422, "validation_failed")
    assert wod.status_code == 201, wod.text
    assert count(sql, "select count(*) as n from content_items where type = 'program'") == 0


async def test_a_payload_keeps_its_references_and_a_used_item_cannot_be_deleted(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    prompt = make_item(sql, ACME)
    wod = make_item(sql, ACME, content_type="wod", payload=wod_with(prompt))
    refs = sql("select target_id::text from content_references where item_id = %s", (wod,))
    deleted = await client.delete(f"/content/{prompt}", params={"revision": 1}, headers=auth(ACME_ADMIN))

    assert [r["target_id"] for r in refs] == [prompt]
    assert_problem(deleted, 409, "item_in_use")
    assert item_row(sql, prompt) is not None
    # Once the WOD no longer names it, it may go; one statement may also delete both together.
    sql("update content_items set payload = %s::jsonb where id = %s", (json.dumps(wod_with()), wod))
    assert count(sql, "select count(*) as n from content_references where item_id = %s", (wod,)) == 0
    again = await client.delete(f"/content/{prompt}", params={"revision": 1}, headers=auth(ACME_ADMIN))
    assert again.status_code == 204, again.text
    other = make_item(sql, ACME)
    both = make_item(sql, ACME, content_type="wod", payload=wod_with(other))
    sql("delete from content_items where id in (%s, %s)", (other, both))
    assert item_row(sql, other) is None


async def test_a_payload_cannot_name_an_item_its_owner_may_not_use(sql: Sql) -> None:
    theirs = make_item(sql, GLOBEX)
    platform = make_item(sql, None, status="published")
    granted = make_item(sql, None, status="published")
    grant(sql, granted, ACME)

    async with as_user(claims(ACME_ADMIN)) as tx:
        rows = await tx.fetch_all(
            "insert into content_items (community_id, type, title, payload, created_by, updated_by)"
            " values (%s, 'wod', 'ok', %s::jsonb, %s, %s) returning id",
            (ACME, json.dumps(wod_with(granted)), ACME_ADMIN, ACME_ADMIN),
        )
        assert len(rows) == 1
    for refused in (theirs, platform):
        with pytest.raises(RuleViolationError) as caught:
            async with as_user(claims(ACME_ADMIN)) as tx:
                await tx.execute(
                    "insert into content_items (community_id, type, title, payload, created_by, updated_by)"
                    " values (%s, 'wod', 'no', %s::jsonb, %s, %s)",
                    (ACME, json.dumps(wod_with(refused)), ACME_ADMIN, ACME_ADMIN),
                )
        assert caught.value.code == "unknown_reference"
    assert count(sql, "select count(*) as n from content_items where title = 'no'") == 0


async def test_answer_keys_are_read_by_editors_never_by_learners(sql: Sql) -> None:
    wod = make_item(sql, ACME, content_type="wod", status="published", payload=wod_with())
    grant(sql, wod, ACME)
    sql("insert into content_item_keys (item_id, keys) values (%s, '{\"b\": {\"q\": {\"answer\": 1}}}')", (wod,))

    async with as_user(claims(ACME_LENA)) as tx:
        learner_item = await tx.fetch_all("select id from content_items where id = %s", (wod,))
        learner_keys = await tx.fetch_all("select keys from content_item_keys")
    async with as_user(claims(ACME_ADMIN)) as tx:
        admin_keys = await tx.fetch_all("select keys from content_item_keys where item_id = %s", (wod,))
    async with as_user(claims(MANAGER)) as tx:
        staff_keys = await tx.fetch_all("select keys from content_item_keys where item_id = %s", (wod,))

    assert len(learner_item) == 1  # the learner reads the published WOD...
    assert learner_keys == []  # ...and never its answers
    assert admin_keys == staff_keys == [{"keys": {"b": {"q": {"answer": 1}}}}]
