"""`enrollments` through the real handler against the real database: self-enrolment and assignment (by
user and by tag), capacity under many concurrent enrolments, the deadline, dropping, progress derived
from completions, who may do what, and the same rules for a caller speaking SQL as PostgREST does."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from shared.platform.db import as_user
from shared.platform.errors import ForbiddenError
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
from tests.helpers import Sql, assert_problem, assign, count, make_tag
from tests.learning_helpers import enrollments, events, make_program, make_wod

ENROLLMENTS = "/enrollments"


def _program(sql: Sql, **options: object) -> str:
    wod = make_wod(sql, ACME)
    return make_program(sql, ACME, [wod.id], grant_to=ACME, **options).id  # type: ignore[arg-type]


async def test_learner_enrols_in_a_program_granted_to_them_once(client: httpx.AsyncClient, sql: Sql) -> None:
    program = _program(sql)
    body = {"program_id": program, "community_id": ACME}

    first = await client.post(ENROLLMENTS, json=body, headers=auth(ACME_LENA))
    again = await client.post(ENROLLMENTS, json=body, headers=auth(ACME_LENA))

    assert first.status_code == 200, first.text
    enrolled = first.json()
    assert enrolled["is_new"] is True and enrolled["status"] == "active" and enrolled["source"] == "self"
    assert enrolled["user_id"] == ACME_LENA and enrolled["enrolled_by"] == ACME_LENA
    assert enrolled["progress"] == {"total": 1, "completed": 0, "percent": 0.0}
    assert again.json()["is_new"] is False and again.json()["id"] == enrolled["id"]
    assert [e["user_id"] for e in enrollments(sql, program)] == [ACME_LENA]
    sent = events(sql, "learning.enrolled")
    assert sent == [
        {
            "user_id": ACME_LENA,
            "community_id": ACME,
            "program_id": program,
            "enrollment_id": enrolled["id"],
            "source": "self",
            "enrolled_at": sent[0]["enrolled_at"],
        }
    ]
    assert "+" in sent[0]["enrolled_at"] or sent[0]["enrolled_at"].endswith("Z")


@pytest.mark.parametrize("case", ["draft", "not granted", "other community", "tag not held", "window closed"])
async def test_program_the_learner_cannot_see_is_not_found(client: httpx.AsyncClient, sql: Sql, case: str) -> None:
    wod = make_wod(sql, ACME)
    if case == "draft":
        program = make_program(sql, ACME, [wod.id], grant_to=ACME, status="draft").id
    elif case == "not granted":
        program = make_program(sql, ACME, [wod.id]).id
    elif case == "other community":
        program = make_program(sql, GLOBEX, [make_wod(sql, GLOBEX).id], grant_to=GLOBEX).id
    elif case == "tag not held":
        program = make_program(sql, ACME, [wod.id], grant_to=ACME, tag=make_tag(sql, ACME, "Leads")).id
    else:
        program = make_program(sql, ACME, [wod.id]).id
        sql(
            "insert into content_grants (item_id, community_id, ends_at) values (%s, %s, now() - interval '1 hour')",
            (program, ACME),
        )

    response = await client.post(
        ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA)
    )

    assert_problem(response, 404, "not_found")
    assert enrollments(sql, program) == []
    assert events(sql, "learning.enrolled") == []


async def test_program_granted_to_a_tag_the_learner_holds_is_open_to_them(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    tag = make_tag(sql, ACME, "Leads")
    assign(sql, tag, ACME_LENA)
    program = make_program(sql, ACME, [make_wod(sql, ACME).id], grant_to=ACME, tag=tag).id

    lena = await client.post(ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA))
    liam = await client.post(ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LIAM))

    assert lena.status_code == 200
    assert_problem(liam, 404, "not_found")


async def test_concurrent_enrolments_never_exceed_the_capacity(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    program = _program(sql, capacity=3)
    learners = [ACME_LENA, ACME_LIAM]
    for n in range(10):
        user = f"b0000000-0000-4000-8000-0000000001{n:02d}"
        sql("insert into auth.users (id, email) values (%s, %s)", (user, f"learner{n}@acme.example.com"))
        sql("insert into memberships (community_id, user_id) values (%s, %s)", (ACME, user))
        learners.append(user)

    responses = await asyncio.gather(
        *(
            client.post(ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(user))
            for user in learners
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [409] * 9
    for refused in (r for r in responses if r.status_code == 409):
        body = assert_problem(refused, 409, "capacity_reached")
        assert body["capacity"] == 3 and body["available"] == 0
    assert len(enrollments(sql, program)) == 3
    assert len(events(sql, "learning.enrolled")) == 3


async def test_a_dropped_enrollment_frees_its_place(client: httpx.AsyncClient, sql: Sql) -> None:
    program = _program(sql, capacity=1)
    lena = await client.post(ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA))
    full = await client.post(ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LIAM))

    dropped = await client.post(f"{ENROLLMENTS}/{lena.json()['id']}/drop", headers=auth(ACME_LENA))
    liam = await client.post(ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LIAM))
    lena_again = await client.post(
        ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA)
    )

    assert_problem(full, 409, "capacity_reached")
    assert dropped.status_code == 200 and dropped.json()["status"] == "dropped"
    assert dropped.json()["dropped_at"] is not None
    assert liam.status_code == 200
    assert_problem(lena_again, 409, "capacity_reached")
    assert [(e["user_id"], e["status"]) for e in enrollments(sql, program)] == [
        (ACME_LENA, "dropped"),
        (ACME_LIAM, "active"),
    ]


async def test_dropped_learner_enrols_again_in_the_same_enrollment(client: httpx.AsyncClient, sql: Sql) -> None:
    program = _program(sql)
    first = await client.post(ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA))
    await client.post(f"{ENROLLMENTS}/{first.json()['id']}/drop", headers=auth(ACME_LENA))

    again = await client.post(ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA))

    assert again.json()["id"] == first.json()["id"] and again.json()["is_new"] is True
    assert again.json()["status"] == "active" and again.json()["dropped_at"] is None
    assert len(events(sql, "learning.enrolled")) == 2


async def test_enrolment_after_the_deadline_is_refused(client: httpx.AsyncClient, sql: Sql) -> None:
    program = _program(sql, deadline="2020-01-01T00:00:00+00:00")

    response = await client.post(
        ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA)
    )

    assert_problem(response, 409, "enrollment_closed")
    assert enrollments(sql, program) == []


async def test_admin_assigns_members_and_tag_holders_with_audit(client: httpx.AsyncClient, sql: Sql) -> None:
    program = _program(sql)
    tag = make_tag(sql, ACME, "Cohort")
    assign(sql, tag, ACME_LIAM)

    listed = await client.post(
        f"{ENROLLMENTS}/assign",
        json={"program_id": program, "community_id": ACME, "user_ids": [ACME_LENA]},
        headers=auth(ACME_ADMIN),
    )
    tagged = await client.post(
        f"{ENROLLMENTS}/assign", json={"program_id": program, "community_id": ACME, "tag_id": tag}, headers=auth(ACME_ADMIN)
    )

    assert listed.status_code == 200, listed.text
    assert [(i["user_id"], i["source"], i["enrolled_by"]) for i in listed.json()["items"]] == [
        (ACME_LENA, "admin", ACME_ADMIN)
    ]
    assert [i["user_id"] for i in tagged.json()["items"]] == [ACME_LIAM]
    assert [e["source"] for e in enrollments(sql, program)] == ["admin", "admin"]
    assert count(sql, "select count(*) as n from audit_log where action = 'enrollment.assigned'") == 2
    assert [e["source"] for e in events(sql, "learning.enrolled")] == ["admin", "admin"]


async def test_assigning_is_all_or_nothing_within_capacity(client: httpx.AsyncClient, sql: Sql) -> None:
    program = _program(sql, capacity=1)

    response = await client.post(
        f"{ENROLLMENTS}/assign",
        json={"program_id": program, "community_id": ACME, "user_ids": [ACME_LENA, ACME_LIAM]},
        headers=auth(ACME_ADMIN),
    )

    assert_problem(response, 409, "capacity_reached")
    assert enrollments(sql, program) == []
    assert count(sql, "select count(*) as n from audit_log where action = 'enrollment.assigned'") == 0


async def test_admin_cannot_assign_outsiders_or_members_the_program_is_not_granted_to(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    tag = make_tag(sql, ACME, "Leads")
    assign(sql, tag, ACME_LENA)
    program = make_program(sql, ACME, [make_wod(sql, ACME).id], grant_to=ACME, tag=tag).id

    outsider = await client.post(
        f"{ENROLLMENTS}/assign",
        json={"program_id": program, "community_id": ACME, "user_ids": [GLOBEX_GINA]},
        headers=auth(ACME_ADMIN),
    )
    ungranted = await client.post(
        f"{ENROLLMENTS}/assign",
        json={"program_id": program, "community_id": ACME, "user_ids": [ACME_LENA, ACME_LIAM]},
        headers=auth(ACME_ADMIN),
    )

    assert assert_problem(outsider, 422, "validation_failed")["user_ids"] == [GLOBEX_GINA]
    body = assert_problem(ungranted, 422, "validation_failed")
    assert body["user_ids"] == [ACME_LIAM] and body["errors"][0]["type"] == "not_granted"
    assert enrollments(sql, program) == []


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [(ACME_LENA, 403, "forbidden"), (GLOBEX_ADMIN, 404, "not_found"), (SPECIALIST, 403, "forbidden")],
)
async def test_only_the_communitys_admins_and_staff_writers_assign(
    client: httpx.AsyncClient, sql: Sql, caller: str, status: int, code: str
) -> None:
    program = _program(sql)

    response = await client.post(
        f"{ENROLLMENTS}/assign",
        json={"program_id": program, "community_id": ACME, "user_ids": [ACME_LENA]},
        headers=auth(caller),
    )

    assert_problem(response, status, code)
    assert enrollments(sql, program) == []


async def test_manager_assigns_in_any_community(client: httpx.AsyncClient, sql: Sql) -> None:
    program = _program(sql)

    response = await client.post(
        f"{ENROLLMENTS}/assign",
        json={"program_id": program, "community_id": ACME, "user_ids": [ACME_LENA]},
        headers=auth(MANAGER),
    )

    assert response.status_code == 200
    assert response.json()["items"][0]["enrolled_by"] == MANAGER


async def test_reading_enrollments_is_limited_to_the_learner_and_their_admins(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    program = _program(sql)
    enrolled = await client.post(
        ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA)
    )
    path = f"{ENROLLMENTS}/{enrolled.json()['id']}"

    own = await client.get(path, headers=auth(ACME_LENA))
    admin = await client.get(path, headers=auth(ACME_ADMIN))
    liam = await client.get(path, headers=auth(ACME_LIAM))
    globex = await client.get(path, headers=auth(GLOBEX_ADMIN))
    mine = await client.get(f"{ENROLLMENTS}/mine", headers=auth(ACME_LENA))
    liams = await client.get(f"{ENROLLMENTS}/mine", headers=auth(ACME_LIAM))
    listed = await client.get(ENROLLMENTS, params={"community_id": ACME, "program_id": program}, headers=auth(ACME_ADMIN))
    learner_list = await client.get(ENROLLMENTS, params={"community_id": ACME}, headers=auth(ACME_LENA))
    globex_list = await client.get(ENROLLMENTS, params={"community_id": ACME}, headers=auth(GLOBEX_ADMIN))

    assert own.status_code == admin.status_code == 200
    assert_problem(liam, 404, "enrollment_not_found")
    assert_problem(globex, 404, "enrollment_not_found")
    assert [e["id"] for e in mine.json()["items"]] == [enrolled.json()["id"]]
    assert liams.json()["items"] == []
    assert [e["user_id"] for e in listed.json()["items"]] == [ACME_LENA]
    assert_problem(learner_list, 403, "forbidden")
    assert_problem(globex_list, 404, "not_found")


async def test_only_the_learner_or_their_admin_drops_an_enrollment(client: httpx.AsyncClient, sql: Sql) -> None:
    program = _program(sql)
    enrolled = await client.post(
        ENROLLMENTS, json={"program_id": program, "community_id": ACME}, headers=auth(ACME_LENA)
    )
    path = f"{ENROLLMENTS}/{enrolled.json()['id']}/drop"

    liam = await client.post(path, headers=auth(ACME_LIAM))
    globex = await client.post(path, headers=auth(GLOBEX_ADMIN))
    specialist = await client.post(path, headers=auth(SPECIALIST))
    assert [e["status"] for e in enrollments(sql, program)] == ["active"]
    admin = await client.post(path, headers=auth(ACME_ADMIN))

    assert_problem(liam, 404, "enrollment_not_found")
    assert_problem(globex, 404, "enrollment_not_found")
    assert_problem(specialist, 403, "forbidden")
    assert admin.status_code == 200 and admin.json()["status"] == "dropped"
    assert count(sql, "select count(*) as n from audit_log where action = 'enrollment.dropped'") == 1


async def test_learner_cannot_enrol_or_write_enrollments_through_sql(sql: Sql) -> None:
    program = _program(sql, capacity=1)
    sql(
        "insert into learning_enrollments (community_id, user_id, program_id, source) values (%s, %s, %s, 'admin')",
        (ACME, ACME_LIAM, program),
    )

    async with as_user(claims(ACME_LENA)) as tx:
        as_admin = await tx.fetch_val(
            "select app.enroll(%s, %s, %s::uuid[], 'admin')", (program, ACME, [ACME_LENA])
        )
        for_liam = await tx.fetch_val("select app.enroll(%s, %s, %s::uuid[], 'self')", (program, ACME, [ACME_LIAM]))
        full = await tx.fetch_val("select app.enroll(%s, %s, %s::uuid[], 'self')", (program, ACME, [ACME_LENA]))
        seen = await tx.fetch_all("select user_id from learning_enrollments")

    assert as_admin["outcome"] == "forbidden"
    assert for_liam["outcome"] == "not_found"
    assert full["outcome"] == "capacity_reached"
    assert seen == []
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.execute(
                "insert into learning_enrollments (community_id, user_id, program_id, source) values (%s, %s, %s, 'self')",
                (ACME, ACME_LENA, program),
            )


async def test_assign_body_names_users_or_a_tag(client: httpx.AsyncClient, sql: Sql) -> None:
    both = await client.post(
        f"{ENROLLMENTS}/assign",
        json={"program_id": str(uuid.uuid4()), "community_id": ACME, "user_ids": [ACME_LENA], "tag_id": str(uuid.uuid4())},
        headers=auth(ACME_ADMIN),
    )

    assert assert_problem(both, 422, "validation_failed")["errors"][0]["type"] == "one_of"
