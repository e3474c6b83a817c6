"""`profiles.last_active_at` through the real handlers: kept, at most once per user per interval, at no round trip."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import psycopg
import pytest

from shared.platform import activity
from shared.platform.db import as_user, transaction
from shared.platform.errors import ForbiddenError
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, ACME_LIAM, auth
from tests.helpers import Sql

LONG_AGO = datetime.fromisoformat("2020-01-01T00:00:00+00:00")


def last_active(sql: Sql, user: str) -> datetime | None:
    value: datetime | None = sql("select last_active_at from profiles where id = %s", (user,))[0][
        "last_active_at"
    ]
    return value


def set_last_active(sql: Sql, user: str, value: datetime) -> None:
    sql("update profiles set last_active_at = %s::timestamptz where id = %s", (value, user))


async def test_a_request_marks_its_caller_active_within_its_opening_round_trip(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    updated_before = sql("select updated_at from profiles where id = %s", (ACME_LENA,))
    assert last_active(sql, ACME_LENA) is None

    response = await client.get("/me", headers=auth(ACME_LENA))

    assert response.status_code == 200
    assert '"1 round trip"' in response.headers["server-timing"]
    marked = sql(
        "select last_active_at > now() - interval '1 minute' as recent from profiles where id = %s",
        (ACME_LENA,),
    )
    assert marked == [{"recent": True}]
    assert last_active(sql, ACME_LIAM) is None
    # Being seen is not an edit of the profile.
    assert sql("select updated_at from profiles where id = %s", (ACME_LENA,)) == updated_before


async def test_a_second_request_within_the_interval_sends_no_write(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200
    set_last_active(sql, ACME_LENA, LONG_AGO)  # were the statement sent again, it would move this

    assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200

    assert last_active(sql, ACME_LENA) == LONG_AGO


async def test_the_database_writes_at_most_once_per_interval_whatever_instances_send(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    """A fresh instance (memo forgotten) still leaves a recent mark alone, and renews an old one."""
    sql("update profiles set last_active_at = now() - interval '4 minutes' where id = %s", (ACME_LENA,))
    recent = last_active(sql, ACME_LENA)

    activity.memo.clear()
    assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200
    assert last_active(sql, ACME_LENA) == recent

    sql("update profiles set last_active_at = now() - interval '6 minutes' where id = %s", (ACME_LENA,))
    activity.memo.clear()
    assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200
    renewed = sql(
        "select last_active_at > now() - interval '1 minute' as recent from profiles where id = %s",
        (ACME_LENA,),
    )
    assert renewed == [{"recent": True}]


async def test_a_refused_request_still_marks_its_caller_active(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.get("/admin-dashboard", headers=auth(ACME_LENA))
    assert response.status_code == 403
    assert last_active(sql, ACME_LENA) is not None


async def test_a_deactivated_account_is_not_marked_active(client: httpx.AsyncClient, sql: Sql) -> None:
    sql("update profiles set status = 'deactivated' where id = %s", (ACME_LENA,))
    assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200
    assert last_active(sql, ACME_LENA) is None


async def test_a_profile_held_by_another_transaction_is_skipped_not_waited_for(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    with psycopg.connect(db) as holder:
        holder.execute("select 1 from profiles where id = %s for update", (ACME_LENA,))

        try:  # waiting for the lock would hang here: fail instead
            response = await asyncio.wait_for(client.get("/me", headers=auth(ACME_LENA)), timeout=10)
        finally:
            holder.rollback()

        assert response.status_code == 200
    assert last_active(sql, ACME_LENA) is None


async def test_the_admin_dashboard_counts_members_marked_by_their_requests(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    dashboard = f"/admin-dashboard/{ACME}"
    first = await client.get(dashboard, headers=auth(ACME_ADMIN))
    assert first.json()["active_last_7_days"] == 1  # the admin asking

    assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200
    second = await client.get(dashboard, headers=auth(ACME_ADMIN))

    assert second.json()["active_last_7_days"] == 2
    assert last_active(sql, ACME_LIAM) is None


async def test_users_cannot_write_last_active_at_themselves(sql: Sql) -> None:
    """As PostgREST would let them: neither the column nor the marking function is theirs."""
    claims = {"sub": ACME_LENA, "role": "authenticated"}
    for statement, params in (
        ("update profiles set last_active_at = now() where id = %s", (ACME_LENA,)),
        ("select app.touch_last_active(%s)", (ACME_LENA,)),
    ):
        with pytest.raises(ForbiddenError):
            async with as_user(claims) as tx:
                await tx.execute(statement, params)
    with pytest.raises(ForbiddenError):
        async with transaction("anon") as (tx, _):
            await tx.execute("select app.touch_last_active(%s)", (ACME_LENA,))
    assert last_active(sql, ACME_LENA) is None


async def test_the_marking_function_refuses_to_mark_anyone_else_for_a_signed_in_caller(
    db: str, sql: Sql
) -> None:
    """Defence in depth should it ever be granted: with claims set, only the caller's own row."""
    with psycopg.connect(db) as conn:  # the database owner, as the login role is
        conn.execute("select set_config('request.jwt.claims', %s, true)", (f'{{"sub": "{ACME_LIAM}"}}',))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select app.touch_last_active(%s)", (ACME_LENA,))
    assert last_active(sql, ACME_LENA) is None
