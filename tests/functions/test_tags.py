"""`tags` through the real handler against the real database: a community's tags and who may change them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

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
    SUPER,
    auth,
)
from tests.helpers import Sql, assert_problem, assign, make_tag

TAGS = "/tags"
OF_ACME = {"community_id": ACME}


def tags(sql: Sql, community: str = ACME) -> list[dict[str, Any]]:
    return sql(
        "select id::text, name, color from user_tags where community_id = %s order by lower(name)",
        (community,),
    )


def assignment_count(sql: Sql, tag_id: str | None = None) -> int:
    if tag_id is None:
        return int(sql("select count(*) as n from user_tag_assignments")[0]["n"])
    return int(sql("select count(*) as n from user_tag_assignments where tag_id = %s", (tag_id,))[0]["n"])


def audit_rows(sql: Sql) -> list[dict[str, Any]]:
    return sql(
        "select actor_id::text, action, target_type, target_id, community_id::text, before, after"
        " from audit_log order by id"
    )


# ----------------------------------------------------------------------------------------------------
# Listing
# ----------------------------------------------------------------------------------------------------


async def test_acme_admin_lists_acme_tags_by_name_with_member_counts(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sales = make_tag(sql, ACME, "sales", "#ff0000")
    beta = make_tag(sql, ACME, "Beta")
    make_tag(sql, GLOBEX, "Globex tag")
    assign(sql, sales, ACME_LENA)
    assign(sql, sales, ACME_LIAM)

    response = await client.get(TAGS, params=OF_ACME, headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    body = response.json()
    assert [(t["id"], t["name"], t["member_count"]) for t in body["items"]] == [
        (beta, "Beta", 0),
        (sales, "sales", 2),
    ]
    assert body["items"][1]["color"] == "#ff0000"
    assert body["items"][1]["community_id"] == ACME
    assert body["next_cursor"] is None


async def test_tag_list_pages_through_every_tag_once(client: httpx.AsyncClient, sql: Sql) -> None:
    names = ["alpha", "Bravo", "charlie", "Delta", "echo", "Foxtrot", "golf"]
    for name in names:
        make_tag(sql, ACME, name)
    seen: list[str] = []
    cursor = None
    while True:
        params = {**OF_ACME, "limit": "3", **({"cursor": cursor} if cursor else {})}
        body = (await client.get(TAGS, params=params, headers=auth(SPECIALIST))).json()
        seen += [t["name"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == names


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [(GLOBEX_ADMIN, 404, "not_found"), (GLOBEX_GINA, 403, "forbidden"), (ACME_LENA, 403, "forbidden")],
    ids=["other community's admin: no such community", "learner: refused by role", "acme learner"],
)
async def test_other_admins_and_learners_cannot_list_acme_tags(
    client: httpx.AsyncClient, db: str, caller: str, status: int, code: str
) -> None:
    assert_problem(await client.get(TAGS, params=OF_ACME, headers=auth(caller)), status, code)


async def test_a_learner_here_who_administers_elsewhere_cannot_list_these_tags(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    # Row level security lets a learner read their community's tags; the admin list is not theirs.
    make_tag(sql, ACME, "Sales")
    sql(
        "insert into memberships (community_id, user_id, role) values (%s, %s, 'member')",
        (ACME, GLOBEX_ADMIN),
    )
    response = await client.get(TAGS, params=OF_ACME, headers=auth(GLOBEX_ADMIN))
    assert_problem(response, 403, "forbidden")


async def test_a_tag_is_read_by_its_own_id_by_its_communitys_admins_and_staff(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    theirs = make_tag(sql, GLOBEX, "Theirs")
    ours = make_tag(sql, ACME, "Ours")
    assert (await client.get(f"/tags/{theirs}", headers=auth(MANAGER))).json()["name"] == "Theirs"
    response = await client.get(f"/tags/{ours}", headers=auth(ACME_ADMIN))
    assert response.status_code == 200 and response.json()["name"] == "Ours"
    assert_problem(await client.get(f"/tags/{uuid.uuid4()}", headers=auth(MANAGER)), 404, "not_found")


async def test_a_tag_is_read_in_one_round_trip_and_a_refused_caller_learns_nothing_of_it(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    # GET /tags/{id} declares its query (read=): it leaves with the opening and COMMIT, as the caller.
    ours = make_tag(sql, ACME, "Ours")
    response = await client.get(f"/tags/{ours}", headers=auth(ACME_ADMIN))
    assert response.status_code == 200 and response.json()["name"] == "Ours"
    assert 'desc="1 round trip"' in response.headers["server-timing"]

    refused = await client.get(f"/tags/{ours}", headers=auth(ACME_LENA))  # a learner: the guard refuses
    assert_problem(refused, 403, "forbidden")
    assert "Ours" not in refused.text
    assert 'desc="1 round trip"' in refused.headers["server-timing"]


@pytest.mark.parametrize("learner_there", [False, True], ids=["outsider", "learner there"])
async def test_another_communitys_tag_answers_exactly_as_a_missing_one(
    client: httpx.AsyncClient, sql: Sql, learner_there: bool
) -> None:
    theirs = make_tag(sql, GLOBEX, "Theirs")
    if learner_there:  # Acme's admin is a learner of Globex: row level security shows them Globex's tags
        sql(
            "insert into memberships (community_id, user_id, role) values (%s, %s, 'member')",
            (GLOBEX, ACME_ADMIN),
        )
    headers = auth(ACME_ADMIN)

    answers = [
        await client.get(f"/tags/{theirs}", headers=headers),
        await client.patch(f"/tags/{theirs}", json={"name": "Stolen"}, headers=headers),
        await client.delete(f"/tags/{theirs}?confirm=true", headers=headers),
    ]
    missing = await client.get(f"/tags/{uuid.uuid4()}", headers=headers)

    expected = assert_problem(missing, 404, "not_found")
    for answer in answers:
        body = assert_problem(answer, 404, "not_found")
        assert {**body, "request_id": ""} == {**expected, "request_id": ""}
    assert tags(sql, GLOBEX) == [{"id": theirs, "name": "Theirs", "color": "#112233"}]
    assert audit_rows(sql) == []


# ----------------------------------------------------------------------------------------------------
# Creating
# ----------------------------------------------------------------------------------------------------


async def test_admin_creates_a_tag_and_it_is_audited(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.post(
        TAGS, json={**OF_ACME, "name": "  Sales  ", "color": "#AABBCC"}, headers=auth(ACME_ADMIN)
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["name"], body["color"], body["member_count"], body["community_id"]) == (
        "Sales",
        "#AABBCC",
        0,
        ACME,
    )
    assert tags(sql) == [{"id": body["id"], "name": "Sales", "color": "#AABBCC"}]
    assert audit_rows(sql) == [
        {
            "actor_id": ACME_ADMIN,
            "action": "tag.created",
            "target_type": "user_tag",
            "target_id": body["id"],
            "community_id": ACME,
            "before": None,
            "after": {"name": "Sales", "color": "#AABBCC"},
        }
    ]


async def test_color_defaults_to_grey(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.post(TAGS, json={"community_id": ACME, "name": "Plain"}, headers=auth(MANAGER))
    assert response.status_code == 201, response.text
    assert response.json()["color"] == "#6b7280"


async def test_duplicate_name_in_any_case_is_409_tag_name_taken(client: httpx.AsyncClient, sql: Sql) -> None:
    existing = make_tag(sql, ACME, "Sales")

    response = await client.post(
        TAGS, json={**OF_ACME, "name": "SALES", "color": "#000000"}, headers=auth(ACME_ADMIN)
    )

    assert_problem(response, 409, "tag_name_taken")
    assert tags(sql) == [{"id": existing, "name": "Sales", "color": "#112233"}]
    assert audit_rows(sql) == []


async def test_same_name_in_another_community_is_fine(client: httpx.AsyncClient, sql: Sql) -> None:
    make_tag(sql, GLOBEX, "Sales")
    response = await client.post(TAGS, json={"community_id": ACME, "name": "Sales"}, headers=auth(ACME_ADMIN))
    assert response.status_code == 201, response.text


async def test_concurrent_creates_of_one_name_make_one_tag(client: httpx.AsyncClient, sql: Sql) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                TAGS, json={"community_id": ACME, "name": "Dup" if i % 2 else "dup"}, headers=auth(ACME_ADMIN)
            )
            for i in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert all(r.json()["code"] == "tag_name_taken" for r in responses if r.status_code == 409)
    assert [t["name"].lower() for t in tags(sql)] == ["dup"]
    assert [r["action"] for r in audit_rows(sql)] == ["tag.created"]


@pytest.mark.parametrize(
    ("payload", "locs"),
    [
        ({"name": "", "color": "#000000"}, {"body.name"}),
        ({"name": "x" * 61}, {"body.name"}),
        ({"name": "ok", "color": "red"}, {"body.color"}),
        ({"name": "ok", "color": "#12345g"}, {"body.color"}),
        ({"name": "ok", "member_count": 3}, {"body.member_count"}),
        ({"name": "ok", "community_id": "acme"}, {"body.community_id"}),
        ({"color": "#000000"}, {"body.name"}),
    ],
)
async def test_invalid_tag_is_422_naming_the_field(
    client: httpx.AsyncClient, sql: Sql, payload: dict[str, Any], locs: set[str]
) -> None:
    body = assert_problem(
        await client.post(TAGS, json={**OF_ACME, **payload}, headers=auth(ACME_ADMIN)),
        422,
        "validation_failed",
    )
    assert {e["loc"] for e in body["errors"]} == locs
    assert tags(sql) == []


async def test_create_replayed_with_its_idempotency_key_makes_one_tag(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    headers = {**auth(ACME_ADMIN), "Idempotency-Key": "tag-create-1"}
    first = await client.post(TAGS, json={"community_id": ACME, "name": "Once"}, headers=headers)
    again = await client.post(TAGS, json={"community_id": ACME, "name": "Once"}, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.content == first.content
    assert len(tags(sql)) == 1
    assert len(audit_rows(sql)) == 1


# ----------------------------------------------------------------------------------------------------
# Updating
# ----------------------------------------------------------------------------------------------------


async def test_rename_and_recolour_is_audited_with_before_and_after(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    tag = make_tag(sql, ACME, "Sales", "#111111")
    assign(sql, tag, ACME_LENA)

    response = await client.patch(
        f"/tags/{tag}", json={"name": "Revenue", "color": "#222222"}, headers=auth(ACME_ADMIN)
    )

    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["color"], response.json()["member_count"]) == (
        "Revenue",
        "#222222",
        1,
    )
    assert tags(sql) == [{"id": tag, "name": "Revenue", "color": "#222222"}]
    assert [(r["action"], r["before"], r["after"]) for r in audit_rows(sql)] == [
        ("tag.updated", {"name": "Sales", "color": "#111111"}, {"name": "Revenue", "color": "#222222"})
    ]


async def test_recolour_alone_keeps_the_name_and_case_change_of_own_name_is_allowed(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    tag = make_tag(sql, ACME, "Sales", "#111111")
    recoloured = await client.patch(f"/tags/{tag}", json={"color": "#333333"}, headers=auth(MANAGER))
    recased = await client.patch(f"/tags/{tag}", json={"name": "SALES"}, headers=auth(MANAGER))
    assert recoloured.status_code == recased.status_code == 200, recased.text
    assert tags(sql) == [{"id": tag, "name": "SALES", "color": "#333333"}]


async def test_renaming_to_another_tags_name_is_409_tag_name_taken(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    make_tag(sql, ACME, "Sales")
    other = make_tag(sql, ACME, "Support")

    response = await client.patch(f"/tags/{other}", json={"name": "sales"}, headers=auth(ACME_ADMIN))

    assert_problem(response, 409, "tag_name_taken")
    assert [t["name"] for t in tags(sql)] == ["Sales", "Support"]
    assert audit_rows(sql) == []


async def test_update_needs_a_field_and_a_tag_of_this_community(client: httpx.AsyncClient, sql: Sql) -> None:
    ours = make_tag(sql, ACME, "Ours")
    theirs = make_tag(sql, GLOBEX, "Theirs")
    assert_problem(
        await client.patch(f"/tags/{ours}", json={}, headers=auth(ACME_ADMIN)), 422, "validation_failed"
    )
    response = await client.patch(f"/tags/{theirs}", json={"name": "Stolen"}, headers=auth(ACME_ADMIN))
    assert_problem(response, 404, "not_found")
    assert tags(sql, GLOBEX) == [{"id": theirs, "name": "Theirs", "color": "#112233"}]


# ----------------------------------------------------------------------------------------------------
# Deleting
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?confirm=false", "?confirm=no"])
async def test_delete_without_confirm_true_is_422_and_deletes_nothing(
    client: httpx.AsyncClient, sql: Sql, query: str
) -> None:
    tag = make_tag(sql, ACME, "Sales")
    assign(sql, tag, ACME_LENA)
    assign(sql, tag, ACME_LIAM)

    response = await client.delete(f"/tags/{tag}{query}", headers=auth(ACME_ADMIN))

    body = assert_problem(response, 422, "validation_failed")
    [error] = body["errors"]
    assert error["loc"] == "query.confirm"
    if query != "?confirm=no":  # "no" is not a boolean at all; the others reach the explanation
        assert error["type"] == "confirmation_required"
        assert "2 member(s)" in error["message"] and "confirm=true" in error["message"]
    assert len(tags(sql)) == 1
    assert assignment_count(sql, tag) == 2
    assert audit_rows(sql) == []


async def test_confirmed_delete_removes_the_tag_and_its_assignments(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    tag = make_tag(sql, ACME, "Sales", "#abcdef")
    keep = make_tag(sql, ACME, "Keep")
    assign(sql, tag, ACME_LENA)
    assign(sql, tag, ACME_LIAM)
    assign(sql, keep, ACME_LENA)

    response = await client.delete(f"/tags/{tag}?confirm=true", headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    assert response.json() == {"id": tag, "assignments_removed": 2}
    assert [t["id"] for t in tags(sql)] == [keep]
    assert assignment_count(sql, tag) == 0
    assert assignment_count(sql) == 1, "other tags keep their assignments"
    assert [(r["action"], r["target_id"], r["before"], r["after"]) for r in audit_rows(sql)] == [
        ("tag.deleted", tag, {"name": "Sales", "color": "#abcdef", "assignments": 2}, None)
    ]


async def test_deleting_another_communitys_tag_through_acme_is_404(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    theirs = make_tag(sql, GLOBEX, "Theirs")
    response = await client.delete(f"/tags/{theirs}?confirm=true", headers=auth(ACME_ADMIN))
    assert_problem(response, 404, "not_found")
    assert len(tags(sql, GLOBEX)) == 1


# ----------------------------------------------------------------------------------------------------
# Who may write
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [(GLOBEX_ADMIN, 404, "not_found"), (ACME_LENA, 403, "forbidden"), (SPECIALIST, 403, "forbidden")],
    ids=["globex admin: acme and its tags are missing to them", "learner", "specialist"],
)
async def test_globex_admin_learner_and_specialist_cannot_change_acme_tags(
    client: httpx.AsyncClient, sql: Sql, caller: str, status: int, code: str
) -> None:
    tag = make_tag(sql, ACME, "Sales")
    assign(sql, tag, ACME_LENA)
    headers = auth(caller)
    assert_problem(await client.post(TAGS, json={**OF_ACME, "name": "New"}, headers=headers), status, code)
    assert_problem(await client.patch(f"/tags/{tag}", json={"name": "X"}, headers=headers), status, code)
    assert_problem(await client.delete(f"/tags/{tag}?confirm=true", headers=headers), status, code)
    assert tags(sql) == [{"id": tag, "name": "Sales", "color": "#112233"}]
    assert assignment_count(sql, tag) == 1
    assert audit_rows(sql) == []


@pytest.mark.parametrize("caller", [SUPER, MANAGER])
async def test_staff_writers_manage_any_communitys_tags(
    client: httpx.AsyncClient, sql: Sql, caller: str
) -> None:
    created = await client.post(
        TAGS, json={"community_id": GLOBEX, "name": "Staff made"}, headers=auth(caller)
    )
    assert created.status_code == 201, created.text
    tag = created.json()["id"]
    assert (
        await client.patch(f"/tags/{tag}", json={"name": "Renamed"}, headers=auth(caller))
    ).status_code == 200
    assert (await client.delete(f"/tags/{tag}?confirm=true", headers=auth(caller))).status_code == 200
    assert tags(sql, GLOBEX) == []
    assert [(r["actor_id"], r["action"], r["community_id"]) for r in audit_rows(sql)] == [
        (caller, "tag.created", GLOBEX),
        (caller, "tag.updated", GLOBEX),
        (caller, "tag.deleted", GLOBEX),
    ]


async def test_staff_creating_a_tag_in_an_unknown_community_is_404(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    response = await client.post(
        TAGS, json={"community_id": str(uuid.uuid4()), "name": "x"}, headers=auth(MANAGER)
    )
    assert_problem(response, 404, "not_found")
    assert sql("select count(*) as n from user_tags") == [{"n": 0}]
