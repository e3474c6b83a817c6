"""Conversation use cases: a user's own (list, read, rename, delete) and staff's audited read of any.

A user reaches only their own conversations: every statement runs as the caller under row level
security, and a conversation that is not theirs answers exactly as a missing one (404). Staff read
another user's conversation only through the audit read, which runs as the platform role and writes
an audit entry in the same transaction: no audit entry, no read.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.ai.conversations import repository
from shared.ai.conversations.errors import ConversationNotFoundError
from shared.ai.conversations.schemas import (
    ConversationDetail,
    ConversationListQuery,
    ConversationPage,
    ConversationView,
    MessagesQuery,
    RenameConversation,
)
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal, require_staff
from shared.platform.db import Row, Statement, Tx
from shared.platform.pagination import page_of, time_and_id

TARGET = "ai_conversation"


async def list_conversations(query: ConversationListQuery, *, tx: Tx) -> ConversationPage:
    """A page of the caller's conversations, newest message first."""
    after = cursors.time_and_id(query.cursor)
    rows = await repository.list_conversations(
        tx, agent_id=query.agent_id, community_id=query.community_id, after=after, limit=query.limit + 1
    )
    page, next_cursor = page_of(rows, query.limit, key=time_and_id("last_message_at", "id"))
    return ConversationPage(items=[ConversationView.model_validate(r) for r in page], next_cursor=next_cursor)


def read_statement(conversation_id: UUID, query: MessagesQuery) -> Statement:
    """The caller's conversation with a page of its messages, as one query (a bad cursor is a 422)."""
    return repository.get_statement(conversation_id, cursors.integer(query.cursor), query.limit + 1)


def conversation_detail(rows: list[Row], query: MessagesQuery) -> ConversationDetail:
    """The conversation `read_statement` read; 404 when there was none the caller may see."""
    if not rows:
        raise ConversationNotFoundError()
    return _detail(rows[0], query.limit)


async def audit_conversation(
    conversation_id: UUID, query: MessagesQuery, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> ConversationDetail:
    """Any user's conversation with a page of its messages, for staff; the read is audited."""
    require_staff(principal)
    after = cursors.integer(query.cursor)
    row = await repository.get_as_platform(tx, conversation_id, after, query.limit + 1)
    if row is None:
        raise ConversationNotFoundError()
    detail = _detail(row, query.limit)
    read: dict[str, Any] = {"user_id": row["user_id"], "seqs": [m.seq for m in detail.messages]}
    await audit.record(
        tx,
        meta,
        "conversation.read_for_audit",
        target_type=TARGET,
        target_id=conversation_id,
        community_id=row["community_id"],
        after=read,
    )
    return detail


async def rename_conversation(conversation_id: UUID, cmd: RenameConversation, *, tx: Tx) -> ConversationView:
    """Retitle one of the caller's own conversations."""
    row = await repository.rename(tx, conversation_id, cmd.title)
    if row is None:
        raise ConversationNotFoundError()
    return ConversationView.model_validate(row)


async def delete_conversation(conversation_id: UUID, *, tx: Tx) -> None:
    """Delete one of the caller's own conversations with its messages (the usage ledger keeps its rows)."""
    if not await repository.delete(tx, conversation_id):
        raise ConversationNotFoundError()


def _detail(row: Row, limit: int) -> ConversationDetail:
    messages, next_cursor = page_of(row["messages"], limit, key=lambda m: [m["seq"]])
    return ConversationDetail.model_validate({**row, "messages": messages, "next_cursor": next_cursor})
