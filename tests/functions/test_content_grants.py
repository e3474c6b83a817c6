"""`content-grants` through the real handler against the real database: who may grant what, where, when."""

from __future__ import annotations

from typing import Any

import httpx

from tests.content_rows import grant_rows, make_grant, make_item
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
    SUPER,
    auth,
)
from tests.helpers import Sql, assert_problem, assign, make_tag

GRANTS = "/content-grants"


def audit_rows(sql: Sql) -> list[dict[str, Any]]:
    return sql(
        "select actor_id::text, action, target_type, target_id, community_id::text, before, after"
        " from audit_log where target_type = 'content_grant' order by id"
    )


# ----------------------------------------------------------------------------------------------------
# Granting
# ----------------------------------------------------------------------------------------------------


async def test_manager_grants_platform_item_to_a_community_and_it_is_audited(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql)

    response = await client.post(GRANTS, json={"item_id": item, "community_id": ACME}, headers=auth(MANAGER))

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["item_id"], body["community_id"], body["target"]) == (item, ACME, "community")
    assert (body["tag_id"], body["user_id"], body["window_state"]) == (None, None, "open")
    [row] = grant_rows(sql)
    assert (row["id"], row["created_by"]) == (body["id"], MANAGER)
    [entry] = audit_rows(sql)
    assert (entry["actor_id"], entry["action"], entry["target_id"], entry["community_id"]) == (
        MANAGER,
        "content.granted",
        body["id"],
        ACME,
    )
    assert entry["before"] is None
    assert entry["after"]["item_id"] == item and entry["after"]["target"] == "community"


async def test_community_admin_grants_own_item_to_a_tag_and_to_a_member_with_a_window(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql, community=ACME)
    tag = make_tag(sql, ACME, "sales")

    to_tag = await client.post(
        GRANTS, json={"item_id": item, "community_id": ACME, "tag_id": tag}, headers=auth(ACME_ADMIN)
    )
    to_liam = await client.post(
        GRANTS,
        json={
            "item_id": item,
            "community_id": ACME,
            "user_id": ACME_LIAM,
            "starts_at": "2099-01-01T00:00:00Z",
            "ends_at": "2099-02-01T00:00:00+01:00",
        },
        headers=auth(ACME_ADMIN),
    )

    assert to_tag.status_code == 201, to_tag.text
    assert (to_tag.json()["target"], to_tag.json()["tag_id"]) == ("tag", tag)
    assert to_liam.status_code == 201, to_liam.text
    liam = to_liam.json()
    assert (liam["target"], liam["user_id"], liam["window_state"]) == ("user", ACME_LIAM, "scheduled")
    assert liam["ends_at"] == "2099-01-31T23:00:00Z"
    assert [(r["tag_id"], r["user_id"]) for r in grant_rows(sql)] == [(tag, None), (None, ACME_LIAM)]
    assert [e["action"] for e in audit_rows(sql)] == ["content.granted"] * 2


async def test_community_admin_cannot_grant_platform_content(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql)
    make_grant(sql, item, ACME)  # visible to the admin, still not theirs to hand out

    response = await client.post(
        GRANTS, json={"item_id": item, "community_id": ACME, "user_id": ACME_LENA}, headers=auth(ACME_ADMIN)
    )

    assert_problem(response, 403, "forbidden")
    assert len(grant_rows(sql)) == 1
    assert audit_rows(sql) == []


async def test_community_admin_cannot_grant_in_another_community(client: httpx.AsyncClient, sql: Sql) -> None:
    own = make_item(sql, community=ACME)
    theirs = make_item(sql, community=GLOBEX)

    into_globex = await client.post(
        GRANTS, json={"item_id": own, "community_id": GLOBEX}, headers=auth(ACME_ADMIN)
    )
    their_item = await client.post(
        GRANTS, json={"item_id": theirs, "community_id": ACME}, headers=auth(ACME_ADMIN)
    )

    assert_problem(into_globex, 404, "not_found")  # a community the caller cannot see
    assert_problem(their_item, 404, "not_found")  # an item the caller cannot see
    assert grant_rows(sql) == []


async def test_a_community_item_is_granted_only_within_its_community(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql, community=ACME)

    response = await client.post(GRANTS, json={"item_id": item, "community_id": GLOBEX}, headers=auth(SUPER))

    assert_problem(response, 409, "grant_outside_owner")
    assert grant_rows(sql) == []


