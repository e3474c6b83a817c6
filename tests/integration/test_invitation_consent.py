"""Consent held by the database: what a user speaking SQL the way PostgREST does can and cannot do.

`as_user(claims)` opens the transaction PostgREST would (`request.jwt.claims`, `role authenticated`).
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.platform.db import RuleViolationError, as_user, transaction
from shared.platform.errors import ForbiddenError
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX_GINA, MANAGER, claims
from tests.helpers import count

Sql = Any
INSERT_MEMBERSHIP = (
    "insert into public.memberships (community_id, user_id, role, source) values (%s, %s, %s, 'admin')"
)


def pending_invitation(sql: Sql, email: str = "gina@globex.example.com", role: str = "member") -> str:
    rows = sql(
        "insert into invitations (community_id, email, role, invited_by) values (%s, %s, %s, %s) returning id::text",
        (ACME, email, role, ACME_ADMIN),
    )
    return str(rows[0]["id"])


@pytest.mark.parametrize("role", ["admin", "member"])
async def test_community_admin_cannot_insert_a_membership_directly(db: str, sql: Sql, role: str) -> None:
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute(INSERT_MEMBERSHIP, (ACME, GLOBEX_GINA, role))
    assert (
        count(
            sql,
            "select count(*) as n from memberships where user_id = %s and community_id = %s",
            (GLOBEX_GINA, ACME),
        )
        == 0
    )


async def test_staff_writer_may_insert_a_membership(db: str, sql: Sql) -> None:
    async with as_user(claims(MANAGER)) as tx:
        await tx.execute(INSERT_MEMBERSHIP, (ACME, GLOBEX_GINA, "member"))
    assert (
        count(
            sql,
            "select count(*) as n from memberships where user_id = %s and community_id = %s",
            (GLOBEX_GINA, ACME),
        )
        == 1
    )


async def test_admin_inserts_an_invitation_only_as_pending_from_themselves(db: str, sql: Sql) -> None:
    async with as_user(claims(ACME_ADMIN)) as tx:
        row = await tx.fetch_one(
            "insert into public.invitations (community_id, email) values (%s, 'sql@example.com')"
            " returning id::text, status, delivery, invited_by::text",
            (ACME,),
        )
    assert row is not None and (row["status"], row["delivery"], row["invited_by"]) == (
        "sent",
        "pending",
        ACME_ADMIN,
    )
    queued = sql("select message->'payload' as p from pgmq.q_events")
    assert [q["p"] for q in queued] == [{"invitation_ids": [row["id"]]}], "the database queues its delivery"

    for column, value in [
        ("status", "accepted"),
        ("user_id", GLOBEX_GINA),
        ("invited_by", MANAGER),
        ("delivery", "sent"),
    ]:
        with pytest.raises(ForbiddenError):
            async with as_user(claims(ACME_ADMIN)) as tx:
                await tx.execute(
                    f"insert into public.invitations (community_id, email, {column}) values (%s, 'x@example.com', %s)",  # noqa: S608
                    (ACME, value),
                )


@pytest.mark.parametrize("status", ["accepted", "declined", "sent"])
async def test_admin_cannot_mark_an_invitation_answered_only_revoke_it(
    db: str, sql: Sql, status: str
) -> None:
    invitation = pending_invitation(sql)
    if status == "sent":  # un-revoking
        sql("update invitations set status = 'revoked' where id = %s", (invitation,))
    with pytest.raises(RuleViolationError) as refused:
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute("update public.invitations set status = %s where id = %s", (status, invitation))
    assert refused.value.code == "invitation_status"
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute(
                "update public.invitations set user_id = %s where id = %s", (GLOBEX_GINA, invitation)
            )
    assert (
        count(
            sql,
            "select count(*) as n from memberships where user_id = %s and community_id = %s",
            (GLOBEX_GINA, ACME),
        )
        == 0
    )


async def test_another_user_calling_accept_directly_is_told_it_does_not_exist(db: str, sql: Sql) -> None:
    invitation = pending_invitation(sql, role="admin")
    for user in (ACME_LENA, ACME_ADMIN, MANAGER):
        async with as_user(claims(user)) as tx:
            result = await tx.fetch_val("select app.accept_invitation(%s)", (invitation,))
            mine = await tx.fetch_all("select * from app.my_invitations(null, null, 10)")
        assert result == {"outcome": "not_found"}
        assert mine == []
    assert sql("select status from invitations where id = %s", (invitation,)) == [{"status": "sent"}]
    assert (
        count(
            sql,
            "select count(*) as n from memberships where user_id = %s and community_id = %s",
            (GLOBEX_GINA, ACME),
        )
        == 0
    )


async def test_the_invitee_accepts_through_sql_as_postgrest_would(db: str, sql: Sql) -> None:
    invitation = pending_invitation(sql, email="GINA@GLOBEX.example.com", role="admin")
    async with as_user(claims(GLOBEX_GINA)) as tx:
        result = await tx.fetch_val("select app.accept_invitation(%s)", (invitation,))
    assert result["outcome"] == "accepted"
    assert sql(
        "select role, source from memberships where user_id = %s and community_id = %s", (GLOBEX_GINA, ACME)
    ) == [{"role": "admin", "source": "invitation"}]


@pytest.mark.parametrize(
    "statement",
    [
        "select app.accept_invitation('00000000-0000-4000-8000-000000000000')",
        "select app.decline_invitation('00000000-0000-4000-8000-000000000000')",
        "select * from app.my_invitations(null, null, 10)",
    ],
)
async def test_anonymous_callers_cannot_use_the_invitee_functions(db: str, statement: str) -> None:
    with pytest.raises(ForbiddenError):
        async with transaction("anon") as (tx, _):
            await tx.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "select app.send_event('member.joined', '{}'::jsonb)",
        "select app.is_invitee('gina@globex.example.com', null)",
        "select app.invitee_view('00000000-0000-4000-8000-000000000000')",
        "select app.audit_invitee_action('x', 'y', null, null, null, null, '{}')",
        "select app.record_invitation_deliveries('{}', '{}', '{}', '{}')",
    ],
)
async def test_internal_helpers_are_not_executable_by_users(db: str, statement: str) -> None:
    with pytest.raises(ForbiddenError):
        async with as_user(claims(GLOBEX_GINA)) as tx:
            await tx.execute(statement)


async def test_onboarding_account_lookup_is_gone(db: str, sql: Sql) -> None:
    assert sql("select to_regprocedure('app.onboarding_account(uuid, text)') as f") == [{"f": None}]
    assert sql("select to_regprocedure('app.local_invite_user(text, jsonb)') as f") == [{"f": None}]
