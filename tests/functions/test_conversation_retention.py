"""Conversation retention: community admins set it with the AI settings, the nightly run purges by it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from scripts.local.stack import LOCAL_SECRET_KEY
from shared.platform.db import as_user
from tests.ai_rows import conversation, usage
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    MANAGER,
    SPECIALIST,
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem, count

SERVICE = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}
SETTINGS = f"/communities/{ACME}/ai-settings"


def retention(sql: Sql, community: str) -> Any:
    rows = sql(
        "select conversation_retention_days as days from public.community_ai_settings where community_id = %s",
        (community,),
    )
    return rows[0]["days"]


def titles(sql: Sql) -> list[str]:
    return [r["title"] for r in sql("select title from public.ai_conversations order by title")]


async def purge(client: httpx.AsyncClient) -> int:
    response = await client.post("/maintenance/run", headers=SERVICE, json={})
    assert response.status_code == 200, response.text
    assert response.json()["failed"] == []
    return int(response.json()["purged"]["ai_conversations"])


async def test_conversations_past_their_communitys_retention_are_purged_and_the_ledger_stays(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sql("update public.community_ai_settings set conversation_retention_days = 30 where community_id = %s", (ACME,))
    old = conversation(sql, ACME_LENA, ACME, None, title="acme old", messages=2, age="31 days")
    conversation(sql, ACME_LENA, ACME, None, title="acme recent", messages=2, age="29 days")
    revived = conversation(sql, ACME_LENA, ACME, None, title="acme revived", messages=2, age="90 days")
    sql("update public.ai_conversations set last_message_at = now() - interval '1 day' where id = %s", (revived,))
    # Globex keeps conversations forever (no retention set).
    conversation(sql, GLOBEX_GINA, GLOBEX, None, title="globex ancient", messages=2, age="3000 days")
    usage(sql, ACME, ACME_LENA, None, conversation_id=old)

    assert await purge(client) == 1
    assert titles(sql) == ["acme recent", "acme revived", "globex ancient"]
    assert count(sql, "select count(*) as n from public.ai_messages where conversation_id = %s", (old,)) == 0
    assert count(sql, "select count(*) as n from public.ai_messages") == 6
    assert sql("select conversation_id, input_tokens, output_tokens from public.ai_usage") == [
        {"conversation_id": None, "input_tokens": 100, "output_tokens": 50}
    ]
    assert sql("select used_tokens from public.ai_quota_months") == [{"used_tokens": 150}]
    assert await purge(client) == 0


async def test_an_admin_sets_retention_and_the_next_run_follows_it(client: httpx.AsyncClient, sql: Sql) -> None:
    conversation(sql, ACME_LENA, ACME, None, title="eight days", age="8 days")
    conversation(sql, ACME_LENA, ACME, None, title="six days", age="6 days")
    assert await purge(client) == 0

    response = await client.patch(SETTINGS, headers=auth(ACME_ADMIN), json={"conversation_retention_days": 7})
    assert response.status_code == 200, response.text
    assert response.json()["conversation_retention_days"] == 7
    [entry] = sql(
        "select actor_id::text, before, after from public.audit_log where action = 'community.ai_settings_updated'"
    )
    assert entry["actor_id"] == ACME_ADMIN
    assert (entry["before"]["conversation_retention_days"], entry["after"]["conversation_retention_days"]) == (
        None,
        7,
    )
    read = await client.get(SETTINGS, headers=auth(ACME_ADMIN))
    assert read.json()["conversation_retention_days"] == 7

    assert await purge(client) == 1
    assert titles(sql) == ["six days"]

    cleared = await client.patch(SETTINGS, headers=auth(MANAGER), json={"conversation_retention_days": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["conversation_retention_days"] is None
    assert retention(sql, ACME) is None


@pytest.mark.parametrize("days", [0, 3651, -1, "30", 7.5, True])
async def test_a_retention_out_of_range_or_not_a_whole_number_is_a_422(
    client: httpx.AsyncClient, sql: Sql, days: Any
) -> None:
    response = await client.patch(SETTINGS, headers=auth(ACME_ADMIN), json={"conversation_retention_days": days})
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["loc"] == "body.conversation_retention_days"
    assert retention(sql, ACME) is None
    assert count(sql, "select count(*) as n from public.audit_log") == 0


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [(ACME_LENA, 403, "forbidden"), (SPECIALIST, 403, "forbidden"), (GLOBEX_ADMIN, 404, "not_found")],
    ids=["learner", "specialist", "other-admin"],
)
async def test_only_the_communitys_admin_and_staff_writers_set_retention(
    client: httpx.AsyncClient, sql: Sql, who: str, status: int, code: str
) -> None:
    response = await client.patch(SETTINGS, headers=auth(who), json={"conversation_retention_days": 1})
    assert_problem(response, status, code)
    assert retention(sql, ACME) is None
    assert count(sql, "select count(*) as n from public.audit_log") == 0


@pytest.mark.parametrize("who", [ACME_LENA, GLOBEX_ADMIN, SPECIALIST], ids=["learner", "other-admin", "specialist"])
async def test_sql_callers_cannot_set_another_communitys_retention(sql: Sql, who: str) -> None:
    async with as_user(claims(who)) as tx:
        changed = await tx.execute(
            "update public.community_ai_settings set conversation_retention_days = 1 where community_id = %s",
            (ACME,),
        )
    assert changed == 0
    assert retention(sql, ACME) is None
