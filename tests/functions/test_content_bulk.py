"""`POST /content/bulk` through the real handler against the real database: move, copy, delete, favourite
and unfavourite many items in one transaction, all or nothing, with every failing id named."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.content_helpers import grant, item_row, make_item, versions
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    MANAGER,
    SPECIALIST,
    SUPER,
    auth,
)
from tests.helpers import Sql, assert_problem, count

BULK = "/content/bulk"
MISSING = "00000000-0000-4000-8000-00000000dead"


def folder(sql: Sql, name: str, community: str | None = ACME, repository: str = "content") -> str:
    rows = sql(
        "insert into content_folders (community_id, repository, name) values (%s, %s, %s) returning id::text",
        (community, repository, name),
    )
    return str(rows[0]["id"])


def file_in(sql: Sql, item: str, folder_id: str) -> None:
    sql("update content_items set folder_id = %s where id = %s", (folder_id, item))


def published(sql: Sql, community: str | None = ACME, title: str = "Published") -> str:
    """A published item that was published through the database's bookkeeping (published_at set)."""
    return make_item(sql, community, title=title, status="published")


def state(sql: Sql) -> list[dict[str, Any]]:
    """Every item, as stored (what a refused batch must leave alone)."""
    return sql(
        "select id::text, community_id::text, title, folder_id::text, status, revision, payload from content_items"
        " order by id"
    )


def content_audit(sql: Sql) -> list[tuple[str, str, str | None]]:
    rows = sql(
        "select action, target_id, actor_id::text from audit_log where target_type = 'content_item' order by id"
    )
    return [(r["action"], r["target_id"], r["actor_id"]) for r in rows]


def favourites(sql: Sql) -> set[tuple[str, str]]:
    rows = sql("select user_id::text, item_id::text from content_favourites")
    return {(r["user_id"], r["item_id"]) for r in rows}


async def bulk(client: httpx.AsyncClient, caller: str, action: str, ids: list[str], **body: Any) -> httpx.Response:
    return await client.post(BULK, json={"action": action, "ids": ids, **body}, headers=auth(caller))


def failures(response: httpx.Response) -> dict[str, str]:
    problem = assert_problem(response, 409, "bulk_refused")
    return {f["id"]: f["code"] for f in problem["failures"]}


# ----------------------------------------------------------------------------------------------------
# Move
# ----------------------------------------------------------------------------------------------------


async def test_an_admin_moves_items_into_a_folder_and_out_again(client: httpx.AsyncClient, sql: Sql) -> None:
    target = folder(sql, "Target")
    a, b, there = make_item(sql, ACME, title="a"), make_item(sql, ACME, title="b"), make_item(sql, ACME)
    file_in(sql, there, target)

    response = await bulk(client, ACME_ADMIN, "move", [a, b, there], folder_id=target)

    assert response.status_code == 200, response.text
    assert response.json() == {"action": "move", "ids": [a, b, there], "copies": []}
    moved = {r["id"]: r for r in state(sql)}
    assert {i: (moved[i]["folder_id"], moved[i]["revision"]) for i in (a, b, there)} == {
        a: (target, 2),
        b: (target, 2),
        there: (target, 2),  # already there (filed at revision 2): untouched
    }
    assert {r["updated_by"] for r in sql("select updated_by::text from content_items where id in (%s, %s)", (a, b))} == {
        ACME_ADMIN
    }
    assert sorted(content_audit(sql)) == sorted([("content.updated", a, ACME_ADMIN), ("content.updated", b, ACME_ADMIN)])
    entry = sql("select before, after from audit_log where target_id = %s", (a,))[0]
    assert (entry["before"], entry["after"]) == ({"folder_id": None, "revision": 1}, {"folder_id": target, "revision": 2})

    out = await bulk(client, ACME_ADMIN, "move", [a, there], folder_id=None)

    assert out.status_code == 200, out.text
    assert [(r["id"], r["folder_id"]) for r in state(sql) if r["id"] in (a, there)] == sorted(
        [(a, None), (there, None)]
    )


