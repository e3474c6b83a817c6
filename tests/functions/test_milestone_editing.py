"""A program's milestones written through the real `programs` handler: its editors (the owning community's
admins, staff who may write) list, add, change, move and remove them, audited; positions stay 1…n; the
database's rules answer 409 with their codes; nobody else writes them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, GLOBEX_ADMIN, MANAGER, SPECIALIST, auth
from tests.functions.test_milestones import complete, course, milestone, milestone_badge
from tests.helpers import Sql, assert_problem, count
from tests.learning_helpers import Program

FORGED = {"Authorization": auth(ACME_ADMIN, secret="a-secret-that-is-not-the-projects-but-long-enough")["Authorization"]}
EXPIRED = auth(ACME_ADMIN, ttl_s=-60)


def path(program: Program, milestone_id: str | None = None) -> str:
    return f"/programs/{program.id}/milestones" + (f"/{milestone_id}" if milestone_id else "")


def stored(sql: Sql, program: Program) -> list[dict[str, Any]]:
    return sql(
        "select id::text, position, title, required_score, item_ids::text[] as item_ids, validation,"
        " achievement_id::text from learning_milestones where program_id = %s order by position",
        (program.id,),
    )


def audited(sql: Sql) -> list[dict[str, Any]]:
    return sql(
        "select action, actor_id::text, target_id, community_id::text, before, after from audit_log"
        " where action like 'milestone.%%' order by id"
    )


async def add(client: httpx.AsyncClient, program: Program, body: dict[str, Any], user: str = ACME_ADMIN) -> httpx.Response:
    return await client.post(path(program), json=body, headers=auth(user))


async def test_an_admin_adds_milestones_in_order_and_inserts_one_before_the_others(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    _, program = course(sql)
    badge = milestone_badge(sql, ACME, "done")

    last = await add(client, program, {"title": "All of it", "item_ids": program.entries, "required_score": 90,
                                        "validation": "review", "achievement_id": badge})
    first = await add(client, program, {"title": "A start", "item_ids": program.entries[:1], "position": 1})
    listed = await client.get(path(program), headers=auth(ACME_ADMIN))

    assert last.status_code == 201, last.text
    assert first.status_code == 201, first.text
    assert first.json()["position"] == 1 and first.json()["required_score"] == 80
    assert first.json()["validation"] == "automatic" and first.json()["achievement_id"] is None
    assert listed.status_code == 200, listed.text
    assert [(m["title"], m["position"]) for m in listed.json()["milestones"]] == [("A start", 1), ("All of it", 2)]
    assert stored(sql, program) == [
        {"id": first.json()["id"], "position": 1, "title": "A start", "required_score": 80,
         "item_ids": program.entries[:1], "validation": "automatic", "achievement_id": None},
        {"id": last.json()["id"], "position": 2, "title": "All of it", "required_score": 90,
         "item_ids": program.entries, "validation": "review", "achievement_id": badge},
    ]
    log = audited(sql)
    assert [(e["action"], e["actor_id"], e["community_id"]) for e in log] == [
        ("milestone.created", ACME_ADMIN, ACME), ("milestone.created", ACME_ADMIN, ACME)
    ]
    assert log[1]["target_id"] == first.json()["id"] and log[1]["before"] is None
    assert log[1]["after"]["title"] == "A start" and log[1]["after"]["position"] == 1


async def test_an_admin_changes_moves_and_removes_a_milestone_and_positions_stay_in_order(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    _, program = course(sql)
    ids = [milestone(sql, program, n, program.entries[:1]) for n in (1, 2, 3)]

    changed = await client.patch(
        path(program, ids[0]),
        json={"title": "Renamed", "required_score": 60, "validation": "review", "item_ids": program.entries, "position": 3},
        headers=auth(ACME_ADMIN),
    )
    after_move = [m["id"] for m in stored(sql, program)]
    removed = await client.delete(path(program, ids[1]), headers=auth(MANAGER))

    assert changed.status_code == 200, changed.text
    assert changed.json() | {"created_at": None} == {
        "id": ids[0], "program_id": program.id, "position": 3, "title": "Renamed", "required_score": 60,
        "item_ids": program.entries, "validation": "review", "achievement_id": None, "created_at": None,
    }
    assert after_move == [ids[1], ids[2], ids[0]]
    assert removed.status_code == 204, removed.text
    assert [(m["id"], m["position"]) for m in stored(sql, program)] == [(ids[2], 1), (ids[0], 2)]
    log = audited(sql)
    assert [(e["action"], e["actor_id"]) for e in log] == [("milestone.updated", ACME_ADMIN), ("milestone.deleted", MANAGER)]
    assert log[0]["before"]["title"] == "Milestone 1" and log[0]["after"]["position"] == 3
    assert log[1]["before"]["position"] == 1 and log[1]["after"] is None


async def test_an_edited_milestone_is_validated_as_it_now_reads(client: httpx.AsyncClient, sql: Sql) -> None:
    _, program = course(sql)
    created = await add(client, program, {"title": "First", "item_ids": program.entries[:1], "required_score": 95})
    await complete(client, program, program.entries[0], 90)
    not_yet = count(sql, "select count(*) as n from learning_milestone_results")
    lowered = await client.patch(path(program, created.json()["id"]), json={"required_score": 85}, headers=auth(ACME_ADMIN))
    await complete(client, program, program.entries[1], 90)

    assert lowered.status_code == 200, lowered.text
    # The next completion in the program settles it at the lowered score.
    assert not_yet == 0
    state = await client.get(f"/progress/programs/{program.id}/milestones", headers=auth(ACME_LENA))
    assert state.json()["milestones"][0]["is_met"] is True


async def test_the_databases_rules_answer_409_with_their_codes(client: httpx.AsyncClient, sql: Sql) -> None:
    _, program = course(sql)
    _, other = course(sql)
    created = await add(client, program, {"title": "Mine", "item_ids": program.entries[:1]})
    theirs = milestone_badge(sql, GLOBEX, "theirs")
    pages = sql("select id::text from achievements where code = 'first_steps'")[0]["id"]

    foreign_item = await add(client, program, {"title": "X", "item_ids": other.entries[:1]})
    foreign_badge = await client.patch(path(program, created.json()["id"]), json={"achievement_id": theirs}, headers=auth(ACME_ADMIN))
    not_a_milestone_badge = await add(client, program, {"title": "X", "item_ids": program.entries, "achievement_id": pages})
    for n in range(2, 101):
        milestone(sql, program, n, program.entries[:1])
    full = await add(client, program, {"title": "One too many", "item_ids": program.entries[:1]})

    assert_problem(foreign_item, 409, "unknown_milestone_item")
    assert_problem(foreign_badge, 409, "unknown_achievement")
    assert_problem(not_a_milestone_badge, 409, "unknown_achievement")
    assert_problem(full, 409, "too_many_milestones")
    assert count(sql, "select count(*) as n from learning_milestones") == 100
    assert [e["action"] for e in audited(sql)] == ["milestone.created"]
    assert sql("select achievement_id from learning_milestones where id = %s", (created.json()["id"],)) == [
        {"achievement_id": None}
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "X"}, "body.item_ids"),
        ({"title": "X", "item_ids": [], }, "body.item_ids"),
        ({"title": "", "item_ids": ["00000000-0000-4000-8000-000000000001"]}, "body.title"),
        ({"title": "=cmd()", "item_ids": ["00000000-0000-4000-8000-000000000001"]}, "body.title"),
        ({"title": "X", "item_ids": ["00000000-0000-4000-8000-000000000001"] * 2}, "body.item_ids"),
        ({"title": "X", "item_ids": ["00000000-0000-4000-8000-000000000001"], "required_score": 101}, "body.required_score"),
        ({"title": "X", "item_ids": ["00000000-0000-4000-8000-000000000001"], "required_score": "80"}, "body.required_score"),
        ({"title": "X", "item_ids": ["00000000-0000-4000-8000-000000000001"], "validation": "auto"}, "body.validation"),
        ({"title": "X", "item_ids": ["00000000-0000-4000-8000-000000000001"], "position": 0}, "body.position"),
        ({"title": "X", "item_ids": ["00000000-0000-4000-8000-000000000001"], "score": 1}, "body.score"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, sql: Sql, body: dict[str, Any], field: str
) -> None:
    _, program = course(sql)

    response = await add(client, program, body)

    problem = assert_problem(response, 422, "validation_failed")
    assert field in [e["loc"] for e in problem["errors"]], problem
    assert count(sql, "select count(*) as n from learning_milestones") == 0


async def test_a_change_naming_nothing_or_null_is_a_422(client: httpx.AsyncClient, sql: Sql) -> None:
    _, program = course(sql)
    one = milestone(sql, program, 1, program.entries[:1])

    empty = await client.patch(path(program, one), json={}, headers=auth(ACME_ADMIN))
    null_title = await client.patch(path(program, one), json={"title": None}, headers=auth(ACME_ADMIN))

    assert_problem(empty, 422, "validation_failed")
    assert_problem(null_title, 422, "validation_failed")
    assert stored(sql, program)[0]["title"] == "Milestone 1"


async def test_nobody_else_writes_or_lists_a_programs_milestones(client: httpx.AsyncClient, sql: Sql) -> None:
    _, program = course(sql)
    one = milestone(sql, program, 1, program.entries[:1])
    _, globex_program = course(sql)
    new = {"title": "X", "item_ids": program.entries[:1]}
    refused: list[tuple[str, httpx.Response, int, str]] = []
    callers: list[tuple[str, dict[str, str], int, str]] = [
        ("learner", auth(ACME_LENA), 403, "forbidden"),
        ("specialist", auth(SPECIALIST), 403, "forbidden"),
        ("other admin", auth(GLOBEX_ADMIN), 404, "not_found"),
        ("forged", FORGED, 401, "unauthenticated"),
        ("expired", EXPIRED, 401, "unauthenticated"),
        ("signed out", {}, 401, "unauthenticated"),
    ]
    for name, headers, status, code in callers:
        refused.append((name, await client.post(path(program), json=new, headers=headers), status, code))
        refused.append((name, await client.patch(path(program, one), json={"title": "Y"}, headers=headers), status, code))
        refused.append((name, await client.delete(path(program, one), headers=headers), status, code))
    for name, headers, status, code in callers[:1] + callers[2:]:
        refused.append((name, await client.get(path(program), headers=headers), status, code))
    wrong_program = await client.patch(
        f"/programs/{globex_program.id}/milestones/{one}", json={"title": "Y"}, headers=auth(ACME_ADMIN)
    )
    specialist_reads = await client.get(path(program), headers=auth(SPECIALIST))

    for name, response, status, code in refused:
        assert response.status_code == status, (name, response.request.method, response.text)
        assert_problem(response, status, code)
    assert_problem(wrong_program, 404, "milestone_not_found")
    assert specialist_reads.status_code == 200, specialist_reads.text
    assert [(m["id"], m["title"]) for m in stored(sql, program)] == [(one, "Milestone 1")]
    assert audited(sql) == []


async def test_a_platform_program_granted_to_a_community_is_not_its_admins_to_edit(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    from tests.learning_helpers import make_program, make_wod

    wod = make_wod(sql, None, grant_to=ACME)
    program = make_program(sql, None, [wod.id], grant_to=ACME)

    seen = await client.get(path(program), headers=auth(ACME_ADMIN))
    refused = await add(client, program, {"title": "X", "item_ids": program.entries})
    by_staff = await add(client, program, {"title": "X", "item_ids": program.entries}, user=MANAGER)

    not_removed = await client.delete(path(program, by_staff.json()["id"]), headers=auth(ACME_ADMIN))

    assert seen.status_code == 200 and seen.json()["milestones"] == []
    assert_problem(refused, 403, "forbidden")
    assert by_staff.status_code == 201, by_staff.text
    assert_problem(not_removed, 403, "forbidden")
    assert [m["id"] for m in stored(sql, program)] == [by_staff.json()["id"]]
    assert [e["community_id"] for e in audited(sql)] == [None]


async def test_moving_milestones_works_when_another_covers_an_item_the_program_dropped(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    _, program = course(sql)
    stale = milestone(sql, program, 1, program.entries[1:])
    kept = milestone(sql, program, 2, program.entries[:1])
    sql(
        "update content_items set payload = jsonb_set(payload, '{sections,0,items}', (payload #> '{sections,0,items}') - 1)"
        " where id = %s",
        (program.id,),
    )

    moved = await client.patch(path(program, kept), json={"position": 1}, headers=auth(ACME_ADMIN))
    retitled = await client.patch(path(program, stale), json={"title": "Old"}, headers=auth(ACME_ADMIN))
    recovered = await client.patch(path(program, stale), json={"item_ids": program.entries[:1]}, headers=auth(ACME_ADMIN))

    assert moved.status_code == 200, moved.text
    assert retitled.status_code == 200, retitled.text
    assert recovered.status_code == 200, recovered.text
    assert [m["id"] for m in stored(sql, program)] == [kept, stale]


async def test_milestones_added_at_once_each_get_their_own_place(client: httpx.AsyncClient, sql: Sql) -> None:
    import asyncio

    _, program = course(sql)

    added = await asyncio.gather(
        *(add(client, program, {"title": f"M{n}", "item_ids": program.entries[:1], "position": 1}) for n in range(6))
    )

    assert [r.status_code for r in added] == [201] * 6, [r.text for r in added]
    assert [m["position"] for m in stored(sql, program)] == [1, 2, 3, 4, 5, 6]
    assert sorted(m["id"] for m in stored(sql, program)) == sorted(r.json()["id"] for r in added)
