"""The request path behind a transaction-mode pooler: PgBouncer with ONE server connection shared by every client.

Supabase deploys behind Supavisor in transaction mode, which hands a server connection to another client
as soon as a transaction ends and resets nothing in between. PgBouncer (`pool_mode = transaction`) keeps the
same contract, so here the real handlers and `shared.platform.db` run through it: each request's opening is
one Query, role and claims are only ever set transaction-locally, and no client sees another's principal.
PgBouncer comes from the machine (Debian's `pgbouncer`; `scripts/test` installs it when it can). Off CI a
machine without it skips this file with the reason; on CI (CI=true) a missing PgBouncer fails it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from psycopg.conninfo import conninfo_to_dict

from shared.platform.config import reset_settings
from shared.platform.db import as_user, close_pool, get_pool, transaction
from shared.platform.ratelimit import hit_statement
from tests.conftest import AdminServer
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    ACME_LIAM,
    EMAILS,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    MANAGER,
    SUPER,
    auth,
)
from tests.helpers import Sql, assert_problem, owner_sql
from tests.pooler import PGBOUNCER, PgBouncer

if PGBOUNCER is None:
    if os.environ.get("CI"):
        raise RuntimeError("no pgbouncer on CI: scripts/test should have installed it")
    pytest.skip("no pgbouncer on this machine (apt-get install pgbouncer)", allow_module_level=True)

CLIENT_CONNECTIONS = 8
"""DB_POOL_MAX: the instance's own pool keeps up to this many client connections to PgBouncer."""


@pytest.fixture(scope="module")
def pgbouncer(pg_server: AdminServer) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode, one server connection per database, for this module."""
    bouncer = PgBouncer(pg_server.admin_dsn)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()


@dataclass(frozen=True)
class Pooled:
    """This test's database as the instance reaches it: through PgBouncer."""

    dsn: str
    database: str
    bouncer: PgBouncer


@pytest.fixture
async def pooled(db: str, pgbouncer: PgBouncer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Pooled]:
    """This test's database through PgBouncer, wired in as DATABASE_URL (the instance's pool made anew)."""
    dsn = pgbouncer.dsn(db)
    await close_pool()
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("DB_POOL_MAX", str(CLIENT_CONNECTIONS))
    reset_settings()
    yield Pooled(dsn, str(conninfo_to_dict(dsn)["dbname"]), pgbouncer)
    await close_pool()


def the_server_connection(pooled: Pooled) -> int:
    """The backend pid of the one server connection PgBouncer holds for this database."""
    [server] = pooled.bouncer.servers(pooled.database)
    assert server["user"] == "postgres", server
    return int(server["remote_pid"])


def session_state(pooled: Pooled) -> dict[str, Any]:
    """What a new client sees on the shared server connection, through PgBouncer, outside any request."""
    [row] = owner_sql(pooled.dsn)(
        "select current_user, current_setting('role') as role,"
        " coalesce(current_setting('request.jwt.claims', true), '') as claims,"
        " current_setting('statement_timeout') as statement_timeout, pg_backend_pid() as pid"
    )
    return row


def assert_idle_as_login_role(sql: Sql, pooled: Pooled) -> None:
    """One server connection, idle (no transaction left open), and a new client on it is the login role, no claims."""
    pid = the_server_connection(pooled)
    assert sql("select state from pg_stat_activity where pid = %s", (pid,)) == [{"state": "idle"}]
    assert session_state(pooled) == {
        "current_user": "postgres",
        "role": "none",
        "claims": "",
        "statement_timeout": "0",
        "pid": pid,
    }


def expected_me(sql: Sql, user_id: str) -> tuple[str, str | None, list[str]]:
    """(email, staff role, community ids) of a user, read as the owner."""
    staff = sql("select role from platform_staff where user_id = %s", (user_id,))
    communities = sql("select community_id::text from memberships where user_id = %s order by 1", (user_id,))
    return EMAILS[user_id], staff[0]["role"] if staff else None, [r["community_id"] for r in communities]


async def test_me_answers_through_the_pooler_in_one_round_trip(
    client: httpx.AsyncClient, pooled: Pooled, sql: Sql
) -> None:
    before = pooled.bouncer.stats(pooled.database)

    response = await client.get("/me", headers=auth(ACME_LENA))

    after = pooled.bouncer.stats(pooled.database)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["email"], body["roles"]) == (ACME_LENA, EMAILS[ACME_LENA], ["member"])
    assert [m["community_id"] for m in body["memberships"]] == [ACME]
    timing = response.headers["server-timing"]
    assert '"1 round trip"' in timing, timing
    # The pooler saw the same: one Query message, one server transaction from its point of view.
    seen = {key: after[key] - before.get(key, 0) for key in ("total_query_count", "total_xact_count")}
    assert seen == {"total_query_count": 1, "total_xact_count": 1}
    assert_idle_as_login_role(sql, pooled)


