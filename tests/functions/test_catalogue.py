"""`catalogue` through the real handler: a learner lists exactly what row level security shows them."""

from __future__ import annotations

from typing import Any

import httpx

from shared.platform.db import as_user
from tests.content_rows import make_grant, make_item
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, ACME_LIAM, GLOBEX, GLOBEX_GINA, MANAGER, auth
from tests.helpers import Sql, assert_problem, assign, make_tag

CATALOGUE = "/catalogue"


async def listed(client: httpx.AsyncClient, user: str, **params: Any) -> list[str]:
    response = await client.get(CATALOGUE, params=params, headers=auth(user))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def rls_visible(user: str) -> set[str]:
    """What an unfiltered select shows the user, speaking SQL as PostgREST does."""
    async with as_user({"sub": user, "role": "authenticated"}) as tx:
        return {str(r["id"]) for r in await tx.fetch_all("select id from public.content_items")}


def arrange_lenas_world(sql: Sql) -> dict[str, str]:
    """One item per way of being granted (or not) to lena, a learner of acme holding the tag `sales`."""
    sales = make_tag(sql, ACME, "sales")
    other = make_tag(sql, ACME, "other")
    assign(sql, sales, ACME_LENA)
    items = {
        name: make_item(sql, title=name)
        for name in (
            "to acme",
            "to sales",
            "to lena",
            "to other tag",
            "to liam",
            "draft",
            "archived",
            "not yet",
            "expired",
            "to globex",
        )
    }
    sql("update content_items set status = 'draft' where id = %s", (items["draft"],))
    sql("update content_items set status = 'archived' where id = %s", (items["archived"],))
    make_grant(sql, items["to acme"], ACME)
    make_grant(sql, items["to sales"], ACME, tag=sales, starts="-1 day", ends="1 day")
    make_grant(sql, items["to lena"], ACME, user=ACME_LENA)
    make_grant(sql, items["to other tag"], ACME, tag=other)
    make_grant(sql, items["to liam"], ACME, user=ACME_LIAM)
    make_grant(sql, items["draft"], ACME)
    make_grant(sql, items["archived"], ACME)
    make_grant(sql, items["not yet"], ACME, starts="1 hour")
    make_grant(sql, items["expired"], ACME, ends="-1 second")
    make_grant(sql, items["to globex"], GLOBEX)
    return items


async def test_learner_sees_exactly_the_published_items_granted_to_them_now(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    items = arrange_lenas_world(sql)
    expected = {items["to acme"], items["to sales"], items["to lena"]}

    assert set(await listed(client, ACME_LENA)) == expected
    assert set(await listed(client, ACME_LENA, community_id=ACME)) == expected
    assert await rls_visible(ACME_LENA) == expected  # the database alone says the same
    assert set(await listed(client, ACME_LIAM)) == {items["to acme"], items["to liam"]}
    assert await listed(client, GLOBEX_GINA) == [items["to globex"]]
    assert await rls_visible(GLOBEX_GINA) == {items["to globex"]}


async def test_an_item_granted_twice_is_listed_once(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql)
    sales = make_tag(sql, ACME, "sales")
    assign(sql, sales, ACME_LENA)
    make_grant(sql, item, ACME)
    make_grant(sql, item, ACME, tag=sales)
    make_grant(sql, item, ACME, user=ACME_LENA)

    assert await listed(client, ACME_LENA) == [item]


async def test_publishing_and_unpublishing_move_an_item_in_and_out(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql, status="draft")
    make_grant(sql, item, ACME)
    assert await listed(client, ACME_LENA) == []

    sql("update content_items set status = 'published' where id = %s", (item,))
    assert await listed(client, ACME_LENA) == [item]

    sql("update content_items set status = 'archived' where id = %s", (item,))
    assert await listed(client, ACME_LENA) == []


async def test_an_archived_community_shows_its_learners_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql)
    make_grant(sql, item, ACME)
    sql("update communities set status = 'archived' where id = %s", (ACME,))

    assert await listed(client, ACME_LENA) == []
    assert await rls_visible(ACME_LENA) == set()
    assert_problem(
        await client.get(CATALOGUE, params={"community_id": ACME}, headers=auth(ACME_LENA)), 404, "not_found"
    )


