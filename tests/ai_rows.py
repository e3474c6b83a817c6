"""Conversations, messages and usage rows written straight into the database (as its owner) for tests."""

from __future__ import annotations

from tests.helpers import Sql

PROMPT_COACH = "e0000000-0000-4000-8000-0000000c0001"
"""The demo agent granted to Acme (`scripts.local.stack.seed_demo_content`)."""
ANALYST = "e0000000-0000-4000-8000-0000000c0002"
"""The demo agent granted to Globex."""


def conversation(
    sql: Sql,
    user: str,
    community: str,
    agent: str | None = PROMPT_COACH,
    *,
    title: str = "A chat",
    messages: int = 0,
    age: str = "0 seconds",
) -> str:
    """A conversation whose last message is `age` old, with `messages` alternating user/assistant; its id."""
    rows = sql(
        "insert into public.ai_conversations (user_id, community_id, agent_id, title, message_count,"
        " input_tokens, output_tokens, created_at, last_message_at)"
        " values (%s, %s, %s, %s, %s, 10 * %s, 20 * %s, now() - %s::interval, now() - %s::interval)"
        " returning id::text",
        (user, community, agent, title, messages, messages, messages, age, age),
    )
    conversation_id = str(rows[0]["id"])
    for seq in range(1, messages + 1):
        role = "user" if seq % 2 else "assistant"
        sql(
            "insert into public.ai_messages (conversation_id, seq, role, content, provider, model,"
            " input_tokens, output_tokens, cost_usd, finish_reason, created_at)"
            " values (%s, %s, %s, %s, case when %s = 'assistant' then 'offline' end,"
            " case when %s = 'assistant' then 'offline-echo' end, 10, 20, 0.000123, null, now() - %s::interval)",
            (conversation_id, seq, role, f"message {seq}", role, role, age),
        )
    return conversation_id


def usage(
    sql: Sql,
    community: str,
    user: str | None,
    agent: str | None = PROMPT_COACH,
    *,
    conversation_id: str | None = None,
    tokens: tuple[int, int] = (100, 50),
    month: str | None = None,
    feature: str = "chat",
    cost: str = "0.001",
) -> None:
    """One ledger row (in `month`, 'YYYY-MM-DD', or now) and its tokens added to the community's month."""
    when = f"{month} 12:00+00" if month else None
    sql(
        "insert into public.ai_usage (community_id, user_id, agent_id, conversation_id, feature, provider, model,"
        " key_source, input_tokens, output_tokens, cost_usd, created_at)"
        " values (%s, %s, %s, %s, %s, 'offline', 'offline-echo', 'platform', %s, %s, %s::numeric,"
        " coalesce(%s::timestamptz, now()))",
        (community, user, agent, conversation_id, feature, tokens[0], tokens[1], cost, when),
    )
    sql(
        "insert into public.ai_quota_months as q (community_id, month, used_tokens)"
        " values (%s, date_trunc('month', coalesce(%s::timestamptz, now()) at time zone 'UTC')::date, %s)"
        " on conflict (community_id, month) do update set used_tokens = q.used_tokens + excluded.used_tokens",
        (community, when, tokens[0] + tokens[1]),
    )