async def test_specialists_and_learners_cannot_grant(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql, community=ACME)
    body = {"item_id": item, "community_id": ACME}

    for user in (SPECIALIST, ACME_LENA, GLOBEX_GINA):
        assert_problem(await client.post(GRANTS, json=body, headers=auth(user)), 403, "forbidden")
    assert grant_rows(sql) == []


async def test_a_tag_or_member_of_another_community_is_refused(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql)
    globex_tag = make_tag(sql, GLOBEX, "globex")

    tag = await client.post(
        GRANTS, json={"item_id": item, "community_id": ACME, "tag_id": globex_tag}, headers=auth(MANAGER)
    )
    user = await client.post(
        GRANTS, json={"item_id": item, "community_id": ACME, "user_id": GLOBEX_GINA}, headers=auth(MANAGER)
    )

    assert [(e["loc"], e["type"]) for e in assert_problem(tag, 422, "validation_failed")["errors"]] == [
        ("body.tag_id", "unknown_tag")
    ]
    assert [e["loc"] for e in assert_problem(user, 422, "validation_failed")["errors"]] == ["body.user_id"]
    assert grant_rows(sql) == []


async def test_a_grant_names_one_target_and_a_window_that_ends_after_it_starts(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql)
    tag = make_tag(sql, ACME, "sales")
    both = {"item_id": item, "community_id": ACME, "tag_id": tag, "user_id": ACME_LENA}
    backwards = {
        "item_id": item,
        "community_id": ACME,
        "starts_at": "2030-01-02T00:00:00Z",
        "ends_at": "2030-01-02T00:00:00Z",
    }
    naive = {"item_id": item, "community_id": ACME, "starts_at": "2030-01-02T00:00:00"}

    for body, kind in ((both, "one_target"), (backwards, "window_order"), (naive, "timezone_aware")):
        problem = assert_problem(
            await client.post(GRANTS, json=body, headers=auth(MANAGER)), 422, "validation_failed"
        )
        assert kind in [e["type"] for e in problem["errors"]], problem
    assert grant_rows(sql) == []


async def test_granting_the_same_target_twice_is_a_conflict(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql)
    body = {"item_id": item, "community_id": ACME}
    first = await client.post(GRANTS, json=body, headers=auth(MANAGER))

    again = await client.post(GRANTS, json={**body, "ends_at": "2099-01-01T00:00:00Z"}, headers=auth(SUPER))

    assert first.status_code == 201
    assert_problem(again, 409, "grant_exists")
    assert len(grant_rows(sql)) == 1 and grant_rows(sql)[0]["ends_at"] is None


# ----------------------------------------------------------------------------------------------------
# Listing and reading
# ----------------------------------------------------------------------------------------------------


async def test_grants_of_an_item_show_each_caller_only_the_communities_they_read(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql)
    in_acme = make_grant(sql, item, ACME)
    in_globex = make_grant(sql, item, GLOBEX)

    async def listed(user: str) -> list[str]:
        response = await client.get(GRANTS, params={"item_id": item}, headers=auth(user))
        assert response.status_code == 200, response.text
        return sorted(g["id"] for g in response.json()["items"])

    assert await listed(SPECIALIST) == sorted([in_acme, in_globex])
    assert await listed(ACME_ADMIN) == [in_acme]
    assert await listed(GLOBEX_ADMIN) == [in_globex]
    assert_problem(
        await client.get(GRANTS, params={"item_id": item}, headers=auth(ACME_LENA)), 403, "forbidden"
    )