async def test_concurrent_clients_on_one_server_connection_each_see_only_their_own_principal(
    client: httpx.AsyncClient, pooled: Pooled, sql: Sql
) -> None:
    callers = [ACME_LENA, ACME_LIAM, GLOBEX_GINA, ACME_ADMIN, GLOBEX_ADMIN, SUPER, MANAGER]
    mes = [callers[i % len(callers)] for i in range(50)]
    lists = [(ACME_ADMIN, ACME), (GLOBEX_ADMIN, GLOBEX)] * 10
    expected_members = {
        community: {
            r["user_id"]
            for r in sql("select user_id::text from memberships where community_id = %s", (community,))
        }
        for community in (ACME, GLOBEX)
    }

    responses = await asyncio.gather(
        *(client.get("/me", headers=auth(caller)) for caller in mes),
        *(client.get("/members", params={"community_id": c}, headers=auth(caller)) for caller, c in lists),
    )

    for caller, response in zip(mes, responses[: len(mes)], strict=True):
        assert response.status_code == 200, response.text
        body = response.json()
        seen = (body["email"], body["staff_role"], sorted(m["community_id"] for m in body["memberships"]))
        assert (body["id"], seen) == (caller, expected_me(sql, caller))
    for (_, community), response in zip(lists, responses[len(mes) :], strict=True):
        assert response.status_code == 200, response.text
        assert {item["user_id"] for item in response.json()["items"]} == expected_members[community]
    stats = (await get_pool()).get_stats()
    assert stats["connections_num"] > 1, stats  # several client connections…
    assert_idle_as_login_role(sql, pooled)  # …and one server connection behind them all, left clean


async def test_after_a_caller_only_request_the_server_connection_carries_no_claims(
    client: httpx.AsyncClient, pooled: Pooled, sql: Sql
) -> None:
    response = await client.get("/me", headers=auth(GLOBEX_ADMIN))

    assert response.status_code == 200, response.text
    assert_idle_as_login_role(sql, pooled)
    # The instance's own pool (another client connection, the same server connection) sees the same.
    async with as_user({"sub": ACME_LENA, "role": "authenticated"}) as tx:
        assert await tx.fetch_val("select auth.uid()::text") == ACME_LENA
    assert_idle_as_login_role(sql, pooled)


def rate_hits(sql: Sql, key: str) -> dict[str, int]:
    rows = sql("select limit_class, hits from app.rate_limits where key = %s", (key,))
    return {r["limit_class"]: r["hits"] for r in rows}


async def test_a_refused_write_rolls_back_counts_its_hit_and_leaves_the_connection_usable(
    client: httpx.AsyncClient, pooled: Pooled, sql: Sql
) -> None:
    key = f"user:{ACME_ADMIN}"
    before = rate_hits(sql, key)

    response = await client.patch(
        f"/members/{ACME}/{ACME_ADMIN}", json={"role": "member"}, headers=auth(ACME_ADMIN)
    )

    assert_problem(response, 409, "last_admin")
    assert sql(
        "select role from memberships where community_id = %s and user_id = %s", (ACME, ACME_ADMIN)
    ) == [{"role": "admin"}]
    assert sql("select count(*) as n from audit_log") == [{"n": 0}]
    assert rate_hits(sql, key) == {**before, "admin": before.get("admin", 0) + 1}
    assert_idle_as_login_role(sql, pooled)
    after = await client.get("/me", headers=auth(GLOBEX_GINA))
    assert (after.status_code, after.json()["id"]) == (200, GLOBEX_GINA)


async def test_a_statement_error_rolls_back_keeps_its_hit_and_the_next_client_is_itself(
    pooled: Pooled, sql: Sql
) -> None:
    import psycopg

    sql("create table public.pooler_probe (n int)")
    sql("grant insert on public.pooler_probe to authenticated")
    lena = {"sub": ACME_LENA, "role": "authenticated"}

    counted = {"hit": hit_statement("probe:lena", "general", 3600)}
    with pytest.raises(psycopg.errors.DivisionByZero):
        async with transaction("authenticated", lena, before=counted) as (tx, _):
            await tx.execute("insert into public.pooler_probe values (1)")
            await tx.fetch_val("select 1 / 0")

    assert sql("select count(*) as n from public.pooler_probe") == [{"n": 0}]
    assert rate_hits(sql, "probe:lena") == {"general": 1}
    assert_idle_as_login_role(sql, pooled)
    async with as_user({"sub": GLOBEX_GINA, "role": "authenticated"}) as tx:
        assert await tx.fetch_one("select auth.uid()::text as uid, current_user as role") == {
            "uid": GLOBEX_GINA,
            "role": "authenticated",
        }


async def test_an_admin_write_commits_its_change_and_audit_row_through_the_pooler(
    client: httpx.AsyncClient, pooled: Pooled, sql: Sql
) -> None:
    response = await client.post(
        "/tags", json={"community_id": ACME, "name": "Pooled"}, headers=auth(ACME_ADMIN)
    )

    assert response.status_code == 201, response.text
    tag = response.json()["id"]
    assert sql("select id::text, name from user_tags where community_id = %s", (ACME,)) == [
        {"id": tag, "name": "Pooled"}
    ]
    assert sql("select actor_id::text, action, target_id, community_id::text from audit_log") == [
        {"actor_id": ACME_ADMIN, "action": "tag.created", "target_id": tag, "community_id": ACME}
    ]
    assert_idle_as_login_role(sql, pooled)
