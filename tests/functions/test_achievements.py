"""`achievements` and `streaks` through the real handlers: catalogue, awards, leaderboards, entries, streaks."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scripts.local.stack import LOCAL_SECRET_KEY
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
)
from tests.gamification_helpers import award, completed, deliver, enrolled
from tests.helpers import Sql, assert_problem, count

GLOBAL_CODES = {"first_steps", "wod_warrior", "week_warrior", "month_master", "program_graduate"}
SERVICE = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}


def entry(sql: Sql, community: str, code: str, *, points: int = 20, active: bool = True) -> str:
    rows = sql(
        "insert into achievements (community_id, code, name, tier, points, criterion, target_type, threshold, is_active)"
        " values (%s, %s, %s, 'silver', %s, 'completions', 'page', 1, %s) returning id::text",
        (community, code, code.title(), points, active),
    )
    return str(rows[0]["id"])


def audit_actions(sql: Sql) -> list[str]:
    return [r["action"] for r in sql("select action from audit_log where target_type = 'achievement' order by id")]


NEW_ENTRY: dict[str, Any] = {
    "community_id": ACME,
    "code": "page_turner",
    "name": "Page Turner",
    "description": "Complete 5 pages.",
    "tier": "bronze",
    "points": 15,
    "criterion": "completions",
    "target_type": "page",
    "threshold": 5,
}

# --- the catalogue and the caller's awards -----------------------------------------------------------


async def test_learner_sees_global_and_own_community_entries_with_what_they_earned(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    entry(sql, ACME, "acme_star")
    entry(sql, ACME, "acme_retired", active=False)
    entry(sql, GLOBEX, "globex_star")
    await deliver(completed(ACME_LENA, datetime.now(UTC)))
    response = await client.get("/achievements", headers=auth(ACME_LENA))
    assert response.status_code == 200, response.text
    items = {i["code"]: i for i in response.json()["items"]}
    assert set(items) == GLOBAL_CODES | {"acme_star"}  # no Globex entry, no retired one
    assert items["first_steps"]["awarded_at"] is not None
    assert items["wod_warrior"]["awarded_at"] is None
    assert items["week_warrior"] | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None,
        "community_id": None,
        "code": "week_warrior",
        "name": "Week Warrior",
        "description": "Be active 7 days in a row.",
        "tier": "silver",
        "points": 30,
        "criterion": "streak",
        "target_type": None,
        "threshold": 7,
        "is_active": True,
        "created_at": None,
        "updated_at": None,
        "awarded_at": None,
    }
    admin = await client.get("/achievements", params={"community_id": ACME, "limit": 3}, headers=auth(ACME_ADMIN))
    first = admin.json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = await client.get(
        "/achievements", params={"community_id": ACME, "cursor": first["next_cursor"]}, headers=auth(ACME_ADMIN)
    )
    codes = [i["code"] for i in first["items"] + rest.json()["items"]]
    assert set(codes) == GLOBAL_CODES | {"acme_star", "acme_retired"}  # the admin sees the retired one
    assert len(codes) == len(set(codes))


async def test_learner_cannot_list_another_communitys_catalogue(client: httpx.AsyncClient, sql: Sql) -> None:
    entry(sql, GLOBEX, "globex_star")
    response = await client.get("/achievements", params={"community_id": GLOBEX}, headers=auth(ACME_LENA))
    assert_problem(response, 404, "not_found")


async def test_my_awards_newest_first_with_total_points(client: httpx.AsyncClient, sql: Sql) -> None:
    now = datetime.now(UTC)
    await deliver(*(completed(ACME_LENA, now) for _ in range(10)))
    response = await client.get("/achievements/mine", headers=auth(ACME_LENA))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_points"] == 60
    assert sorted(a["achievement"]["code"] for a in body["items"]) == ["first_steps", "wod_warrior"]
    assert all(a["community_id"] == ACME for a in body["items"])
    other = await client.get("/achievements/mine", headers=auth(ACME_LIAM))
    assert other.json() == {"items": [], "total_points": 0, "next_cursor": None}


async def test_a_forged_or_expired_token_is_refused(client: httpx.AsyncClient) -> None:
    forged = auth(ACME_LENA, secret="not-the-secret-but-long-enough-for-hs256-keys")
    assert_problem(await client.get("/achievements/mine", headers=forged), 401, "unauthenticated")
    expired = auth(ACME_LENA, exp=int(time.time()) - 3600)
    assert_problem(await client.get("/streaks", headers=expired), 401, "unauthenticated")


# --- leaderboards ---------------------------------------------------------------------------------------


async def test_leaderboard_ranks_members_by_points_per_period(client: httpx.AsyncClient, sql: Sql) -> None:
    award(sql, ACME_LENA, "first_steps", ACME, 1)
    award(sql, ACME_LENA, "month_master", ACME, 20)
    award(sql, ACME_LIAM, "wod_warrior", ACME, 3)
    award(sql, ACME_ADMIN, "program_graduate", ACME, 40)
    award(sql, GLOBEX_GINA, "program_graduate", GLOBEX, 1)

    async def board(period: str) -> list[tuple[str, int, int]]:
        response = await client.get(
            "/achievements/leaderboard", params={"community_id": ACME, "period": period}, headers=auth(ACME_LIAM)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["community_id"] == ACME and body["period"] == period
        return [(r["user_id"], r["points"], r["rank"]) for r in body["items"]]

    assert await board("all") == [(ACME_LENA, 160, 1), (ACME_ADMIN, 100, 2), (ACME_LIAM, 50, 3)]
    assert await board("30d") == [(ACME_LENA, 160, 1), (ACME_LIAM, 50, 2)]
    assert await board("7d") == [(ACME_LIAM, 50, 1), (ACME_LENA, 10, 2)]


async def test_leaderboard_shows_names_and_is_closed_to_other_communities(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    award(sql, ACME_LENA, "first_steps", ACME, 1)
    response = await client.get("/achievements/leaderboard", params={"community_id": ACME}, headers=auth(ACME_LIAM))
    [row] = response.json()["items"]
    names = sql("select first_name, last_name from profiles where id = %s", (ACME_LENA,))[0]
    assert (row["first_name"], row["last_name"]) == (names["first_name"], names["last_name"])
    for outsider in (GLOBEX_GINA, GLOBEX_ADMIN):
        refused = await client.get(
            "/achievements/leaderboard", params={"community_id": ACME}, headers=auth(outsider)
        )
        assert_problem(refused, 404, "not_found")
    staff = await client.get("/achievements/leaderboard", params={"community_id": ACME}, headers=auth(SPECIALIST))
    assert [r["user_id"] for r in staff.json()["items"]] == [ACME_LENA]
    bad = await client.get(
        "/achievements/leaderboard", params={"community_id": ACME, "period": "1y"}, headers=auth(ACME_LIAM)
    )
    assert_problem(bad, 422, "validation_failed")


# --- managing catalogue entries ----------------------------------------------------------------------


async def test_admin_adds_an_entry_to_their_community_audited(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.post("/achievements", json=NEW_ENTRY, headers=auth(ACME_ADMIN))
    assert response.status_code == 201, response.text
    assert response.json()["code"] == "page_turner" and response.json()["community_id"] == ACME
    assert audit_actions(sql) == ["achievement.created"]
    again = await client.post("/achievements", json=NEW_ENTRY, headers=auth(ACME_ADMIN))
    assert_problem(again, 409, "achievement_code_taken")
    globex = await client.post("/achievements", json={**NEW_ENTRY, "community_id": GLOBEX}, headers=auth(GLOBEX_ADMIN))
    assert globex.status_code == 201  # codes are unique per community
    assert count(sql, "select count(*) as n from achievements where code = 'page_turner'") == 2


async def test_who_may_not_add_entries(client: httpx.AsyncClient, sql: Sql) -> None:
    assert_problem(await client.post("/achievements", json=NEW_ENTRY, headers=auth(ACME_LENA)), 403, "forbidden")
    assert_problem(await client.post("/achievements", json=NEW_ENTRY, headers=auth(GLOBEX_ADMIN)), 404, "not_found")
    assert_problem(await client.post("/achievements", json=NEW_ENTRY, headers=auth(SPECIALIST)), 403, "forbidden")
    global_entry = {**NEW_ENTRY, "community_id": None}
    assert_problem(await client.post("/achievements", json=global_entry, headers=auth(ACME_ADMIN)), 403, "forbidden")
    assert count(sql, "select count(*) as n from achievements where code = 'page_turner'") == 0
    assert audit_actions(sql) == []
    made = await client.post("/achievements", json=global_entry, headers=auth(MANAGER))
    assert made.status_code == 201 and made.json()["community_id"] is None


async def test_an_entry_with_criteria_that_do_not_hold_together_is_a_422(client: httpx.AsyncClient, sql: Sql) -> None:
    for change in (
        {"criterion": "streak"},  # a streak names no target type
        {"criterion": "score", "threshold": 101},
        {"target_type": "quiz"},  # quizzes are scored, not completed
        {"points": -1},
        {"code": "Not A Code"},
        {"name": "=cmd()"},
        {"surprise": True},
    ):
        response = await client.post("/achievements", json={**NEW_ENTRY, **change}, headers=auth(ACME_ADMIN))
        assert_problem(response, 422, "validation_failed")
    assert count(sql, "select count(*) as n from achievements where community_id is not null") == 0


async def test_admin_changes_their_entry_and_only_theirs(client: httpx.AsyncClient, sql: Sql) -> None:
    acme = entry(sql, ACME, "acme_star")
    response = await client.patch(
        f"/achievements/{acme}", json={"points": 99, "is_active": False}, headers=auth(ACME_ADMIN)
    )
    assert response.status_code == 200, response.text
    assert (response.json()["points"], response.json()["is_active"]) == (99, False)
    assert audit_actions(sql) == ["achievement.updated"]
    assert_problem(await client.patch(f"/achievements/{acme}", json={"points": 1}, headers=auth(GLOBEX_ADMIN)), 404, "not_found")
    assert_problem(await client.patch(f"/achievements/{acme}", json={"points": 1}, headers=auth(ACME_LENA)), 403, "forbidden")
    first_steps = sql("select id::text from achievements where code = 'first_steps'")[0]["id"]
    assert_problem(
        await client.patch(f"/achievements/{first_steps}", json={"points": 1}, headers=auth(ACME_ADMIN)), 403, "forbidden"
    )
    assert_problem(await client.patch(f"/achievements/{acme}", json={}, headers=auth(ACME_ADMIN)), 422, "validation_failed")
    assert sql("select points from achievements where id = %s", (acme,)) == [{"points": 99}]
    assert sql("select points from achievements where code = 'first_steps'") == [{"points": 10}]
    assert audit_actions(sql) == ["achievement.updated"]


# --- streaks ------------------------------------------------------------------------------------------


async def test_my_streak_counts_days_in_my_time_zone(client: httpx.AsyncClient, sql: Sql) -> None:
    sql("update profiles set timezone = 'Asia/Tokyo' where id = %s", (ACME_LENA,))
    now = datetime.now(UTC)
    await deliver(*(enrolled(ACME_LENA, now - timedelta(days=d)) for d in (0, 1, 2, 4)))
    response = await client.get("/streaks", headers=auth(ACME_LENA))
    assert response.status_code == 200, response.text
    body = response.json()
    today = now.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).date()
    assert body == {
        "current_days": 3,
        "longest_days": 3,
        "last_active_day": today.isoformat(),
        "today": today.isoformat(),
        "timezone": "Asia/Tokyo",
    }
    fresh = await client.get("/streaks", headers=auth(ACME_LIAM))
    assert fresh.json()["current_days"] == 0 and fresh.json()["last_active_day"] is None


async def test_a_streak_read_after_a_missed_day_is_zero_before_the_schedule_runs(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    await deliver(enrolled(ACME_LENA, datetime.now(UTC)))
    sql("update learning_streaks set last_active_day = last_active_day - 2 where user_id = %s", (ACME_LENA,))
    body = (await client.get("/streaks", headers=auth(ACME_LENA))).json()
    assert (body["current_days"], body["longest_days"]) == (0, 1)
    assert_problem(await client.post("/streaks/run", headers=auth(ACME_ADMIN), json={}), 401, "unauthenticated")
    assert sql("select current_days from learning_streaks where user_id = %s", (ACME_LENA,)) == [{"current_days": 1}]
    ran = await client.post("/streaks/run", headers=SERVICE, json={})
    assert ran.status_code == 200, ran.text
    assert ran.json() == {"ended": 1}
    assert sql("select current_days from learning_streaks where user_id = %s", (ACME_LENA,)) == [{"current_days": 0}]


# --- end to end: the progress slice's own events, through the worker ---------------------------------


async def test_completing_a_wod_through_progress_earns_first_steps_and_a_streak(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    from tests.learning_helpers import make_wod

    wod = make_wod(sql, ACME, grant_to=ACME)
    for page in wod.pages:
        body = {"community_id": ACME, "target_type": "page", "target_id": page, "item_id": wod.id}
        response = await client.post("/progress/completions", json=body, headers=auth(ACME_LENA))
        assert response.status_code == 200, response.text
    worker = await client.post("/worker/run", headers=SERVICE, json={})
    assert worker.status_code == 200, worker.text
    mine = (await client.get("/achievements/mine", headers=auth(ACME_LENA))).json()
    assert [a["achievement"]["code"] for a in mine["items"]] == ["first_steps"]
    assert mine["total_points"] == 10
    assert (await client.get("/streaks", headers=auth(ACME_LENA))).json()["current_days"] == 1
    kinds = sql("select kind, count(*)::int as n from app.learning_facts group by kind order by kind")
    assert kinds == [{"kind": "page", "n": 2}, {"kind": "wod", "n": 1}]
