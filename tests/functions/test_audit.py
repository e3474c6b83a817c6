"""`audit` through the real handler against the real database: who sees which entries; entries never change."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from shared.platform.db import as_service, as_user, transaction
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
    SUPER,
    auth,
)
from tests.helpers import Sql, assert_problem

AUDIT = "/audit"
OF_ACME = {"community_id": ACME}


def entry(
    sql: Sql,
    action: str,
    *,
    community: str | None = None,
    actor: str | None = None,
    target_type: str = "membership",
    target_id: str | None = None,
    at: datetime | None = None,
) -> int:
    """Append an audit row directly (as the owner) and return its id."""
    rows = sql(
        "insert into audit_log (actor_id, actor_type, action, target_type, target_id, community_id, occurred_at,"
        " before, after) values (%s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s::jsonb, %s::jsonb) returning id",
        (
            actor,
            "user" if actor else "service",
            action,
            target_type,
            target_id,
            community,
            at,
            json.dumps({"n": 1}),
            json.dumps({"n": 2}),
        ),
    )
    return int(rows[0]["id"])


async def ids(client: httpx.AsyncClient, path: str, user: str, **params: str) -> list[int]:
    response = await client.get(path, params=params, headers=auth(user))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# ----------------------------------------------------------------------------------------------------
# What an entry records
# ----------------------------------------------------------------------------------------------------


async def test_an_admin_action_is_recorded_with_actor_request_id_address_and_user_agent(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    headers = {**auth(ACME_ADMIN), "x-request-id": "req-audit-42", "user-agent": "AdminConsole/2.1"}
    changed = await client.patch(f"/members/{ACME}/{ACME_LENA}", json={"role": "admin"}, headers=headers)
    assert changed.status_code == 200, changed.text

    response = await client.get(AUDIT, params=OF_ACME, headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["actor_id"] == ACME_ADMIN
    assert item["actor_type"] == "user"
    assert item["actor_email"] == "admin@acme.example.com"
    assert (item["action"], item["target_type"], item["target_id"]) == (
        "member.role_changed",
        "membership",
        ACME_LENA,
    )
    assert item["community_id"] == ACME
    assert (item["before"], item["after"]) == ({"role": "member"}, {"role": "admin"})
    assert (item["request_id"], item["ip"], item["user_agent"]) == (
        "req-audit-42",
        "203.0.113.7",
        "AdminConsole/2.1",
    )
    assert datetime.fromisoformat(item["occurred_at"]) > datetime.now(UTC) - timedelta(minutes=5)


# ----------------------------------------------------------------------------------------------------
# Who sees what
# ----------------------------------------------------------------------------------------------------


async def test_acme_admin_sees_only_acme_entries(client: httpx.AsyncClient, sql: Sql) -> None:
    acme = entry(sql, "member.role_changed", community=ACME, actor=ACME_ADMIN)
    entry(sql, "member.role_changed", community=GLOBEX, actor=GLOBEX_ADMIN)
    entry(sql, "user.deactivated", actor=MANAGER, target_type="user", target_id=ACME_LENA)

    assert await ids(client, AUDIT, ACME_ADMIN, community_id=ACME) == [acme]
    # Globex is a community they cannot see; the whole trail is staff's.
    globex = await client.get(AUDIT, params={"community_id": GLOBEX}, headers=auth(ACME_ADMIN))
    assert_problem(globex, 404, "not_found")
    assert_problem(await client.get(AUDIT, headers=auth(ACME_ADMIN)), 403, "forbidden")


@pytest.mark.parametrize("caller", [ACME_LENA, GLOBEX_GINA])
async def test_learners_see_no_audit_entries(client: httpx.AsyncClient, sql: Sql, caller: str) -> None:
    entry(sql, "member.role_changed", community=ACME, actor=ACME_ADMIN)
    assert_problem(await client.get(AUDIT, params=OF_ACME, headers=auth(caller)), 403, "forbidden")
    assert_problem(await client.get("/audit", headers=auth(caller)), 403, "forbidden")


@pytest.mark.parametrize("caller", [SUPER, MANAGER, SPECIALIST])
async def test_every_staff_role_sees_all_entries_and_any_communitys(
    client: httpx.AsyncClient, sql: Sql, caller: str
) -> None:
    acme = entry(sql, "member.role_changed", community=ACME, actor=ACME_ADMIN)
    globex = entry(sql, "member.role_changed", community=GLOBEX, actor=GLOBEX_ADMIN)
    platform = entry(sql, "staff.granted", actor=SUPER, target_type="user", target_id=ACME_LENA)

    assert await ids(client, "/audit", caller) == [platform, globex, acme]
    assert await ids(client, AUDIT, caller, community_id=GLOBEX) == [globex]


# ----------------------------------------------------------------------------------------------------
# Filters and pages
# ----------------------------------------------------------------------------------------------------


async def test_filters_narrow_the_trail(client: httpx.AsyncClient, sql: Sql) -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC)
    a = entry(
        sql, "tag.created", community=ACME, actor=ACME_ADMIN, target_type="user_tag", target_id="t1", at=day
    )
    b = entry(
        sql,
        "tag.deleted",
        community=ACME,
        actor=MANAGER,
        target_type="user_tag",
        target_id="t1",
        at=day + timedelta(days=1),
    )
    c = entry(
        sql,
        "member.removed",
        community=GLOBEX,
        actor=MANAGER,
        target_id=GLOBEX_GINA,
        at=day + timedelta(days=2),
    )
    d = entry(
        sql,
        "user.deactivated",
        actor=SUPER,
        target_type="user",
        target_id=ACME_LENA,
        at=day + timedelta(days=3),
    )

    assert await ids(client, "/audit", SPECIALIST, community_id=ACME) == [b, a]
    assert await ids(client, "/audit", SPECIALIST, actor_id=MANAGER) == [c, b]
    assert await ids(client, "/audit", SPECIALIST, action="user.deactivated") == [d]
    assert await ids(client, "/audit", SPECIALIST, target_type="user_tag", target_id="t1") == [b, a]
    since, until = (day + timedelta(days=1)).isoformat(), (day + timedelta(days=3)).isoformat()
    assert await ids(client, "/audit", SPECIALIST, **{"from": since, "to": until}) == [c, b]
    assert await ids(client, AUDIT, ACME_ADMIN, community_id=ACME, actor_id=MANAGER) == [b]
    assert await ids(client, AUDIT, ACME_ADMIN, community_id=ACME, action="member.removed") == []


async def test_invalid_filters_are_422(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(
        "/audit", params={"from": "2026-11-01T00:00:00", "to": "yesterday", "actor_id": "x", "from_": "x"},
        headers=auth(SUPER),
    )  # fmt: skip
    body = assert_problem(response, 422, "validation_failed")
    assert {e["loc"] for e in body["errors"]} == {"query.from", "query.to", "query.actor_id", "query.from_"}
    response = await client.get(AUDIT, params={"community_id": "acme"}, headers=auth(ACME_ADMIN))
    assert [e["loc"] for e in assert_problem(response, 422, "validation_failed")["errors"]] == [
        "query.community_id"
    ]


async def test_pages_run_newest_first_and_end(client: httpx.AsyncClient, sql: Sql) -> None:
    made = [entry(sql, f"tag.created.{i}", community=ACME, actor=ACME_ADMIN) for i in range(7)]
    entry(sql, "other", community=GLOBEX, actor=GLOBEX_ADMIN)
    served: list[int] = []
    cursor = None
    for _ in range(10):
        params = {**OF_ACME, "limit": "3", **({"cursor": cursor} if cursor else {})}
        body = (await client.get(AUDIT, params=params, headers=auth(ACME_ADMIN))).json()
        served += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert served == sorted(made, reverse=True)


@pytest.mark.parametrize("cursor", ["nope", "WyJ4Il0", "WzAuNV0", "W3RydWVd"])
async def test_a_cursor_from_another_list_is_422(client: httpx.AsyncClient, db: str, cursor: str) -> None:
    body = assert_problem(
        await client.get("/audit", params={"cursor": cursor}, headers=auth(SUPER)), 422, "validation_failed"
    )
    assert [e["loc"] for e in body["errors"]] == ["query.cursor"]


# ----------------------------------------------------------------------------------------------------
# Append-only
# ----------------------------------------------------------------------------------------------------


async def test_even_the_service_role_cannot_update_or_delete_audit_entries(sql: Sql) -> None:
    kept = entry(sql, "member.removed", community=ACME, actor=ACME_ADMIN)
    before = sql("select * from audit_log")

    for statement in (
        "update audit_log set action = 'rewritten' where id = %s",
        "delete from audit_log where id = %s",
    ):
        with pytest.raises(ForbiddenError):
            async with as_service() as tx:
                await tx.execute(statement, (kept,))

    assert sql("select * from audit_log") == before


async def test_the_append_only_trigger_refuses_even_the_table_owner(sql: Sql) -> None:
    kept = entry(sql, "member.removed", community=ACME, actor=ACME_ADMIN)
    before = sql("select * from audit_log")

    for statement in (
        "update audit_log set action = 'rewritten' where id = %s",
        "delete from audit_log where id = %s",
        "truncate audit_log",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            sql(statement, (kept,) if "%s" in statement else None)

    assert sql("select * from audit_log") == before


async def test_signed_in_users_cannot_write_audit_rows_directly(sql: Sql) -> None:
    with pytest.raises(ForbiddenError):
        async with as_user({"sub": SUPER, "role": "authenticated"}) as tx:
            await tx.execute(
                "insert into audit_log (actor_id, actor_type, action, target_type) values (%s, 'user', 'forged', 'x')",
                (ACME_ADMIN,),
            )
    assert sql("select count(*) as n from audit_log") == [{"n": 0}]


# ----------------------------------------------------------------------------------------------------
# Actors by e-mail
# ----------------------------------------------------------------------------------------------------


async def test_community_admin_sees_a_staff_actor_by_email_without_reading_their_profile(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    changed = await client.patch(
        f"/members/{ACME}/{ACME_LENA}", json={"role": "admin"}, headers=auth(MANAGER)
    )
    assert changed.status_code == 200, changed.text
    removed_member = entry(sql, "tag.created", community=ACME, actor=ACME_LIAM)
    sql("delete from memberships where community_id = %s and user_id = %s", (ACME, ACME_LIAM))
    by_service = entry(sql, "import.completed", community=ACME)

    response = await client.get(AUDIT, params=OF_ACME, headers=auth(ACME_ADMIN))

    assert response.status_code == 200, response.text
    actors = {item["id"]: (item["actor_id"], item["actor_email"]) for item in response.json()["items"]}
    staff_entry = next(i for i, (actor, _) in actors.items() if actor == MANAGER)
    assert actors == {
        staff_entry: (MANAGER, "manager@aigym.example.com"),
        removed_member: (ACME_LIAM, "liam@acme.example.com"),
        by_service: (None, None),
    }
    # The e-mail comes with the entry; the staff member's profile stays out of the admin's reach.
    async with as_user({"sub": ACME_ADMIN, "role": "authenticated"}) as tx:
        assert await tx.fetch_all("select id from profiles where id = any(%s)", ([MANAGER, ACME_LIAM],)) == []


async def test_staff_see_actors_by_email_in_the_platform_wide_trail(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    platform = entry(sql, "staff.granted", actor=SUPER, target_type="user", target_id=ACME_LENA)
    acme = entry(sql, "tag.created", community=ACME, actor=ACME_ADMIN)

    response = await client.get("/audit", headers=auth(SPECIALIST))

    emails = {item["id"]: item["actor_email"] for item in response.json()["items"]}
    assert emails == {platform: "super@aigym.example.com", acme: "admin@acme.example.com"}


@pytest.mark.parametrize(
    ("caller", "sees"),
    [
        (ACME_ADMIN, {"acme": "manager@aigym.example.com", "globex": None, "platform": None}),
        (GLOBEX_ADMIN, {"acme": None, "globex": "super@aigym.example.com", "platform": None}),
        (ACME_LENA, {"acme": None, "globex": None, "platform": None}),
        (
            SPECIALIST,
            {
                "acme": "manager@aigym.example.com",
                "globex": "super@aigym.example.com",
                "platform": "manager@aigym.example.com",
            },
        ),
    ],
    ids=["admin-of-acme", "admin-of-globex", "learner", "specialist"],
)
async def test_actor_email_is_told_only_for_entries_the_caller_may_read(
    sql: Sql, caller: str, sees: dict[str, str | None]
) -> None:
    """Called the way PostgREST would let a signed-in user call it, with any entry id."""
    ids_ = {
        "acme": entry(sql, "member.role_changed", community=ACME, actor=MANAGER),
        "globex": entry(sql, "member.role_changed", community=GLOBEX, actor=SUPER),
        "platform": entry(sql, "user.deactivated", actor=MANAGER, target_type="user", target_id=ACME_LENA),
    }
    async with as_user({"sub": caller, "role": "authenticated"}) as tx:
        told = {
            name: await tx.fetch_val("select app.audit_actor_email(%s)", (i,)) for name, i in ids_.items()
        }
    assert told == sees


async def test_anonymous_callers_cannot_ask_for_an_actors_email(sql: Sql) -> None:
    acme = entry(sql, "member.role_changed", community=ACME, actor=MANAGER)
    with pytest.raises(ForbiddenError):
        async with transaction("anon") as (tx, _):
            await tx.fetch_val("select app.audit_actor_email(%s)", (acme,))
