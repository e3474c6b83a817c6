"""Milestones through the real `progress` and `enrollments` handlers: a learner's state is derived from
their completions and quiz scores; an automatic milestone is completed when met, a review one waits for
the community's admin, who approves or rejects it with feedback (audited); a completed one is announced."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.platform.db import as_user
from shared.platform.errors import ConflictError, ForbiddenError
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    ACME_LIAM,
    GLOBEX,
    GLOBEX_ADMIN,
    MANAGER,
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem, count
from tests.learning_helpers import Program, Wod, events, make_program, make_wod

REVIEWS = "/enrollments/milestone-reviews"
COMPLETED = "learning.milestone_completed"


def milestone(
    sql: Sql, program: Program, position: int, entries: list[str], *, required: int = 80, validation: str = "automatic"
) -> str:
    rows = sql(
        "insert into learning_milestones (program_id, position, title, required_score, item_ids, validation)"
        " values (%s, %s, %s, %s, %s::uuid[], %s) returning id::text",
        (program.id, position, f"Milestone {position}", required, entries, validation),
    )
    return str(rows[0]["id"])


def milestone_badge(sql: Sql, community: str, code: str, points: int = 25) -> str:
    """A catalogue entry of `community` earned by completing a milestone naming it; its id."""
    rows = sql(
        "insert into achievements (community_id, code, name, tier, points, criterion, threshold)"
        " values (%s, %s, %s, 'silver', %s, 'milestone', 1) returning id::text",
        (community, code, code.title(), points),
    )
    return str(rows[0]["id"])


def course(sql: Sql) -> tuple[list[Wod], Program]:
    wods = [make_wod(sql, ACME, grant_to=ACME), make_wod(sql, ACME, grant_to=ACME)]
    return wods, make_program(sql, ACME, [w.id for w in wods], grant_to=ACME)


async def complete(
    client: httpx.AsyncClient, program: Program, entry: str, score: float | None, user: str = ACME_LENA
) -> httpx.Response:
    body: dict[str, Any] = {"community_id": ACME, "target_type": "program_item", "target_id": entry, "item_id": program.id}
    if score is not None:
        body["score"] = score
    return await client.post("/progress/completions", json=body, headers=auth(user))


async def states(client: httpx.AsyncClient, program: Program, user: str = ACME_LENA) -> list[dict[str, Any]]:
    response = await client.get(f"/progress/programs/{program.id}/milestones", headers=auth(user))
    assert response.status_code == 200, response.text
    return list(response.json()["milestones"])


def results(sql: Sql) -> list[dict[str, Any]]:
    return sql(
        "select milestone_id::text, user_id::text, status, score::float, feedback, decided_by::text"
        " from learning_milestone_results order by met_at"
    )


async def test_an_automatic_milestone_is_completed_when_its_items_are_done_at_the_required_score(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    _, program = course(sql)
    first = milestone(sql, program, 1, program.entries[:1])
    both = milestone(sql, program, 2, program.entries, required=90)

    before = await states(client, program)
    recorded = await complete(client, program, program.entries[0], 95)
    after_one = await states(client, program)
    await complete(client, program, program.entries[1], 70)
    after_two = await states(client, program)

    assert recorded.status_code == 200, recorded.text
    assert [(m["id"], m["status"], m["is_met"]) for m in before] == [(first, None, False), (both, None, False)]
    assert after_one[0]["status"] == "completed" and after_one[0]["met_at"] is not None
    assert after_one[0]["progress"] == {"total": 1, "completed": 1, "percent": 100.0}
    assert after_one[0]["score"] == 95.0 and after_one[0]["is_met"] is True
    assert after_one[1]["progress"] == {"total": 2, "completed": 1, "percent": 50.0}
    assert after_one[1]["is_met"] is False and after_one[1]["status"] is None
    # Both done at an average of 82.5: below the second milestone's 90, so it is not met.
    assert after_two[1]["score"] == 82.5 and after_two[1]["is_met"] is False and after_two[1]["status"] is None
    assert results(sql) == [
        {"milestone_id": first, "user_id": ACME_LENA, "status": "completed", "score": 95.0, "feedback": "", "decided_by": None}
    ]
    sent = events(sql, COMPLETED)
    assert [(e["milestone_id"], e["program_id"], e["user_id"], e["community_id"], e["score"]) for e in sent] == [
        (first, program.id, ACME_LENA, ACME, 95.0)
    ]


async def test_quiz_scores_count_and_a_better_retake_meets_the_milestone(client: httpx.AsyncClient, sql: Sql) -> None:
    wods, program = course(sql)
    milestone(sql, program, 1, program.entries[:1])
    wod = wods[0]
    quiz = f"/progress/quizzes/{wod.id}/{wod.quiz}/attempts"

    async def attempt(answers: dict[str, Any]) -> None:
        started = await client.post(quiz, json={"community_id": ACME}, headers=auth(ACME_LENA))
        submitted = await client.post(
            f"/progress/attempts/{started.json()['attempt']['id']}/submit", json={"answers": answers}, headers=auth(ACME_LENA)
        )
        assert submitted.status_code == 200, submitted.text

    await attempt(wod.right_answers() | {wod.questions["q1"]: ["a"], wod.questions["q2"]: ["a"]})
    wod_done = await client.post(
        "/progress/completions",
        json={"community_id": ACME, "target_type": "wod", "target_id": wod.id},
        headers=auth(ACME_LENA),
    )
    failed = await states(client, program)
    await attempt(wod.right_answers())
    passed = await states(client, program)

    assert wod_done.status_code == 200, wod_done.text
    assert failed[0]["score"] == 50.0 and failed[0]["is_met"] is False and failed[0]["status"] is None
    assert passed[0]["score"] == 100.0 and passed[0]["status"] == "completed"
    assert len(events(sql, COMPLETED)) == 1


async def test_a_review_milestone_waits_for_the_admin_who_rejects_or_approves_it_with_feedback(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    _, program = course(sql)
    reviewed = milestone(sql, program, 1, program.entries[:1], validation="review")
    await complete(client, program, program.entries[0], 90)
    await complete(client, program, program.entries[0], 90, user=ACME_LIAM)

    pending = await states(client, program)
    queue = await client.get(REVIEWS, params={"community_id": ACME}, headers=auth(ACME_ADMIN))
    lena_id, liam_id = (row["id"] for row in queue.json()["items"])
    rejected = await client.post(
        f"{REVIEWS}/{lena_id}/decide", json={"decision": "reject", "feedback": "Show your work."}, headers=auth(ACME_ADMIN)
    )
    again = await client.post(f"{REVIEWS}/{lena_id}/decide", json={"decision": "approve"}, headers=auth(ACME_ADMIN))
    approved = await client.post(f"{REVIEWS}/{liam_id}/decide", json={"decision": "approve"}, headers=auth(MANAGER))
    lena_after = await states(client, program)
    still_pending = await client.get(REVIEWS, params={"community_id": ACME}, headers=auth(ACME_ADMIN))

    assert pending[0]["status"] == "pending" and pending[0]["is_met"] is True
    assert queue.status_code == 200, queue.text
    assert [(r["user_id"], r["milestone_id"], r["status"]) for r in queue.json()["items"]] == [
        (ACME_LENA, reviewed, "pending"),
        (ACME_LIAM, reviewed, "pending"),
    ]
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["decided_by"] == ACME_ADMIN
    assert assert_problem(again, 409, "review_decided")["decision"] == "rejected"
    assert approved.status_code == 200 and approved.json()["status"] == "completed"
    assert lena_after[0]["status"] == "rejected" and lena_after[0]["feedback"] == "Show your work."
    assert still_pending.json()["items"] == []
    assert [e["user_id"] for e in events(sql, COMPLETED)] == [ACME_LIAM]
    audit = sql("select action, actor_id::text, target_id::text from audit_log where action like 'milestone.%%' order by id")
    assert audit == [
        {"action": "milestone.review_rejected", "actor_id": ACME_ADMIN, "target_id": lena_id},
        {"action": "milestone.review_approved", "actor_id": MANAGER, "target_id": liam_id},
    ]


async def test_only_the_communitys_admin_decides_and_reads_the_queue(client: httpx.AsyncClient, sql: Sql) -> None:
    _, program = course(sql)
    milestone(sql, program, 1, program.entries[:1], validation="review")
    await complete(client, program, program.entries[0], 90)
    result_id = sql("select id::text from learning_milestone_results")[0]["id"]
    decide = f"{REVIEWS}/{result_id}/decide"

    learner = await client.post(decide, json={"decision": "approve"}, headers=auth(ACME_LENA))
    other_admin = await client.post(decide, json={"decision": "approve"}, headers=auth(GLOBEX_ADMIN))
    other_queue = await client.get(REVIEWS, params={"community_id": ACME}, headers=auth(GLOBEX_ADMIN))
    learner_queue = await client.get(REVIEWS, params={"community_id": ACME}, headers=auth(ACME_LENA))
    own_queue = await client.get(REVIEWS, params={"community_id": GLOBEX}, headers=auth(GLOBEX_ADMIN))
    unknown = await client.post(decide, json={"decision": "maybe", "extra": 1}, headers=auth(ACME_ADMIN))
    anonymous = await client.post(decide, json={"decision": "approve"})

    assert_problem(learner, 403, "forbidden")
    assert_problem(other_admin, 404, "milestone_result_not_found")
    assert_problem(other_queue, 404, "not_found")
    assert_problem(learner_queue, 403, "forbidden")
    assert own_queue.status_code == 200 and own_queue.json()["items"] == []
    assert_problem(unknown, 422, "validation_failed")
    assert anonymous.status_code == 401
    assert [r["status"] for r in results(sql)] == ["pending"]
    assert events(sql, COMPLETED) == []
    assert count(sql, "select count(*) as n from audit_log where action like 'milestone.%%'") == 0


async def test_a_learner_cannot_decide_or_write_results_or_milestones_through_sql(client: httpx.AsyncClient, sql: Sql) -> None:
    _, program = course(sql)
    milestone(sql, program, 1, program.entries[:1], validation="review")
    await complete(client, program, program.entries[0], 90)
    result_id = sql("select id::text from learning_milestone_results")[0]["id"]

    async with as_user(claims(ACME_LENA)) as tx:
        decided = await tx.fetch_val("select app.decide_milestone_review(%s, true, '')", (result_id,))
        removed = await tx.execute("delete from learning_milestones")
        changed = await tx.execute("update learning_milestones set required_score = 0")
    async with as_user(claims(GLOBEX_ADMIN)) as tx:
        hidden = await tx.fetch_val("select app.decide_milestone_review(%s, true, '')", (result_id,))
        seen = await tx.fetch_all("select id from learning_milestone_results")
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.execute("update learning_milestone_results set status = 'completed'")

    assert decided["outcome"] == "forbidden" and hidden["outcome"] == "not_found"
    assert removed == 0 and changed == 0 and seen == []
    assert [r["status"] for r in results(sql)] == ["pending"]


async def test_editors_write_milestones_of_their_programs_items_only(sql: Sql) -> None:
    _, program = course(sql)
    other = make_program(sql, ACME, [make_wod(sql, ACME).id])
    insert = (
        "insert into learning_milestones (program_id, position, title, item_ids) values (%s, %s, 'M', %s::uuid[])"
    )

    async with as_user(claims(ACME_ADMIN)) as tx:
        await tx.execute(insert, (program.id, 1, program.entries))
    with pytest.raises(ConflictError) as unknown:
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute(insert, (program.id, 2, other.entries))
    with pytest.raises(ForbiddenError):
        async with as_user(claims(GLOBEX_ADMIN)) as tx:
            await tx.execute(insert, (program.id, 3, program.entries))

    assert unknown.value.code == "unknown_milestone_item"
    assert count(sql, "select count(*) as n from learning_milestones") == 1


async def test_milestones_of_a_program_you_cannot_see_are_hidden(client: httpx.AsyncClient, sql: Sql) -> None:
    _, program = course(sql)
    milestone(sql, program, 1, program.entries[:1])

    hidden = await client.get(f"/progress/programs/{program.id}/milestones", headers=auth(GLOBEX_ADMIN))

    assert_problem(hidden, 404, "not_found")


async def test_a_completed_milestone_earns_the_achievement_it_names_once(client: httpx.AsyncClient, sql: Sql) -> None:
    from scripts.local.stack import LOCAL_SECRET_KEY

    _, program = course(sql)
    badge = milestone_badge(sql, ACME, "halfway")
    first = milestone(sql, program, 1, program.entries[:1])
    sql("update learning_milestones set achievement_id = %s where id = %s", (badge, first))
    reviewed = milestone(sql, program, 2, program.entries[1:], validation="review")
    sql("update learning_milestones set achievement_id = %s where id = %s", (badge, reviewed))
    service = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}

    await complete(client, program, program.entries[0], 90)
    await complete(client, program, program.entries[1], 90)
    result_id = sql("select id::text from learning_milestone_results where milestone_id = %s", (reviewed,))[0]["id"]
    await client.post(f"{REVIEWS}/{result_id}/decide", json={"decision": "approve"}, headers=auth(ACME_ADMIN))
    sent = events(sql, COMPLETED)
    worker = await client.post("/worker/run", headers=service, json={})
    mine = (await client.get("/achievements/mine", headers=auth(ACME_LENA))).json()
    catalogue = await client.get("/achievements", params={"community_id": ACME}, headers=auth(ACME_ADMIN))

    assert worker.status_code == 200, worker.text
    assert [a["achievement"]["code"] for a in mine["items"]] == ["halfway"]
    assert mine["items"][0]["achievement"]["criterion"] == "milestone"
    assert [e["milestone_id"] for e in sent] == [first, reviewed]
    assert sql("select user_id::text, points from user_achievements where achievement_id = %s", (badge,)) == [
        {"user_id": ACME_LENA, "points": 25}
    ]
    assert catalogue.status_code == 200, catalogue.text


async def test_a_milestone_names_only_a_milestone_achievement_of_its_owner(sql: Sql) -> None:
    _, program = course(sql)
    first = milestone(sql, program, 1, program.entries[:1])
    globex_badge = milestone_badge(sql, GLOBEX, "theirs")
    pages = sql("select id::text from achievements where code = 'first_steps'")[0]["id"]

    for badge in (globex_badge, pages):
        with pytest.raises(ConflictError) as refused:
            async with as_user(claims(ACME_ADMIN)) as tx:
                await tx.execute("update learning_milestones set achievement_id = %s where id = %s", (badge, first))
        assert refused.value.code == "unknown_achievement"
    assert sql("select achievement_id from learning_milestones") == [{"achievement_id": None}]
