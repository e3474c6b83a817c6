"""`conversations` through the real handler: a user's own conversations, and staff's audited read of any."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from scripts.local.stack import seed_demo_content
from shared.platform.db import as_user
from tests.ai_rows import ANALYST, PROMPT_COACH, conversation, usage
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
from tests.helpers import Sql, assert_problem, count

AUDITS = "select count(*) as n from public.audit_log where action = 'conversation.read_for_audit'"


@pytest.fixture
def agents(db: str) -> None:
    seed_demo_content(db)


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


async def test_a_user_lists_only_their_own_conversations_newest_first_in_pages(
    client: httpx.AsyncClient, sql: Sql, agents: None
) -> None:
    conversation(sql, ACME_LENA, ACME, title="oldest", age="3 days")
    conversation(sql, ACME_LENA, ACME, ANALYST, title="other agent", age="2 days")
    conversation(sql, ACME_LENA, ACME, title="newest", age="1 hour")
    conversation(sql, ACME_LIAM, ACME, title="liam's")
    conversation(sql, GLOBEX_GINA, GLOBEX, ANALYST, title="gina's")

    first = await client.get("/conversations", params={"limit": 2}, headers=auth(ACME_LENA))
    assert first.status_code == 200, first.text
    assert titles(first.json()) == ["newest", "other agent"]
    assert first.json()["items"][0]["agent_title"] == "Prompt Coach"
    second = await client.get(
        "/conversations", params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=auth(ACME_LENA)
    )
    assert titles(second.json()) == ["oldest"]
    assert second.json()["next_cursor"] is None

    coach = await client.get("/conversations", params={"agent_id": PROMPT_COACH}, headers=auth(ACME_LENA))
    assert titles(coach.json()) == ["newest", "oldest"]
    elsewhere = await client.get("/conversations", params={"community_id": GLOBEX}, headers=auth(ACME_LENA))
    assert elsewhere.json() == {"items": [], "next_cursor": None}
    # Staff see only their own in the list too: an audit read is one conversation, on its own route.
    assert (await client.get("/conversations", headers=auth(SUPER))).json()["items"] == []


async def test_a_cursor_from_elsewhere_is_a_422(client: httpx.AsyncClient, agents: None) -> None:
    response = await client.get("/conversations", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=auth(ACME_LENA))
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == "query.cursor"


async def test_the_owner_reads_a_conversation_with_its_messages_in_pages_and_nothing_is_audited(
    client: httpx.AsyncClient, sql: Sql, agents: None
) -> None:
    chat = conversation(sql, ACME_LENA, ACME, title="five", messages=5)
    seen: list[int] = []
    cursor = None
    for _ in range(3):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/conversations/{chat}", params=params, headers=auth(ACME_LENA))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == chat and body["title"] == "five" and body["message_count"] == 5
        seen += [m["seq"] for m in body["messages"]]
        cursor = body["next_cursor"]
    assert seen == [1, 2, 3, 4, 5]
    assert cursor is None
    full = (await client.get(f"/conversations/{chat}", headers=auth(ACME_LENA))).json()
    assert full["messages"][1] | {"id": None, "created_at": None} == {
        "id": None, "seq": 2, "role": "assistant", "content": "message 2", "provider": "offline",
        "model": "offline-echo", "key_source": None, "input_tokens": 10, "output_tokens": 20,
        "latency_ms": None, "first_token_ms": None, "cost_usd": "0.000123", "finish_reason": None,
        "error": None, "created_at": None,
    }
    assert count(sql, AUDITS) == 0


@pytest.mark.parametrize("who", [ACME_LIAM, ACME_ADMIN, GLOBEX_GINA, SUPER], ids=["member", "admin", "other", "staff"])
async def test_nobody_else_reaches_a_conversation_through_the_users_routes(
    client: httpx.AsyncClient, sql: Sql, agents: None, who: str
) -> None:
    chat = conversation(sql, ACME_LENA, ACME, title="private", messages=2)
    answers = [
        await client.get(f"/conversations/{chat}", headers=auth(who)),
        await client.patch(f"/conversations/{chat}", json={"title": "mine now"}, headers=auth(who)),
        await client.delete(f"/conversations/{chat}", headers=auth(who)),
    ]
    for response in answers:
        assert_problem(response, 404, "not_found")
    assert sql("select title, message_count from public.ai_conversations") == [
        {"title": "private", "message_count": 2}
    ]
    assert count(sql, "select count(*) as n from public.ai_messages") == 2
    assert count(sql, AUDITS) == 0


async def test_sql_callers_reach_only_their_own_conversations(sql: Sql, agents: None) -> None:
    chat = conversation(sql, ACME_LENA, ACME, title="private", messages=2)
    async with as_user(claims(ACME_LIAM)) as tx:
        assert await tx.fetch_all("select id from public.ai_conversations") == []
        assert await tx.fetch_all("select seq from public.ai_messages") == []
        assert await tx.execute("update public.ai_conversations set title = 'x' where id = %s", (chat,)) == 0
        assert await tx.execute("delete from public.ai_conversations where id = %s", (chat,)) == 0
    async with as_user(claims(ACME_LENA)) as tx:
        assert len(await tx.fetch_all("select seq from public.ai_messages")) == 2
    assert sql("select title from public.ai_conversations") == [{"title": "private"}]


async def test_the_owner_renames_a_conversation(client: httpx.AsyncClient, sql: Sql, agents: None) -> None:
    chat = conversation(sql, ACME_LENA, ACME, title="before", messages=2)
    response = await client.patch(f"/conversations/{chat}", json={"title": "  after  "}, headers=auth(ACME_LENA))
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "after"
    assert response.json()["message_count"] == 2
    assert sql("select title from public.ai_conversations") == [{"title": "after"}]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"title": ""}, "body.title"),
        ({"title": "=HYPERLINK(1)"}, "body.title"),
        ({"title": "x" * 201}, "body.title"),
        ({"title": 5}, "body.title"),
        ({"title": "ok", "user_id": ACME_LIAM}, "body.user_id"),
        ({}, "body"),
    ],
)
async def test_a_bad_rename_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, sql: Sql, agents: None, body: dict[str, Any], loc: str
) -> None:
    chat = conversation(sql, ACME_LENA, ACME, title="before")
    response = await client.patch(f"/conversations/{chat}", json=body, headers=auth(ACME_LENA))
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["loc"] == loc
    assert sql("select title, user_id::text from public.ai_conversations") == [
        {"title": "before", "user_id": ACME_LENA}
    ]


async def test_deleting_a_conversation_removes_its_messages_and_keeps_the_usage_ledger(
    client: httpx.AsyncClient, sql: Sql, agents: None
) -> None:
    chat = conversation(sql, ACME_LENA, ACME, messages=4)
    kept = conversation(sql, ACME_LENA, ACME, messages=2)
    usage(sql, ACME, ACME_LENA, conversation_id=chat)
    response = await client.delete(f"/conversations/{chat}", headers=auth(ACME_LENA))
    assert response.status_code == 204, response.text
    assert [r["id"] for r in sql("select id::text from public.ai_conversations")] == [kept]
    assert count(sql, "select count(*) as n from public.ai_messages where conversation_id = %s", (chat,)) == 0
    assert count(sql, "select count(*) as n from public.ai_messages") == 2
    assert sql("select conversation_id, input_tokens from public.ai_usage") == [
        {"conversation_id": None, "input_tokens": 100}
    ]
    again = await client.delete(f"/conversations/{chat}", headers=auth(ACME_LENA))
    assert_problem(again, 404, "not_found")


@pytest.mark.parametrize("staff", [SUPER, MANAGER, SPECIALIST])
async def test_staff_read_any_conversation_for_audit_and_each_read_is_audited(
    client: httpx.AsyncClient, sql: Sql, agents: None, staff: str
) -> None:
    chat = conversation(sql, ACME_LENA, ACME, title="private", messages=3)
    response = await client.get(
        f"/conversations/{chat}/audit", params={"limit": 2}, headers={**auth(staff), "user-agent": "auditor"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == ACME_LENA and [m["seq"] for m in body["messages"]] == [1, 2]
    assert body["agent_title"] == "Prompt Coach"
    entries = sql(
        "select actor_id::text, action, target_type, target_id, community_id::text, after, request_id, user_agent"
        " from public.audit_log where action = 'conversation.read_for_audit'"
    )
    assert entries == [
        {
            "actor_id": staff,
            "action": "conversation.read_for_audit",
            "target_type": "ai_conversation",
            "target_id": chat,
            "community_id": ACME,
            "after": {"user_id": ACME_LENA, "seqs": [1, 2]},
            "request_id": response.headers["x-request-id"],
            "user_agent": "auditor",
        }
    ]
    await client.get(
        f"/conversations/{chat}/audit", params={"cursor": body["next_cursor"]}, headers=auth(staff)
    )
    assert [r["after"]["seqs"] for r in sql("select after from public.audit_log where target_id = %s order by id", (chat,))] == [
        [1, 2],
        [3],
    ]


@pytest.mark.parametrize("who", [ACME_LENA, ACME_ADMIN, GLOBEX_ADMIN])
async def test_only_staff_may_use_the_audit_read_and_a_refusal_writes_nothing(
    client: httpx.AsyncClient, sql: Sql, agents: None, who: str
) -> None:
    chat = conversation(sql, ACME_LENA, ACME, messages=1)
    response = await client.get(f"/conversations/{chat}/audit", headers=auth(who))
    assert_problem(response, 403, "forbidden")
    assert count(sql, "select count(*) as n from public.audit_log") == 0


async def test_an_audit_read_of_a_missing_conversation_is_a_404_and_not_audited(
    client: httpx.AsyncClient, sql: Sql, agents: None
) -> None:
    response = await client.get("/conversations/00000000-0000-4000-8000-000000000000/audit", headers=auth(SUPER))
    assert_problem(response, 404, "not_found")
    assert count(sql, AUDITS) == 0


@pytest.mark.parametrize(
    "headers",
    [
        auth(ACME_LENA, secret="a-secret-that-is-not-the-projects-but-long-enough"),
        auth(ACME_LENA, exp=int(time.time()) - 60),
        {},
    ],
    ids=["forged", "expired", "none"],
)
async def test_a_forged_expired_or_missing_token_is_a_401(
    client: httpx.AsyncClient, sql: Sql, agents: None, headers: dict[str, str]
) -> None:
    chat = conversation(sql, ACME_LENA, ACME, title="kept", messages=1)
    for response in [
        await client.get("/conversations", headers=headers),
        await client.get(f"/conversations/{chat}", headers=headers),
        await client.delete(f"/conversations/{chat}", headers=headers),
        await client.get(f"/conversations/{chat}/audit", headers=headers),
    ]:
        assert_problem(response, 401, "unauthenticated")
    assert sql("select title from public.ai_conversations") == [{"title": "kept"}]
