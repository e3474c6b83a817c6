"""A user speaking SQL the way PostgREST does cannot reach past their tenant or around the platform's rules.

Each test runs as `as_user(claims)`: the verified claims and `role authenticated` set transaction-locally,
exactly what PostgREST does with a user's token, so nothing of our Python stands between the caller and
the database. Each leak here was open before the database closed it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from shared.identity import policy as identity_policy
from shared.platform.db import RuleViolationError, as_user
from shared.platform.errors import ConflictError, ForbiddenError
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
    claims,
)
from tests.helpers import Sql, assert_problem, count, make_tag


async def run_as(user_id: str, statement: str, params: Any = None) -> None:
    async with as_user(claims(user_id)) as tx:
        await tx.execute(statement, params)


# --- functions that are the platform's, not an API ------------------------------------------------------


async def test_a_user_cannot_write_audit_entries_through_write_audit(sql: Sql) -> None:
    with pytest.raises(ForbiddenError):
        await run_as(
            ACME_LENA,
            "select app.write_audit('community.deleted', 'community', %s, %s, null, null, null, null, null)",
            (GLOBEX, GLOBEX),
        )
    assert count(sql, "select count(*) as n from audit_log") == 0


async def test_a_user_cannot_overwrite_a_stored_idempotent_response(sql: Sql) -> None:
    sql(
        "insert into app.idempotency_keys (owner, key, request_hash, state, locked_until, response_status,"
        " response_body, response_headers, expires_at)"
        " values (%s, 'k1', 'h', 'done', now(), 201, '{\"id\":1}', '{}', now() + interval '1 day')",
        (f"user:{GLOBEX_ADMIN}",),
    )
    with pytest.raises(ForbiddenError):
        await run_as(
            ACME_LENA,
            "select app.finish_idempotent_request(%s, 'k1', 200, 'forged', '{}'::jsonb)",
            (f"user:{GLOBEX_ADMIN}",),
        )
    [row] = sql("select response_status, response_body from app.idempotency_keys")
    assert (row["response_status"], bytes(row["response_body"])) == (201, b'{"id":1}')


# --- keys: a child stays in its parent's community -------------------------------------------------------


async def test_an_import_row_cannot_name_another_communitys_job(sql: Sql) -> None:
    [job] = sql(
        "insert into import_jobs (community_id, created_by, status, total) values (%s, %s, 'queued', 1)"
        " returning id",
        (GLOBEX, GLOBEX_ADMIN),
    )
    with pytest.raises(ConflictError):  # the composite foreign key refuses it
        await run_as(
            ACME_ADMIN,
            "insert into import_rows (job_id, row_number, community_id, email) values (%s, 2, %s, 'x@evil.example')",
            (job["id"], ACME),
        )
    assert count(sql, "select count(*) as n from import_rows") == 0


async def test_an_invitation_cannot_carry_another_communitys_tag(sql: Sql) -> None:
    globex_tag = make_tag(sql, GLOBEX, "Globex only")
    acme_tag = make_tag(sql, ACME, "Acme")
    with pytest.raises(RuleViolationError) as refused:
        await run_as(
            ACME_ADMIN,
            "insert into invitations (community_id, email, tag_ids) values (%s, 'n@x.example', %s)",
            (ACME, [acme_tag, globex_tag]),
        )
    assert refused.value.code == "tag_not_in_community"
    sql(
        "insert into invitations (community_id, email, tag_ids) values (%s, 'n@x.example', %s)",
        (ACME, [acme_tag]),
    )
    with pytest.raises(ForbiddenError):  # an admin may not rewrite an invitation's tags at all
        await run_as(ACME_ADMIN, "update invitations set tag_ids = tag_ids || %s::uuid", (globex_tag,))
    assert sql("select tag_ids::text[] from invitations") == [{"tag_ids": [acme_tag]}]


async def test_a_deleted_tag_leaves_no_invitation_naming_it(sql: Sql) -> None:
    kept, gone, also_gone = (make_tag(sql, ACME, name) for name in ("Kept", "Gone", "Also gone"))
    sql(
        "insert into invitations (community_id, email, tag_ids) values (%s, 'n@x.example', %s)",
        (ACME, [kept, gone, also_gone]),
    )
    await run_as(ACME_ADMIN, "delete from user_tags where id = any(%s::uuid[])", ([gone, also_gone],))
    assert sql("select tag_ids::text[] from invitations") == [{"tag_ids": [kept]}]
    sql("delete from communities where id = %s", (ACME,))  # a community's tags all go at once
    assert count(sql, "select count(*) as n from invitations") == 0


# --- account status: staff who may write; a staff account only a super admin; never one's own -------------


async def test_a_manager_cannot_deactivate_a_super_admin_in_sql(sql: Sql) -> None:
    for staff in (SUPER, SPECIALIST):
        with pytest.raises(ForbiddenError):
            await run_as(MANAGER, "update profiles set status = 'deactivated' where id = %s", (staff,))
    assert count(sql, "select count(*) as n from profiles where status <> 'active'") == 0


async def test_the_database_answers_the_deactivate_route_as_its_python_check_does(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the route's own check, the database's refusal is the same 403 problem.
    monkeypatch.setattr(identity_policy, "require_may_change_status_of", lambda principal, role: None)
    response = await client.post(f"/members/users/{SUPER}/deactivate", headers=auth(MANAGER))
    assert_problem(response, 403, "forbidden")
    assert sql("select status from profiles where id = %s", (SUPER,)) == [{"status": "active"}]
    assert count(sql, "select count(*) as n from audit_log") == 0
    allowed = await client.post(f"/members/users/{MANAGER}/deactivate", headers=auth(SUPER))
    assert allowed.status_code == 200, allowed.text
    assert sql("select status from profiles where id = %s", (MANAGER,)) == [{"status": "deactivated"}]


async def test_a_super_admin_may_deactivate_staff_and_a_manager_a_member_in_sql(sql: Sql) -> None:
    await run_as(SUPER, "update profiles set status = 'deactivated' where id = %s", (MANAGER,))
    await run_as(SUPER, "update profiles set status = 'deactivated' where id = %s", (SPECIALIST,))
    await run_as(SUPER, "update profiles set status = 'active' where id = %s", (MANAGER,))
    await run_as(MANAGER, "update profiles set status = 'deactivated' where id = %s", (ACME_ADMIN,))
    rows = sql("select id::text, status from profiles where status = 'deactivated' order by id")
    assert [r["id"] for r in rows] == sorted([SPECIALIST, ACME_ADMIN])


async def test_nobody_changes_their_own_status_in_sql(sql: Sql) -> None:
    for caller in (SUPER, MANAGER):
        with pytest.raises(RuleViolationError) as refused:
            await run_as(caller, "update profiles set status = 'deactivated' where id = %s", (caller,))
        assert refused.value.code == "own_account"
    assert count(sql, "select count(*) as n from profiles where status <> 'active'") == 0


# --- who did it: an actor column names the caller ---------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        (
            "insert into memberships (community_id, user_id, invited_by) values (%s, %s, %s)",
            (ACME, GLOBEX_GINA, GLOBEX_ADMIN),
        ),
        (
            "insert into signup_links (community_id, token_hash, expires_at, created_by)"
            " values (%s, %s, now() + interval '1 day', %s)",
            (ACME, b"x" * 32, ACME_LENA),
        ),
        (
            "insert into import_jobs (community_id, created_by) values (%s, %s)",
            (ACME, SUPER),
        ),
        (
            "insert into invitations (community_id, email, invited_by) values (%s, 'a@b.example', %s)",
            (ACME, GLOBEX_ADMIN),
        ),
        (
            "insert into user_tag_assignments (tag_id, user_id, community_id, assigned_by)"
            " select id, %s, community_id, %s from user_tags where community_id = %s limit 1",
            (ACME_LIAM, MANAGER, ACME),
        ),
    ],
)
async def test_an_actor_column_cannot_name_someone_else(sql: Sql, statement: str, params: Any) -> None:
    make_tag(sql, ACME, "Any")
    before = json.dumps(sql("select count(*) as n from memberships"))
    with pytest.raises(ForbiddenError):
        await run_as(ACME_ADMIN, statement, params)
    assert json.dumps(sql("select count(*) as n from memberships")) == before
    for table in ("signup_links", "import_jobs", "invitations", "user_tag_assignments"):
        assert count(sql, f"select count(*) as n from {table}") == 0  # noqa: S608


async def test_staff_grants_name_their_granter(sql: Sql) -> None:
    stranger = str(uuid.uuid4())
    sql("insert into auth.users (id, email) values (%s, 'new@x.example')", (stranger,))
    with pytest.raises(ForbiddenError):
        await run_as(
            SUPER,
            "insert into platform_staff (user_id, role, granted_by) values (%s, 'specialist', %s)",
            (stranger, MANAGER),
        )
    await run_as(
        SUPER,
        "insert into platform_staff (user_id, role, granted_by) values (%s, 'specialist', %s)",
        (stranger, SUPER),
    )
    assert sql("select granted_by::text from platform_staff where user_id = %s", (stranger,)) == [
        {"granted_by": SUPER}
    ]