async def test_a_revoked_grant_shows_nothing_any_more(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql)
    grant = make_grant(sql, item, ACME)
    assert await listed(client, ACME_LENA) == [item]

    revoked = await client.delete(f"/content-grants/{grant}", headers=auth(MANAGER))

    assert revoked.status_code == 200
    assert await listed(client, ACME_LENA) == []
    assert await rls_visible(ACME_LENA) == set()


async def test_a_member_who_left_loses_their_user_grant(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql)
    make_grant(sql, item, ACME, user=ACME_LIAM)
    assert await rls_visible(ACME_LIAM) == {item}

    sql("delete from memberships where community_id = %s and user_id = %s", (ACME, ACME_LIAM))

    assert await rls_visible(ACME_LIAM) == set()
    assert await listed(client, ACME_LIAM) == []
    assert sql("select count(*) as n from content_grants")[0]["n"] == 0  # the grant went with the membership


async def test_catalogue_filters_by_type_label_and_text(client: httpx.AsyncClient, sql: Sql) -> None:
    video = make_item(
        sql,
        type="video",
        title="Prompting basics",
        tags=("beginner",),
        payload={
            "url": "https://youtu.be/x",
            "platform": "youtube",
            "platform_video_id": "x",
            "transcript": "We talk about spreadsheets and formulas",
        },
    )
    prompt = make_item(
        sql, title="Email coach", tags=("writing", "beginner"), payload={"text": "Improve my emails"}
    )
    for item in (video, prompt):
        make_grant(sql, item, ACME)

    assert await listed(client, ACME_LENA, type="video") == [video]
    assert await listed(client, ACME_LENA, tag="writing") == [prompt]
    assert set(await listed(client, ACME_LENA, tag="beginner")) == {video, prompt}
    assert await listed(client, ACME_LENA, q="spreadsheet") == [video]  # the transcript is searched
    assert await listed(client, ACME_LENA, q="email") == [prompt]
    assert await listed(client, ACME_LENA, q="youtube") == []  # identifiers are not words


async def test_catalogue_pages_newest_first(client: httpx.AsyncClient, sql: Sql) -> None:
    items = []
    for n in range(5):
        items.append(make_item(sql, title=f"item {n}"))
        make_grant(sql, items[-1], ACME)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(CATALOGUE, params=params, headers=auth(ACME_LENA))
        assert response.status_code == 200, response.text
        seen += [i["id"] for i in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(items))


async def test_catalogue_of_a_community_the_caller_is_not_in(client: httpx.AsyncClient, sql: Sql) -> None:
    make_grant(sql, make_item(sql), GLOBEX)

    learner = await client.get(CATALOGUE, params={"community_id": GLOBEX}, headers=auth(ACME_LENA))
    staff = await client.get(CATALOGUE, params={"community_id": GLOBEX}, headers=auth(MANAGER))
    bad_type = await client.get(CATALOGUE, params={"type": "lesson"}, headers=auth(ACME_LENA))

    assert_problem(learner, 404, "not_found")
    assert_problem(staff, 403, "forbidden")
    assert_problem(bad_type, 422, "validation_failed")


async def test_an_admins_catalogue_is_a_learners_not_their_authoring_view(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    own_draft = make_item(sql, community=ACME, status="draft")
    own_ungranted = make_item(sql, community=ACME)
    granted = make_item(sql, community=ACME)
    make_grant(sql, own_draft, ACME)
    make_grant(sql, granted, ACME)

    assert await listed(client, ACME_ADMIN) == [granted]
    assert own_ungranted not in await listed(client, ACME_ADMIN, community_id=ACME)


async def test_an_unchanged_catalogue_is_a_304_and_a_revoked_grant_changes_it(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql)
    grant = make_grant(sql, item, ACME)
    first = await client.get(CATALOGUE, headers=auth(ACME_LENA))
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in first.headers["vary"]

    again = await client.get(CATALOGUE, headers={**auth(ACME_LENA), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""

    await client.delete(f"/content-grants/{grant}", headers=auth(MANAGER))
    after = await client.get(CATALOGUE, headers={**auth(ACME_LENA), "If-None-Match": etag})
    assert after.status_code == 200 and after.json()["items"] == []
    assert after.headers["etag"] != etag
