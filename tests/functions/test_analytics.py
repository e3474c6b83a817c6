"""`analytics` through the real handler: the rollup job (idempotent, late facts, UTC days, resuming after a
crash) and the dashboards (totals, series, top content and learners, learners at risk) per caller."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from scripts.local.stack import LOCAL_SECRET_KEY
from shared.analytics import rollups
from shared.analytics.schemas import today
from shared.platform.db import as_user
from tests.analytics_rows import ai_call, completion, quiz
from tests.content_helpers import make_item
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
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem

SERVICE = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}
DAY = today() - timedelta(days=3)
NEXT = DAY + timedelta(days=1)
ROLLUPS = ("analytics_daily", "analytics_user_daily", "analytics_content_daily")


def at(day: date, time: str = "10:00") -> str:
    return f"{day} {time}+00"


def span(first: date, last: date) -> dict[str, str]:
    return {"from": first.isoformat(), "to": last.isoformat()}


async def rebuild(client: httpx.AsyncClient, first: date, last: date) -> dict[str, Any]:
    response = await client.post("/analytics/run", json=span(first, last), headers=SERVICE)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def snapshot(sql: Sql) -> dict[str, list[dict[str, Any]]]:
    return {t: sql(f"select * from public.{t} order by 1, 2, 3") for t in ROLLUPS}  # noqa: S608


@pytest.fixture
def facts(sql: Sql) -> dict[str, str]:
    """On DAY (UTC): Lena completes the course twice (90 s, 30 s) and scores 80 and 60 in quizzes, Liam asks
    the AI twice (30 tokens each); at 23:59:59 Lena completes the guide, and at 00:00 on NEXT Liam does.
    Globex: Gina completes her item on DAY."""
    course = make_item(sql, ACME, title="Course", status="published")
    guide = make_item(sql, ACME, title="Guide", status="published")
    globex_item = make_item(sql, GLOBEX, title="Globex item", status="published")
    completion(sql, ACME_LENA, ACME, course, at(DAY, "08:00"), seconds=90)
    completion(sql, ACME_LENA, ACME, course, at(DAY, "09:00"), seconds=30)
    quiz(sql, ACME_LENA, ACME, course, at(DAY), score=80)
    quiz(sql, ACME_LENA, ACME, guide, at(DAY), score=60)
    ai_call(sql, ACME_LIAM, ACME, at(DAY))
    ai_call(sql, ACME_LIAM, ACME, at(DAY, "11:00"))
    completion(sql, ACME_LENA, ACME, guide, at(DAY, "23:59:59"), seconds=None)
    completion(sql, ACME_LIAM, ACME, guide, at(NEXT, "00:00"), seconds=600)
    completion(sql, GLOBEX_GINA, GLOBEX, globex_item, at(DAY), seconds=120)
    return {"course": course, "guide": guide, "globex": globex_item}


async def test_the_rollup_counts_each_communitys_day_in_utc(
    client: httpx.AsyncClient, sql: Sql, facts: dict[str, str]
) -> None:
    run = await rebuild(client, DAY, NEXT)
    assert run["days"] == [DAY.isoformat(), NEXT.isoformat()]
    assert run["next_day"] is None  # a rebuild by hand leaves the cursor alone (the job never ran)
    rows = sql("select community_id::text, day, active_users, completions, time_spent_s, quiz_attempts,"
               " quiz_score_sum, ai_messages, ai_tokens from public.analytics_daily order by day, community_id")
    assert rows == [
        {"community_id": ACME, "day": DAY, "active_users": 2, "completions": 3, "time_spent_s": 120,
         "quiz_attempts": 2, "quiz_score_sum": 140, "ai_messages": 2, "ai_tokens": 60},
        {"community_id": GLOBEX, "day": DAY, "active_users": 1, "completions": 1, "time_spent_s": 120,
         "quiz_attempts": 0, "quiz_score_sum": 0, "ai_messages": 0, "ai_tokens": 0},
        {"community_id": ACME, "day": NEXT, "active_users": 1, "completions": 1, "time_spent_s": 600,
         "quiz_attempts": 0, "quiz_score_sum": 0, "ai_messages": 0, "ai_tokens": 0},
    ]
    content = sql("select item_id::text, day, completions from public.analytics_content_daily"
                  " where community_id = %s order by day, completions desc", (ACME,))
    assert content == [
        {"item_id": facts["course"], "day": DAY, "completions": 2},
        {"item_id": facts["guide"], "day": DAY, "completions": 1},
        {"item_id": facts["guide"], "day": NEXT, "completions": 1},
    ]


async def test_posting_in_the_forum_counts_as_activity_and_nothing_else(client: httpx.AsyncClient, sql: Sql) -> None:
    (post,) = sql("insert into public.forum_posts (community_id, author_id, title, body, created_at)"
                  " values (%s, %s, 'Hello', 'My first prompt', %s) returning id", (ACME, ACME_LENA, at(DAY)))
    sql("insert into public.forum_replies (post_id, community_id, author_id, body, created_at)"
        " values (%s, %s, %s, 'Welcome!', %s)", (post["id"], ACME, ACME_LIAM, at(NEXT, "00:00")))
    await rebuild(client, DAY, NEXT)
    assert sql("select day, active_users, completions, quiz_attempts, ai_messages from public.analytics_daily"
               " order by day") == [
        {"day": DAY, "active_users": 1, "completions": 0, "quiz_attempts": 0, "ai_messages": 0},
        {"day": NEXT, "active_users": 1, "completions": 0, "quiz_attempts": 0, "ai_messages": 0},
    ]
    assert sql("select user_id::text, day from public.analytics_user_daily order by day") == [
        {"user_id": ACME_LENA, "day": DAY}, {"user_id": ACME_LIAM, "day": NEXT}
    ]


async def test_a_learners_own_time_zone_does_not_move_their_facts_off_the_utc_day(
    client: httpx.AsyncClient, sql: Sql, facts: dict[str, str]
) -> None:
    sql("update public.profiles set timezone = 'Pacific/Auckland' where id = %s", (ACME_LENA,))
    await rebuild(client, DAY, NEXT)
    days = sql("select day, completions from public.analytics_user_daily where user_id = %s", (ACME_LENA,))
    assert days == [{"day": DAY, "completions": 3}]  # 23:59:59 UTC is already NEXT in Auckland: still DAY


async def test_rebuilding_a_day_again_changes_nothing(
    client: httpx.AsyncClient, sql: Sql, facts: dict[str, str]
) -> None:
    await rebuild(client, DAY, NEXT)
    before = snapshot(sql)
    await rebuild(client, DAY, NEXT)
    await rebuild(client, DAY, DAY)
    assert snapshot(sql) == before
    assert [len(rows) for rows in before.values()] == [3, 4, 4]


async def test_a_late_fact_is_counted_when_its_day_is_rebuilt(
    client: httpx.AsyncClient, sql: Sql, facts: dict[str, str]
) -> None:
    await rebuild(client, DAY, NEXT)
    completion(sql, ACME_LIAM, ACME, facts["course"], at(DAY, "12:00"))  # committed after DAY was rolled up
    await rebuild(client, DAY, DAY)
    acme = sql("select completions, active_users from public.analytics_daily where community_id = %s and day = %s",
               (ACME, DAY))
    assert acme == [{"completions": 4, "active_users": 2}]
    next_day = sql("select completions from public.analytics_daily where community_id = %s and day = %s",
                   (ACME, NEXT))
    assert next_day == [{"completions": 1}]  # the other day untouched


async def test_the_job_starts_at_the_first_fact_and_keeps_its_cursor(sql: Sql, facts: dict[str, str]) -> None:
    run = await rollups.run(now=NEXT + timedelta(days=1))
    assert run.days == [DAY, NEXT, NEXT + timedelta(days=1)]
    assert run.next_day == NEXT + timedelta(days=1)  # today is rebuilt but never passes the cursor
    assert sql("select count(*) as n from public.analytics_daily") == [{"n": 3}]
    again = await rollups.run(now=NEXT + timedelta(days=5))
    # From the cursor, including the late days before today; the cursor moves to today.
    assert again.days[0] == NEXT + timedelta(days=1)
    assert again.next_day == NEXT + timedelta(days=5)


async def test_a_late_fact_is_picked_up_by_the_next_scheduled_run(sql: Sql, facts: dict[str, str]) -> None:
    await rollups.run(now=NEXT)
    completion(sql, ACME_LIAM, ACME, facts["course"], at(DAY, "12:00"))
    await rollups.run(now=NEXT)  # DAY is within the late days before today
    assert sql("select completions from public.analytics_daily where community_id = %s and day = %s",
               (ACME, DAY)) == [{"completions": 4}]


async def test_a_run_that_crashes_resumes_at_the_day_it_did_not_finish(
    sql: Sql, facts: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = rollups.rebuild_day
    seen: list[date] = []

    async def crash_on_next(tx: Any, day: date) -> None:
        seen.append(day)
        if day == NEXT:
            raise RuntimeError("the machine went away")
        await real(tx, day)

    monkeypatch.setattr(rollups, "rebuild_day", crash_on_next)
    with pytest.raises(RuntimeError):
        await rollups.run(now=NEXT + timedelta(days=1))
    assert sql("select next_day from app.analytics_cursor") == [{"next_day": NEXT}]
    assert sql("select count(*) as n from public.analytics_daily where day = %s", (NEXT,)) == [{"n": 0}]
    monkeypatch.setattr(rollups, "rebuild_day", real)
    run = await rollups.run(now=NEXT + timedelta(days=1))
    assert run.next_day == NEXT + timedelta(days=1)
    assert sql("select count(*) as n from public.analytics_daily where day = %s", (NEXT,)) == [{"n": 1}]


async def test_only_the_service_runs_the_rollup(client: httpx.AsyncClient, db: str) -> None:
    response = await client.post("/analytics/run", json={}, headers=auth(SPECIALIST))
    assert response.status_code in (401, 403)
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_rebuild_range_needs_both_ends(client: httpx.AsyncClient, db: str, sql: Sql) -> None:
    response = await client.post("/analytics/run", json={"from": DAY.isoformat()}, headers=SERVICE)
    assert_problem(response, 422, "validation_failed")
    assert sql("select count(*) as n from app.analytics_cursor") == [{"n": 0}]


# ---------------------------------------------------------------------------------------------------
# Dashboards
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
async def rolled(client: httpx.AsyncClient, facts: dict[str, str]) -> dict[str, str]:
    await rebuild(client, DAY, NEXT)
    return facts


async def test_an_admin_reads_their_communitys_totals_and_series(
    client: httpx.AsyncClient, rolled: dict[str, str]
) -> None:
    response = await client.get(
        "/analytics", params={"community_id": ACME, **span(DAY - timedelta(days=1), NEXT)}, headers=auth(ACME_ADMIN)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    zeros = {"active_users": 0, "completions": 0, "minutes": 0, "quiz_attempts": 0, "average_score": None,
             "ai_messages": 0, "ai_tokens": 0, "ai_cost_usd": "0.000000"}
    assert body["totals"] == {"active_users": 2, "completions": 4, "minutes": 12, "quiz_attempts": 2,
                              "average_score": "70.00", "ai_messages": 2, "ai_tokens": 60,
                              "ai_cost_usd": "0.002000"}
    assert body["series"] == [
        {"day": (DAY - timedelta(days=1)).isoformat(), **zeros},
        {"day": DAY.isoformat(), "active_users": 2, "completions": 3, "minutes": 2, "quiz_attempts": 2,
         "average_score": "70.00", "ai_messages": 2, "ai_tokens": 60, "ai_cost_usd": "0.002000"},
        {"day": NEXT.isoformat(), **zeros, "active_users": 1, "completions": 1, "minutes": 10},
    ]
    assert (body["community_id"], body["from_day"], body["to_day"]) == (
        ACME, (DAY - timedelta(days=1)).isoformat(), NEXT.isoformat())


async def test_staff_read_every_community_together_or_one(client: httpx.AsyncClient, rolled: dict[str, str]) -> None:
    every = await client.get("/analytics", params=span(DAY, DAY), headers=auth(SPECIALIST))
    assert every.status_code == 200, every.text
    assert every.json()["totals"]["completions"] == 4  # acme 3 + globex 1
    assert every.json()["totals"]["active_users"] == 3
    one = await client.get("/analytics", params={"community_id": GLOBEX, **span(DAY, DAY)}, headers=auth(MANAGER))
    assert one.json()["totals"]["completions"] == 1


async def test_an_admin_cannot_read_another_community(client: httpx.AsyncClient, rolled: dict[str, str]) -> None:
    response = await client.get("/analytics", params={"community_id": ACME, **span(DAY, DAY)},
                                headers=auth(GLOBEX_ADMIN))
    assert response.status_code in (403, 404)
    assert "completions" not in response.text


async def test_an_admin_must_name_their_community(client: httpx.AsyncClient, rolled: dict[str, str]) -> None:
    response = await client.get("/analytics", params=span(DAY, DAY), headers=auth(ACME_ADMIN))
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == "query.community_id"


@pytest.mark.parametrize("path", ["", "/content", "/learners", "/at-risk", "/series.csv", "/chart.svg"])
async def test_a_learner_reads_no_analytics(client: httpx.AsyncClient, rolled: dict[str, str], path: str) -> None:
    response = await client.get(f"/analytics{path}", params={"community_id": ACME}, headers=auth(ACME_LENA))
    assert_problem(response, 403, "forbidden")


async def test_a_forged_token_reads_nothing(client: httpx.AsyncClient, rolled: dict[str, str]) -> None:
    headers = {"Authorization": auth(ACME_ADMIN)["Authorization"][:-4] + "AAAA"}
    response = await client.get("/analytics", params={"community_id": ACME}, headers=headers)
    assert_problem(response, 401, "unauthenticated")


async def test_a_range_is_checked(client: httpx.AsyncClient, rolled: dict[str, str]) -> None:
    backwards = await client.get("/analytics", params={"community_id": ACME, **span(NEXT, DAY)},
                                 headers=auth(ACME_ADMIN))
    assert_problem(backwards, 422, "validation_failed")
    too_long = await client.get("/analytics", params={"community_id": ACME, **span(DAY - timedelta(days=400), DAY)},
                                headers=auth(ACME_ADMIN))
    assert_problem(too_long, 422, "validation_failed")
    number = await client.get("/analytics", params={"community_id": ACME, "to": "0"}, headers=auth(ACME_ADMIN))
    assert assert_problem(number, 422, "validation_failed")["errors"][0]["loc"] == "query.to"


async def test_top_content_and_learners_rank_by_completions(
    client: httpx.AsyncClient, rolled: dict[str, str]
) -> None:
    params = {"community_id": ACME, **span(DAY, NEXT)}
    content = await client.get("/analytics/content", params=params, headers=auth(ACME_ADMIN))
    assert content.status_code == 200, content.text
    assert [(i["item_id"], i["title"], i["completions"]) for i in content.json()["items"]] == [
        (rolled["guide"], "Guide", 2), (rolled["course"], "Course", 2)]  # as many: more minutes first
    learners = await client.get("/analytics/learners", params={**params, "limit": 1}, headers=auth(ACME_ADMIN))
    assert learners.json()["items"] == [
        {"user_id": ACME_LENA, "first_name": "Lena", "last_name": learners.json()["items"][0]["last_name"],
         "email": "lena@acme.example.com", "active_days": 1, "completions": 3, "minutes": 2, "quiz_attempts": 2,
         "average_score": "70.00", "ai_messages": 0}]


async def test_learners_at_risk_are_inactive_or_falling_with_the_reason(
    client: httpx.AsyncClient, sql: Sql, rolled: dict[str, str]
) -> None:
    sql("update public.memberships set joined_at = now() - interval '60 days' where community_id = %s", (ACME,))
    # Liam: 2 completions on DAY - 1 (the period before the range), 1 in the range (on NEXT).
    completion(sql, ACME_LIAM, ACME, rolled["course"], at(DAY - timedelta(days=1)))
    completion(sql, ACME_LIAM, ACME, rolled["guide"], at(DAY - timedelta(days=1), "11:00"))
    await rebuild(client, DAY - timedelta(days=1), DAY - timedelta(days=1))
    end = DAY + timedelta(days=2)
    params = {"community_id": ACME, "inactive_days": 2, **span(DAY + timedelta(days=1), end)}
    response = await client.get("/analytics/at-risk", params=params, headers=auth(ACME_ADMIN))
    assert response.status_code == 200, response.text
    items = {i["user_id"]: i for i in response.json()["items"]}
    assert items[ACME_LENA]["reason"] == "inactive"
    assert items[ACME_LENA]["last_active_day"] == DAY.isoformat()
    assert items[ACME_LENA]["detail"] == "no activity for 2 days"
    assert items[ACME_LIAM]["reason"] == "falling"  # active on NEXT, 1 completion against 2 before
    assert (items[ACME_LIAM]["completions"], items[ACME_LIAM]["previous_completions"]) == (1, 2)
    assert items[ACME_LIAM]["detail"] == "completions fell from 2 to 1"
    assert ACME_ADMIN not in items  # admins are not learners at risk
    assert {i["community_id"] for i in items.values()} == {ACME}


async def test_a_member_who_just_joined_is_not_at_risk_for_inactivity(
    client: httpx.AsyncClient, rolled: dict[str, str]
) -> None:
    later = NEXT + timedelta(days=1)
    params = {"community_id": GLOBEX, "inactive_days": 1, **span(later, later)}
    response = await client.get("/analytics/at-risk", params=params, headers=auth(GLOBEX_ADMIN))
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []  # Gina, idle since DAY, joined today


# ---------------------------------------------------------------------------------------------------
# The rollups under row level security, as PostgREST callers
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [*ROLLUPS, "analytics_digests"])
async def test_sql_callers_read_only_their_administered_communitys_rollups(
    rolled: dict[str, str], sql: Sql, table: str
) -> None:
    sql("insert into public.analytics_digests (community_id, week_start, body) values"
        " (%s, '2026-11-23', '{}'), (%s, '2026-11-23', '{}')", (ACME, GLOBEX))
    seen: dict[str, set[str]] = {}
    for user in (ACME_ADMIN, ACME_LENA, GLOBEX_ADMIN, SPECIALIST):
        async with as_user(claims(user)) as tx:
            rows = await tx.fetch_all(f"select distinct community_id::text as c from public.{table}")  # noqa: S608
        seen[user] = {r["c"] for r in rows}
    assert seen == {ACME_ADMIN: {ACME}, ACME_LENA: set(), GLOBEX_ADMIN: {GLOBEX}, SPECIALIST: {ACME, GLOBEX}}


async def test_an_admin_elsewhere_who_learns_in_a_community_cannot_read_its_analytics(
    client: httpx.AsyncClient, sql: Sql, rolled: dict[str, str]
) -> None:
    sql("insert into public.memberships (community_id, user_id, role) values (%s, %s, 'member')", (ACME, GLOBEX_ADMIN))
    response = await client.get("/analytics/learners", params={"community_id": ACME, **span(DAY, DAY)},
                                headers=auth(GLOBEX_ADMIN))
    assert_problem(response, 403, "forbidden")
