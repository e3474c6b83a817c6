"""The contract of the `conversations` function: request and response models."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.platform.pagination import PageQuery
from shared.platform.validation import Patch, PlainText, View

Title = Annotated[PlainText, Field(min_length=1, max_length=200)]


class ConversationListQuery(PageQuery):
    """The caller's conversations, newest message first; optionally with one agent or in one community."""

    agent_id: UUID | None = Field(default=None, description="Only conversations with this agent")
    community_id: UUID | None = Field(default=None, description="Only conversations in this community")


class MessagesQuery(PageQuery):
    """A page of a conversation's messages, in sequence order (`cursor` from the previous page)."""


class RenameConversation(Patch):
    """A new title for the conversation."""

    title: Title


class ConversationView(View):
    """A conversation: its agent and community, title, message count, token and cost totals."""

    id: UUID
    user_id: UUID
    community_id: UUID
    agent_id: UUID | None = Field(description="Null when the agent was deleted")
    agent_title: str | None = Field(description="The agent's title, when the caller can still see it")
    title: str
    message_count: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    is_answering: bool = Field(description="Whether a turn is in progress")
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime


class MessageView(View):
    """One message; an assistant's carries the model, its usage, latency and why it finished."""

    id: UUID
    seq: int
    role: Literal["user", "assistant", "system"]
    content: str
    provider: str | None
    model: str | None
    key_source: str | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int | None
    first_token_ms: int | None
    cost_usd: Decimal | None
    finish_reason: str | None
    error: str | None
    created_at: datetime


class ConversationPage(View):
    """A page of conversations and the cursor of the next one (null at the end)."""

    items: list[ConversationView]
    next_cursor: str | None


class ConversationDetail(ConversationView):
    """A conversation with a page of its messages in sequence order, and the cursor of the next page."""

    messages: list[MessageView]
    next_cursor: str | None
