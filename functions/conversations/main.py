"""`conversations`: a user's own conversations with agents; staff read any for audit (audited)."""

from __future__ import annotations

from uuid import UUID

from shared.ai.conversations import service
from shared.ai.conversations.schemas import (
    ConversationDetail,
    ConversationListQuery,
    ConversationPage,
    ConversationView,
    MessagesQuery,
    RenameConversation,
)
from shared.platform.audit import meta_of
from shared.platform.auth import require_staff
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("conversations", body_limit=4 * 1024, description="A user's conversations with agents.")
ONE = "/{conversation_id:uuid}"


@fn.get("/", query=ConversationListQuery)
async def list_conversations(ctx: Context, query: ConversationListQuery) -> ConversationPage:
    """The caller's conversations, newest message first (`?agent_id=`, `?community_id=`, pages)."""
    return await service.list_conversations(query, tx=ctx.db)


@fn.get(ONE, query=MessagesQuery, read=service.read_statement)
async def read_conversation(ctx: Context, conversation_id: UUID, query: MessagesQuery) -> ConversationDetail:
    """One of the caller's conversations with a page of its messages in sequence order."""
    return service.conversation_detail(ctx.rows, query)


@fn.patch(ONE, body=RenameConversation)
async def rename_conversation(ctx: Context, conversation_id: UUID, body: RenameConversation) -> ConversationView:
    """Retitle one of the caller's conversations."""
    return await service.rename_conversation(conversation_id, body, tx=ctx.db)


@fn.delete(ONE, status=204)
async def delete_conversation(ctx: Context, conversation_id: UUID) -> None:
    """Delete one of the caller's conversations and its messages; 204."""
    await service.delete_conversation(conversation_id, tx=ctx.db)


@fn.get(ONE + "/audit", query=MessagesQuery, rate_limit="admin", allow=caller(require_staff))
async def audit_conversation(ctx: Context, conversation_id: UUID, query: MessagesQuery) -> ConversationDetail:
    """Any user's conversation with a page of its messages, for platform staff; every read is audited."""
    return await service.audit_conversation(
        conversation_id, query, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


handler = fn.handler
