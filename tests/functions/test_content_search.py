"""Content search, filters and pages, and conditional reads, through the real handler."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.platform.caching import strong_etag
from tests.content_helpers import grant, make_item
from tests.factories import ACME, ACME_ADMIN, GLOBEX, GLOBEX_ADMIN, MANAGER, SPECIALIST, auth
from tests.helpers import Sql, assert_problem

CONTENT = "/content"


async def listed(client: httpx.AsyncClient, caller: str = SPECIALIST, **params: Any) -> list[str]:
    response = await client.get(CONTENT, params=params, headers=auth(caller))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_search_ranks_title_over_description_over_payload(client: httpx.AsyncClient, sql: Sql) -> None:
    in_payload = make_item(
        sql, None, title="Tips", payload={"prompt_text": "Open every negotiation with a question."}
    )
    in_title = make_item(sql, ACME, title="Negotiation basics")
    in_description = make_item(sql, GLOBEX, title="Sales", description="A short course on negotiating.")
    make_item(sql, None, title="Unrelated", description="Spreadsheets")

    assert await listed(client, q="negotiation") == [in_title, in_description, in_payload]
    # Web search syntax: stems match, `-word` excludes (ts_rank scores such a query flatly, so no order).
    assert set(await listed(client, q="negotiating -question")) == {in_title, in_description}
    assert await listed(client, q="nothing-like-this") == []


async def test_search_only_finds_what_the_caller_sees(client: httpx.AsyncClient, sql: Sql) -> None:
    acme = make_item(sql, ACME, title="Negotiation for Acme")
    make_item(sql, GLOBEX, title="Negotiation for Globex")
    make_item(sql, None, title="Negotiation, not granted", status="published")
    granted = make_item(sql, None, title="Negotiation, granted", status="published")
    grant(sql, granted, ACME)
    assert set(await listed(client, ACME_ADMIN, q="negotiation")) == {acme, granted}


async def test_filters_narrow_by_type_status_label_folder_and_owner(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    folder = sql(
        "insert into content_folders (community_id, repository, name) values (%s, 'content', 'F') returning id::text",
        (ACME,),
    )[0]["id"]
    prompt = make_item(sql, ACME, tags=["sales", "ai"])
    video = make_item(sql, ACME, content_type="video", status="published", tags=["ai"])
    platform = make_item(sql, None, content_type="pdf", tags=["sales"])
    sql("update content_items set folder_id = %s where id = %s", (folder, prompt))

    assert set(await listed(client, type="video")) == {video}
    assert set(await listed(client, status="draft")) == {prompt, platform}
    assert set(await listed(client, tag="sales")) == {prompt, platform}
    assert set(await listed(client, tag="ai", status="published")) == {video}
    assert set(await listed(client, folder_id=folder)) == {prompt}
    assert set(await listed(client, community_id=ACME)) == {prompt, video}
    assert set(await listed(client, platform="true")) == {platform}
    assert set(await listed(client, platform="false")) == {prompt, video}
    assert set(await listed(client, community_id=GLOBEX)) == set()


@pytest.mark.parametrize(
    "params",
    [
        {"community_id": ACME, "platform": "true"},
        {"type": "podcast"},
        {"cursor": "bm90IGEgY3Vyc29y"},
        {"limit": 101},
        {"owner": "me"},
    ],
)
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, sql: Sql, params: dict[str, Any]
) -> None:
    assert_problem(await client.get(CONTENT, params=params, headers=auth(MANAGER)), 422, "validation_failed")


async def pages(client: httpx.AsyncClient, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        query = {**params, "limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await client.get(CONTENT, params=query, headers=auth(MANAGER))
        assert response.status_code == 200, response.text
        seen += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen


async def test_pages_list_every_item_once_newest_change_first(client: httpx.AsyncClient, sql: Sql) -> None:
    items = [make_item(sql, ACME, title=f"Item {n}") for n in range(8)]
    for n, item in enumerate(items):
        sql("update content_items set title = title || '!', updated_at = now() where id = %s", (item,))
        sql(
            "update content_items set updated_at = now() - make_interval(secs => %s) where id = %s",
            (100 - n, item),
        )
    assert await pages(client) == list(reversed(items))


async def test_search_pages_list_every_match_once_even_when_ranks_tie(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    tied = {make_item(sql, ACME, title="Prompting") for _ in range(5)}
    better = make_item(sql, ACME, title="Prompting prompting", description="prompting")
    make_item(sql, ACME, title="Other")
    found = await pages(client, q="prompting")
    assert found[0] == better and set(found[1:]) == tied and len(found) == 6


# ----------------------------------------------------------------------------------------------------
# Conditional reads
# ----------------------------------------------------------------------------------------------------


async def test_a_published_item_is_cacheable_and_revalidates_with_304(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql, ACME, status="published")
    first = await client.get(f"{CONTENT}/{item}", headers=auth(ACME_ADMIN))
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert tag == strong_etag(item, 1)
    assert first.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in first.headers["vary"]

    again = await client.get(
        f"{CONTENT}/{item}", headers={**auth(ACME_ADMIN), "If-None-Match": f'"other", {tag}'}
    )

    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag and again.headers["cache-control"] == "private, no-cache"
    assert "content-type" not in again.headers


async def test_a_changed_item_answers_its_new_body_to_an_old_etag(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql, ACME, status="published")
    old = (await client.get(f"{CONTENT}/{item}", headers=auth(ACME_ADMIN))).headers["etag"]
    changed = await client.patch(
        f"{CONTENT}/{item}",
        json={"type": "prompt", "title": "New"},
        headers={**auth(ACME_ADMIN), "If-Match": old},
    )
    assert changed.status_code == 200
    response = await client.get(f"{CONTENT}/{item}", headers={**auth(ACME_ADMIN), "If-None-Match": old})
    assert response.status_code == 200 and response.json()["title"] == "New"
    assert response.headers["etag"] == changed.headers["etag"] != old


async def test_drafts_are_not_kept_by_caches(client: httpx.AsyncClient, sql: Sql) -> None:
    item = make_item(sql, ACME)
    response = await client.get(f"{CONTENT}/{item}", headers=auth(ACME_ADMIN))
    assert response.headers["cache-control"] == "private, no-store" and response.headers["etag"]


async def test_an_etag_never_answers_304_to_a_caller_who_cannot_see_the_item(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = make_item(sql, ACME, status="published")
    tag = strong_etag(item, 1)
    assert_problem(
        await client.get(f"{CONTENT}/{item}", headers={**auth(GLOBEX_ADMIN), "If-None-Match": tag}),
        404,
        "not_found",
    )
    assert_problem(
        await client.get(f"{CONTENT}/{item}", headers={"If-None-Match": tag}), 401, "unauthenticated"
    )
