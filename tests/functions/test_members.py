"""`members` through the real handler against the real database: who may see and change a community's people."""

from __future__ import annotations

import asyncio
import re
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

MEMBERS = "/members"
OF_ACME = {"community_id": ACME}
ROUND_TRIPS = re.compile(r'desc="(\d+) round trips?"')


# ----------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------


def member(user_id: str, community: str = ACME) -> str:
    return f"/members/{community}/{user_id}"


def make_member(
    sql: Sql, email: str, first: str = "", last: str = "", role: str = "member", joined_at: str | None = None
) -> str:
    """A new auth user (the profile trigger creates the profile) who is a member of Acme."""
    user_id = str(uuid.uuid4())
    sql(
        "insert into auth.users (id, email, raw_user_meta_data) values (%s, %s, jsonb_build_object("
        "'first_name', %s::text, 'last_name', %s::text))",
        (user_id, email, first, last),
    )
    sql(
        "insert into memberships (community_id, user_id, role, joined_at) values (%s, %s, %s, coalesce(%s, now()))",
        (ACME, user_id, role, joined_at),
    )
    return user_id


def roles(sql: Sql, community: str = ACME) -> dict[str, str]:
    rows = sql("select user_id::text, role from memberships where community_id = %s", (community,))
    return {r["user_id"]: r["role"] for r in rows}


def tags_of(sql: Sql, user_id: str, community: str = ACME) -> set[str]:
    rows = sql(
        "select tag_id::text from user_tag_assignments where user_id = %s and community_id = %s",
        (user_id, community),
    )
    return {r["tag_id"] for r in rows}


def audit_rows(sql: Sql) -> list[dict[str, Any]]:
    return sql(
        "select actor_id::text, actor_type, action, target_type, target_id, community_id::text, before, after,"
        " request_id, ip, user_agent from audit_log order by id"
    )


def round_trips(response: httpx.Response) -> int:
    found = ROUND_TRIPS.search(response.headers["server-timing"])
    assert found, response.headers["server-timing"]
    return int(found.group(1))


