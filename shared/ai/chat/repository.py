"""The SQL of a chat turn: reads run as the caller (row level security decides), writes as the platform."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared.ai import usage
from shared.ai.agents import SECRETS_SQL

if TYPE_CHECKING:
    from shared.platform.db import Statement, Tx
    from shared.platform.routing import Prefetch

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
# The agent as the caller sees it, for each community of the caller's the turn could be billed to (see
# app.ai_agent_for_turn, run as the caller), and its secrets (as the platform).
_AGENT_FOR_TURN = "select * from app.ai_agent_for_turn({agent}, {community})"
_OF_CONVERSATION = "(select c.{} from public.ai_conversations c where c.id = %(conversation)s)"
NEW_AGENT_SQL = _AGENT_FOR_TURN.format(agent="%(agent)s", community="%(community)s")
NEW_SECRETS_SQL = SECRETS_SQL.format(agent="%(agent)s")
CONVERSATION_AGENT_SQL = _AGENT_FOR_TURN.format(
    agent=_OF_CONVERSATION.format("agent_id"), community=_OF_CONVERSATION.format("community_id")
)
CONVERSATION_SECRETS_SQL = SECRETS_SQL.format(agent=_OF_CONVERSATION.format("agent_id"))
OPEN_TURN_SQL = "select * from app.ai_open_turn(%s, %s, %s, %s, %s, %s, %s)"
FINISH_SQL = "select * from app.ai_finish_turn(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
# Only a newer summary replaces the stored one (two turns may have summarised the same messages).
SUMMARY_SQL = """
update public.ai_conversations set summary = %s, summary_through = %s
 where id = %s and summary_through < %s
"""


def new_conversation_reads(agent_id: UUID, community_id: UUID | None) -> Prefetch:
    """A turn that starts a conversation: the agent, as the caller, for the named community (None: each
    of the caller's); the agent's secrets as the platform."""
    params = {"agent": agent_id, "community": community_id}
    return [(NEW_AGENT_SQL, params)], [(NEW_SECRETS_SQL, params)]


def conversation_reads(conversation_id: UUID) -> Prefetch:
    """A turn in a conversation: the caller's conversation, its newest messages since the summary (newest
    first) and its agent for its community, as the caller; the agent's secrets as the platform."""
    params = {"conversation": conversation_id}
    caller: list[Statement] = [
        (CONVERSATION_SQL, (conversation_id,)),
        (HISTORY_SQL, (conversation_id,)),
        (CONVERSATION_AGENT_SQL, params),
    ]
    return caller, [(CONVERSATION_SECRETS_SQL, params)]


def open_turn_statement(
    conversation_id: UUID | None, agent_id: UUID, community_id: UUID, content: str, lease_s: int, tokens: int
) -> Statement:
    """Reserve `tokens` of the month's quota and, when granted, take the conversation's turn (creating it
    when new) and store the user's message (platform role)."""
    return OPEN_TURN_SQL, (conversation_id, agent_id, community_id, content, lease_s, tokens, usage.RESERVATION_TTL_S)


async def save_summary(tx: Tx, conversation_id: UUID, summary: str, through: int) -> None:
    """Store a summary of the messages up to `through`, unless a newer one is stored already."""
    await tx.execute(SUMMARY_SQL, (summary, through, conversation_id, through))
