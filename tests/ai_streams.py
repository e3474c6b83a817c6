"""Provider streams for the AI tests: the documented sample answers and ways to break them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.ai.keys import ApiKey
from shared.ai.providers.anthropic import AnthropicWire
from shared.ai.providers.base import ChatMessage, ChatRequest, Timeouts
from shared.ai.providers.gemini import GeminiWire
from shared.ai.providers.openai import OpenAiWire
from shared.ai.providers.transport import HttpProvider, WireFormat

EVENTS = Path(__file__).parent / "events" / "ai"
KEY_VALUE = "sk-live-REDACT-ME-1234567890abcdef"
"""A key that the providers' error bodies below echo back (as OpenAI's 401 does)."""
KEY = ApiKey(KEY_VALUE)
ANSWER = "Warm up for ten minutes."


@dataclass(frozen=True)
class Wire:
    """One provider as the tests drive it: where it is called, how its key travels, its sample answer."""

    name: str
    url: str
    key_header: str
    key_prefix: str
    model: str
    answered_model: str
    usage: tuple[int, int]
    wire: WireFormat

    def provider(self) -> HttpProvider:
        return HttpProvider(self.wire)

    def sample(self) -> str:
        return (EVENTS / f"{self.name}_stream.sse").read_bytes().decode()

    def events(self) -> list[str]:
        """The sample's events, each with its blank-line terminator."""
        sample = self.sample()
        separator = "\r\n\r\n" if "\r\n" in sample else "\n\n"
        return [event + separator for event in sample.split(separator) if event]


OPENAI = Wire(
    "openai", "https://api.openai.com/v1/chat/completions", "authorization", "Bearer ",
    "gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", (31, 7), OpenAiWire(),
)
ANTHROPIC = Wire(
    "anthropic", "https://api.anthropic.com/v1/messages", "x-api-key", "",
    "claude-haiku-4-5", "claude-haiku-4-5-20251001", (31, 7), AnthropicWire(),
)
GEMINI = Wire(
    "gemini",
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    "x-goog-api-key", "", "gemini-2.5-flash", "gemini-2.5-flash", (31, 7), GeminiWire(),
)
WIRES = [OPENAI, ANTHROPIC, GEMINI]


def request(model: str = "gpt-4.1-mini", **changes: object) -> ChatRequest:
    """A two-turn chat with a system prompt."""
    fields: dict[str, object] = {
        "system": "You are a fitness coach.",
        "messages": [
            ChatMessage("user", "How do I start?"),
            ChatMessage("assistant", "Gently."),
            ChatMessage("user", "And before running?"),
        ],
        "model": model,
        "temperature": 0.3,
        "max_output_tokens": 256,
        "timeouts": Timeouts(connect_s=2.0, read_s=5.0, total_s=30.0),
    }
    fields.update(changes)
    return ChatRequest(**fields)  # type: ignore[arg-type]


def sse(body: str, status: int = 200) -> httpx.Response:
    """A streamed answer."""
    return httpx.Response(status, headers={"content-type": "text/event-stream"}, content=body.encode())


class BreakingStream(httpx.AsyncByteStream):
    """Sends `body`, then fails the way a dropped connection does."""

    def __init__(self, body: str, error: Exception) -> None:
        self.body, self.error = body, error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body.encode()
        raise self.error


def breaking(body: str, error: Exception | None = None) -> httpx.Response:
    """A 200 whose stream breaks after `body`."""
    stream = BreakingStream(body, error or httpx.ReadError("connection reset by peer"))
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


def echoing_error(status: int, wire: Wire, headers: dict[str, str] | None = None) -> httpx.Response:
    """An error answer whose message repeats the key (as OpenAI's "Incorrect API key provided: …" does)."""
    message = f"Incorrect API key provided: {KEY_VALUE}. key={KEY_VALUE}"
    bodies = {
        "openai": {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}},
        "anthropic": {"type": "error", "error": {"type": "authentication_error", "message": message}},
        "gemini": {"error": {"code": status, "message": message, "status": "UNAUTHENTICATED"}},
    }
    return httpx.Response(status, headers=headers or {}, json=bodies[wire.name])


def until_first_text(wire: Wire) -> str:
    """The sample's events up to and including the first one that carries text."""
    kept: list[str] = []
    for event in wire.events():
        kept.append(event)
        if "Warm up" in event:
            return "".join(kept)
    raise AssertionError("the sample has no text")
