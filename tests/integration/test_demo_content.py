"""The local stack's demo catalogue: every type, an agent per community, and two communities seeing differently."""

from __future__ import annotations

import json

import httpx

from scripts.local.stack import drain_queued_events, seed_demo_content
from shared.authoring import pages
from shared.authoring.programs import ProgramPayload
from shared.platform.db import as_user
from tests.factories import ACME_LENA, ACME_LIAM, GLOBEX_GINA, auth
from tests.helpers import Sql

TYPES = {"ai_agent", "video", "document", "prompt", "automation", "image", "pdf", "wod", "block", "program"}


async def seen_by(user: str) -> dict[str, str]:
    async with as_user({"sub": user, "role": "authenticated"}) as tx:
        rows = await tx.fetch_all("select title, type from public.content_items")
    return {r["title"]: r["type"] for r in rows}


async def test_demo_catalogue_applies_twice_and_gives_each_community_its_own_agent(db: str, sql: Sql) -> None:
    seed_demo_content(db)
    seed_demo_content(db)  # idempotent: serve applies it at every start

    types = {r["type"] for r in sql("select distinct type from content_items where status = 'published'")}
    lena, liam, gina = await seen_by(ACME_LENA), await seen_by(ACME_LIAM), await seen_by(GLOBEX_GINA)

    assert types == TYPES
    assert [t for t, kind in lena.items() if kind == "ai_agent"] == ["Prompt Coach"]
    assert [t for t, kind in gina.items() if kind == "ai_agent"] == ["Data Analyst Buddy"]
    assert (
        "Triage support e-mails automatically" in lena and "Triage support e-mails automatically" not in liam
    )
    assert set(lena) & set(gina) == {"Prompting fundamentals in 10 minutes"}
    assert "Globex onboarding: our AI tools" in gina and "Agents 101 (coming soon)" not in lena | gina


async def test_demo_wods_and_block_hold_pages_of_mixed_blocks_with_answers_kept_apart(db: str, sql: Sql) -> None:
    seed_demo_content(db)

    rows = sql(
        "select i.title, i.type, i.payload, k.keys from content_items i"
        " left join content_item_keys k on k.item_id = i.id where i.type in ('wod', 'block') order by i.title"
    )
    kinds = set()
    for row in rows:
        editor = pages.join_keys(row["payload"]["pages"], row["keys"])
        kinds |= {block.type for page in editor for block in page.blocks}
        assert '"answer"' not in json.dumps(row["payload"])
    lena, gina = await seen_by(ACME_LENA), await seen_by(GLOBEX_GINA)

    assert sorted(r["type"] for r in rows) == ["block", "wod", "wod", "wod"]  # one more for the programs
    assert len(kinds) == 14 and sum(bool(r["keys"]) for r in rows) == 2
    assert "Prompting fundamentals: your first WOD" in lena and "Globex: your first week with AI" not in lena
    assert {"Globex: your first week with AI", "Five-minute prompt warm-up"} <= set(gina)
    assert "Prompting fundamentals: your first WOD" not in gina


async def test_demo_programs_one_with_a_calendar_one_a_course_each_seen_by_one_community(db: str, sql: Sql) -> None:
    seed_demo_content(db)

    rows = sql("select title, payload from content_items where type = 'program' order by title")
    programs = {r["title"]: ProgramPayload.model_validate(r["payload"], strict=False) for r in rows}
    lena, gina = await seen_by(ACME_LENA), await seen_by(GLOBEX_GINA)

    assert {title: p.calendar for title, p in programs.items()} == {
        "AI foundations in four weeks": True,
        "Globex AI onboarding course": False,
    }
    assert all(p.model_dump(mode="json") == r["payload"] for p, r in zip(programs.values(), rows, strict=True))
    assert [t for t, kind in lena.items() if kind == "program"] == ["AI foundations in four weeks"]
    assert [t for t, kind in gina.items() if kind == "program"] == ["Globex AI onboarding course"]
    # What a granted program uses opens with it.
    assert "Practise: three rewrites a day" in lena and "Practise: three rewrites a day" not in gina


async def test_demo_learners_have_progress_recorded_with_its_events(db: str, sql: Sql) -> None:
    seed_demo_content(db)
    seed_demo_content(db)

    enrolled = sql(
        "select e.user_id::text, e.status, p.total, p.completed from learning_enrollments e"
        " cross join lateral app.program_progress(e.user_id, e.program_id) p order by e.user_id"
    )
    attempts = sql("select user_id::text, status, score::float, passed from learning_quiz_attempts")
    sent = sql("select message->>'name' as name, count(*)::int as n from pgmq.q_events group by 1 order by 1")

    assert enrolled == [
        {"user_id": ACME_LENA, "status": "active", "total": 2, "completed": 1},
        {"user_id": ACME_LIAM, "status": "active", "total": 2, "completed": 0},
        {"user_id": GLOBEX_GINA, "status": "active", "total": 2, "completed": 1},
    ]
    assert attempts == [{"user_id": ACME_LENA, "status": "submitted", "score": 100.0, "passed": True}]
    assert {r["name"]: r["n"] for r in sent if r["name"].startswith("learning.")} == {
        "learning.completed": 6,  # 3 pages, the WOD, the quiz block (Lena); the warm-up BLOCK (Gina)
        "learning.enrolled": 3,
        "learning.quiz_attempted": 1,
    }


async def test_after_the_worker_drains_the_demo_events_lena_has_a_streak_and_a_badge(
    db: str, sql: Sql, client: httpx.AsyncClient
) -> None:
    seed_demo_content(db)
    await drain_queued_events()  # what serve does once at start
    seed_demo_content(db)  # serve's next start: nothing counted twice
    await drain_queued_events()

    streak = await client.get("/streaks", headers=auth(ACME_LENA))
    mine = await client.get("/achievements/mine", headers=auth(ACME_LENA))
    liam = await client.get("/achievements/mine", headers=auth(ACME_LIAM))
    left = sql("select count(*)::int as n from pgmq.q_events where message->>'name' like 'learning.%%'")

    assert streak.status_code == 200, streak.text
    assert (streak.json()["current_days"], streak.json()["longest_days"]) == (3, 3)
    assert mine.status_code == 200, mine.text
    assert [a["achievement"]["code"] for a in mine.json()["items"]] == ["first_steps"]
    assert liam.json()["items"] == []  # only enrolled: no badge
    assert left == [{"n": 0}]


async def test_demo_forum_has_threads_in_each_community_and_notifies_the_authors(db: str, sql: Sql) -> None:
    seed_demo_content(db)
    seed_demo_content(db)  # idempotent
    await drain_queued_events()

    posts = sql("select c.slug, count(*)::int as n from forum_posts p join communities c on c.id = p.community_id group by 1")
    assert {r["slug"]: r["n"] for r in posts} == {"acme": 2, "globex": 1}
    assert sql("select count(*)::int as n from forum_replies")[0]["n"] == 4
    assert sql("select count(*)::int as n from forum_reactions")[0]["n"] == 4
    notified = sql("select user_id::text, count(*)::int as n from notifications where kind = 'forum.replied' group by 1")
    assert {r["user_id"]: r["n"] for r in notified} == {ACME_LENA: 2, ACME_LIAM: 1, GLOBEX_GINA: 1}
