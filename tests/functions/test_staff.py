"""`staff` through the real handler against the real database: only super admins manage staff roles."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from shared.platform.db import RuleViolationError, as_service
from tests.factories import ACME_ADMIN, ACME_LENA, GLOBEX_GINA, MANAGER, SPECIALIST, SUPER, auth
from tests.helpers import Sql, assert_problem


def staff(sql: Sql) -> dict[str, str]:
    return {r["user_id"]: r["role"] for r in sql("select user_id::text, role from platform_staff")}


def audit_rows(sql: Sql) -> list[dict[str, Any]]:
    return sql(
        "select actor_id::text, action, target_type, target_id, community_id, before, after from audit_log order by id"
    )


SEEDED = {SUPER: "super_admin", MANAGER: "manager", SPECIALIST: "specialist"}


# ----------------------------------------------------------------------------------------------------
# Listing
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", [SUPER, MANAGER, SPECIALIST])
async def test_every_staff_role_lists_staff_with_names_and_emails(
    client: httpx.AsyncClient, db: str, caller: str
) -> None:
    response = await client.get("/staff", headers=auth(caller))
    assert response.status_code == 200, response.text
    items = {i["user_id"]: i for i in response.json()["items"]}
    assert {u: i["role"] for u, i in items.items()} == SEEDED
    assert (items[MANAGER]["email"], items[MANAGER]["first_name"], items[MANAGER]["last_name"]) == (
        "manager@aigym.example.com",
        "Mia",
        "Manager",
    )


@pytest.mark.parametrize("caller", [ACME_ADMIN, ACME_LENA])
async def test_community_admins_and_learners_cannot_list_staff(
    client: httpx.AsyncClient, db: str, caller: str
) -> None:
    assert_problem(await client.get("/staff", headers=auth(caller)), 403, "forbidden")


async def test_staff_list_pages_through_everyone_once(client: httpx.AsyncClient, sql: Sql) -> None:
    sql(
        "insert into platform_staff (user_id, role) values (%s, 'specialist'), (%s, 'specialist')",
        (ACME_LENA, GLOBEX_GINA),
    )
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/staff", params=params, headers=auth(SPECIALIST))).json()
        seen += [i["user_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([*SEEDED, ACME_LENA, GLOBEX_GINA])
    assert len(seen) == 5


# ----------------------------------------------------------------------------------------------------
# Grant, change, revoke
# ----------------------------------------------------------------------------------------------------


async def test_super_admin_grants_changes_and_revokes_a_role_each_audited(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    granted = await client.put(f"/staff/{ACME_LENA}", json={"role": "specialist"}, headers=auth(SUPER))
    assert granted.status_code == 200, granted.text
    assert (granted.json()["role"], granted.json()["email"], granted.json()["granted_by"]) == (
        "specialist",
        "lena@acme.example.com",
        SUPER,
    )
    assert staff(sql)[ACME_LENA] == "specialist"

    changed = await client.put(f"/staff/{ACME_LENA}", json={"role": "manager"}, headers=auth(SUPER))
    assert changed.status_code == 200, changed.text
    assert staff(sql)[ACME_LENA] == "manager"

    revoked = await client.delete(f"/staff/{ACME_LENA}", headers=auth(SUPER))
    assert revoked.status_code == 204, revoked.text
    assert staff(sql) == SEEDED

    assert audit_rows(sql) == [
        {"actor_id": SUPER, "action": "staff.granted", "target_type": "user", "target_id": ACME_LENA,
         "community_id": None, "before": None, "after": {"role": "specialist"}},
        {"actor_id": SUPER, "action": "staff.changed", "target_type": "user", "target_id": ACME_LENA,
         "community_id": None, "before": {"role": "specialist"}, "after": {"role": "manager"}},
        {"actor_id": SUPER, "action": "staff.revoked", "target_type": "user", "target_id": ACME_LENA,
         "community_id": None, "before": {"role": "manager"}, "after": None},
    ]  # fmt: skip


async def test_new_role_takes_effect_on_the_next_request(client: httpx.AsyncClient, sql: Sql) -> None:
    assert_problem(await client.get("/staff", headers=auth(ACME_LENA)), 403, "forbidden")
    await client.put(f"/staff/{ACME_LENA}", json={"role": "specialist"}, headers=auth(SUPER))
    assert (await client.get("/staff", headers=auth(ACME_LENA))).status_code == 200


async def test_setting_the_role_already_held_changes_and_audits_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    response = await client.put(f"/staff/{MANAGER}", json={"role": "manager"}, headers=auth(SUPER))
    assert response.status_code == 200, response.text
    assert staff(sql) == SEEDED
    assert audit_rows(sql) == []


async def test_super_admin_may_make_another_super_admin(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.put(f"/staff/{MANAGER}", json={"role": "super_admin"}, headers=auth(SUPER))
    assert response.status_code == 200, response.text
    assert staff(sql)[MANAGER] == "super_admin"


# ----------------------------------------------------------------------------------------------------
# Rules: own role, last super admin, who may write
# ----------------------------------------------------------------------------------------------------


async def test_nobody_changes_or_revokes_their_own_staff_role(client: httpx.AsyncClient, sql: Sql) -> None:
    sql("update platform_staff set role = 'super_admin' where user_id = %s", (MANAGER,))

    demote = await client.put(f"/staff/{SUPER}", json={"role": "manager"}, headers=auth(SUPER))
    revoke = await client.delete(f"/staff/{SUPER}", headers=auth(SUPER))

    assert_problem(demote, 409, "own_staff_role")
    assert_problem(revoke, 409, "own_staff_role")
    assert staff(sql)[SUPER] == "super_admin"
    assert audit_rows(sql) == []


async def test_database_keeps_the_last_super_admin_and_says_so_with_its_code(sql: Sql) -> None:
    # Through the API a super admin acting on another one always leaves themselves, and their own role
    # is refused as own_staff_role; the rule guards every other writer. The service role is one.
    for statement in (
        "update platform_staff set role = 'manager' where user_id = %s",
        "delete from platform_staff where user_id = %s",
    ):
        with pytest.raises(RuleViolationError) as refused:
            async with as_service() as tx:
                await tx.execute(statement, (SUPER,))
        assert (refused.value.status, refused.value.code) == (409, "last_super_admin")
    assert staff(sql) == SEEDED


async def test_two_super_admins_demoting_each_other_at_once_leave_one_super_admin(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sql("update platform_staff set role = 'super_admin' where user_id = %s", (MANAGER,))

    responses = await asyncio.gather(
        client.put(f"/staff/{MANAGER}", json={"role": "manager"}, headers=auth(SUPER)),
        client.put(f"/staff/{SUPER}", json={"role": "manager"}, headers=auth(MANAGER)),
    )

    # The first to lock wins; the other, no longer a super admin once it holds the locks, is refused.
    assert sorted(r.status_code for r in responses) == [200, 403], [r.text for r in responses]
    assert list(staff(sql).values()).count("super_admin") == 1
    assert [r["action"] for r in audit_rows(sql)] == ["staff.changed"]


@pytest.mark.parametrize("caller", [MANAGER, SPECIALIST, ACME_ADMIN, ACME_LENA])
async def test_only_super_admins_write_staff_roles(client: httpx.AsyncClient, sql: Sql, caller: str) -> None:
    headers = auth(caller)
    assert_problem(
        await client.put(f"/staff/{GLOBEX_GINA}", json={"role": "specialist"}, headers=headers),
        403,
        "forbidden",
    )
    assert_problem(
        await client.put(f"/staff/{SPECIALIST}", json={"role": "manager"}, headers=headers), 403, "forbidden"
    )
    assert_problem(await client.delete(f"/staff/{SPECIALIST}", headers=headers), 403, "forbidden")
    assert staff(sql) == SEEDED
    assert audit_rows(sql) == []


async def test_granting_to_an_unknown_user_is_404_and_revoking_a_non_staff_is_404(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    assert_problem(
        await client.put(f"/staff/{uuid.uuid4()}", json={"role": "manager"}, headers=auth(SUPER)),
        404,
        "not_found",
    )
    assert_problem(await client.delete(f"/staff/{ACME_LENA}", headers=auth(SUPER)), 404, "not_found")
    assert staff(sql) == SEEDED


async def test_unknown_staff_role_is_422(client: httpx.AsyncClient, sql: Sql) -> None:
    body = assert_problem(
        await client.put(f"/staff/{ACME_LENA}", json={"role": "owner"}, headers=auth(SUPER)),
        422,
        "validation_failed",
    )
    assert [e["loc"] for e in body["errors"]] == ["body.role"]
    assert staff(sql) == SEEDED
