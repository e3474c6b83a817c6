"""The provider interface: a chat request in, an async stream of events out."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from shared.ai.keys import ApiKey

Role = Literal["user", "assistant"]
ProviderName = Literal["openai", "anthropic", "gemini", "offline"]
FinishReason = Literal["stop", "length", "content_filter", "other"]
"""Why the provider stopped, in our words (each adapter maps its own)."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of the history, oldest first; the system prompt is not a message."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds: to connect, between two bytes of the answer (first token included), for the whole turn."""

    connect_s: float = 3.0
    read_s: float = 30.0
    total_s: float = 120.0


@dataclass(frozen=True, slots=True)
class JsonOutput:
    """Structured output: the answer is one JSON object that `schema` describes, streamed as text.

    `schema` is a self-contained JSON Schema of an object (no `$ref`); each adapter asks for it its own
    way. The answer is still the caller's to validate: a provider may not hold to the schema.
    """

    name: str
    """`[A-Za-z0-9_-]{1,64}`: OpenAI's schema name, Anthropic's tool name."""
    schema: Mapping[str, Any]
    description: str = ""
    offline_answer: Mapping[str, Any] | None = None
    """What the offline provider answers (it writes no JSON of its own): an object that says it is offline."""


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What a turn asks of a provider; the model is the provider's own name for it."""

    system: str
    messages: Sequence[ChatMessage]
    model: str
    temperature: float = 0.7
    max_output_tokens: int = 1024
    timeouts: Timeouts = field(default_factory=Timeouts)
    output: JsonOutput | None = None
    """None: prose (a chat turn); else the JSON object to answer with."""


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    """The last event of a complete answer: usage as the provider counted it."""

    input_tokens: int
    output_tokens: int
    finish_reason: FinishReason
    model: str
    """The model as the provider named it in its answer (often a dated version of the one asked for)."""
    latency_ms: int
    """From sending the request to the last byte."""
    first_token_ms: int | None = None


ChatEvent = TextDelta | Finished


class ChatProvider(Protocol):
    """A provider: streams the answer to a request with one key, or raises a ProviderError."""

    @property
    def name(self) -> ProviderName:
        """Which provider this is."""
        ...

    def stream(self, request: ChatRequest, key: ApiKey | None) -> AsyncGenerator[ChatEvent, None]:
        """Text deltas, then exactly one Finished; a failure raises a ProviderError subclass."""
        ...
