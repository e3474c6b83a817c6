"""`folders` through the real handler against the real database: each owner's trees and who may change them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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
from tests.helpers import Sql, assert_problem

FOLDERS = "/folders"
ACME_CONTENT = {"community_id": ACME, "repository": "content"}


def folder(
    sql: Sql, name: str, community: str | None = ACME, parent: str | None = None, repository: str = "content"
) -> str:
    rows = sql(
        "insert into content_folders (community_id, repository, parent_id, name) values (%s, %s, %s, %s) returning id::text",
        (community, repository, parent, name),
    )
    return str(rows[0]["id"])


def item_in(sql: Sql, folder_id: str, community: str | None = ACME) -> None:
    sql(
        "insert into content_items (community_id, type, title, payload, folder_id)"
        " values (%s, 'prompt', 'filed', '{\"text\": \"filed\"}', %s)",
        (community, folder_id),
    )


def folders(sql: Sql) -> dict[str, tuple[str, str | None]]:
    """Every folder: id → (name, parent id)."""
    rows = sql("select id::text, name, parent_id::text from content_folders")
    return {r["id"]: (r["name"], r["parent_id"]) for r in rows}


def folder_audit(sql: Sql) -> list[tuple[str, str | None]]:
    rows = sql(
        "select action, actor_id::text from audit_log where target_type = 'content_folder' order by id"
    )
    return [(r["action"], r["actor_id"]) for r in rows]


# ----------------------------------------------------------------------------------------------------
# The tree
# ----------------------------------------------------------------------------------------------------


async def test_an_admin_builds_a_tree_and_reads_it_parents_first_siblings_by_name(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await client.post(FOLDERS, json={**ACME_CONTENT, "name": "Prompts"}, headers=auth(ACME_ADMIN))
    assert created.status_code == 201, created.text
    prompts = created.json()["id"]
    child = await client.post(
        FOLDERS, json={**ACME_CONTENT, "parent_id": prompts, "name": "Sales"}, headers=auth(ACME_ADMIN)
    )
    assert child.status_code == 201, child.text
    assert (child.json()["parent_id"], child.json()["community_id"]) == (prompts, ACME)
    agents = folder(sql, "agents")
    item_in(sql, agents)
    folder(sql, "Other repository", repository="wods")
    folder(sql, "Globex's", community=GLOBEX)
    folder(sql, "Platform's", community=None)

    response = await client.get(FOLDERS, params=ACME_CONTENT, headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    tree = response.json()
    assert (tree["community_id"], tree["repository"]) == (ACME, "content")
    assert [(f["name"], f["folder_count"], f["item_count"]) for f in tree["folders"]] == [
        ("agents", 0, 1),
        ("Prompts", 1, 0),
        ("Sales", 0, 0),
    ]
    assert folder_audit(sql) == [("folder.created", ACME_ADMIN), ("folder.created", ACME_ADMIN)]


async def test_the_platform_tree_is_the_platforms_only(client: httpx.AsyncClient, sql: Sql) -> None:
    folder(sql, "Acme's")
    platform = folder(sql, "Library", community=None, repository="blocks")
    folder(sql, "Warm-ups", community=None, parent=platform, repository="blocks")
    response = await client.get(FOLDERS, params={"repository": "blocks"}, headers=auth(SPECIALIST))
    assert response.status_code == 200, response.text
    assert [f["name"] for f in response.json()["folders"]] == ["Library", "Warm-ups"]
    assert response.json()["community_id"] is None


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [
        (ACME_ADMIN, 200, None),
        (SPECIALIST, 200, None),
        (MANAGER, 200, None),
        (SUPER, 200, None),
        (GLOBEX_ADMIN, 404, "not_found"),
        (ACME_LENA, 403, "forbidden"),
        (GLOBEX_GINA, 403, "forbidden"),
    ],
)
async def test_who_reads_acmes_tree(
    client: httpx.AsyncClient, sql: Sql, caller: str, status: int, code: str | None
) -> None:
    folder(sql, "Acme's")
    response = await client.get(FOLDERS, params=ACME_CONTENT, headers=auth(caller))
    if code is None:
        assert response.status_code == 200, response.text
        assert [f["name"] for f in response.json()["folders"]] == ["Acme's"]
    else:
        assert_problem(response, status, code)


@pytest.mark.parametrize("caller", [ACME_ADMIN, ACME_LENA])
async def test_a_community_admin_or_learner_does_not_read_the_platform_tree(
    client: httpx.AsyncClient, sql: Sql, caller: str
) -> None:
    folder(sql, "Platform's", community=None)
    assert_problem(
        await client.get(FOLDERS, params={"repository": "content"}, headers=auth(caller)), 403, "forbidden"
    )


# ----------------------------------------------------------------------------------------------------
# Creating
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "community", "status", "code"),
    [
        (ACME_ADMIN, ACME, 201, None),
        (MANAGER, ACME, 201, None),
        (SUPER, None, 201, None),
        (MANAGER, None, 201, None),
        (SPECIALIST, ACME, 403, "forbidden"),
        (SPECIALIST, None, 403, "forbidden"),
        (GLOBEX_ADMIN, ACME, 404, "not_found"),
        (ACME_LENA, ACME, 403, "forbidden"),
        (ACME_ADMIN, None, 403, "forbidden"),
    ],
)
async def test_who_creates_a_folder(
    client: httpx.AsyncClient, sql: Sql, caller: str, community: str | None, status: int, code: str | None
) -> None:
    body = {"repository": "wods", "name": "New", **({"community_id": community} if community else {})}
    response = await client.post(FOLDERS, json=body, headers=auth(caller))
    if code is None:
        assert response.status_code == 201, response.text
        assert [(n, p) for n, p in folders(sql).values()] == [("New", None)]
        assert sql("select community_id::text from content_folders")[0]["community_id"] == community
    else:
        assert_problem(response, status, code)
        assert folders(sql) == {}
        assert folder_audit(sql) == []


@pytest.mark.parametrize(
    ("parent_of", "label"),
    [
        (lambda sql: folder(sql, "Globex's", community=GLOBEX), "another community's folder"),
        (lambda sql: folder(sql, "Wods", repository="wods"), "a folder of another repository"),
        (lambda sql: folder(sql, "Platform's", community=None), "a platform folder"),
        (lambda sql: "00000000-0000-4000-8000-000000000000", "no folder"),
    ],
    ids=["another community", "another repository", "the platform", "missing"],
)
async def test_a_parent_outside_the_owners_tree_is_refused(
    client: httpx.AsyncClient, sql: Sql, parent_of: Any, label: str
) -> None:
    parent = parent_of(sql)
    before = folders(sql)
    body = {**ACME_CONTENT, "parent_id": parent, "name": "child"}
    problem = assert_problem(
        await client.post(FOLDERS, json=body, headers=auth(ACME_ADMIN)), 422, "validation_failed"
    )
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [("body.parent_id", "unknown_folder")], label
    assert folders(sql) == before


@pytest.mark.parametrize(
    "body",
    [
        {"repository": "programs", "name": "x"},
        {"repository": "content", "name": ""},
        {"repository": "content", "name": "=HYPERLINK(1)"},
        {"repository": "content", "name": "x", "tenant_key": ACME},
    ],
    ids=["unknown repository", "empty name", "formula", "unknown field"],
)
async def test_invalid_folders_are_refused(client: httpx.AsyncClient, sql: Sql, body: dict[str, Any]) -> None:
    assert_problem(
        await client.post(FOLDERS, json={"community_id": ACME, **body}, headers=auth(ACME_ADMIN)),
        422,
        "validation_failed",
    )
    assert folders(sql) == {}


# ----------------------------------------------------------------------------------------------------
# Renaming and moving
# ----------------------------------------------------------------------------------------------------


async def test_an_admin_renames_and_moves_a_folder_and_moves_it_back_to_the_top(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a, b = folder(sql, "A"), folder(sql, "B")
    renamed = await client.patch(f"{FOLDERS}/{b}", json={"name": "Bee"}, headers=auth(ACME_ADMIN))
    assert renamed.status_code == 200, renamed.text
    assert folders(sql)[b] == ("Bee", None)
    moved = await client.patch(f"{FOLDERS}/{b}", json={"parent_id": a}, headers=auth(ACME_ADMIN))
    assert moved.json()["parent_id"] == a
    assert folders(sql)[b] == ("Bee", a)
    assert (await client.get(f"{FOLDERS}/{a}", headers=auth(ACME_ADMIN))).json()["folder_count"] == 1
    top = await client.patch(f"{FOLDERS}/{b}", json={"parent_id": None}, headers=auth(ACME_ADMIN))
    assert top.json()["parent_id"] is None
    assert folders(sql)[b] == ("Bee", None)
    assert [a for a, _ in folder_audit(sql)] == ["folder.updated"] * 3


async def test_a_patch_naming_nothing_is_refused(client: httpx.AsyncClient, sql: Sql) -> None:
    a = folder(sql, "A")
    assert_problem(
        await client.patch(f"{FOLDERS}/{a}", json={}, headers=auth(ACME_ADMIN)), 422, "validation_failed"
    )
    assert_problem(
        await client.patch(f"{FOLDERS}/{a}", json={"name": None}, headers=auth(ACME_ADMIN)),
        422,
        "validation_failed",
    )


@pytest.mark.parametrize("into", ["itself", "child", "grandchild"])
async def test_moving_a_folder_into_itself_or_below_itself_is_a_cycle(
    client: httpx.AsyncClient, sql: Sql, into: str
) -> None:
    top = folder(sql, "top")
    child = folder(sql, "child", parent=top)
    grandchild = folder(sql, "grandchild", parent=child)
    target = {"itself": top, "child": child, "grandchild": grandchild}[into]
    before = folders(sql)
    response = await client.patch(f"{FOLDERS}/{top}", json={"parent_id": target}, headers=auth(ACME_ADMIN))
    assert_problem(response, 409, "folder_cycle")
    assert folders(sql) == before
    assert folder_audit(sql) == []


async def test_a_folder_cannot_move_to_another_repository_or_owner(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a = folder(sql, "A")
    for parent in (folder(sql, "W", repository="wods"), folder(sql, "G", community=GLOBEX)):
        response = await client.patch(f"{FOLDERS}/{a}", json={"parent_id": parent}, headers=auth(SUPER))
        assert_problem(response, 422, "validation_failed")
    assert folders(sql)[a] == ("A", None)


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [
        (GLOBEX_ADMIN, 404, "not_found"),
        (ACME_LENA, 403, "forbidden"),
        (GLOBEX_GINA, 403, "forbidden"),
        (SPECIALIST, 403, "forbidden"),
        (MANAGER, 200, None),
    ],
)
async def test_who_renames_acmes_folder(
    client: httpx.AsyncClient, sql: Sql, caller: str, status: int, code: str | None
) -> None:
    a = folder(sql, "A")
    response = await client.patch(f"{FOLDERS}/{a}", json={"name": "renamed"}, headers=auth(caller))
    if code is None:
        assert response.status_code == 200, response.text
        assert folders(sql)[a] == ("renamed", None)
    else:
        assert_problem(response, status, code)
        assert folders(sql)[a] == ("A", None)


async def test_a_specialist_who_administers_another_community_cannot_change_acmes_folder(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sql(
        "insert into memberships (community_id, user_id, role) values (%s, %s, 'admin')", (GLOBEX, SPECIALIST)
    )
    a = folder(sql, "A")
    assert_problem(
        await client.patch(f"{FOLDERS}/{a}", json={"name": "x"}, headers=auth(SPECIALIST)), 403, "forbidden"
    )
    assert_problem(await client.delete(f"{FOLDERS}/{a}", headers=auth(SPECIALIST)), 403, "forbidden")
    assert folders(sql)[a] == ("A", None)


async def test_a_platform_folder_is_missing_to_a_community_admin(client: httpx.AsyncClient, sql: Sql) -> None:
    p = folder(sql, "Platform's", community=None)
    assert_problem(await client.get(f"{FOLDERS}/{p}", headers=auth(ACME_ADMIN)), 404, "not_found")
    assert_problem(
        await client.patch(f"{FOLDERS}/{p}", json={"name": "x"}, headers=auth(ACME_ADMIN)), 404, "not_found"
    )
    assert_problem(await client.delete(f"{FOLDERS}/{p}", headers=auth(ACME_ADMIN)), 404, "not_found")
    assert (
        await client.patch(f"{FOLDERS}/{p}", json={"name": "Lib"}, headers=auth(MANAGER))
    ).status_code == 200


# ----------------------------------------------------------------------------------------------------
# Deleting
# ----------------------------------------------------------------------------------------------------


async def test_an_empty_folder_is_deleted_and_audited(client: httpx.AsyncClient, sql: Sql) -> None:
    a = folder(sql, "A")
    response = await client.delete(f"{FOLDERS}/{a}", headers=auth(ACME_ADMIN))
    assert response.status_code == 204, response.text
    assert folders(sql) == {}
    assert folder_audit(sql) == [("folder.deleted", ACME_ADMIN)]


@pytest.mark.parametrize("holding", ["a folder", "an item"])
async def test_a_folder_holding_something_is_not_deleted(
    client: httpx.AsyncClient, sql: Sql, holding: str
) -> None:
    a = folder(sql, "A")
    if holding == "a folder":
        folder(sql, "child", parent=a)
    else:
        item_in(sql, a)
    assert_problem(await client.delete(f"{FOLDERS}/{a}", headers=auth(ACME_ADMIN)), 409, "folder_not_empty")
    assert a in folders(sql)
    assert folder_audit(sql) == []


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [(GLOBEX_ADMIN, 404, "not_found"), (ACME_LENA, 403, "forbidden"), (SPECIALIST, 403, "forbidden")],
)
async def test_who_may_not_delete_acmes_folder(
    client: httpx.AsyncClient, sql: Sql, caller: str, status: int, code: str
) -> None:
    a = folder(sql, "A")
    assert_problem(await client.delete(f"{FOLDERS}/{a}", headers=auth(caller)), status, code)
    assert a in folders(sql)


# ----------------------------------------------------------------------------------------------------
# Filing items (PATCH /content/{id} folder_id; many at once: tests/functions/test_content_bulk.py)
# ----------------------------------------------------------------------------------------------------


def prompt(sql: Sql, community: str | None = ACME) -> str:
    rows = sql(
        "insert into content_items (community_id, type, title, payload)"
        " values (%s, 'prompt', 'loose', '{\"prompt_text\": \"x\", \"category\": \"y\"}') returning id::text",
        (community,),
    )
    return str(rows[0]["id"])


def folder_of(sql: Sql, item: str) -> str | None:
    return sql("select folder_id::text from content_items where id = %s", (item,))[0]["folder_id"]


async def file_item(client: httpx.AsyncClient, sql: Sql, item: str, folder_id: str | None, caller: str) -> httpx.Response:
    revision = sql("select revision from content_items where id = %s", (item,))[0]["revision"]
    body = {"type": "prompt", "folder_id": folder_id, "revision": revision}
    return await client.patch(f"/content/{item}", json=body, headers=auth(caller))


async def test_an_admin_files_an_item_in_a_folder_of_its_repository_and_takes_it_out(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a, item = folder(sql, "A"), prompt(sql)

    filed = await file_item(client, sql, item, a, ACME_ADMIN)

    assert filed.status_code == 200, filed.text
    assert filed.json()["folder_id"] == a and folder_of(sql, item) == a
    assert (await client.get(f"{FOLDERS}/{a}", headers=auth(ACME_ADMIN))).json()["item_count"] == 1
    assert_problem(await client.delete(f"{FOLDERS}/{a}", headers=auth(ACME_ADMIN)), 409, "folder_not_empty")

    out = await file_item(client, sql, item, None, ACME_ADMIN)

    assert out.status_code == 200, out.text
    assert folder_of(sql, item) is None
    assert (await client.delete(f"{FOLDERS}/{a}", headers=auth(ACME_ADMIN))).status_code == 204


@pytest.mark.parametrize(
    ("where", "caller"),
    [("globex", ACME_ADMIN), ("globex", SUPER), ("wods", ACME_ADMIN), ("platform", MANAGER)],
    ids=["another community's (unseen)", "another community's (seen by staff)", "wods", "the platform's"],
)
async def test_an_item_is_filed_only_in_a_content_folder_of_its_owner(
    client: httpx.AsyncClient, sql: Sql, where: str, caller: str
) -> None:
    target = {
        "globex": lambda: folder(sql, "G", community=GLOBEX),
        "wods": lambda: folder(sql, "W", repository="wods"),
        "platform": lambda: folder(sql, "P", community=None),
    }[where]()
    item = prompt(sql)
    problem = assert_problem(await file_item(client, sql, item, target, caller), 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [("body.folder_id", "unknown_folder")]
    assert folder_of(sql, item) is None


async def test_an_admin_cannot_move_a_folder_under_another_communitys_folder(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a, theirs = folder(sql, "A"), folder(sql, "G", community=GLOBEX)
    response = await client.patch(f"{FOLDERS}/{a}", json={"parent_id": theirs}, headers=auth(ACME_ADMIN))
    problem = assert_problem(response, 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [("body.parent_id", "unknown_folder")]
    # ... nor move another community's folder under their own.
    response = await client.patch(f"{FOLDERS}/{theirs}", json={"parent_id": a}, headers=auth(ACME_ADMIN))
    assert_problem(response, 404, "not_found")
    assert folders(sql) == {a: ("A", None), theirs: ("G", None)}
    assert folder_audit(sql) == []


async def test_a_folder_moves_with_what_it_holds(client: httpx.AsyncClient, sql: Sql) -> None:
    top, sub = folder(sql, "top"), folder(sql, "sub")
    item_in(sql, sub)
    moved = await client.patch(f"{FOLDERS}/{sub}", json={"parent_id": top}, headers=auth(ACME_ADMIN))
    assert moved.status_code == 200, moved.text
    tree = await client.get(FOLDERS, params=ACME_CONTENT, headers=auth(ACME_ADMIN))
    assert [(f["name"], f["parent_id"], f["item_count"]) for f in tree.json()["folders"]] == [
        ("top", None, 0),
        ("sub", top, 1),
    ]
    # and now moving `top` under `sub` closes a loop
    response = await client.patch(f"{FOLDERS}/{top}", json={"parent_id": sub}, headers=auth(ACME_ADMIN))
    assert_problem(response, 409, "folder_cycle")
    assert folders(sql) == {top: ("top", None), sub: ("sub", top)}
