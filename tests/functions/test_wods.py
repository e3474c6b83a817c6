"""`wods` and `blocks` pages through the real handlers against the real database: pages of typed blocks,
quiz answers kept apart from the payload, page and block moves under If-Match, embeds checked, duplicate,
versions, and who may do what."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.platform.db import RuleViolationError, as_user
from tests.content_helpers import grant, make_item, versions
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, GLOBEX_ADMIN, MANAGER, SPECIALIST, auth
from tests.helpers import Sql, assert_problem, count

WODS = "/wods"
QUIZ: dict[str, Any] = {
    "type": "quiz",
    "title": "Check",
    "questions": [
        {
            "kind": "single_choice",
            "prompt": "Pick",
            "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
            "answer": ["b"],
            "explanation": "B is plain.",
        },
        {"kind": "true_false", "prompt": "Longer is better", "answer": False, "explanation": "Clear is."},
    ],
}


def wod(community: str | None = ACME, *page_blocks: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    pages = [{"title": f"Page {n + 1}", "blocks": blocks} for n, blocks in enumerate(page_blocks)]
    body: dict[str, Any] = {"type": "wod", "title": "A WOD", "payload": {"pages": pages}, **fields}
    if community is not None:
        body["community_id"] = community
    return body


def strings(value: Any) -> set[str]:
    text = json.dumps(value)
    return {s for s in ('"answer"', '"explanation"', "B is plain.", "Clear is.") if s in text}


def stored(sql: Sql, item: str) -> dict[str, Any]:
    rows = sql(
        "select i.payload, i.revision, i.status, k.keys from content_items i"
        " left join content_item_keys k on k.item_id = i.id where i.id = %s",
        (item,),
    )
    return rows[0]


def references(sql: Sql, item: str) -> set[str]:
    rows = sql("select target_id::text from content_references where item_id = %s", (item,))
    return {r["target_id"] for r in rows}


async def create(client: httpx.AsyncClient, body: dict[str, Any], caller: str = ACME_ADMIN) -> httpx.Response:
    response = await client.post(WODS, json=body, headers=auth(caller))
    assert response.status_code == 201, response.text
    return response


def first_page(response: httpx.Response) -> dict[str, Any]:
    page: dict[str, Any] = response.json()["payload"]["pages"][0]
    return page


def page_titles(sql: Sql, item: str) -> list[str]:
    return [p["title"] for p in stored(sql, item)["payload"]["pages"]]


@pytest.fixture
def video(sql: Sql) -> str:
    return make_item(sql, ACME, content_type="video", status="published")


# ----------------------------------------------------------------------------------------------------
# Create and read: answers apart, editors see them
# ----------------------------------------------------------------------------------------------------


async def test_a_wod_is_created_with_pages_its_answers_kept_apart_and_read_back_whole(
    client: httpx.AsyncClient, sql: Sql, video: str
) -> None:
    blocks = [{"type": "section_header", "title": "Go"}, {"type": "video", "content_id": video}, QUIZ]
    created = await create(client, wod(ACME, blocks, [{"type": "divider"}]))
    item = created.json()["id"]

    read = await client.get(f"{WODS}/{item}", headers=auth(ACME_ADMIN))

    assert read.status_code == 200 and read.headers["etag"] == created.headers["etag"]
    assert read.json()["payload"] == created.json()["payload"]
    questions = first_page(read)["blocks"][2]["questions"]
    assert [q["answer"] for q in questions] == [["b"], False] and questions[0]["explanation"] == "B is plain."
    assert 'desc="1 round trip"' in read.headers["server-timing"]
    row = stored(sql, item)
    assert not strings(row["payload"]) and strings(row["keys"]) == {'"answer"', '"explanation"', "B is plain.", "Clear is."}
    quiz_id = first_page(read)["blocks"][2]["id"]
    assert row["keys"] == {quiz_id: {q["id"]: {"answer": q["answer"], "explanation": q["explanation"]} for q in questions}}
    assert references(sql, item) == {video}


async def test_a_wod_without_a_quiz_has_no_keys(client: httpx.AsyncClient, sql: Sql) -> None:
    item = (await create(client, wod(ACME, [{"type": "quote", "text": "Hi"}]))).json()["id"]
    assert stored(sql, item)["keys"] is None


async def test_learners_never_read_answers_not_even_through_postgrest(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = (await create(client, wod(ACME, [QUIZ]))).json()["id"]
    etag = (await client.get(f"{WODS}/{item}", headers=auth(ACME_ADMIN))).headers["etag"]
    published = await client.post(f"{WODS}/{item}/publish", json={}, headers={**auth(ACME_ADMIN), "If-Match": etag})
    assert published.status_code == 200, published.text
    grant(sql, item, ACME)
    lena = {"sub": ACME_LENA, "role": "authenticated"}

    async with as_user(lena) as tx:
        items = await tx.fetch_all("select payload from public.content_items where id = %s", (item,))
        keys = await tx.fetch_all("select * from public.content_item_keys")
        snapshots = await tx.fetch_all("select snapshot from public.content_versions")
    catalogue = await client.get("/catalogue", params={"type": "wod"}, headers=auth(ACME_LENA))
    opened = await client.get(f"/catalogue/{item}", headers=auth(ACME_LENA))
    route = await client.get(f"{WODS}/{item}", headers=auth(ACME_LENA))

    assert len(items) == 1 and items[0]["payload"]["pages"][0]["blocks"][0]["questions"][0]["prompt"] == "Pick"
    assert not strings(items[0]["payload"]) and keys == [] and snapshots == []
    assert catalogue.status_code == 200 and [i["id"] for i in catalogue.json()["items"]] == [item]
    assert not strings(catalogue.json())
    assert opened.status_code == 200 and opened.json()["payload"]["pages"][0]["blocks"][0]["type"] == "quiz"
    assert not strings(opened.json())
    assert_problem(route, 403, "forbidden")


async def test_a_community_admin_reads_a_granted_platform_wod_without_its_answers(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = (await create(client, wod(None, [QUIZ]), caller=MANAGER)).json()["id"]
    sql("update content_items set status = 'published' where id = %s", (item,))
    grant(sql, item, ACME)

    read = await client.get(f"{WODS}/{item}", headers=auth(ACME_ADMIN))
    staff = await client.get(f"{WODS}/{item}", headers=auth(SPECIALIST))

    assert read.status_code == 200 and not strings(read.json())
    assert first_page(read)["blocks"][0]["questions"][1] == {
        "id": first_page(staff)["blocks"][0]["questions"][1]["id"],
        "prompt": "Longer is better",
        "kind": "true_false",
    }
    assert first_page(staff)["blocks"][0]["questions"][1]["answer"] is False


async def test_postgrest_writers_cannot_put_answers_in_a_payload_nor_embed_the_wrong_type(
    client: httpx.AsyncClient, sql: Sql, video: str
) -> None:
    item = (await create(client, wod(ACME, [{"type": "divider"}]))).json()["id"]
    prompt = make_item(sql, ACME, content_type="prompt")
    quiz = {**QUIZ, "id": str(uuid4()), "questions": [{**q, "id": str(uuid4())} for q in QUIZ["questions"]]}
    wrong = {"id": str(uuid4()), "type": "video", "content_id": prompt}
    admin = {"sub": ACME_ADMIN, "role": "authenticated"}

    for blocks, code in (([quiz], "answers_in_payload"), ([wrong], "embed_type_mismatch")):
        payload = {"pages": [{"id": str(uuid4()), "title": "", "blocks": blocks}]}
        with pytest.raises(RuleViolationError) as refused:
            async with as_user(admin) as tx:
                await tx.execute(
                    "update public.content_items set payload = %s::jsonb where id = %s", (json.dumps(payload), item)
                )
        assert refused.value.code == code
    assert stored(sql, item)["payload"]["pages"][0]["blocks"][0]["type"] == "divider"


# ----------------------------------------------------------------------------------------------------
# Pages: save, add, move, remove, under If-Match
# ----------------------------------------------------------------------------------------------------


async def test_saving_a_page_replaces_its_blocks_and_answers_in_one_write(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await create(client, wod(ACME, [QUIZ], [{"type": "divider"}]))
    item, page = created.json()["id"], first_page(created)
    quiz = page["blocks"][0]
    quiz["questions"][0]["answer"] = ["a"]
    body = {"title": "Renamed", "blocks": [quiz, {"type": "quote", "text": "New"}]}

    saved = await client.put(
        f"{WODS}/{item}/pages/{page['id']}", json=body, headers={**auth(ACME_ADMIN), "If-Match": created.headers["etag"]}
    )

    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] != created.headers["etag"] and saved.json()["revision"] == 2
    row = stored(sql, item)
    assert [p["title"] for p in row["payload"]["pages"]] == ["Renamed", "Page 2"]
    assert [b["type"] for b in row["payload"]["pages"][0]["blocks"]] == ["quiz", "quote"]
    assert row["keys"][quiz["id"]][quiz["questions"][0]["id"]]["answer"] == ["a"]
    assert row["revision"] == 2
    actions = [r["action"] for r in sql("select action from audit_log order by id")]
    assert actions[-1] == "content.page_saved"


async def test_changing_only_an_answer_moves_the_revision(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await create(client, wod(ACME, [QUIZ]))
    item, page = created.json()["id"], first_page(created)
    page["blocks"][0]["questions"][1]["answer"] = True
    url = f"{WODS}/{item}/pages/{page['id']}"
    before = stored(sql, item)["payload"]

    saved = await client.put(url, json={"title": page["title"], "blocks": page["blocks"], "revision": 1}, headers=auth(ACME_ADMIN))
    stale = await client.put(url, json={"title": page["title"], "blocks": first_page(created)["blocks"], "revision": 1}, headers=auth(ACME_ADMIN))

    assert saved.status_code == 200 and saved.json()["revision"] == 2
    assert_problem(stale, 409, "stale_version")
    assert stored(sql, item)["payload"] == before
    assert next(iter(stored(sql, item)["keys"].values()))[page["blocks"][0]["questions"][1]["id"]]["answer"] is True


async def test_two_editors_saving_the_same_revision_the_second_gets_409_and_writes_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await create(client, wod(ACME, [{"type": "divider"}]))
    item, page, etag = created.json()["id"], first_page(created)["id"], created.headers["etag"]
    url = f"{WODS}/{item}/pages/{page}"

    first, second = await asyncio.gather(
        client.put(url, json={"title": "Mine", "blocks": []}, headers={**auth(ACME_ADMIN), "If-Match": etag}),
        client.put(url, json={"title": "Theirs", "blocks": [{"type": "quote", "text": "x"}]}, headers={**auth(MANAGER), "If-Match": etag}),
    )

    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409]
    loser = first if first.status_code == 409 else second
    assert_problem(loser, 409, "stale_version")
    winner_title = "Mine" if first.status_code == 200 else "Theirs"
    assert page_titles(sql, item) == [winner_title] and stored(sql, item)["revision"] == 2


async def test_pages_are_added_moved_and_removed_by_id(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await create(client, wod(ACME, [{"type": "divider"}], [{"type": "divider"}]))
    item = created.json()["id"]
    one, two = (p["id"] for p in created.json()["payload"]["pages"])
    headers = auth(ACME_ADMIN)

    added = await client.post(f"{WODS}/{item}/pages", json={"title": "Zero", "position": 0, "revision": 1}, headers=headers)
    moved = await client.post(f"{WODS}/{item}/pages/{one}/move", json={"position": 2, "revision": 2}, headers=headers)
    removed = await client.delete(f"{WODS}/{item}/pages/{two}", params={"revision": 3}, headers=headers)

    assert [r.status_code for r in (added, moved, removed)] == [200, 200, 200]
    assert [p["title"] for p in moved.json()["payload"]["pages"]] == ["Zero", "Page 2", "Page 1"]
    assert page_titles(sql, item) == ["Zero", "Page 1"] and stored(sql, item)["revision"] == 4
    actions = [r["action"] for r in sql("select action from audit_log order by id")][-3:]
    assert actions == ["content.page_added", "content.page_moved", "content.page_removed"]


async def test_blocks_move_within_and_between_pages_and_are_removed(client: httpx.AsyncClient, sql: Sql) -> None:
    blocks = [{"type": "quote", "text": t} for t in ("a", "b")]
    created = await create(client, wod(ACME, blocks, [QUIZ]))
    item = created.json()["id"]
    one, two = created.json()["payload"]["pages"]
    a, b = (blk["id"] for blk in one["blocks"])
    quiz = two["blocks"][0]["id"]
    headers = auth(ACME_ADMIN)

    within = await client.post(f"{WODS}/{item}/blocks/{a}/move", json={"position": 1, "revision": 1}, headers=headers)
    across = await client.post(
        f"{WODS}/{item}/blocks/{quiz}/move", json={"page_id": one["id"], "position": 0, "revision": 2}, headers=headers
    )
    removed = await client.delete(f"{WODS}/{item}/blocks/{b}", params={"revision": 3}, headers=headers)

    assert [r.status_code for r in (within, across, removed)] == [200, 200, 200], removed.text
    row = stored(sql, item)
    assert [[blk["id"] for blk in p["blocks"]] for p in row["payload"]["pages"]] == [[quiz, a], []]
    assert list(row["keys"]) == [quiz]  # the answers follow their quiz


async def test_page_changes_name_their_revision_and_existing_pages(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await create(client, wod(ACME, [{"type": "divider"}]))
    item, page = created.json()["id"], first_page(created)
    block = page["blocks"][0]["id"]
    headers = auth(ACME_ADMIN)

    missing = await client.put(f"{WODS}/{item}/pages/{page['id']}", json={"title": "x"}, headers=headers)
    stale = await client.put(f"{WODS}/{item}/pages/{page['id']}", json={"title": "x", "revision": 7}, headers=headers)
    no_page = await client.put(f"{WODS}/{item}/pages/{uuid4()}", json={"title": "x", "revision": 1}, headers=headers)
    no_block = await client.post(f"{WODS}/{item}/blocks/{uuid4()}/move", json={"position": 0, "revision": 1}, headers=headers)
    far = await client.post(f"{WODS}/{item}/pages/{page['id']}/move", json={"position": 5, "revision": 1}, headers=headers)
    taken = await client.post(f"{WODS}/{item}/pages", json={"blocks": [{"id": block, "type": "divider"}], "revision": 1}, headers=headers)
    no_item = await client.put(f"{WODS}/{uuid4()}/pages/{page['id']}", json={"title": "x", "revision": 1}, headers=headers)

    assert_problem(missing, 428, "precondition_required")
    assert_problem(stale, 409, "stale_version")
    assert_problem(no_page, 404, "page_not_found")
    assert_problem(no_block, 404, "block_not_found")
    assert assert_problem(far, 422, "validation_failed")["errors"][0]["loc"] == "body.position"
    assert assert_problem(taken, 422, "validation_failed")["errors"] == [
        {"loc": "body.blocks.0.id", "message": "this id is already used elsewhere in the item", "type": "duplicate_id"}
    ]
    assert_problem(no_item, 404, "not_found")
    assert stored(sql, item)["revision"] == 1


async def test_a_published_wods_page_save_is_a_version_with_its_pages_and_answers(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await create(client, wod(ACME, [QUIZ]))
    item, page = created.json()["id"], first_page(created)
    published = await client.post(f"{WODS}/{item}/publish", json={"revision": 1}, headers=auth(ACME_ADMIN))
    saved = await client.put(
        f"{WODS}/{item}/pages/{page['id']}", json={"title": "Live", "blocks": page["blocks"], "revision": 2}, headers=auth(ACME_ADMIN)
    )

    assert published.status_code == 200 and saved.status_code == 200, saved.text
    kept = versions(sql, item)
    assert [v["kind"] for v in kept] == ["publish", "publish"]
    assert kept[0]["snapshot"]["payload"]["pages"][0]["title"] == "Page 1"
    assert kept[1]["snapshot"]["payload"]["pages"][0]["title"] == "Live"
    assert kept[1]["snapshot"]["answer_keys"] == stored(sql, item)["keys"]
    assert not strings(kept[1]["snapshot"]["payload"])


async def test_restoring_a_version_brings_its_pages_and_answers_back(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await create(client, wod(ACME, [QUIZ]))
    item, page = created.json()["id"], first_page(created)
    await client.patch(f"{WODS}/{item}", json={"type": "wod", "change_summary": "v1", "revision": 1}, headers=auth(ACME_ADMIN))
    changed = [{**page["blocks"][0], "questions": [{**page["blocks"][0]["questions"][1], "answer": True}]}]
    await client.put(f"{WODS}/{item}/pages/{page['id']}", json={"title": "Two", "blocks": changed, "revision": 1}, headers=auth(ACME_ADMIN))

    restored = await client.post(f"{WODS}/{item}/versions/1/restore", json={"revision": 2}, headers=auth(ACME_ADMIN))

    assert restored.status_code == 200, restored.text
    assert first_page(restored) == page
    assert stored(sql, item)["keys"] == created_keys(page)


def created_keys(page: dict[str, Any]) -> dict[str, Any]:
    quiz = page["blocks"][0]
    return {quiz["id"]: {q["id"]: {"answer": q["answer"], "explanation": q["explanation"]} for q in quiz["questions"]}}


# ----------------------------------------------------------------------------------------------------
# Embeds
# ----------------------------------------------------------------------------------------------------


async def test_embeds_must_be_visible_of_the_blocks_type_and_usable_by_the_owner(
    client: httpx.AsyncClient, sql: Sql, video: str
) -> None:
    created = await create(client, wod(ACME, [{"type": "divider"}]))
    item, page = created.json()["id"], first_page(created)["id"]
    globex_video = make_item(sql, GLOBEX, content_type="video")
    ungranted = make_item(sql, None, content_type="video", status="published")
    prompt = make_item(sql, ACME, content_type="prompt")
    blocks = [
        {"type": "video", "content_id": globex_video},
        {"type": "video", "content_id": ungranted},
        {"type": "video", "content_id": prompt},
        {"type": "video", "content_id": video},
    ]

    refused = await client.put(
        f"{WODS}/{item}/pages/{page}", json={"blocks": blocks, "revision": 1}, headers=auth(ACME_ADMIN)
    )
    platform = await client.post(WODS, json=wod(None, [{"type": "video", "content_id": video}]), headers=auth(MANAGER))

    errors = assert_problem(refused, 422, "validation_failed")["errors"]
    assert [(e["loc"], e["type"]) for e in errors] == [
        ("body.blocks.0.content_id", "unknown_item"),
        ("body.blocks.1.content_id", "unknown_item"),
        ("body.blocks.2.content_id", "wrong_item_type"),
    ]
    assert [(e["loc"], e["type"]) for e in assert_problem(platform, 422, "validation_failed")["errors"]] == [
        ("body.payload.pages.0.blocks.0.content_id", "item_not_usable")
    ]
    assert stored(sql, item)["revision"] == 1 and references(sql, item) == set()
    assert count(sql, "select count(*) as n from content_items where type = 'wod'") == 1

    grant(sql, ungranted, ACME)
    ok = await client.put(
        f"{WODS}/{item}/pages/{page}", json={"blocks": blocks[1:2] + blocks[3:], "revision": 1}, headers=auth(ACME_ADMIN)
    )
    assert ok.status_code == 200, ok.text
    assert references(sql, item) == {ungranted, video}


async def test_an_embedded_item_cannot_be_deleted(client: httpx.AsyncClient, sql: Sql) -> None:
    video = make_item(sql, ACME, content_type="video")
    await create(client, wod(ACME, [{"type": "video", "content_id": video}]))

    refused = await client.delete(f"/content/{video}", params={"revision": 1}, headers=auth(ACME_ADMIN))

    assert_problem(refused, 409, "item_in_use")
    assert count(sql, "select count(*) as n from content_items where id = %s", (video,)) == 1


# ----------------------------------------------------------------------------------------------------
# Duplicate
# ----------------------------------------------------------------------------------------------------


async def test_duplicate_copies_pages_with_new_ids_and_answers_remapped(
    client: httpx.AsyncClient, sql: Sql, video: str
) -> None:
    created = await create(client, wod(ACME, [QUIZ, {"type": "video", "content_id": video}]))
    item = created.json()["id"]

    copy = await client.post(f"{WODS}/{item}/duplicate", json={}, headers={**auth(ACME_ADMIN), "Idempotency-Key": "dup-1"})

    assert copy.status_code == 201, copy.text
    body = copy.json()
    assert body["title"] == "A WOD (copy)" and body["status"] == "draft" and body["community_id"] == ACME
    assert copy.headers["location"] == f"/functions/v1/wods/{body['id']}"
    old, new = first_page(created), first_page(copy)
    assert new["id"] != old["id"] and new["blocks"][0]["id"] != old["blocks"][0]["id"]
    assert [q["id"] for q in new["blocks"][0]["questions"]] != [q["id"] for q in old["blocks"][0]["questions"]]
    assert [q["answer"] for q in new["blocks"][0]["questions"]] == [["b"], False]
    assert stored(sql, body["id"])["keys"] == created_keys(new)
    assert stored(sql, item)["keys"] == created_keys(old) and references(sql, body["id"]) == {video}


# ----------------------------------------------------------------------------------------------------
# Who may
# ----------------------------------------------------------------------------------------------------


async def test_another_communitys_admin_a_learner_and_a_specialist_change_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await create(client, wod(ACME, [QUIZ]))
    item, page = created.json()["id"], first_page(created)["id"]
    body = {"title": "x", "blocks": [], "revision": 1}

    outsider_read = await client.get(f"{WODS}/{item}", headers=auth(GLOBEX_ADMIN))
    outsider = await client.put(f"{WODS}/{item}/pages/{page}", json=body, headers=auth(GLOBEX_ADMIN))
    outsider_copy = await client.post(f"{WODS}/{item}/duplicate", json={}, headers=auth(GLOBEX_ADMIN))
    learner = await client.put(f"{WODS}/{item}/pages/{page}", json=body, headers=auth(ACME_LENA))
    specialist = await client.put(f"{WODS}/{item}/pages/{page}", json=body, headers=auth(SPECIALIST))

    assert_problem(outsider_read, 404, "not_found")
    assert_problem(outsider, 404, "not_found")
    assert_problem(outsider_copy, 404, "not_found")
    assert_problem(learner, 403, "forbidden")
    assert_problem(specialist, 403, "forbidden")
    assert stored(sql, item)["revision"] == 1 and page_titles(sql, item) == ["Page 1"]
    assert count(sql, "select count(*) as n from content_items where type = 'wod'") == 1


async def test_a_wod_is_not_a_block(client: httpx.AsyncClient, sql: Sql) -> None:
    item = (await create(client, wod(ACME, [QUIZ]))).json()["id"]
    block = {"type": "block", "title": "B", "community_id": ACME, "payload": {"category": "cardio", "pages": [{"blocks": [QUIZ]}]}}

    as_block = await client.get(f"/blocks/{item}", headers=auth(ACME_ADMIN))
    created = await client.post("/blocks", json=block, headers=auth(ACME_ADMIN))

    assert_problem(as_block, 404, "not_found")
    assert created.status_code == 201, created.text
    assert first_page(created)["blocks"][0]["questions"][0]["answer"] == ["b"]
