"""Many requests at once end in their documented outcomes, never in a raw key violation.

Each test fires its requests together (asyncio.gather through the real handlers) with a pool large
enough that they really run side by side in the database, and asserts every status and code as well as
the rows and audit entries left behind.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from shared.platform.config import reset_settings
from tests.content_helpers import make_item
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, ACME_LIAM, MANAGER, SUPER, auth
from tests.helpers import Sql, count, make_tag

TAGS = "/tags"
LINKS = "/signup-links"
AT_ONCE = 12


@pytest.fixture(autouse=True)
def wide_pool(db: str) -> Iterator[None]:
    """A pool as wide as the burst, so the requests do not queue for connections."""
    saved = os.environ.get("DB_POOL_MAX")
    os.environ["DB_POOL_MAX"] = str(AT_ONCE + 2)
    reset_settings()
    yield
    if saved is None:
        os.environ.pop("DB_POOL_MAX", None)
    else:
        os.environ["DB_POOL_MAX"] = saved
    reset_settings()


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    """How many responses ended with each (status, problem code)."""
    return Counter((r.status_code, r.json().get("code") if r.status_code >= 400 else None) for r in responses)


def actions(sql: Sql) -> list[str]:
    return [r["action"] for r in sql("select action from audit_log order by id")]


async def test_many_creates_of_one_tag_name_make_one_tag_and_409s(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                TAGS,
                json={"community_id": ACME, "name": "Same" if i % 2 else "SAME"},
                headers=auth(ACME_ADMIN),
            )
            for i in range(AT_ONCE)
        )
    )
    assert outcomes(responses) == {(201, None): 1, (409, "tag_name_taken"): AT_ONCE - 1}
    assert count(sql, "select count(*) as n from user_tags where community_id = %s", (ACME,)) == 1
    assert actions(sql) == ["tag.created"]


async def test_many_grants_of_one_staff_role_all_succeed_once(client: httpx.AsyncClient, sql: Sql) -> None:
    responses = await asyncio.gather(
        *(
            client.put(f"/staff/{ACME_LENA}", json={"role": "specialist"}, headers=auth(SUPER))
            for _ in range(AT_ONCE)
        )
    )
    assert outcomes(responses) == {(200, None): AT_ONCE}, [r.text for r in responses if r.status_code != 200]
    assert sql("select role from platform_staff where user_id = %s", (ACME_LENA,)) == [{"role": "specialist"}]
    assert actions(sql) == ["staff.granted"]


async def test_grants_of_different_roles_at_once_apply_in_some_order(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    roles = ["specialist", "manager"] * (AT_ONCE // 2)
    responses = await asyncio.gather(
        *(client.put(f"/staff/{ACME_LENA}", json={"role": role}, headers=auth(SUPER)) for role in roles)
    )
    assert outcomes(responses) == {(200, None): AT_ONCE}, [r.text for r in responses if r.status_code != 200]
    [final] = sql("select role from platform_staff where user_id = %s", (ACME_LENA,))
    history = actions(sql)
    assert history[0] == "staff.granted" and set(history[1:]) <= {"staff.changed"}
    assert final["role"] in roles


async def test_tagging_members_while_the_tag_is_deleted_never_answers_a_raw_conflict(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    for round_ in range(4):
        tag = make_tag(sql, ACME, f"Doomed {round_}")
        adds = [
            client.post(f"/members/{ACME}/{user}/tags/{tag}", headers=auth(ACME_ADMIN))
            for user in (ACME_ADMIN, ACME_LENA, ACME_LIAM)
        ]
        links = [
            client.post(LINKS, json={"community_id": ACME, "tag_ids": [tag]}, headers=auth(MANAGER))
            for _ in range(AT_ONCE // 2 - 3)
        ]
        delete = client.delete(f"/tags/{tag}?confirm=true", headers=auth(ACME_ADMIN))
        *added, deleted = await asyncio.gather(*adds, *links, delete)
        assert deleted.status_code == 200, deleted.text
        allowed = {(200, None), (201, None), (422, "validation_failed")}
        assert set(outcomes(added)) <= allowed, [r.text for r in added]
        for refused in (r for r in added if r.status_code == 422):
            assert {e["type"] for e in refused.json()["errors"]} == {"unknown_tag"}
        assert count(sql, "select count(*) as n from user_tag_assignments where tag_id = %s", (tag,)) == 0
        assert count(sql, "select count(*) as n from signup_link_tags where tag_id = %s", (tag,)) == 0


async def test_many_creates_of_one_community_name_make_one_community(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                "/communities", json={"name": "Initech", "slug": f"initech-{i}"}, headers=auth(MANAGER)
            )
            for i in range(AT_ONCE)
        )
    )
    assert outcomes(responses) == {(201, None): 1, (409, "community_name_taken"): AT_ONCE - 1}
    assert count(sql, "select count(*) as n from communities where name = 'Initech'") == 1
    assert actions(sql) == ["community.created"]


async def test_cloning_a_template_while_it_is_deleted_never_answers_a_raw_conflict(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    for round_ in range(6):
        [template] = sql(
            "insert into communities (name, slug, is_template) values (%s, %s, true) returning id::text",
            (f"Template {round_}", f"template-{round_}"),
        )
        clones = [
            client.post(
                "/communities",
                json={
                    "name": f"Clone {round_}-{i}",
                    "slug": f"clone-{round_}-{i}",
                    "template_id": template["id"],
                },
                headers=auth(MANAGER),
            )
            for i in range(AT_ONCE // 2)
        ]
        slug = f"template-{round_}"
        delete = client.delete(f"/communities/{template['id']}?confirm={slug}", headers=auth(SUPER))
        *cloned, deleted = await asyncio.gather(*clones, delete)
        assert deleted.status_code == 204, deleted.text
        assert set(outcomes(cloned)) <= {(201, None), (422, "validation_failed")}, [r.text for r in cloned]


async def test_bulk_moves_of_one_selection_in_opposite_orders_never_deadlock_and_never_split_it(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    items = [make_item(sql, ACME, title=f"item {n}") for n in range(6)]
    folders = [
        sql(
            "insert into content_folders (community_id, repository, name) values (%s, 'content', %s) returning id::text",
            (ACME, f"F{n}"),
        )[0]["id"]
        for n in range(AT_ONCE)
    ]
    responses = await asyncio.gather(
        *(
            client.post(
                "/content/bulk",
                json={"action": "move", "ids": items if n % 2 else items[::-1], "folder_id": folders[n]},
                headers=auth(ACME_ADMIN),
            )
            for n in range(AT_ONCE)
        )
    )

    assert outcomes(responses) == {(200, None): AT_ONCE}
    assert count(sql, "select count(distinct folder_id) as n from content_items") == 1  # the last batch's, whole


async def test_concurrent_bulk_deletes_of_one_selection_delete_it_once(client: httpx.AsyncClient, sql: Sql) -> None:
    items = [make_item(sql, ACME, title=f"item {n}") for n in range(3)]
    responses = await asyncio.gather(
        *(
            client.post("/content/bulk", json={"action": "delete", "ids": items}, headers=auth(ACME_ADMIN))
            for _ in range(AT_ONCE)
        )
    )

    assert outcomes(responses) == {(200, None): 1, (409, "bulk_refused"): AT_ONCE - 1}
    assert count(sql, "select count(*) as n from content_items") == 0
    assert actions(sql) == ["content.deleted"] * 3
