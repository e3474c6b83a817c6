"""The opening round trip of a transaction: statements sent with BEGIN, their rows read back by name."""

from __future__ import annotations

from typing import Any

import pytest

from shared.platform.db import DbMetrics, db_metrics, transaction
from shared.platform.errors import ConflictError
from tests.factories import ACME_LENA

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