async def test_grants_of_an_item_the_caller_cannot_see_are_not_found(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    draft = make_item(sql, community=GLOBEX, status="draft")

    response = await client.get(GRANTS, params={"item_id": draft}, headers=auth(ACME_ADMIN))

    assert_problem(response, 404, "not_found")


async def test_grants_in_a_community_page_newest_first(client: httpx.AsyncClient, sql: Sql) -> None:
    items = [make_item(sql, title=f"item {n}") for n in range(5)]
    ids = [make_grant(sql, item, ACME) for item in items]
    make_grant(sql, items[0], GLOBEX)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"community_id": ACME, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(GRANTS, params=params, headers=auth(ACME_ADMIN))
        assert response.status_code == 200, response.text
        seen += [g["id"] for g in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(ids))


async def test_grants_in_a_community_are_its_readers_alone(client: httpx.AsyncClient, sql: Sql) -> None:
    make_grant(sql, make_item(sql), ACME)

    other_admin = await client.get(GRANTS, params={"community_id": ACME}, headers=auth(GLOBEX_ADMIN))
    learner = await client.get(GRANTS, params={"community_id": ACME}, headers=auth(ACME_LENA))
    both = await client.get(GRANTS, params={"community_id": ACME, "item_id": ACME}, headers=auth(SUPER))
    neither = await client.get(GRANTS, headers=auth(SUPER))

    assert_problem(other_admin, 404, "not_found")
    assert_problem(learner, 403, "forbidden")
    assert_problem(both, 422, "validation_failed")
    assert_problem(neither, 422, "validation_failed")


async def test_one_grant_is_read_by_its_community_readers_only(client: httpx.AsyncClient, sql: Sql) -> None:
    grant = make_grant(sql, make_item(sql), ACME)

    own = await client.get(f"{GRANTS}/{grant}", headers=auth(ACME_ADMIN))
    other = await client.get(f"{GRANTS}/{grant}", headers=auth(GLOBEX_ADMIN))

    assert own.status_code == 200 and own.json()["id"] == grant
    assert_problem(other, 404, "not_found")


# ----------------------------------------------------------------------------------------------------
# Changing the window and revoking
# ----------------------------------------------------------------------------------------------------


async def test_admin_moves_own_items_grant_window_and_it_is_audited(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    grant = make_grant(sql, make_item(sql, community=ACME), ACME, ends="1 day")

    moved = await client.patch(
        f"{GRANTS}/{grant}",
        json={"starts_at": "2099-01-01T00:00:00Z", "ends_at": None},
        headers=auth(ACME_ADMIN),
    )
    backwards = await client.patch(
        f"{GRANTS}/{grant}", json={"ends_at": "2098-01-01T00:00:00Z"}, headers=auth(ACME_ADMIN)
    )

    assert moved.status_code == 200, moved.text
    assert (moved.json()["starts_at"], moved.json()["ends_at"]) == ("2099-01-01T00:00:00Z", None)
    assert moved.json()["window_state"] == "scheduled"
    assert_problem(backwards, 422, "validation_failed")
    [row] = grant_rows(sql)
    assert row["ends_at"] is None and row["starts_at"].year == 2099
    [entry] = audit_rows(sql)
    assert entry["action"] == "content.grant_window_changed"
    assert entry["before"]["ends_at"] is not None and entry["after"]["ends_at"] is None


async def test_admin_revokes_own_items_grant_and_it_is_audited(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql, community=ACME)
    grant = make_grant(sql, item, ACME)

    response = await client.delete(f"{GRANTS}/{grant}", headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    assert response.json() == {"id": grant, "item_id": item, "community_id": ACME}
    assert grant_rows(sql) == []
    [entry] = audit_rows(sql)
    assert (entry["actor_id"], entry["action"], entry["target_id"]) == (ACME_ADMIN, "content.revoked", grant)
    assert entry["after"] is None and entry["before"]["item_id"] == item


async def test_only_staff_writers_revoke_platform_content_grants(client: httpx.AsyncClient, sql: Sql) -> None:
    grant = make_grant(sql, make_item(sql), ACME)

    admin = await client.delete(f"{GRANTS}/{grant}", headers=auth(ACME_ADMIN))
    other_admin = await client.delete(f"{GRANTS}/{grant}", headers=auth(GLOBEX_ADMIN))
    specialist = await client.delete(f"{GRANTS}/{grant}", headers=auth(SPECIALIST))
    learner = await client.delete(f"{GRANTS}/{grant}", headers=auth(ACME_LENA))
    window = await client.patch(f"{GRANTS}/{grant}", json={"ends_at": None}, headers=auth(ACME_ADMIN))

    assert_problem(admin, 403, "forbidden")
    assert_problem(other_admin, 404, "not_found")
    assert_problem(specialist, 403, "forbidden")
    assert_problem(learner, 403, "forbidden")
    assert_problem(window, 403, "forbidden")
    assert len(grant_rows(sql)) == 1 and audit_rows(sql) == []

    manager = await client.delete(f"{GRANTS}/{grant}", headers=auth(MANAGER))

    assert manager.status_code == 200 and grant_rows(sql) == []


async def test_a_tag_grant_reaches_the_tags_holders(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql, community=ACME)
    tag = make_tag(sql, ACME, "sales")
    assign(sql, tag, ACME_LIAM)

    response = await client.post(
        GRANTS, json={"item_id": item, "community_id": ACME, "tag_id": tag}, headers=auth(ACME_ADMIN)
    )
    catalogue = {u: await client.get("/catalogue", headers=auth(u)) for u in (ACME_LIAM, ACME_LENA)}

    assert response.status_code == 201
    assert [i["id"] for i in catalogue[ACME_LIAM].json()["items"]] == [item]
    assert catalogue[ACME_LENA].json()["items"] == []
