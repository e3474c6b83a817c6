"""Hand-written SQL for conversations. Runs in the caller's transaction, under row level security,
except the staff audit read, which runs the same query as the platform role."""

from __future__ import annotations

from uuid import UUID

from shared.platform.db import Row, Statement, Tx
from shared.platform.sql import Order, Select

_COLUMNS = """
c.id, c.user_id, c.community_id, c.agent_id, a.title as agent_title, c.title, c.message_count,
c.input_tokens, c.output_tokens, c.cost_usd, (c.turn_id is not null and c.turn_expires_at > now()) as is_answering,
c.created_at, c.updated_at, c.last_message_at
"""
# The agent's title as the caller sees it: a learner who lost access to the agent keeps the conversation.
_AGENT = "left join public.content_items a on a.id = c.agent_id"
LIST_SQL = f"select {_COLUMNS} from public.ai_conversations c {_AGENT}"  # noqa: S608 - reviewed constants
NEWEST_FIRST = Order(("c.last_message_at", "c.id"), descending=True)

# One statement for a conversation and a page of its messages (sequence numbers after the first
# parameter, at most the second's count); no row when the conversation is absent or not the caller's.
GET_SQL = f"""
select {_COLUMNS},
  coalesce((select jsonb_agg(to_jsonb(m) order by m.seq) from (
    select m.id, m.seq, m.role, m.content, m.provider, m.model, m.key_source, m.input_tokens,
           m.output_tokens, m.latency_ms, m.first_token_ms, m.cost_usd::text as cost_usd, m.finish_reason,
           m.error, m.created_at
      from public.ai_messages m
     where m.conversation_id = c.id and m.seq > %s
     order by m.seq
     limit %s) m), '[]'::jsonb) as messages
from public.ai_conversations c {_AGENT}
where c.id = %s
"""  # noqa: S608 - reviewed constants

RENAME_SQL = f"""
with c as (update public.ai_conversations set title = %s where id = %s returning *)
select {_COLUMNS} from c {_AGENT}
"""  # noqa: S608 - reviewed constants
DELETE_SQL = "delete from public.ai_conversations where id = %s"


async def list_conversations(
    tx: Tx,
    *,
    agent_id: UUID | None,
    community_id: UUID | None,
    after: tuple[object, UUID] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` of the caller's conversations after the keyset position, newest message first."""
    # Row level security shows a user only their own; naming them too lets the (user, …) indexes serve.
    conversations = (
        Select(LIST_SQL)
        .where("c.user_id = (select auth.uid())")
        .filter("c.agent_id = %(agent_id)s", agent_id=agent_id)
        .filter("c.community_id = %(community_id)s", community_id=community_id)
    )
    return await tx.fetch_all(*conversations.page(NEWEST_FIRST, after, limit))


def get_statement(conversation_id: UUID, after_seq: int | None, limit: int) -> Statement:
    """The query of a conversation with up to `limit` of its messages after `after_seq`."""
    return GET_SQL, (after_seq or 0, limit, conversation_id)


async def get_as_platform(tx: Tx, conversation_id: UUID, after_seq: int | None, limit: int) -> Row | None:
    """Any user's conversation with a page of its messages, read as the platform role (staff audit)."""
    rows = await tx.as_platform(*get_statement(conversation_id, after_seq, limit))
    return rows[0] if rows else None


async def rename(tx: Tx, conversation_id: UUID, title: str) -> Row | None:
    """Set the title of one of the caller's conversations; None when it is not theirs or absent."""
    return await tx.fetch_one(RENAME_SQL, (title, conversation_id))


async def delete(tx: Tx, conversation_id: UUID) -> bool:
    """Delete one of the caller's conversations and its messages; False when it is not theirs or absent."""
    return await tx.execute(DELETE_SQL, (conversation_id,)) == 1
