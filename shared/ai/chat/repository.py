"""The SQL of a chat turn: reads run as the caller (row level security decides), writes as the platform."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from shared.platform.db import Row, Statement, Tx

HISTORY_KEPT = 200
"""Most messages read back for a turn's context: more never fit a budget anyway."""

CONVERSATION_SQL = """
select c.id, c.agent_id, c.community_id, c.summary, c.summary_through
  from public.ai_conversations c where c.id = %s
"""
# Answers that failed or broke before their first token carry no text for the model; a turn's history starts
# after what the summary covers.
HISTORY_SQL = f"""
select m.seq, m.role, m.content from public.ai_messages m
 where m.conversation_id = %s and m.role in ('user', 'assistant') and m.finish_reason is distinct from 'error'
   and m.content <> ''
   and m.seq > (select c.summary_through from public.ai_conversations c where c.id = m.conversation_id)
 order by m.seq desc limit {HISTORY_KEPT}
"""  # noqa: S608 - a constant
# Whether the agent reaches the community billed for the turn (the community's own, or granted to the
# caller in it; run as the caller, for whom granted_content_ids is computed), and whether that community
# has its own provider key.
_REACH = """
select coalesce(s.has_own_key, false) as has_own_key,
       exists (select 1 from public.content_items i
                where i.id = {agent} and (i.community_id = s.community_id
                      or i.id = any ((select app.granted_content_ids(s.community_id))::uuid[]))) as reaches
  from public.community_ai_settings s where s.community_id = {community}
"""
REACH_SQL = _REACH.format(agent="%(agent)s", community="%(community)s")
_CONVERSATION = "(select c.{} from public.ai_conversations c where c.id = %(conversation)s)"
CONVERSATION_REACH_SQL = _REACH.format(
    agent=_CONVERSATION.format("agent_id"), community=_CONVERSATION.format("community_id")
)
BEGIN_SQL = "select * from app.ai_begin_turn(%s, %s, %s, %s, %s)"
FINISH_SQL = "select * from app.ai_finish_turn(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
# Only a newer summary replaces the stored one (two turns may have summarised the same messages).
SUMMARY_SQL = """
update public.ai_conversations set summary = %s, summary_through = %s
 where id = %s and summary_through < %s
"""


async def conversation_with_history(tx: Tx, conversation_id: UUID) -> tuple[Row | None, list[Row], Row | None]:
    """The caller's conversation, its newest messages since the summary (newest first), and whether its
    agent reaches its community (as REACH_SQL says): one round trip."""
    conversation, history, reaches = await tx.batch(
        [
            (CONVERSATION_SQL, (conversation_id,)),
            (HISTORY_SQL, (conversation_id,)),
            (CONVERSATION_REACH_SQL, {"conversation": conversation_id}),
        ]
    )
    return (conversation[0] if conversation else None), history, (reaches[0] if reaches else None)


async def reach(tx: Tx, agent_id: UUID, community_id: UUID) -> Row | None:
    """Whether the agent reaches the community, and whether the community has its own key."""
    return await tx.fetch_one(REACH_SQL, {"agent": agent_id, "community": community_id})


def begin_turn_statement(
    conversation_id: UUID | None, agent_id: UUID, community_id: UUID, content: str, lease_s: int
) -> Statement:
    """Take the conversation's turn (creating it when new) and store the user's message (platform role)."""
    return BEGIN_SQL, (conversation_id, agent_id, community_id, content, lease_s)


async def save_summary(tx: Tx, conversation_id: UUID, summary: str, through: int) -> None:
    """Store a summary of the messages up to `through`, unless a newer one is stored already."""
    await tx.execute(SUMMARY_SQL, (summary, through, conversation_id, through))