async def all_pages(client: httpx.AsyncClient, user: str, **params: Any) -> list[list[str]]:
    """Follow next_cursor to the end; the user ids of each page."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(MEMBERS, params={**OF_ACME, **query}, headers=auth(user))
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["user_id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor chain does not end"


# ----------------------------------------------------------------------------------------------------
# Listing and who may see it
# ----------------------------------------------------------------------------------------------------


async def test_acme_admin_lists_acme_members_with_their_tags_and_no_one_from_globex(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sales = make_tag(sql, ACME, "Sales", "#ff0000")
    beta = make_tag(sql, ACME, "beta", "#00ff00")
    assign(sql, sales, ACME_LENA)
    assign(sql, beta, ACME_LENA)
    gtag = make_tag(sql, GLOBEX, "Globex only")
    assign(sql, gtag, GLOBEX_GINA, GLOBEX)

    response = await client.get(MEMBERS, params=OF_ACME, headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    body = response.json()
    by_id = {item["user_id"]: item for item in body["items"]}
    assert set(by_id) == {ACME_ADMIN, ACME_LENA, ACME_LIAM}
    assert body["next_cursor"] is None
    lena = by_id[ACME_LENA]
    assert lena["email"] == "lena@acme.example.com"
    assert (lena["first_name"], lena["last_name"]) == ("Lena", "Learner")
    assert (lena["role"], lena["source"], lena["status"]) == ("member", "admin", "active")
    assert lena["joined_at"]
    assert lena["tags"] == [
        {"id": beta, "name": "beta", "color": "#00ff00"},
        {"id": sales, "name": "Sales", "color": "#ff0000"},
    ]
    assert by_id[ACME_ADMIN]["role"] == "admin"
    assert by_id[ACME_LIAM]["tags"] == []


async def test_member_list_costs_the_same_round_trips_however_many_members_and_tags(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    few = await client.get(MEMBERS, params=OF_ACME, headers=auth(ACME_ADMIN))
    tags = [make_tag(sql, ACME, f"tag {i}") for i in range(5)]
    for i in range(12):
        user_id = make_member(sql, f"extra{i}@acme.example.com")
        for tag_id in tags:
            assign(sql, tag_id, user_id)

    many = await client.get(MEMBERS, params=OF_ACME, headers=auth(ACME_ADMIN))

    assert len(many.json()["items"]) == 15
    assert all(len(item["tags"]) == 5 for item in many.json()["items"][:12])
    assert round_trips(many) == round_trips(few) == 3  # open (principal, rate limit), the list, commit


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [(GLOBEX_ADMIN, 404, "not_found"), (ACME_LENA, 403, "forbidden"), (GLOBEX_GINA, 403, "forbidden")],
    ids=["other community's admin: no such community", "acme learner", "globex learner"],
)
async def test_other_community_admin_and_learners_cannot_list_acme_members(
    client: httpx.AsyncClient, db: str, caller: str, status: int, code: str
) -> None:
    response = await client.get(MEMBERS, params=OF_ACME, headers=auth(caller))
    assert_problem(response, status, code)


@pytest.mark.parametrize("caller", [SUPER, MANAGER, SPECIALIST])
async def test_every_staff_role_lists_any_community_members(
    client: httpx.AsyncClient, db: str, caller: str
) -> None:
    response = await client.get(MEMBERS, params={"community_id": GLOBEX}, headers=auth(caller))
    assert response.status_code == 200, response.text
    assert {i["user_id"] for i in response.json()["items"]} == {GLOBEX_ADMIN, GLOBEX_GINA}


async def test_staff_listing_an_unknown_community_gets_404(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(MEMBERS, params={"community_id": str(uuid.uuid4())}, headers=auth(MANAGER))
    assert_problem(response, 404, "not_found")


async def test_search_matches_names_and_email_case_insensitively(client: httpx.AsyncClient, sql: Sql) -> None:
    async def found(q: str) -> set[str]:
        response = await client.get(MEMBERS, params={**OF_ACME, **{"q": q}}, headers=auth(ACME_ADMIN))
        assert response.status_code == 200, response.text
        return {item["user_id"] for item in response.json()["items"]}

    assert await found("LENA") == {ACME_LENA}
    assert await found("learner") == {ACME_LENA, ACME_LIAM}
    assert await found("liam@acme") == {ACME_LIAM}
    assert await found("Ada Admin") == {ACME_ADMIN}
    assert await found("gina") == set(), "Globex's members never match"


async def test_search_treats_like_wildcards_and_backslash_literally(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    percent = make_member(sql, "hundred%@acme.example.com", "Per", "Cent")
    underscore = make_member(sql, "under_score@acme.example.com", "Under", "Score")
    backslash = make_member(sql, "back\\slash@acme.example.com", "Back", "Slash")

    async def found(q: str) -> set[str]:
        response = await client.get(MEMBERS, params={**OF_ACME, **{"q": q}}, headers=auth(ACME_ADMIN))
        assert response.status_code == 200, response.text
        return {item["user_id"] for item in response.json()["items"]}

    assert await found("%") == {percent}
    assert await found("_") == {underscore}
    assert await found("\\") == {backslash}
    assert await found("r_s") == {underscore}
    assert await found("d%@") == {percent}


async def test_role_and_tag_filters_narrow_the_list(client: httpx.AsyncClient, sql: Sql) -> None:
    sales = make_tag(sql, ACME, "Sales")
    assign(sql, sales, ACME_LENA)
    assign(sql, sales, ACME_ADMIN)

    async def found(**params: str) -> set[str]:
        response = await client.get(MEMBERS, params={**OF_ACME, **params}, headers=auth(ACME_ADMIN))
        assert response.status_code == 200, response.text
        return {item["user_id"] for item in response.json()["items"]}

    assert await found(role="admin") == {ACME_ADMIN}
    assert await found(role="member") == {ACME_LENA, ACME_LIAM}
    assert await found(tag=sales) == {ACME_ADMIN, ACME_LENA}
    assert await found(tag=sales, role="member") == {ACME_LENA}
    assert await found(tag=sales, q="liam") == set()
    assert await found(tag=str(uuid.uuid4())) == set()


async def test_invalid_filters_are_422_naming_the_parameter(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(
        MEMBERS,
        params={**OF_ACME, "role": "owner", "tag": "nope", "limit": "0", "sort": "x"},
        headers=auth(ACME_ADMIN),
    )
    body = assert_problem(response, 422, "validation_failed")
    assert {e["loc"] for e in body["errors"]} == {"query.role", "query.tag", "query.limit", "query.sort"}


async def test_pagination_chain_serves_every_member_once_newest_first(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    # Several members share a joined_at, so the user id must break ties for the chain to be exact.
    same = "2026-01-01T10:00:00+00:00"
    for i in range(4):
        make_member(sql, f"tie{i}@acme.example.com", joined_at=same)
    for i in range(3):
        make_member(sql, f"later{i}@acme.example.com", joined_at=f"2026-02-0{i + 1}T10:00:00.123456+00:00")
    expected = [
        r["user_id"]
        for r in sql(
            "select user_id::text from memberships where community_id = %s order by joined_at desc, user_id desc",
            (ACME,),
        )
    ]

    pages = await all_pages(client, ACME_ADMIN, limit=3)

    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert [user for page in pages for user in page] == expected


async def test_pagination_chain_keeps_filters(client: httpx.AsyncClient, sql: Sql) -> None:
    for i in range(5):
        make_member(sql, f"filtered{i}@acme.example.com", first="Pat", role="admin" if i % 2 else "member")

    pages = await all_pages(client, ACME_ADMIN, limit=1, q="pat", role="member")

    assert [len(p) for p in pages] == [1, 1, 1]
    served = [u for p in pages for u in p]
    assert len(set(served)) == 3
    assert set(served) == {
        r["user_id"]
        for r in sql(
            "select m.user_id::text from memberships m join profiles p on p.id = m.user_id"
            " where p.first_name = 'Pat' and m.role = 'member'"
        )
    }


@pytest.mark.parametrize("cursor", ["garbage", "WyJ4Il0", "WyJub3QtYS1kYXRlIiwgIngiXQ"])
async def test_malformed_cursor_is_422_on_query_cursor(
    client: httpx.AsyncClient, db: str, cursor: str
) -> None:
    response = await client.get(MEMBERS, params={**OF_ACME, **{"cursor": cursor}}, headers=auth(ACME_ADMIN))
    body = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in body["errors"]] == ["query.cursor"]


# ----------------------------------------------------------------------------------------------------
# Roles and the last admin
# ----------------------------------------------------------------------------------------------------


async def test_admin_promotes_member_and_the_change_is_audited(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.patch(
        member(ACME_LENA),
        json={"role": "admin"},
        headers={**auth(ACME_ADMIN), "x-request-id": "req-promote-1", "user-agent": "console/1.0"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin"
    assert roles(sql)[ACME_LENA] == "admin"
    assert audit_rows(sql) == [
        {
            "actor_id": ACME_ADMIN,
            "actor_type": "user",
            "action": "member.role_changed",
            "target_type": "membership",
            "target_id": ACME_LENA,
            "community_id": ACME,
            "before": {"role": "member"},
            "after": {"role": "admin"},
            "request_id": "req-promote-1",
            "ip": "203.0.113.7",
            "user_agent": "console/1.0",
        }
    ]


async def test_setting_the_role_a_member_already_has_changes_and_audits_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    response = await client.patch(member(ACME_LENA), json={"role": "member"}, headers=auth(ACME_ADMIN))
    assert response.status_code == 200, response.text
    assert audit_rows(sql) == []


async def test_demoting_the_last_admin_is_409_last_admin_and_changes_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    for caller in (ACME_ADMIN, MANAGER):
        response = await client.patch(member(ACME_ADMIN), json={"role": "member"}, headers=auth(caller))
        body = assert_problem(response, 409, "last_admin")
        assert "at least one admin" in body["detail"]
    assert roles(sql)[ACME_ADMIN] == "admin"
    assert audit_rows(sql) == []


async def test_removing_the_last_admin_is_409_last_admin_and_removes_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sales = make_tag(sql, ACME, "Sales")
    assign(sql, sales, ACME_ADMIN)

    response = await client.delete(member(ACME_ADMIN), headers=auth(MANAGER))

    assert_problem(response, 409, "last_admin")
    assert roles(sql)[ACME_ADMIN] == "admin"
    assert tags_of(sql, ACME_ADMIN) == {sales}
    assert audit_rows(sql) == []


async def test_admin_may_step_down_when_another_admin_exists(client: httpx.AsyncClient, sql: Sql) -> None:
    sql("update memberships set role = 'admin' where user_id = %s", (ACME_LENA,))

    response = await client.patch(member(ACME_ADMIN), json={"role": "member"}, headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "member"
    assert roles(sql) == {ACME_ADMIN: "member", ACME_LENA: "admin", ACME_LIAM: "member"}
    assert [(r["action"], r["before"], r["after"]) for r in audit_rows(sql)] == [
        ("member.role_changed", {"role": "admin"}, {"role": "member"})
    ]


async def test_concurrent_demotions_of_the_only_two_admins_leave_one_admin(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sql("update memberships set role = 'admin' where user_id = %s", (ACME_LENA,))

    responses = await asyncio.gather(
        client.patch(member(ACME_LENA), json={"role": "member"}, headers=auth(ACME_ADMIN)),
        client.patch(member(ACME_ADMIN), json={"role": "member"}, headers=auth(ACME_LENA)),
    )

    # Whoever locks first wins; the other then finds it is no longer an admin itself.
    assert sorted(r.status_code for r in responses) == [200, 403], [r.text for r in responses]
    admins = [user for user, role in roles(sql).items() if role == "admin"]
    assert len(admins) == 1
    assert [r["action"] for r in audit_rows(sql)] == ["member.role_changed"]


async def test_concurrent_demotions_by_a_manager_leave_one_admin(client: httpx.AsyncClient, sql: Sql) -> None:
    sql("update memberships set role = 'admin' where user_id = %s", (ACME_LIAM,))

    responses = await asyncio.gather(
        *(
            client.patch(member(u), json={"role": "member"}, headers=auth(MANAGER))
            for u in (ACME_ADMIN, ACME_LIAM)
        )
    )

    # Different rows, so both get past their locks: the database's last-admin rule refuses the second.
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    assert next(r for r in responses if r.status_code == 409).json()["code"] == "last_admin"
    assert list(roles(sql).values()).count("admin") == 1
    assert [r["action"] for r in audit_rows(sql)] == ["member.role_changed"]


async def test_role_change_of_a_non_member_is_404_and_invalid_role_is_422(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    assert_problem(
        await client.patch(member(GLOBEX_GINA), json={"role": "admin"}, headers=auth(ACME_ADMIN)),
        404,
        "not_found",
    )
    body = assert_problem(
        await client.patch(member(ACME_LENA), json={"role": "owner"}, headers=auth(ACME_ADMIN)),
        422,
        "validation_failed",
    )
    assert [e["loc"] for e in body["errors"]] == ["body.role"]
    assert roles(sql, GLOBEX)[GLOBEX_GINA] == "member"
    assert audit_rows(sql) == []


async def test_manager_changes_roles_in_any_community(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.patch(member(GLOBEX_GINA, GLOBEX), json={"role": "admin"}, headers=auth(MANAGER))
    assert response.status_code == 200, response.text
    assert roles(sql, GLOBEX)[GLOBEX_GINA] == "admin"
    assert [(r["actor_id"], r["community_id"]) for r in audit_rows(sql)] == [(MANAGER, GLOBEX)]


async def test_writes_by_globex_admin_learner_or_specialist_on_acme_are_refused_and_change_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sales = make_tag(sql, ACME, "Sales")
    assign(sql, sales, ACME_LIAM)
    refusals = {
        GLOBEX_ADMIN: (404, "not_found"),
        ACME_LENA: (403, "forbidden"),
        SPECIALIST: (403, "forbidden"),
    }
    for caller, (status, code) in refusals.items():
        headers = auth(caller)
        attempts = [
            client.patch(member(ACME_LIAM), json={"role": "admin"}, headers=headers),
            client.delete(member(ACME_LIAM), headers=headers),
            client.put(member(ACME_LIAM) + "/tags", json={"tag_ids": []}, headers=headers),
            client.post(member(ACME_LENA) + f"/tags/{sales}", headers=headers),
            client.delete(member(ACME_LIAM) + f"/tags/{sales}", headers=headers),
        ]
        for attempt in attempts:
            assert_problem(await attempt, status, code)
    assert roles(sql) == {ACME_ADMIN: "admin", ACME_LENA: "member", ACME_LIAM: "member"}
    assert tags_of(sql, ACME_LIAM) == {sales}
    assert tags_of(sql, ACME_LENA) == set()
    assert audit_rows(sql) == []


# ----------------------------------------------------------------------------------------------------
# Removing members
# ----------------------------------------------------------------------------------------------------


async def test_removing_a_member_drops_their_tags_and_is_audited(client: httpx.AsyncClient, sql: Sql) -> None:
    sales = make_tag(sql, ACME, "Sales")
    assign(sql, sales, ACME_LENA)
    assign(sql, sales, ACME_LIAM)

    response = await client.delete(member(ACME_LENA), headers=auth(ACME_ADMIN))

    assert response.status_code == 204, response.text
    assert ACME_LENA not in roles(sql)
    assert tags_of(sql, ACME_LENA) == set()
    assert tags_of(sql, ACME_LIAM) == {sales}, "other members keep their tags"
    assert sql("select count(*) as n from profiles where id = %s", (ACME_LENA,)) == [{"n": 1}]
    [entry] = audit_rows(sql)
    assert (entry["action"], entry["target_id"], entry["after"]) == ("member.removed", ACME_LENA, None)
    assert entry["before"]["role"] == "member"
    assert entry["before"]["tag_ids"] == [sales]


async def test_removing_someone_who_is_not_a_member_is_404(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.delete(member(GLOBEX_GINA), headers=auth(ACME_ADMIN))
    assert_problem(response, 404, "not_found")
    assert GLOBEX_GINA in roles(sql, GLOBEX)


# ----------------------------------------------------------------------------------------------------
# Member tags
# ----------------------------------------------------------------------------------------------------


async def test_replacing_tags_sets_exactly_the_given_ones_and_audits_before_and_after(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a, b, c = (make_tag(sql, ACME, name) for name in ("A", "B", "C"))
    assign(sql, a, ACME_LENA)
    assign(sql, b, ACME_LENA)

    response = await client.put(
        member(ACME_LENA) + "/tags", json={"tag_ids": [b, c, c]}, headers=auth(ACME_ADMIN)
    )

    assert response.status_code == 200, response.text
    assert [t["id"] for t in response.json()["tags"]] == [b, c]
    assert tags_of(sql, ACME_LENA) == {b, c}
    [entry] = audit_rows(sql)
    assert entry["action"] == "member.tags_replaced"
    assert entry["before"] == {"tag_ids": sorted([a, b])}
    assert entry["after"] == {"tag_ids": sorted([b, c])}


async def test_replacing_with_an_empty_list_removes_every_tag(client: httpx.AsyncClient, sql: Sql) -> None:
    a = make_tag(sql, ACME, "A")
    assign(sql, a, ACME_LENA)
    response = await client.put(member(ACME_LENA) + "/tags", json={"tag_ids": []}, headers=auth(MANAGER))
    assert response.status_code == 200, response.text
    assert response.json()["tags"] == []
    assert tags_of(sql, ACME_LENA) == set()


async def test_replacing_with_a_tag_of_another_community_is_422_and_writes_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    mine = make_tag(sql, ACME, "Mine")
    keep = make_tag(sql, ACME, "Keep")
    assign(sql, keep, ACME_LENA)
    theirs = make_tag(sql, GLOBEX, "Theirs")

    response = await client.put(
        member(ACME_LENA) + "/tags", json={"tag_ids": [mine, theirs]}, headers=auth(ACME_ADMIN)
    )

    body = assert_problem(response, 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [("body.tag_ids", "unknown_tag")]
    assert theirs in body["errors"][0]["message"]
    assert mine not in body["errors"][0]["message"]
    assert tags_of(sql, ACME_LENA) == {keep}
    assert sql("select count(*) as n from user_tag_assignments where tag_id = %s", (theirs,)) == [{"n": 0}]
    assert audit_rows(sql) == []


async def test_replacing_tags_of_a_non_member_is_404(client: httpx.AsyncClient, sql: Sql) -> None:
    mine = make_tag(sql, ACME, "Mine")
    response = await client.put(
        member(GLOBEX_GINA) + "/tags", json={"tag_ids": [mine]}, headers=auth(ACME_ADMIN)
    )
    assert_problem(response, 404, "not_found")
    assert sql("select count(*) as n from user_tag_assignments") == [{"n": 0}]


async def test_tag_ids_must_be_uuids_and_at_most_one_hundred(client: httpx.AsyncClient, db: str) -> None:
    for tag_ids in (["not-a-uuid"], [str(uuid.uuid4()) for _ in range(101)], "x"):
        response = await client.put(
            member(ACME_LENA) + "/tags", json={"tag_ids": tag_ids}, headers=auth(ACME_ADMIN)
        )
        body = assert_problem(response, 422, "validation_failed")
        assert all(e["loc"].startswith("body.tag_ids") for e in body["errors"])


async def test_adding_one_tag_keeps_the_others_and_adding_it_again_changes_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a, b = make_tag(sql, ACME, "A"), make_tag(sql, ACME, "B")
    assign(sql, a, ACME_LENA)

    first = await client.post(member(ACME_LENA) + f"/tags/{b}", headers=auth(ACME_ADMIN))
    again = await client.post(member(ACME_LENA) + f"/tags/{b}", headers=auth(ACME_ADMIN))

    assert first.status_code == again.status_code == 200, first.text
    assert {t["id"] for t in again.json()["tags"]} == {a, b}
    assert tags_of(sql, ACME_LENA) == {a, b}
    assert sql("select assigned_by::text from user_tag_assignments where tag_id = %s", (b,)) == [
        {"assigned_by": ACME_ADMIN}
    ]
    assert [(r["action"], r["before"], r["after"]) for r in audit_rows(sql)] == [
        ("member.tag_added", {"tag_ids": [a]}, {"tag_ids": sorted([a, b])})
    ]


async def test_adding_a_tag_of_another_community_is_422_and_writes_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    theirs = make_tag(sql, GLOBEX, "Theirs")
    for caller in (ACME_ADMIN, MANAGER):
        response = await client.post(member(ACME_LENA) + f"/tags/{theirs}", headers=auth(caller))
        body = assert_problem(response, 422, "validation_failed")
        assert [e["loc"] for e in body["errors"]] == ["path.tag_id"]
    assert sql("select count(*) as n from user_tag_assignments") == [{"n": 0}]
    assert audit_rows(sql) == []


async def test_removing_one_tag_and_removing_a_tag_not_held_is_404(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    a, b = make_tag(sql, ACME, "A"), make_tag(sql, ACME, "B")
    assign(sql, a, ACME_LENA)
    assign(sql, b, ACME_LENA)

    response = await client.delete(member(ACME_LENA) + f"/tags/{a}", headers=auth(ACME_ADMIN))
    missing = await client.delete(member(ACME_LENA) + f"/tags/{a}", headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    assert [t["id"] for t in response.json()["tags"]] == [b]
    assert_problem(missing, 404, "not_found")
    assert tags_of(sql, ACME_LENA) == {b}
    assert [(r["action"], r["before"], r["after"]) for r in audit_rows(sql)] == [
        ("member.tag_removed", {"tag_ids": sorted([a, b])}, {"tag_ids": [b]})
    ]


# ----------------------------------------------------------------------------------------------------
# Account status
# ----------------------------------------------------------------------------------------------------


async def test_deactivated_user_is_refused_until_reactivated(client: httpx.AsyncClient, sql: Sql) -> None:
    off = await client.post(f"/members/users/{ACME_ADMIN}/deactivate", headers=auth(MANAGER))

    assert off.status_code == 200, off.text
    assert off.json() == {"user_id": ACME_ADMIN, "email": "admin@acme.example.com", "status": "deactivated"}
    assert sql("select status from profiles where id = %s", (ACME_ADMIN,)) == [{"status": "deactivated"}]
    assert_problem(
        await client.get(MEMBERS, params=OF_ACME, headers=auth(ACME_ADMIN)), 403, "account_deactivated"
    )
    me = await client.get("/me", headers=auth(ACME_ADMIN))
    assert me.status_code == 200 and me.json()["status"] == "deactivated"

    on = await client.post(f"/members/users/{ACME_ADMIN}/reactivate", headers=auth(MANAGER))

    assert on.status_code == 200, on.text
    assert on.json()["status"] == "active"
    assert (await client.get(MEMBERS, params=OF_ACME, headers=auth(ACME_ADMIN))).status_code == 200
    assert [
        (r["action"], r["target_type"], r["target_id"], r["before"], r["after"]) for r in audit_rows(sql)
    ] == [
        ("user.deactivated", "user", ACME_ADMIN, {"status": "active"}, {"status": "deactivated"}),
        ("user.reactivated", "user", ACME_ADMIN, {"status": "deactivated"}, {"status": "active"}),
    ]


async def test_deactivating_an_already_deactivated_account_changes_and_audits_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sql("update profiles set status = 'deactivated' where id = %s", (ACME_LENA,))
    response = await client.post(f"/members/users/{ACME_LENA}/deactivate", headers=auth(SUPER))
    assert response.status_code == 200
    assert audit_rows(sql) == []


async def test_nobody_deactivates_their_own_account(client: httpx.AsyncClient, sql: Sql) -> None:
    for caller in (SUPER, MANAGER):
        response = await client.post(f"/members/users/{caller}/deactivate", headers=auth(caller))
        assert_problem(response, 409, "own_account")
    assert {r["status"] for r in sql("select status from profiles")} == {"active"}
    assert audit_rows(sql) == []


@pytest.mark.parametrize("caller", [SPECIALIST, ACME_ADMIN, ACME_LENA])
async def test_only_staff_writers_change_account_status(
    client: httpx.AsyncClient, sql: Sql, caller: str
) -> None:
    response = await client.post(f"/members/users/{ACME_LIAM}/deactivate", headers=auth(caller))
    assert_problem(response, 403, "forbidden")
    assert sql("select status from profiles where id = %s", (ACME_LIAM,)) == [{"status": "active"}]


async def test_only_a_super_admin_deactivates_a_staff_account(client: httpx.AsyncClient, sql: Sql) -> None:
    refused = await client.post(f"/members/users/{SUPER}/deactivate", headers=auth(MANAGER))
    assert_problem(refused, 403, "forbidden")
    assert sql("select status from profiles where id = %s", (SUPER,)) == [{"status": "active"}]

    allowed = await client.post(f"/members/users/{SPECIALIST}/deactivate", headers=auth(SUPER))
    assert allowed.status_code == 200, allowed.text
    assert sql("select status from profiles where id = %s", (SPECIALIST,)) == [{"status": "deactivated"}]


async def test_deactivating_an_unknown_user_is_404(client: httpx.AsyncClient, db: str) -> None:
    response = await client.post(f"/members/users/{uuid.uuid4()}/deactivate", headers=auth(MANAGER))
    assert_problem(response, 404, "not_found")