async def test_moving_a_published_item_saves_a_version_as_a_single_change_does(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    target = folder(sql, "Target")
    live, draft = published(sql), make_item(sql, ACME)

    response = await bulk(client, ACME_ADMIN, "move", [live, draft], folder_id=target)

    assert response.status_code == 200, response.text
    saved = versions(sql, live)
    assert [(v["number"], v["kind"], v["author_id"]) for v in saved] == [(1, "publish", ACME_ADMIN)]
    assert saved[0]["snapshot"]["folder_id"] == target
    assert versions(sql, draft) == []


@pytest.mark.parametrize(
    ("where", "caller"),
    [("globex", SUPER), ("wods", ACME_ADMIN), ("platform", MANAGER), ("missing", ACME_ADMIN)],
    ids=["another community's folder", "a folder of another repository", "a platform folder", "no folder"],
)
async def test_a_folder_outside_the_items_owner_and_repository_refuses_the_whole_move(
    client: httpx.AsyncClient, sql: Sql, where: str, caller: str
) -> None:
    target = {
        "globex": lambda: folder(sql, "G", community=GLOBEX),
        "wods": lambda: folder(sql, "W", repository="wods"),
        "platform": lambda: folder(sql, "P", community=None),
        "missing": lambda: MISSING,
    }[where]()
    a, b = make_item(sql, ACME), make_item(sql, ACME)
    before = state(sql)

    response = await bulk(client, caller, "move", [a, b], folder_id=target)

    assert failures(response) == {a: "unknown_folder", b: "unknown_folder"}
    assert state(sql) == before
    assert content_audit(sql) == []


async def test_staff_moving_items_of_two_owners_into_one_owners_folder_are_refused_for_the_others(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    target = folder(sql, "Acme's")
    ours, platform = make_item(sql, ACME), make_item(sql, None)
    before = state(sql)

    response = await bulk(client, MANAGER, "move", [ours, platform], folder_id=target)

    assert failures(response) == {platform: "unknown_folder"}
    assert state(sql) == before


async def test_an_archived_item_is_not_moved(client: httpx.AsyncClient, sql: Sql) -> None:
    archived, draft = make_item(sql, ACME, status="archived"), make_item(sql, ACME)
    before = state(sql)
    response = await bulk(client, ACME_ADMIN, "move", [draft, archived], folder_id=folder(sql, "F"))
    assert failures(response) == {archived: "item_archived"}
    assert state(sql) == before


# ----------------------------------------------------------------------------------------------------
# Copy
# ----------------------------------------------------------------------------------------------------


async def test_copies_are_drafts_of_the_same_owner_with_new_ids_and_the_same_content(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    shelf = folder(sql, "Shelf")
    live = make_item(sql, ACME, content_type="document", title="Guide", status="published", tags=["x"])
    draft = make_item(sql, ACME, content_type="ai_agent", title="Coach", description="Helps.")
    file_in(sql, draft, shelf)
    originals = {r["id"]: r for r in state(sql)}

    response = await bulk(client, ACME_ADMIN, "copy", [live, draft])

    assert response.status_code == 200, response.text
    copies = {c["source_id"]: c["id"] for c in response.json()["copies"]}
    assert set(copies) == {live, draft} and not set(copies.values()) & {live, draft}
    for source, copy_id in copies.items():
        copy, original = item_row(sql, copy_id), item_row(sql, source)
        assert copy is not None and original is not None
        assert copy["title"] == original["title"] + " (copy)"
        assert (copy["community_id"], copy["type"], copy["payload"], copy["tags"], copy["description"]) == (
            original["community_id"],
            original["type"],
            original["payload"],
            original["tags"],
            original["description"],
        )
        assert (copy["status"], copy["revision"], copy["published_at"]) == ("draft", 1, None)
        assert (copy["created_by"], copy["updated_by"]) == (ACME_ADMIN, ACME_ADMIN)
        assert versions(sql, copy_id) == []
    folders_now = {r["id"]: r["folder_id"] for r in state(sql)}
    assert (folders_now[copies[draft]], folders_now[copies[live]]) == (shelf, None)  # beside each original
    assert {r["id"]: r for r in state(sql) if r["id"] in originals} == originals  # originals untouched
    assert sorted(content_audit(sql)) == sorted(("content.copied", c, ACME_ADMIN) for c in copies.values())
    after = sql("select after from audit_log where target_id = %s", (copies[live],))[0]["after"]
    assert after == {"type": "document", "title": "Guide (copy)", "copied_from": live}


async def test_copies_go_into_the_folder_named_and_long_titles_keep_their_limit(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    shelf = folder(sql, "Shelf")
    long = make_item(sql, ACME, title="T" * 200)
    response = await bulk(client, ACME_ADMIN, "copy", [long], folder_id=shelf)
    assert response.status_code == 200, response.text
    copy = item_row(sql, response.json()["copies"][0]["id"])
    assert copy is not None and copy["title"] == "T" * 193 + " (copy)"
    assert {r["id"]: r["folder_id"] for r in state(sql)}[copy["id"]] == shelf


async def test_a_reader_who_may_not_write_the_owner_copies_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    platform = published(sql, None, title="Platform's")
    grant(sql, platform, ACME)  # acme's admin reads it, but platform content is staff writers'
    own = make_item(sql, ACME)
    before = state(sql)

    response = await bulk(client, ACME_ADMIN, "copy", [own, platform])

    assert failures(response) == {platform: "forbidden"}
    assert state(sql) == before
    assert content_audit(sql) == []


# ----------------------------------------------------------------------------------------------------
# Delete
# ----------------------------------------------------------------------------------------------------


async def test_never_published_items_are_deleted_with_their_versions_and_audited(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a, b, kept = make_item(sql, ACME, title="a"), make_item(sql, ACME, title="b"), make_item(sql, ACME)
    sql("insert into content_versions (item_id, number, kind, snapshot) values (%s, 1, 'save', '{}')", (a,))

    response = await bulk(client, ACME_ADMIN, "delete", [a, b])

    assert response.status_code == 200, response.text
    assert [r["id"] for r in state(sql)] == [kept]
    assert count(sql, "select count(*) as n from content_versions") == 0
    assert sorted(content_audit(sql)) == sorted([("content.deleted", a, ACME_ADMIN), ("content.deleted", b, ACME_ADMIN)])
    entry = sql("select before, after from audit_log where target_id = %s", (a,))[0]
    assert (entry["before"], entry["after"]) == ({"type": "prompt", "title": "a"}, None)


async def test_a_mixed_batch_with_one_published_item_deletes_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    a, b = make_item(sql, ACME), make_item(sql, ACME)
    live = published(sql)
    sql("update content_items set status = 'draft' where id = %s", (live,))  # unpublished: still was published
    make_item(sql, GLOBEX)
    before = state(sql)

    response = await bulk(client, ACME_ADMIN, "delete", [a, live, b, MISSING])

    assert failures(response) == {live: "item_was_published", MISSING: "not_found"}
    problem = response.json()
    assert [f["id"] for f in problem["failures"]] == [live, MISSING]  # in the request's order
    assert state(sql) == before
    assert content_audit(sql) == []


# ----------------------------------------------------------------------------------------------------
# Favourites
# ----------------------------------------------------------------------------------------------------


async def test_a_specialist_favourites_what_they_read_and_lists_their_favourites(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a, b, other = make_item(sql, None, title="a"), make_item(sql, ACME, title="b"), make_item(sql, GLOBEX)
    sql("insert into content_favourites (user_id, item_id) values (%s, %s)", (MANAGER, a))

    response = await bulk(client, SPECIALIST, "favourite", [a, b])
    again = await bulk(client, SPECIALIST, "favourite", [a])

    assert (response.status_code, again.status_code) == (200, 200), response.text
    assert favourites(sql) == {(SPECIALIST, a), (SPECIALIST, b), (MANAGER, a)}
    listed = await client.get("/content", params={"favourite": "true"}, headers=auth(SPECIALIST))
    assert listed.status_code == 200, listed.text
    assert {i["id"] for i in listed.json()["items"]} == {a, b}
    rest = await client.get("/content", params={"favourite": "false"}, headers=auth(SPECIALIST))
    assert {i["id"] for i in rest.json()["items"]} == {other}
    assert content_audit(sql) == []  # a bookmark of one's own, not an administrative change

    gone = await bulk(client, SPECIALIST, "unfavourite", [a, other])

    assert gone.status_code == 200, gone.text
    assert favourites(sql) == {(SPECIALIST, b), (MANAGER, a)}


async def test_an_admin_favourites_only_items_they_see(client: httpx.AsyncClient, sql: Sql) -> None:
    shared = published(sql, None)
    grant(sql, shared, ACME)
    own, theirs = make_item(sql, ACME), make_item(sql, GLOBEX)

    refused = await bulk(client, ACME_ADMIN, "favourite", [own, shared, theirs])

    assert failures(refused) == {theirs: "not_found"}
    assert favourites(sql) == set()
    accepted = await bulk(client, ACME_ADMIN, "favourite", [own, shared])
    assert accepted.status_code == 200, accepted.text
    assert favourites(sql) == {(ACME_ADMIN, own), (ACME_ADMIN, shared)}


# ----------------------------------------------------------------------------------------------------
# Who, and what a batch may be
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["move", "copy", "delete"])
async def test_another_communitys_items_are_missing_and_nothing_is_done(
    client: httpx.AsyncClient, sql: Sql, action: str
) -> None:
    own, theirs = make_item(sql, ACME), make_item(sql, GLOBEX)
    extra = {"folder_id": None} if action == "move" else {}
    file_in(sql, theirs, folder(sql, "G", community=GLOBEX))
    before = state(sql)

    response = await bulk(client, ACME_ADMIN, action, [own, theirs], **extra)

    assert failures(response) == {theirs: "not_found"}
    assert state(sql) == before
    assert content_audit(sql) == []


@pytest.mark.parametrize("action", ["move", "delete"])
async def test_platform_content_granted_to_an_admin_is_readable_but_not_theirs_to_change(
    client: httpx.AsyncClient, sql: Sql, action: str
) -> None:
    platform = make_item(sql, None)
    sql("update content_items set status = 'published' where id = %s", (platform,))
    grant(sql, platform, ACME)
    before = state(sql)
    extra = {"folder_id": None} if action == "move" else {}
    assert failures(await bulk(client, ACME_ADMIN, action, [platform], **extra)) == {platform: "forbidden"}
    assert state(sql) == before


@pytest.mark.parametrize(
    ("caller", "action"),
    [
        (ACME_LENA, "favourite"),
        (ACME_LENA, "delete"),
        (SPECIALIST, "move"),
        (SPECIALIST, "copy"),
        (SPECIALIST, "delete"),
    ],
)
async def test_learners_and_specialists_are_refused_before_anything_is_read(
    client: httpx.AsyncClient, sql: Sql, caller: str, action: str
) -> None:
    item = make_item(sql, ACME)
    grant(sql, item, ACME)
    sql("update content_items set status = 'published' where id = %s", (item,))
    before = state(sql)
    extra = {"folder_id": None} if action == "move" else {}
    assert_problem(await bulk(client, caller, action, [item], **extra), 403, "forbidden")
    assert state(sql) == before
    assert favourites(sql) == set()


async def test_signed_out_callers_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(BULK, json={"action": "delete", "ids": [MISSING]})
    assert_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"action": "delete", "ids": [f"00000000-0000-4000-8000-{n:012d}" for n in range(201)]}, "body.ids", "too_long"),
        ({"action": "delete", "ids": []}, "body.ids", "too_short"),
        ({"action": "delete", "ids": [MISSING, MISSING]}, "body.ids", "duplicate_ids"),
        ({"action": "delete", "ids": ["not-a-uuid"]}, "body.ids.0", "uuid_parsing"),
        ({"action": "archive", "ids": [MISSING]}, "body.action", "literal_error"),
        ({"action": "move", "ids": [MISSING]}, "body", "folder_required"),
        ({"action": "delete", "ids": [MISSING], "folder_id": None}, "body", "folder_not_allowed"),
        ({"action": "favourite", "ids": [MISSING], "revision": 1}, "body.revision", "extra_forbidden"),
    ],
    ids=["201 ids", "no ids", "an id twice", "not an id", "unknown action", "move without folder", "folder on delete", "unknown field"],
)
async def test_malformed_batches_are_refused_with_the_field_named(
    client: httpx.AsyncClient, sql: Sql, body: dict[str, Any], loc: str, kind: str
) -> None:
    make_item(sql, ACME)
    before = state(sql)
    problem = assert_problem(await client.post(BULK, json=body, headers=auth(ACME_ADMIN)), 422, "validation_failed")
    assert (loc, kind) in [(e["loc"], e["type"]) for e in problem["errors"]], problem["errors"]
    assert state(sql) == before


async def test_two_hundred_ids_are_one_batch(client: httpx.AsyncClient, sql: Sql) -> None:
    sql(
        "insert into content_items (community_id, type, title, payload)"
        " select %s, 'prompt', 'bulk ' || n, %s::jsonb from generate_series(1, 200) n",
        (ACME, '{"prompt_text": "x", "category": "y"}'),
    )
    ids = [r["id"] for r in state(sql)]
    target = folder(sql, "All")
    response = await bulk(client, ACME_ADMIN, "move", ids, folder_id=target)
    assert response.status_code == 200, response.text
    assert {r["folder_id"] for r in state(sql)} == {target}
    assert len(content_audit(sql)) == 200


async def test_a_failure_inside_the_database_midway_rolls_the_whole_batch_back(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    first, boom, last = make_item(sql, ACME, title="a"), make_item(sql, ACME, title="boom"), make_item(sql, ACME)
    sql(
        "create function public.test_refuse_boom() returns trigger language plpgsql as $$"
        " begin if old.title = 'boom' then raise exception 'item_in_use: boom is referenced' using errcode = 'P0001';"
        " end if; return old; end $$"
    )
    sql(
        "create trigger test_refuse_boom before delete on content_items"
        " for each row execute function public.test_refuse_boom()"
    )
    before = state(sql)

    response = await bulk(client, ACME_ADMIN, "delete", [first, boom, last])

    assert_problem(response, 409, "item_in_use")
    assert state(sql) == before
    assert content_audit(sql) == []


async def test_a_replayed_copy_with_its_idempotency_key_makes_no_second_copies(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql, ACME)
    headers = {**auth(ACME_ADMIN), "Idempotency-Key": "copy-once"}
    body = {"action": "copy", "ids": [item]}

    first = await client.post(BULK, json=body, headers=headers)
    again = await client.post(BULK, json=body, headers=headers)

    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json() == first.json()
    assert count(sql, "select count(*) as n from content_items") == 2
    assert len(content_audit(sql)) == 1
