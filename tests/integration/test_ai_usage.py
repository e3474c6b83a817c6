"""Metering against the monthly token quota: reservations, concurrency at the last budget, settlement."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from shared.ai import usage
from shared.platform.db import as_service, as_user
from shared.platform.errors import ForbiddenError, QuotaExceededError
from tests.factories import ACME, ACME_LENA, GLOBEX, claims
from tests.helpers import Sql

ACME_ID = uuid.UUID(ACME)


def set_quota(sql: Sql, community: str, tokens: int, used: int = 0) -> None:
    sql(
        "update public.community_ai_settings set monthly_token_quota = %s where community_id = %s", (tokens, community)
    )
    if used:
        sql(
            "insert into public.ai_quota_months (community_id, month, used_tokens)"
            " values (%s, date_trunc('month', now() at time zone 'UTC')::date, %s)",
            (community, used),
        )


def metered(tokens_in: int, tokens_out: int) -> usage.Metered:
    return usage.Metered(
        community_id=ACME_ID,
        user_id=uuid.UUID(ACME_LENA),
        feature="chat",
        provider="offline",
        model="offline-echo",
        key_source=None,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cost_usd=Decimal("0.001"),
    )


async def test_a_reservation_takes_at_most_what_is_left_and_settling_records_the_real_counts(sql: Sql) -> None:
    set_quota(sql, ACME, 1000, used=900)
    async with as_user(claims(ACME_LENA)) as tx:
        held = await usage.reserve(tx, ACME_ID, 500)
        assert held.tokens == 100
        await usage.settle(tx, held, metered(30, 40))
    assert sql("select used_tokens from public.ai_quota_months where community_id = %s", (ACME,)) == [
        {"used_tokens": 970}
    ]
    assert sql("select count(*) as n from app.ai_reservations") == [{"n": 0}]
    (row,) = sql("select user_id::text, feature, input_tokens, output_tokens, cost_usd from public.ai_usage")
    assert row == {"user_id": ACME_LENA, "feature": "chat", "input_tokens": 30, "output_tokens": 40,
                   "cost_usd": Decimal("0.001000")}


async def test_past_the_quota_a_call_is_refused_before_anything_is_written(sql: Sql) -> None:
    set_quota(sql, ACME, 1000, used=1000)
    async with as_user(claims(ACME_LENA)) as tx:
        with pytest.raises(QuotaExceededError) as refused:
            await usage.reserve(tx, ACME_ID, 10)
    assert (refused.value.status, refused.value.code) == (429, "quota_exceeded")
    assert refused.value.extra == {"quota_tokens": 1000, "used_tokens": 1000}
    assert sql("select count(*) as n from app.ai_reservations") == [{"n": 0}]


async def test_two_concurrent_calls_cannot_both_take_the_last_budget(sql: Sql) -> None:
    set_quota(sql, ACME, 1000, used=990)

    async def one_call() -> str:
        try:
            async with as_user(claims(ACME_LENA)) as tx:
                await usage.reserve(tx, ACME_ID, 500)
                await asyncio.sleep(0.2)  # the other call arrives while this one holds the month's row
        except QuotaExceededError:
            return "refused"
        return "granted"

    outcomes = await asyncio.gather(*(one_call() for _ in range(6)))
    assert sorted(outcomes) == ["granted", *["refused"] * 5]
    assert sql("select tokens from app.ai_reservations") == [{"tokens": 10}]


async def test_a_lapsed_reservation_no_longer_holds_budget(sql: Sql) -> None:
    set_quota(sql, ACME, 1000)
    async with as_service() as tx:
        await usage.reserve(tx, ACME_ID, 1000)
    async with as_service() as tx:
        with pytest.raises(QuotaExceededError):
            await usage.reserve(tx, ACME_ID, 1)
    sql("update app.ai_reservations set expires_at = now() - interval '1 second'")
    async with as_service() as tx:
        assert (await usage.reserve(tx, ACME_ID, 5)).tokens == 5


async def test_quotas_are_per_community(sql: Sql) -> None:
    set_quota(sql, ACME, 1000, used=1000)
    async with as_service() as tx:
        assert (await usage.reserve(tx, uuid.UUID(GLOBEX), 50)).tokens == 50


@pytest.mark.parametrize(
    "statement",
    [
        f"select * from app.ai_reserve('{ACME}', 1, 60)",  # noqa: S608
        f"select app.ai_settle(null, '{ACME}', null, null, null, 'chat', 'offline', 'x', null, 0, 0, null)",
        "select app.ai_release(gen_random_uuid())",
    ],
)
async def test_a_user_speaking_sql_cannot_meter_or_reserve(sql: Sql, statement: str) -> None:
    with pytest.raises(ForbiddenError):  # permission denied, as the database answers
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.fetch_all(statement)


def test_the_estimate_is_rough_but_never_zero() -> None:
    assert usage.estimate_tokens("") == 1
    assert usage.estimate_tokens("abcdefgh", "abc") == 3


async def test_the_platforms_own_use_is_in_the_ledger_against_no_quota(sql: Sql) -> None:
    async with as_service() as tx:
        await usage.settle(tx, None, replace(metered(5, 6), community_id=None))
    assert sql("select community_id, input_tokens, output_tokens from public.ai_usage") == [
        {"community_id": None, "input_tokens": 5, "output_tokens": 6}
    ]
    assert sql("select count(*) as n from public.ai_quota_months") == [{"n": 0}]
