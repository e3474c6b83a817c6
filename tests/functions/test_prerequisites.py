"""Prerequisites through the real `progress` and `enrollments` handlers: editors set what an item requires
at a threshold; a learner reads whether it is unlocked and what is missing; enrolling, completing and
starting a quiz in a locked item are refused with 409 prerequisites_unmet, also through SQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.platform.db import as_user
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    GLOBEX_ADMIN,
    MANAGER,
    SPECIALIST,
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem, count
from tests.learning_helpers import completions, enrollments, make_program, make_wod

PREREQUISITES = "/progress/prerequisites"


async def require(
    client: httpx.AsyncClient, item: str, requires: list[dict[str, Any]], caller: str = ACME_ADMIN
) -> httpx.Response:
    return await client.put(f"{PREREQUISITES}/{item}", json={"requires": requires}, headers=auth(caller))


async def record_wod(client: httpx.AsyncClient, wod: str) -> httpx.Response:
    body = {"community_id": ACME, "target_type": "wod", "target_id": wod}
    return await client.post("/progress/completions", json=body, headers=auth(ACME_LENA))


async def test_a_locked_wod_unlocks_at_the_threshold(client: httpx.AsyncClient, sql: Sql) -> None:
    basics, advanced = make_wod(sql, ACME, grant_to=ACME), make_wod(sql, ACME, grant_to=ACME)
    set_ = await require(client, advanced.id, [{"item_id": basics.id, "threshold": 50}])

    locked = await client.get(f"{PREREQUISITES}/{advanced.id}", headers=auth(ACME_LENA))
    refused = await record_wod(client, advanced.id)
    quiz = await client.post(
        f"/progress/quizzes/{advanced.id}/{advanced.quiz}/attempts", json={"community_id": ACME}, headers=auth(ACME_LENA)
    )
    progress = await client.get(f"/progress/items/{advanced.id}", headers=auth(ACME_LENA))
    await client.post(
        "/progress/completions",
        json={"community_id": ACME, "target_type": "page", "target_id": basics.pages[0], "item_id": basics.id},
        headers=auth(ACME_LENA),
    )
    unlocked = await client.get(f"{PREREQUISITES}/{advanced.id}", headers=auth(ACME_LENA))
    recorded = await record_wod(client, advanced.id)

    assert set_.status_code == 200, set_.text
    assert set_.json() == {"item_id": advanced.id, "requires": [{"item_id": basics.id, "threshold": 50}]}
    assert locked.json() == {
        "item_id": advanced.id,
        "is_unlocked": False,
        "requires": [{"item_id": basics.id, "threshold": 50, "percent": 0.0, "is_met": False}],
    }
    body = assert_problem(refused, 409, "prerequisites_unmet")
    assert body["missing"] == [{"item_id": basics.id, "threshold": 50, "percent": 0}]
    assert_problem(quiz, 409, "prerequisites_unmet")
    assert progress.json()["missing_prerequisites"] == [{"item_id": basics.id, "threshold": 50, "percent": 0.0}]
    assert unlocked.json()["is_unlocked"] is True
    assert unlocked.json()["requires"][0]["percent"] == 50.0
    assert recorded.status_code == 200
    assert count(sql, "select count(*) as n from audit_log where action = 'content.prerequisites_set'") == 1


async def test_enrolling_in_a_locked_program_is_refused_until_the_required_program_is_done(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    first_wod = make_wod(sql, ACME)
    first = make_program(sql, ACME, [first_wod.id], grant_to=ACME)
    second = make_program(sql, ACME, [make_wod(sql, ACME).id], grant_to=ACME)
    await require(client, second.id, [{"item_id": first.id}])
    body = {"program_id": second.id, "community_id": ACME}

    refused = await client.post("/enrollments", json=body, headers=auth(ACME_LENA))
    assigned = await client.post(
        "/enrollments/assign", json={**body, "user_ids": [ACME_LENA]}, headers=auth(ACME_ADMIN)
    )
    await record_wod(client, first_wod.id)
    enrolled = await client.post("/enrollments", json=body, headers=auth(ACME_LENA))

    problem = assert_problem(refused, 409, "prerequisites_unmet")
    assert problem["locked"] == [
        {"user_id": ACME_LENA, "missing": [{"item_id": first.id, "threshold": 80, "percent": 0}]}
    ]
    assert_problem(assigned, 409, "prerequisites_unmet")
    assert enrolled.status_code == 200
    assert [e["user_id"] for e in enrollments(sql, second.id)] == [ACME_LENA]


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [(ACME_LENA, 403, "forbidden"), (GLOBEX_ADMIN, 404, "not_found"), (SPECIALIST, 403, "forbidden")],
)
async def test_only_the_items_editors_set_prerequisites(
    client: httpx.AsyncClient, sql: Sql, caller: str, status: int, code: str
) -> None:
    basics, advanced = make_wod(sql, ACME, grant_to=ACME), make_wod(sql, ACME, grant_to=ACME)

    response = await require(client, advanced.id, [{"item_id": basics.id}], caller=caller)

    assert_problem(response, status, code)
    assert count(sql, "select count(*) as n from content_prerequisites") == 0


async def test_admin_of_a_community_granted_platform_content_cannot_lock_it(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    platform = make_wod(sql, None, grant_to=ACME)
    own = make_wod(sql, ACME)

    refused = await require(client, platform.id, [{"item_id": own.id}])
    by_manager = await require(client, platform.id, [], caller=MANAGER)

    assert_problem(refused, 403, "forbidden")
    assert by_manager.status_code == 200


async def test_required_items_must_be_visible_lockable_and_acyclic(client: httpx.AsyncClient, sql: Sql) -> None:
    a, b = make_wod(sql, ACME), make_wod(sql, ACME)
    globex = make_wod(sql, GLOBEX)
    await require(client, a.id, [{"item_id": b.id}])

    cycle = await require(client, b.id, [{"item_id": a.id}])
    itself = await require(client, a.id, [{"item_id": a.id}])
    hidden = await require(client, a.id, [{"item_id": globex.id}])
    twice = await require(client, a.id, [{"item_id": b.id}, {"item_id": b.id}])

    assert_problem(cycle, 409, "prerequisite_cycle")
    assert_problem(itself, 409, "prerequisite_cycle")
    assert assert_problem(hidden, 422, "validation_failed")["item_ids"] == [globex.id]
    assert_problem(twice, 422, "validation_failed")
    assert sql("select item_id::text, required_id::text from content_prerequisites") == [
        {"item_id": a.id, "required_id": b.id}
    ]


async def test_a_learner_cannot_unlock_or_complete_a_locked_item_through_sql(sql: Sql) -> None:
    basics, advanced = make_wod(sql, ACME, grant_to=ACME), make_wod(sql, ACME, grant_to=ACME)
    sql("insert into content_prerequisites (item_id, required_id) values (%s, %s)", (advanced.id, basics.id))

    async with as_user(claims(ACME_LENA)) as tx:
        removed = await tx.execute("delete from content_prerequisites")
        seen = await tx.fetch_all("select required_id::text from content_prerequisites")
        stamped = await tx.fetch_val(
            "select app.record_completion(%s, 'wod', %s, null, null, null)", (ACME, advanced.id)
        )

    assert removed == 0 and seen == [{"required_id": basics.id}]
    assert stamped["outcome"] == "prerequisites_unmet"
    assert completions(sql, ACME_LENA) == []


async def test_a_locked_block_unlocks_when_its_required_wod_is_done_at_the_default_threshold(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    basics = make_wod(sql, ACME, grant_to=ACME)
    block = make_wod(sql, ACME, grant_to=ACME, content_type="block")
    set_ = await require(client, block.id, [{"item_id": basics.id}])
    page = {"community_id": ACME, "target_type": "page", "target_id": block.pages[0], "item_id": block.id}

    refused = await client.post("/progress/completions", json=page, headers=auth(ACME_LENA))
    await client.post(
        "/progress/completions",
        json={"community_id": ACME, "target_type": "page", "target_id": basics.pages[0], "item_id": basics.id},
        headers=auth(ACME_LENA),
    )
    still = await client.post("/progress/completions", json=page, headers=auth(ACME_LENA))
    await record_wod(client, basics.id)
    recorded = await client.post("/progress/completions", json=page, headers=auth(ACME_LENA))

    assert set_.json()["requires"] == [{"item_id": basics.id, "threshold": 80}]
    assert assert_problem(refused, 409, "prerequisites_unmet")["missing"] == [
        {"item_id": basics.id, "threshold": 80, "percent": 0}
    ]
    assert assert_problem(still, 409, "prerequisites_unmet")["missing"][0]["percent"] == 50
    assert recorded.status_code == 200, recorded.text
    assert [(c["target_type"], c["item_id"]) for c in completions(sql, ACME_LENA) if c["item_id"] == block.id] == [
        ("page", block.id)
    ]
