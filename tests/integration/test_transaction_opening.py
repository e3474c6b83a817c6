"""The opening round trip of a transaction: statements sent with BEGIN, their rows read back by name."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from shared.platform.db import PRINCIPAL, DbMetrics, db_metrics, transaction
from shared.platform.errors import ConflictError, ForbiddenError, ValidationFailedError
from tests.factories import ACME_LENA, GLOBEX_ADMIN

LENA = {"sub": ACME_LENA, "role": "authenticated"}


async def test_rows_come_back_by_name_and_before_commits_even_when_the_transaction_rolls_back(
    db: str, sql: Any
) -> None:
    sql("create table public.opening_probe (n int)")
    sql("grant insert, select on public.opening_probe to authenticated")
    metrics = DbMetrics()
    token = db_metrics.set(metrics)
    try:
        with pytest.raises(ConflictError):
            async with transaction(
                "authenticated",
                LENA,
                before={"counted": ("insert into public.opening_probe values (1) returning n", None)},
                within={
                    "who": ("select auth.uid()::text as uid, current_user as role", None),
                    "nothing": ("select 1 as n where false", None),
                },
            ) as (tx, opened):
                assert opened.first("counted") == {"n": 1}
                assert opened.first("who") == {"uid": ACME_LENA, "role": "authenticated"}
                assert opened.first("nothing") is None
                with pytest.raises(KeyError):
                    opened.first("principal")  # not sent: a typo must not read as "no rows"
                assert metrics.round_trips == 1
                await tx.execute("insert into public.opening_probe values (2)")
                raise ConflictError("roll back")
    finally:
        db_metrics.reset(token)
    assert sql("select n from public.opening_probe order by n") == [{"n": 1}]


async def test_a_statement_name_may_be_used_once(db: str) -> None:
    with pytest.raises(ValueError, match="used twice"):
        async with transaction(
            "service_role", before={"x": ("select 1", None)}, within={"x": ("select 2", None)}
        ):
            pass


HOSTILE = [
    "it's",
    "back\\slash \\' and a quote",
    "'); drop table public.profiles; --",
    "$$ dollar $$ quoted",
    "ünïcødé ☃ 𝄞",
    "100% of %s and %(name)s",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_client_bound_literals_come_back_exactly_and_inject_nothing(
    db: str, value: str, sql: Any
) -> None:
    # The opening batch binds its parameters on the client (Tx.batch); a value must stay a value.
    async with transaction("service_role") as (tx, _):
        [rows, count] = await tx.batch(
            [
                ("select %s as v, %s::int as n, %s as nothing", (value, 7, None)),
                ("select count(*) as c from profiles", None),
            ]
        )
    assert rows == [{"v": value, "n": 7, "nothing": None}]
    assert count[0]["c"] > 0


async def test_a_transaction_committed_with_its_opening_refuses_every_statement(db: str, sql: Any) -> None:
    async with transaction("authenticated", LENA, principal_of=UUID(ACME_LENA), commit=True) as (tx, opened):
        assert opened.first(PRINCIPAL)["user_id"] == UUID(ACME_LENA)  # type: ignore[index]
        for run in (tx.fetch_all, tx.fetch_one, tx.execute):
            with pytest.raises(RuntimeError, match="may run no SQL"):
                await run("select 1")
        with pytest.raises(RuntimeError, match="may run no SQL"):
            await tx.batch([("select 1", None)])
    # Nothing was left open: the pooled connection is idle, as the login role.
    async with transaction("service_role") as (tx, _):
        assert await tx.fetch_val("select current_user") == "service_role"


async def test_a_route_commits_with_platform_statements_in_one_round_trip_and_gets_their_rows(
    db: str, sql: Any
) -> None:
    sql("create table public.commit_probe (n int, who text)")
    sql("grant insert, select on public.commit_probe to authenticated, service_role")
    metrics = DbMetrics()
    token = db_metrics.set(metrics)
    try:
        async with transaction("authenticated", LENA) as (tx, _):
            await tx.execute("insert into public.commit_probe values (1, current_user)")
            tx.as_platform_at_commit("insert into public.commit_probe values (3, current_user)")
            before = metrics.round_trips
            rows = await tx.commit_after_platform(
                [("insert into public.commit_probe values (2, current_user) returning n, who", None),
                 ("select 1 as n where false", None)]
            )
            assert rows == [[{"n": 2, "who": "service_role"}], []]
            assert metrics.round_trips == before + 1  # the platform's statements, the queued one and COMMIT
            with pytest.raises(RuntimeError, match="may run no SQL"):
                await tx.fetch_all("select 1")
    finally:
        db_metrics.reset(token)
    assert sql("select n, who from public.commit_probe order by n") == [
        {"n": 1, "who": "authenticated"}, {"n": 2, "who": "service_role"}, {"n": 3, "who": "service_role"}
    ]
    async with transaction("service_role") as (tx, _):  # the pooled connection is idle and usable
        assert await tx.fetch_val("select current_user") == "service_role"


async def test_a_platform_statement_failing_at_commit_rolls_the_whole_transaction_back(db: str, sql: Any) -> None:
    sql("create table public.commit_probe (n int check (n > 0))")
    sql("grant insert, select on public.commit_probe to authenticated, service_role")
    with pytest.raises(ValidationFailedError):
        async with transaction("authenticated", LENA) as (tx, _):
            await tx.execute("insert into public.commit_probe values (1)")
            await tx.commit_after_platform([("insert into public.commit_probe values (-1)", None)])
    assert sql("select n from public.commit_probe") == []
    async with transaction("service_role") as (tx, _):
        assert await tx.fetch_val("select current_user") == "service_role"


async def test_the_principal_is_read_under_row_level_security_as_the_caller(db: str) -> None:
    async with transaction("authenticated", LENA, principal_of=UUID(GLOBEX_ADMIN)) as (tx, opened):
        # Lena (Acme) asking for Globex's admin sees no profile of theirs, and nothing they hold.
        row = opened.first(PRINCIPAL)
        assert row is not None
        assert row["has_profile"] is False
        assert row["staff_role"] is None
        assert row["memberships"] == []
        assert await tx.fetch_val("select current_user") == "authenticated"
        assert await tx.fetch_val("select auth.uid()::text") == ACME_LENA


@pytest.mark.parametrize("role", ["anon", "authenticated", "service_role"])
async def test_no_api_role_may_open_requests_or_count_hits(db: str, role: str) -> None:
    import psycopg

    claims = {"sub": ACME_LENA, "role": "authenticated"} if role == "authenticated" else None
    for statement in (
        "select * from app.open_request('{}', 'service_role', '1000', null)",
        "select * from app.rate_hit('user:x', 'general', 60)",
    ):
        with pytest.raises(ForbiddenError) as refused:
            async with transaction(role, claims) as (tx, _):  # type: ignore[arg-type]
                await tx.fetch_all(statement)
        assert isinstance(refused.value.__cause__, psycopg.errors.InsufficientPrivilege)
