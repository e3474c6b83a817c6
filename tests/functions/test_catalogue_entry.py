"""`GET /catalogue/{item}`: a learner opens a published item they may see, with its payload as a learner
reads it; what a granted WOD or program uses of the same owner opens with it, and nothing else does."""

from __future__ import annotations

from typing import Any

import httpx

from tests.content_helpers import AGENT
from tests.content_rows import make_grant, make_item
from tests.factories import ACME, ACME_LENA, ACME_LIAM, GLOBEX, GLOBEX_GINA, auth
from tests.helpers import Sql, assert_problem, assign, make_tag

CATALOGUE = "/catalogue"


def uses(*items: str) -> dict[str, Any]:
    """A WOD payload whose page embeds `items` (prompts)."""
    return {"pages": [{"title": "P", "blocks": [{"type": "prompt", "content_id": i} for i in items]}]}


async def opened(client: httpx.AsyncClient, user: str, item: str) -> httpx.Response:
    return await client.get(f"{CATALOGUE}/{item}", headers=auth(user))


async def test_a_learner_opens_a_granted_item_without_what_learners_never_read(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    agent = make_item(sql, type="ai_agent", title="Coach", payload=AGENT)
    make_grant(sql, agent, ACME)

    response = await opened(client, ACME_LENA, agent)
    again = await client.get(
        f"{CATALOGUE}/{agent}", headers={**auth(ACME_LENA), "If-None-Match": response.headers["ETag"]}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["type"], body["title"]) == (agent, "ai_agent", "Coach")
    assert body["payload"]["name"] == "Coach"
    assert "system_prompt" not in body["payload"] and "model_settings" not in body["payload"]
    assert again.status_code == 304


async def test_what_is_not_granted_now_is_a_404(client: httpx.AsyncClient, sql: Sql) -> None:
    draft = make_item(sql, status="draft")
    make_grant(sql, draft, ACME)
    expired = make_item(sql)
    make_grant(sql, expired, ACME, starts="-2 days", ends="-1 day")
    theirs = make_item(sql)
    make_grant(sql, theirs, GLOBEX)

    for item in (draft, expired, theirs):
        assert_problem(await opened(client, ACME_LENA, item), 404, "not_found")
    assert (await opened(client, GLOBEX_GINA, theirs)).status_code == 200


async def test_a_granted_wod_opens_what_it_uses_of_its_own_owner_only(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    own = make_item(sql, community=ACME, title="acme prompt")
    draft = make_item(sql, community=ACME, title="acme draft", status="draft")
    # A platform prompt granted only to Acme's sales tag: an Acme admin may embed it in an Acme WOD,
    # but the WOD must not widen that grant to every Acme learner.
    sales = make_tag(sql, ACME, "sales")
    assign(sql, sales, ACME_LIAM)
    tagged = make_item(sql, title="for sales")
    make_grant(sql, tagged, ACME, tag=sales)
    wod = make_item(sql, community=ACME, type="wod", title="lesson", payload=uses(own, draft, tagged))
    make_grant(sql, wod, ACME)

    listed = await client.get(CATALOGUE, headers=auth(ACME_LENA))

    assert (await opened(client, ACME_LENA, wod)).json()["payload"]["pages"][0]["blocks"][0]["content_id"] == own
    assert (await opened(client, ACME_LENA, own)).status_code == 200
    assert_problem(await opened(client, ACME_LENA, draft), 404, "not_found")  # still only published
    assert_problem(await opened(client, ACME_LENA, tagged), 404, "not_found")  # no widened grant
    assert (await opened(client, ACME_LIAM, tagged)).status_code == 200  # the tag's own grant
    assert_problem(await opened(client, GLOBEX_GINA, own), 404, "not_found")
    assert [i["id"] for i in listed.json()["items"]] == [wod]  # the list names what was granted


async def test_a_granted_program_opens_its_wods_and_what_they_use(client: httpx.AsyncClient, sql: Sql) -> None:
    video = make_item(sql, title="platform prompt")
    wod = make_item(sql, type="wod", title="platform lesson", payload=uses(video))
    program = make_item(
        sql,
        type="program",
        title="platform program",
        payload={"sections": [{"title": "S", "items": [{"item_id": wod}]}]},
    )
    make_grant(sql, program, ACME)

    for item in (program, wod, video):
        assert (await opened(client, ACME_LENA, item)).status_code == 200
        assert_problem(await opened(client, GLOBEX_GINA, item), 404, "not_found")
    sql("update content_items set status = 'draft' where id = %s", (program,))
    for item in (program, wod, video):
        assert_problem(await opened(client, ACME_LENA, item), 404, "not_found")
