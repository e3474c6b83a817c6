"""The `ai-chat` contract: a message in; its answer streamed as events, or as one JSON object."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, model_validator

from shared.platform.validation import Body, Query, View

MAX_MESSAGE_CHARS = 20_000
FinishReason = Literal["stop", "length", "content_filter", "other", "interrupted", "error"]


class SendMessage(Body):
    """A learner's message: to an agent (a new conversation) or within one of their conversations."""

    content: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=r"\S")] = Field(
        description="What the learner says (markdown welcome)"
    )
    agent_id: UUID | None = Field(
        default=None, description="The agent to talk to; starts a new conversation unless conversation_id is given"
    )
    conversation_id: UUID | None = Field(default=None, description="Continue this conversation of the caller's")
    community_id: UUID | None = Field(
        default=None,
        description="The community a new conversation is billed to; needed only when the caller has several",
    )

    @model_validator(mode="after")
    def _names_its_agent_or_conversation(self) -> SendMessage:
        if self.agent_id is None and self.conversation_id is None:
            raise ValueError("name agent_id (a new conversation) or conversation_id")
        return self


class ChatQuery(Query):
    """How the answer comes back."""

    stream: bool | None = Field(
        default=None, description="false: one JSON object; default: server-sent events unless Accept asks for JSON"
    )


class TurnUsage(View):
    """What the answer cost, as the provider counted it (estimated when the stream broke)."""

    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="USD; null when the model's price is not listed")


class TurnView(View):
    """A finished turn: the stored answer and where it is (the `done` event carries the same, without `content`)."""

    conversation_id: UUID
    title: str
    user_seq: int
    message_id: UUID | None
    seq: int | None
    content: str
    provider: str | None
    model: str | None
    finish_reason: FinishReason
    usage: TurnUsage
    latency_ms: int | None
    first_token_ms: int | None
