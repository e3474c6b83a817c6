"""Quizzes through the real `progress` handler against the real database: scored on the server against
keys no learner reads, pass at the passing score, the retake rule and time limit, attempts stored,
explanations only after submitting, and the events and completion a pass brings."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from shared.platform.db import as_user
from shared.platform.errors import ForbiddenError
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, ACME_LIAM, GLOBEX, auth, claims
from tests.helpers import Sql, assert_problem
from tests.learning_helpers import Wod, completions, events, make_wod

PROGRESS = "/progress"


def quiz_path(wod: Wod) -> str:
    return f"{PROGRESS}/quizzes/{wod.id}/{wod.quiz}/attempts"


async def start(client: httpx.AsyncClient, wod: Wod, user: str = ACME_LENA, community: str = ACME) -> httpx.Response:
    return await client.post(quiz_path(wod), json={"community_id": community}, headers=auth(user))


async def submit(
    client: httpx.AsyncClient, attempt: str, answers: dict[str, Any], user: str = ACME_LENA
) -> httpx.Response:
    return await client.post(f"{PROGRESS}/attempts/{attempt}/submit", json={"answers": answers}, headers=auth(user))


async def test_right_answers_pass_with_explanations_events_and_the_blocks_completion(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)

    started = await start(client, wod)
    attempt = started.json()["attempt"]
    result = await submit(client, attempt["id"], wod.right_answers())

    assert started.status_code == 200, started.text
    assert started.json()["created"] is True
    assert attempt["status"] == "open" and attempt["number"] == 1 and attempt["results"] is None
    assert "answer" not in started.text and "Because" not in started.text
    assert result.status_code == 200, result.text
    scored = result.json()
    assert scored["status"] == "submitted" and scored["score"] == 100 and scored["passed"] is True
    assert scored["results"][wod.questions["q2"]] == {"correct": True, "explanation": "Because q2."}
    assert len(scored["results"]) == 4
    assert events(sql, "learning.quiz_attempted") == [
        {
            "user_id": ACME_LENA,
            "community_id": ACME,
            "item_id": wod.id,
            "block_id": wod.quiz,
            "attempt_id": attempt["id"],
            "score": 100,
            "passed": True,
            "submitted_at": events(sql, "learning.quiz_attempted")[0]["submitted_at"],
        }
    ]
    assert [(c["target_type"], c["target_id"], c["score"]) for c in completions(sql, ACME_LENA)] == [
        ("block", wod.quiz, 100.0)
    ]
    assert [e["target_type"] for e in events(sql, "learning.completed")] == ["block"]


@pytest.mark.parametrize(
    ("wrong", "score", "passed"),
    [
        ({"q1": ["a"]}, 75, True),  # 3 of 4 right, passing score 70
        ({"q1": ["a"], "q2": ["a"]}, 50, False),
        ({"q2": ["a", "c", "c"]}, 75, True),  # an option named twice is not the set
        ({"q3": "true"}, 75, True),  # a string is not true
        ({"q4": "prompts"}, 75, True),
    ],
)
async def test_answers_are_scored_on_the_server(
    client: httpx.AsyncClient, sql: Sql, wrong: dict[str, Any], score: int, passed: bool
) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    answers = wod.right_answers() | {wod.questions[label]: answer for label, answer in wrong.items()}
    attempt = (await start(client, wod)).json()["attempt"]

    result = await submit(client, attempt["id"], answers)

    assert result.json()["score"] == score and result.json()["passed"] is passed
    wrong_ids = {wod.questions[label] for label in wrong}
    assert {q for q, r in result.json()["results"].items() if not r["correct"]} == wrong_ids
    assert len(completions(sql, ACME_LENA)) == (1 if passed else 0)


async def test_unanswered_questions_are_wrong_and_a_failed_attempt_records_no_completion(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME, passing=100)
    attempt = (await start(client, wod)).json()["attempt"]

    result = await submit(client, attempt["id"], {wod.questions["q3"]: True})

    assert result.json()["score"] == 25 and result.json()["passed"] is False
    assert completions(sql, ACME_LENA) == []
    assert [e["passed"] for e in events(sql, "learning.quiz_attempted")] == [False]


async def test_starting_again_resumes_the_open_attempt(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)

    first = await start(client, wod)
    second = await start(client, wod)

    assert second.json()["created"] is False
    assert second.json()["attempt"]["id"] == first.json()["attempt"]["id"]


async def test_a_quiz_without_retakes_is_taken_once(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME, retake={"allowed": False})
    attempt = (await start(client, wod)).json()["attempt"]
    await submit(client, attempt["id"], {})

    again = await start(client, wod)
    resubmit = await submit(client, attempt["id"], wod.right_answers())

    assert_problem(again, 409, "retake_not_allowed")
    assert_problem(resubmit, 409, "attempt_submitted")
    rows = sql("select status, score::float from learning_quiz_attempts")
    assert rows == [{"status": "submitted", "score": 0.0}]


async def test_max_attempts_counts_every_attempt(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME, retake={"allowed": True, "max_attempts": 2})
    for _ in range(2):
        attempt = (await start(client, wod)).json()["attempt"]
        await submit(client, attempt["id"], {})

    third = await start(client, wod)
    listed = await client.get(quiz_path(wod), headers=auth(ACME_LENA))

    assert_problem(third, 409, "attempts_exhausted")
    assert [a["number"] for a in listed.json()["items"]] == [1, 2]
    assert all(a["results"] is not None for a in listed.json()["items"])


async def test_an_answer_after_the_time_limit_is_refused_and_the_attempt_expires(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME, limit=60)
    attempt = (await start(client, wod)).json()["attempt"]
    assert attempt["deadline"] is not None
    sql(
        "update learning_quiz_attempts set started_at = now() - interval '2 minutes',"
        " deadline = now() - interval '1 minute' where id = %s",
        (attempt["id"],),
    )

    late = await submit(client, attempt["id"], wod.right_answers())
    next_attempt = await start(client, wod)

    assert_problem(late, 409, "quiz_time_expired")
    assert next_attempt.json()["created"] is True and next_attempt.json()["attempt"]["number"] == 2
    assert sql("select status from learning_quiz_attempts order by number") == [
        {"status": "expired"},
        {"status": "open"},
    ]
    assert completions(sql, ACME_LENA) == [] and events(sql, "learning.quiz_attempted") == []


async def test_an_answer_within_the_time_limit_is_scored(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME, limit=60)
    attempt = (await start(client, wod)).json()["attempt"]

    result = await submit(client, attempt["id"], wod.right_answers())

    assert result.json()["passed"] is True


async def test_another_learners_attempt_is_not_found(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    attempt = (await start(client, wod)).json()["attempt"]

    liam = await submit(client, attempt["id"], wod.right_answers(), user=ACME_LIAM)
    admin = await submit(client, attempt["id"], wod.right_answers(), user=ACME_ADMIN)
    liams_list = await client.get(quiz_path(wod), headers=auth(ACME_LIAM))

    assert_problem(liam, 404, "attempt_not_found")
    assert_problem(admin, 404, "attempt_not_found")
    assert liams_list.json()["items"] == []
    assert sql("select status from learning_quiz_attempts") == [{"status": "open"}]


@pytest.mark.parametrize("case", ["not granted", "other community", "not a quiz"])
async def test_a_quiz_the_learner_cannot_see_is_not_found(client: httpx.AsyncClient, sql: Sql, case: str) -> None:
    wod = make_wod(sql, ACME, grant_to=None if case == "not granted" else ACME)
    path = quiz_path(wod)
    if case == "not a quiz":
        path = f"{PROGRESS}/quizzes/{wod.id}/{wod.blocks[0]}/attempts"

    response = await client.post(
        path, json={"community_id": GLOBEX if case == "other community" else ACME}, headers=auth(ACME_LENA)
    )

    assert_problem(response, 404, "not_found")
    assert sql("select count(*) as n from learning_quiz_attempts") == [{"n": 0}]


async def test_learners_never_read_the_keys_and_cannot_forge_a_score(sql: Sql, client: httpx.AsyncClient) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    attempt = (await start(client, wod)).json()["attempt"]

    async with as_user(claims(ACME_LENA)) as tx:
        keys = await tx.fetch_all("select keys from content_item_keys")
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.execute(
                "update learning_quiz_attempts set score = 100, passed = true where id = %s", (attempt["id"],)
            )
    catalogue = await client.get(f"/catalogue/{wod.id}", headers=auth(ACME_LENA))

    assert keys == []
    assert catalogue.status_code == 200 and "Because" not in catalogue.text
    assert '"answer"' not in catalogue.text
    assert sql("select status, passed from learning_quiz_attempts") == [{"status": "open", "passed": None}]


async def test_a_quiz_whose_keys_are_missing_is_not_scored(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    sql("delete from content_item_keys where item_id = %s", (wod.id,))
    attempt = (await start(client, wod)).json()["attempt"]

    result = await submit(client, attempt["id"], wod.right_answers())

    assert_problem(result, 409, "quiz_unscorable")
    assert sql("select status from learning_quiz_attempts") == [{"status": "open"}]


async def test_answers_are_validated(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    attempt = (await start(client, wod)).json()["attempt"]

    bad = await submit(client, attempt["id"], {"not-a-uuid": True})
    nested = await submit(client, attempt["id"], {wod.questions["q1"]: {"a": 1}})

    assert_problem(bad, 422, "validation_failed")
    assert_problem(nested, 422, "validation_failed")


async def test_concurrent_starts_open_one_attempt(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)

    responses = await asyncio.gather(*(start(client, wod) for _ in range(6)))

    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["attempt"]["id"] for r in responses}) == 1
    assert sorted(r.json()["created"] for r in responses) == [False] * 5 + [True]


async def test_a_quiz_block_is_completed_only_by_passing_it(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    body = {"community_id": ACME, "target_type": "block", "target_id": wod.quiz, "item_id": wod.id, "score": 100}

    forged = await client.post(f"{PROGRESS}/completions", json=body, headers=auth(ACME_LENA))

    assert_problem(forged, 409, "quiz_completed_by_passing")
    assert completions(sql, ACME_LENA) == []
