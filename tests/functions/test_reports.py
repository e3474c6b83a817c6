"""`reports` through the real handler: the weekly digests, prepared by the schedule and read by admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from scripts.local.stack import LOCAL_SECRET_KEY
from shared.analytics.weekly import last_week
from shared.platform.db import as_user
from tests.analytics_rows import ai_call, completion
from tests.content_helpers import make_item
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    ACME_LIAM,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    SPECIALIST,
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem

SERVICE = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}
WEEK = last_week()
SUNDAY = WEEK + timedelta(days=6)


async def prepare(client: httpx.AsyncClient, week: Any = None) -> dict[str, Any]:
    body = {} if week is None else {"week_start": week.isoformat()}
    response = await client.post("/reports/run", json=body, headers=SERVICE)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
async def digests(client: httpx.AsyncClient, sql: Sql) -> dict[str, str]:
    """Last week: Lena completes an item twice and Liam uses the AI in Acme, Gina completes one in Globex;
    the week before, Lena completed three. Rolled up, then every community's digest prepared."""
    item = make_item(sql, ACME, title="Course", status="published")
    sql("update public.memberships set joined_at = now() - interval '60 days'")
    completion(sql, ACME_LENA, ACME, item, f"{WEEK} 09:00+00")
    completion(sql, ACME_LENA, ACME, item, f"{SUNDAY} 23:00+00")
    for hour in ("08", "09", "10"):
        completion(sql, ACME_LENA, ACME, item, f"{WEEK - timedelta(days=3)} {hour}:00+00")
    ai_call(sql, ACME_LIAM, ACME, f"{WEEK + timedelta(days=1)} 10:00+00", tokens=90)
    completion(sql, GLOBEX_GINA, GLOBEX, make_item(sql, GLOBEX, status="published"), f"{WEEK} 10:00+00")
    span = {"from": (WEEK - timedelta(days=7)).isoformat(), "to": SUNDAY.isoformat()}
    assert (await client.post("/analytics/run", json=span, headers=SERVICE)).status_code == 200
    run = await prepare(client)
    assert run["week_start"] == WEEK.isoformat()
    rows = sql("select community_id::text, id::text from public.analytics_digests")
    return {r["community_id"]: r["id"] for r in rows}


async def test_the_schedule_stores_each_active_communitys_digest(
    client: httpx.AsyncClient, sql: Sql, digests: dict[str, str]
) -> None:
    assert set(digests) == {ACME, GLOBEX}
    body = sql("select body from public.analytics_digests where id = %s", (digests[ACME],))[0]["body"]
    assert (body["from_day"], body["to_day"]) == (WEEK.isoformat(), SUNDAY.isoformat())
    assert body["totals"]["completions"] == 2
    assert body["totals"]["ai_tokens"] == 90
    assert body["previous_totals"]["completions"] == 3
    assert [learner["user_id"] for learner in body["top_learners"]] == [ACME_LENA, ACME_LIAM]
    assert body["top_content"][0]["title"] == "Course"
    assert [(r["user_id"], r["reason"]) for r in body["at_risk"]] == [(ACME_LENA, "falling")]
    assert body["ai_usage"]["quota"] is not None and "used_tokens" in body["ai_usage"]


async def test_preparing_a_week_again_rewrites_its_digests(
    client: httpx.AsyncClient, sql: Sql, digests: dict[str, str]
) -> None:
    before = sql("select id::text, community_id::text, week_start, body from public.analytics_digests order by 1")
    await prepare(client, WEEK)
    after = sql("select id::text, community_id::text, week_start, body from public.analytics_digests order by 1")
    assert after == before


async def test_an_admin_lists_and_reads_their_communitys_digests(
    client: httpx.AsyncClient, digests: dict[str, str]
) -> None:
    listing = await client.get("/reports", params={"community_id": ACME}, headers=auth(ACME_ADMIN))
    assert listing.status_code == 200, listing.text
    assert [(d["id"], d["week_start"]) for d in listing.json()["items"]] == [(digests[ACME], WEEK.isoformat())]
    one = await client.get(f"/reports/{digests[ACME]}", headers=auth(ACME_ADMIN))
    assert one.status_code == 200, one.text
    assert one.json()["body"]["totals"]["completions"] == 2


async def test_the_admin_dashboard_links_the_latest_digest(
    client: httpx.AsyncClient, digests: dict[str, str]
) -> None:
    response = await client.get(f"/admin-dashboard/{ACME}", headers=auth(ACME_ADMIN))
    assert response.json()["latest_digest_id"] == digests[ACME]


async def test_another_communitys_digest_is_not_found(client: httpx.AsyncClient, digests: dict[str, str]) -> None:
    response = await client.get(f"/reports/{digests[ACME]}", headers=auth(GLOBEX_ADMIN))
    assert_problem(response, 404, "digest_not_found")
    listing = await client.get("/reports", params={"community_id": ACME}, headers=auth(GLOBEX_ADMIN))
    assert listing.status_code in (403, 404)
    assert digests[ACME] not in listing.text


async def test_a_learner_reads_no_digest(client: httpx.AsyncClient, digests: dict[str, str]) -> None:
    assert_problem(await client.get(f"/reports/{digests[ACME]}", headers=auth(ACME_LENA)), 403, "forbidden")
    async with as_user(claims(ACME_LENA)) as tx:
        assert await tx.fetch_all("select id from public.analytics_digests") == []


async def test_staff_read_any_communitys_digest(client: httpx.AsyncClient, digests: dict[str, str]) -> None:
    response = await client.get(f"/reports/{digests[GLOBEX]}", headers=auth(SPECIALIST))
    assert response.status_code == 200, response.text


async def test_a_week_starts_on_a_monday(client: httpx.AsyncClient, db: str, sql: Sql) -> None:
    response = await client.post("/reports/run", json={"week_start": (WEEK + timedelta(days=1)).isoformat()},
                                 headers=SERVICE)
    assert_problem(response, 422, "validation_failed")
    assert sql("select count(*) as n from public.analytics_digests") == [{"n": 0}]


async def test_only_the_service_prepares_digests(client: httpx.AsyncClient, db: str, sql: Sql) -> None:
    response = await client.post("/reports/run", json={}, headers=auth(SPECIALIST))
    assert response.status_code in (401, 403)
    assert sql("select count(*) as n from public.analytics_digests") == [{"n": 0}]
