"""`progress` through the real handler against the real database: completion stamps recorded once with
their events, only for targets the learner sees; progress of a WOD, a program and overall derived from
the stamps; a program completed at 100 %; and the same rules for a caller speaking SQL directly."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from shared.platform.db import as_user
from shared.platform.errors import ForbiddenError
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, ACME_LIAM, GLOBEX, GLOBEX_GINA, auth, claims
from tests.helpers import Sql, assert_problem
from tests.learning_helpers import completions, enrollments, events, make_program, make_wod

PROGRESS = "/progress"


def stamp(target_type: str, target: str, item: str | None = None, community: str = ACME, **more: Any) -> dict[str, Any]:
    body = {"community_id": community, "target_type": target_type, "target_id": target, **more}
    return body if item is None else {**body, "item_id": item}


async def record(client: httpx.AsyncClient, body: dict[str, Any], user: str = ACME_LENA) -> httpx.Response:
    return await client.post(f"{PROGRESS}/completions", json=body, headers=auth(user))


async def test_completing_every_page_completes_the_wod_with_its_events(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)

    first = await record(client, stamp("page", wod.pages[0], wod.id, score=80, time_spent_s=90))
    halfway = await client.get(f"{PROGRESS}/items/{wod.id}", headers=auth(ACME_LENA))
    await record(client, stamp("page", wod.pages[1], wod.id))
    done = await client.get(f"{PROGRESS}/items/{wod.id}", headers=auth(ACME_LENA))

    assert first.status_code == 200, first.text
    assert first.json()["created"] is True
    assert first.json()["completion"]["score"] == 80 and first.json()["completion"]["time_spent_s"] == 90
    assert halfway.json()["progress"] == {"total": 2, "completed": 1, "percent": 50.0}
    assert halfway.json()["completed_at"] is None
    assert [p["completed_at"] is not None for p in halfway.json()["pages"]] == [True, False]
    assert done.json()["progress"] == {"total": 2, "completed": 2, "percent": 100.0}
    assert done.json()["completed_at"] is not None
    assert [(c["target_type"], c["target_id"]) for c in completions(sql, ACME_LENA)] == [
        ("page", wod.pages[0]),
        ("page", wod.pages[1]),
        ("wod", wod.id),
    ]
    sent = events(sql, "learning.completed")
    assert [(e["target_type"], e["target_id"], e["item_id"]) for e in sent] == [
        ("page", wod.pages[0], wod.id),
        ("page", wod.pages[1], wod.id),
        ("wod", wod.id, wod.id),
    ]
    assert sent[0] == {
        "user_id": ACME_LENA,
        "community_id": ACME,
        "target_type": "page",
        "target_id": wod.pages[0],
        "item_id": wod.id,
        "score": 80,
        "time_spent_s": 90,
        "completed_at": sent[0]["completed_at"],
    }
    assert sent[2]["score"] is None and sent[2]["time_spent_s"] is None


async def test_recording_again_changes_nothing_and_sends_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    first = await record(client, stamp("block", wod.blocks[0], wod.id, score=50))

    again = await record(client, stamp("block", wod.blocks[0], wod.id, score=100))

    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["completion"] == first.json()["completion"]
    assert len(completions(sql, ACME_LENA)) == 1
    assert len(events(sql, "learning.completed")) == 1


@pytest.mark.parametrize("case", ["draft", "not granted", "other community", "not a member there"])
async def test_target_the_learner_cannot_see_is_not_found(client: httpx.AsyncClient, sql: Sql, case: str) -> None:
    community = ACME
    if case == "draft":
        wod = make_wod(sql, ACME, grant_to=ACME, status="draft")
    elif case == "not granted":
        wod = make_wod(sql, ACME)
    elif case == "other community":
        wod = make_wod(sql, GLOBEX, grant_to=GLOBEX)
        community = GLOBEX
    else:
        wod = make_wod(sql, None, grant_to=GLOBEX)
        community = GLOBEX

    response = await record(client, stamp("wod", wod.id, community=community))
    read = await client.get(f"{PROGRESS}/items/{wod.id}", headers=auth(ACME_LENA))

    assert_problem(response, 404, "not_found")
    if case != "draft":  # a draft is still not the learner's to read
        assert_problem(read, 404, "not_found")
    assert completions(sql, ACME_LENA) == []
    assert events(sql, "learning.completed") == []


@pytest.mark.parametrize("target_type", ["page", "block", "wod", "program_item"])
async def test_a_target_the_item_does_not_have_is_refused(
    client: httpx.AsyncClient, sql: Sql, target_type: str
) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)

    response = await record(client, stamp(target_type, str(uuid.uuid4()), wod.id))

    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0] == {
        "loc": "body.target_id",
        "message": "the item has no such target of this type",
        "type": "unknown_target",
    }
    assert completions(sql, ACME_LENA) == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"percent": 100}, "body.percent"), ({"score": 101}, "body.score"), ({"time_spent_s": -1}, "body.time_spent_s")],
)
async def test_percentages_come_from_the_server_and_values_are_bounded(
    client: httpx.AsyncClient, sql: Sql, extra: dict[str, Any], field: str
) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)

    response = await record(client, stamp("wod", wod.id, **extra))

    body = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in body["errors"]] == [field]
    assert completions(sql, ACME_LENA) == []


async def test_completing_a_programs_wods_completes_the_enrollment(client: httpx.AsyncClient, sql: Sql) -> None:
    # Platform content granted to Acme: the WODs are reached through the program, not granted themselves.
    first, second = make_wod(sql, None), make_wod(sql, None)
    program = make_program(sql, None, [first.id, second.id], grant_to=ACME)
    enrolled = await client.post(
        "/enrollments", json={"program_id": program.id, "community_id": ACME}, headers=auth(ACME_LENA)
    )

    await record(client, stamp("wod", first.id))
    halfway = await client.get(f"{PROGRESS}/programs/{program.id}", headers=auth(ACME_LENA))
    await record(client, stamp("page", second.pages[0], second.id))
    await record(client, stamp("page", second.pages[1], second.id))
    done = await client.get(f"{PROGRESS}/programs/{program.id}", headers=auth(ACME_LENA))

    assert halfway.status_code == 200, halfway.text
    assert halfway.json()["progress"] == {"total": 2, "completed": 1, "percent": 50.0}
    assert [i["is_completed"] for i in halfway.json()["sections"][0]["items"]] == [True, False]
    assert halfway.json()["enrollment"]["status"] == "active"
    assert done.json()["progress"]["percent"] == 100.0
    assert done.json()["enrollment"]["status"] == "completed"
    assert done.json()["enrollment"]["completed_at"] is not None
    assert [e["status"] for e in enrollments(sql, program.id)] == ["completed"]
    assert events(sql, "learning.program_completed") == [
        {
            "user_id": ACME_LENA,
            "community_id": ACME,
            "program_id": program.id,
            "enrollment_id": enrolled.json()["id"],
            "completed_at": done.json()["enrollment"]["completed_at"].replace("Z", "+00:00"),
        }
    ]


async def test_program_item_stamps_count_and_enrolling_after_finishing_completes_at_once(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    wod = make_wod(sql, ACME)
    program = make_program(sql, ACME, [wod.id], grant_to=ACME)

    stamped = await record(client, stamp("program_item", program.entries[0], program.id, time_spent_s=30))
    enrolled = await client.post(
        "/enrollments", json={"program_id": program.id, "community_id": ACME}, headers=auth(ACME_LENA)
    )

    assert stamped.json()["completion"]["item_id"] == program.id
    assert enrolled.json()["status"] == "completed"
    assert enrolled.json()["progress"] == {"total": 1, "completed": 1, "percent": 100.0}
    assert len(events(sql, "learning.program_completed")) == 1
    assert [e["target_type"] for e in events(sql, "learning.completed")] == ["program_item"]


async def test_a_dropped_enrollment_is_not_completed(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME)
    program = make_program(sql, ACME, [wod.id], grant_to=ACME)
    enrolled = await client.post(
        "/enrollments", json={"program_id": program.id, "community_id": ACME}, headers=auth(ACME_LENA)
    )
    await client.post(f"/enrollments/{enrolled.json()['id']}/drop", headers=auth(ACME_LENA))

    await record(client, stamp("wod", wod.id))

    assert [e["status"] for e in enrollments(sql, program.id)] == ["dropped"]
    assert events(sql, "learning.program_completed") == []


async def test_overview_counts_only_the_callers_own(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    await record(client, stamp("page", wod.pages[0], wod.id))
    await record(client, stamp("block", wod.blocks[0], wod.id))
    await record(client, stamp("wod", wod.id), user=ACME_LIAM)

    lena = await client.get(PROGRESS, headers=auth(ACME_LENA))
    globex = await client.get(PROGRESS, params={"community_id": GLOBEX}, headers=auth(ACME_LENA))

    assert lena.json() == {
        "completions": {"block": 1, "page": 1, "wod": 0, "program_item": 0},
        "quiz_attempts": 0,
        "quizzes_passed": 0,
        "enrollments": {"active": 0, "completed": 0, "dropped": 0},
    }
    assert globex.json()["completions"] == {"block": 0, "page": 0, "wod": 0, "program_item": 0}


async def test_progress_of_a_program_the_learner_cannot_see_is_not_found(client: httpx.AsyncClient, sql: Sql) -> None:
    program = make_program(sql, GLOBEX, [make_wod(sql, GLOBEX).id], grant_to=GLOBEX)

    lena = await client.get(f"{PROGRESS}/programs/{program.id}", headers=auth(ACME_LENA))
    gina = await client.get(f"{PROGRESS}/programs/{program.id}", headers=auth(GLOBEX_GINA))

    assert_problem(lena, 404, "not_found")
    assert gina.status_code == 200 and gina.json()["enrollment"] is None


async def test_completions_are_written_only_through_the_checked_function(sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    sql(
        "insert into learning_completions (user_id, community_id, target_type, target_id, item_id)"
        " values (%s, %s, 'wod', %s, %s)",
        (ACME_LIAM, ACME, wod.id, wod.id),
    )

    async with as_user(claims(ACME_LENA)) as tx:
        seen = await tx.fetch_all("select user_id from learning_completions")
        elsewhere = await tx.fetch_val(
            "select app.record_completion(%s, 'wod', %s, null, null, null)", (GLOBEX, wod.id)
        )
    async with as_user(claims(ACME_ADMIN)) as tx:
        admin_sees = await tx.fetch_all("select user_id::text from learning_completions")

    assert seen == []
    assert elsewhere["outcome"] == "not_found"
    assert admin_sees == [{"user_id": ACME_LIAM}]
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.execute(
                "insert into learning_completions (user_id, community_id, target_type, target_id, item_id)"
                " values (%s, %s, 'wod', %s, %s)",
                (ACME_LENA, ACME, wod.id, wod.id),
            )
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.execute("select app.stamp_completion(%s, %s, 'wod', %s, %s, null, null)",
                             (ACME_LENA, ACME, wod.id, wod.id))


async def test_the_last_pages_stamped_at_once_still_complete_the_wod_once(client: httpx.AsyncClient, sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)

    responses = await asyncio.gather(*(record(client, stamp("page", page, wod.id)) for page in wod.pages * 3))

    assert sorted(r.json()["created"] for r in responses) == [False] * 4 + [True] * 2
    assert sorted(c["target_type"] for c in completions(sql, ACME_LENA)) == ["page", "page", "wod"]
    assert [e["target_type"] for e in events(sql, "learning.completed")].count("wod") == 1


async def test_a_programs_items_completed_at_once_complete_the_enrollment_once(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    wods = [make_wod(sql, ACME) for _ in range(4)]
    program = make_program(sql, ACME, [w.id for w in wods], grant_to=ACME)
    await client.post("/enrollments", json={"program_id": program.id, "community_id": ACME}, headers=auth(ACME_LENA))

    await asyncio.gather(*(record(client, stamp("wod", w.id)) for w in wods))

    assert [e["status"] for e in enrollments(sql, program.id)] == ["completed"]
    assert len(events(sql, "learning.program_completed")) == 1


async def test_a_page_stamped_while_another_commits_sees_it_and_completes_the_wod(sql: Sql) -> None:
    wod = make_wod(sql, ACME, grant_to=ACME)
    call = "select app.record_completion(%s, 'page', %s, %s, null, null)"

    async def second_page() -> None:
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.fetch_val(call, (ACME, wod.pages[1], wod.id))

    async with as_user(claims(ACME_LENA)) as first:
        await first.fetch_val(call, (ACME, wod.pages[0], wod.id))
        second = asyncio.create_task(second_page())
        await asyncio.sleep(0.5)  # the second waits for the first to commit (without the lock: it is done)
    await second

    assert sorted(c["target_type"] for c in completions(sql, ACME_LENA)) == ["page", "page", "wod"]


async def test_a_programs_last_item_stamped_while_another_commits_completes_the_enrollment(sql: Sql) -> None:
    first_wod, second_wod = make_wod(sql, ACME), make_wod(sql, ACME)
    program = make_program(sql, ACME, [first_wod.id, second_wod.id], grant_to=ACME)
    call = "select app.record_completion(%s, 'wod', %s, null, null, null)"
    async with as_user(claims(ACME_LENA)) as tx:
        await tx.fetch_val("select app.enroll(%s, %s, %s::uuid[], 'self')", (program.id, ACME, [ACME_LENA]))

    async def second() -> None:
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.fetch_val(call, (ACME, second_wod.id))

    async with as_user(claims(ACME_LENA)) as tx:
        await tx.fetch_val(call, (ACME, first_wod.id))
        task = asyncio.create_task(second())
        await asyncio.sleep(0.5)  # the second waits on the enrollment's row (without the lock: it is done)
    await task

    assert [e["status"] for e in enrollments(sql, program.id)] == ["completed"]
    assert len(events(sql, "learning.program_completed")) == 1
