"""`POST /wods/bulk` and `POST /blocks/bulk`: the bulk operations of `content`, each function for its own
items and folders; a copy brings its original's quiz answers and references, a used item is not deleted."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.content_helpers import make_item
from tests.factories import ACME, ACME_ADMIN, auth
from tests.helpers import Sql, assert_problem, count

KEYS = {"b1": {"q1": {"answer": "yes", "explanation": "Because."}}}


def wod(sql: Sql, *embedded: str, title: str = "Lesson") -> str:
    blocks = [{"id": f"b{n}", "type": "prompt", "content_id": cid} for n, cid in enumerate(embedded, 1)]
    payload = {"difficulty": "beginner", "pages": [{"id": "p1", "title": "One", "blocks": blocks}]}
    return make_item(sql, ACME, content_type="wod", title=title, payload=payload)


def folder(sql: Sql, repository: str) -> str:
    rows = sql(
        "insert into content_folders (community_id, repository, name) values (%s, %s, 'F') returning id::text",
        (ACME, repository),
    )
    return str(rows[0]["id"])


def rows(sql: Sql) -> dict[str, dict[str, Any]]:
    found = sql("select id::text, type, title, folder_id::text, payload from content_items")
    return {r["id"]: r for r in found}


async def bulk(client: httpx.AsyncClient, function: str, **body: Any) -> httpx.Response:
    return await client.post(f"/{function}/bulk", json=body, headers=auth(ACME_ADMIN))


async def test_wods_are_moved_into_wods_folders_only_and_content_ids_are_not_theirs(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    lesson, prompt = wod(sql), make_item(sql, ACME)
    wods, content = folder(sql, "wods"), folder(sql, "content")
    before = rows(sql)

    into_content = await bulk(client, "wods", action="move", ids=[lesson], folder_id=content)
    with_a_prompt = await bulk(client, "wods", action="move", ids=[lesson, prompt], folder_id=wods)

    assert assert_problem(into_content, 409, "bulk_refused")["failures"] == [{"id": lesson, "code": "unknown_folder"}]
    assert assert_problem(with_a_prompt, 409, "bulk_refused")["failures"] == [{"id": prompt, "code": "not_found"}]
    assert rows(sql) == before
    moved = await bulk(client, "wods", action="move", ids=[lesson], folder_id=wods)
    assert moved.status_code == 200, moved.text
    assert rows(sql)[lesson]["folder_id"] == wods


async def test_a_copied_wod_brings_its_quiz_answers_and_references(client: httpx.AsyncClient, sql: Sql) -> None:
    prompt = make_item(sql, ACME)
    lesson = wod(sql, prompt)
    sql("insert into content_item_keys (item_id, keys) values (%s, %s::jsonb)", (lesson, json.dumps(KEYS)))

    response = await bulk(client, "wods", action="copy", ids=[lesson])

    assert response.status_code == 200, response.text
    copy = response.json()["copies"][0]["id"]
    assert rows(sql)[copy]["payload"] == rows(sql)[lesson]["payload"]  # pages as they are (no fresh-ids hook yet)
    keys = {r["item_id"]: r["keys"] for r in sql("select item_id::text, keys from content_item_keys")}
    assert keys == {lesson: KEYS, copy: KEYS}
    references = sql("select item_id::text, target_id::text from content_references order by item_id")
    assert sorted((r["item_id"], r["target_id"]) for r in references) == sorted([(lesson, prompt), (copy, prompt)])


async def test_an_item_a_wod_uses_is_not_deleted_and_the_batch_with_it(client: httpx.AsyncClient, sql: Sql) -> None:
    used, unused = make_item(sql, ACME, title="used"), make_item(sql, ACME, title="unused")
    wod(sql, used)
    before = rows(sql)

    response = await bulk(client, "content", action="delete", ids=[unused, used])

    assert_problem(response, 409, "item_in_use")
    assert rows(sql) == before
    assert count(sql, "select count(*) as n from audit_log where target_type = 'content_item'") == 0


async def test_blocks_are_favourited_and_listed_by_the_blocks_function(client: httpx.AsyncClient, sql: Sql) -> None:
    block = make_item(sql, ACME, content_type="block", payload={"category": "cardio", "pages": []})
    other = make_item(sql, ACME, content_type="block", payload={"category": "general", "pages": []})

    response = await bulk(client, "blocks", action="favourite", ids=[block])

    assert response.status_code == 200, response.text
    mine = await client.get("/blocks", params={"favourite": "true"}, headers=auth(ACME_ADMIN))
    rest = await client.get("/blocks", params={"favourite": "false"}, headers=auth(ACME_ADMIN))
    assert ([i["id"] for i in mine.json()["items"]], [i["id"] for i in rest.json()["items"]]) == ([block], [other])
