"""Anthropic Messages, streamed (`POST /v1/messages`, SSE events named by their `type`).

A stream runs message_start (input tokens, model) → content_block_start/delta/stop → message_delta
(stop reason, cumulative output tokens) → message_stop, with `ping`s anywhere; an `error` event (e.g.
`overloaded_error`) may arrive after the 200.

Structured output is a tool the model is made to call (`tool_choice`): its input, streamed as
`input_json_delta` pieces of JSON, is the answer, and the message stops with `tool_use`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.ai.keys import ApiKey, KeyProvider
from shared.ai.providers.base import ChatRequest, FinishReason, JsonOutput
from shared.ai.providers.errors import ProviderError, ProviderRateLimitedError, ProviderUnavailableError
from shared.ai.providers.sse import ServerSentEvent
from shared.ai.providers.transport import HttpCall, Usage, by_status, json_event

BASE_URL = "https://api.anthropic.com/v1"
API_VERSION = "2023-06-01"
_FINISH: Mapping[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "refusal": "content_filter",
    "tool_use": "stop",  # only a forced tool (structured output) is ever offered
}


class AnthropicWire:
    """The Messages API's request, stream and errors."""

    name: KeyProvider = "anthropic"

    def __init__(self, base_url: str = BASE_URL) -> None:
        self.base_url = base_url.rstrip("/")

    def call(self, request: ChatRequest) -> HttpCall:
        """`POST /messages`; the system prompt is a top-level field, not a message."""
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_output_tokens,
            "messages": [{"role": message.role, "content": message.content} for message in request.messages],
            "temperature": request.temperature,
            "stream": True,
        }
        if request.system:
            body["system"] = request.system
        if request.output is not None:
            body.update(forced_tool(request.output))
        headers = {"anthropic-version": API_VERSION, "accept": "text/event-stream"}
        return HttpCall(f"{self.base_url}/messages", headers, body)

    def auth_headers(self, key: ApiKey) -> dict[str, str]:
        """`x-api-key`."""
        return {"x-api-key": key.reveal()}

    def decoder(self, request: ChatRequest) -> AnthropicDecoder:
        """A decoder for one answer."""
        return AnthropicDecoder(structured=request.output is not None)

    def error(self, status: int, body: Any, headers: Mapping[str, str]) -> ProviderError:
        """`{"type": "error", "error": {"type": "rate_limit_error", …}}`; 529 is `overloaded_error`."""
        detail = body.get("error") if isinstance(body, dict) else None
        return by_status(self.name, status, detail.get("type") if isinstance(detail, dict) else None, headers)


def forced_tool(output: JsonOutput) -> dict[str, Any]:
    """One tool whose `input_schema` is the answer's schema, and `tool_choice` making the model call it."""
    description = output.description or output.name
    tool = {"name": output.name, "description": description, "input_schema": dict(output.schema)}
    return {"tools": [tool], "tool_choice": {"type": "tool", "name": output.name}}


class AnthropicDecoder:
    """Reads the Messages stream's events; with `structured`, the forced tool's input is the text."""

    def __init__(self, *, structured: bool = False) -> None:
        self.structured = structured
        self.input_tokens = 0
        self.output_tokens = 0
        self.model = ""
        self.finish_reason: FinishReason | None = None
        self.stopped = False

    def feed(self, event: ServerSentEvent) -> list[str]:
        """The text of one event (only `text_delta`s carry any; `input_json_delta`s when structured)."""
        data = json_event("anthropic", event)
        kind = data.get("type")
        if kind == "content_block_delta":
            return self._text(data.get("delta"))
        elif kind == "message_start":
            message = data.get("message") or {}
            self.model = message.get("model") or self.model
            self._count(message.get("usage"))
        elif kind == "message_delta":
            self._count(data.get("usage"))
            reason = (data.get("delta") or {}).get("stop_reason")
            if reason:
                self.finish_reason = _FINISH.get(reason, "other")
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "error":
            raise _stream_error(data.get("error"))
        return []

    def _text(self, delta: object) -> list[str]:
        # Structured, only the tool's input is the answer: a text block beside it would break its JSON.
        kind, field = ("input_json_delta", "partial_json") if self.structured else ("text_delta", "text")
        if not isinstance(delta, dict) or delta.get("type") != kind:
            return []
        text = delta.get(field)
        return [text] if isinstance(text, str) and text else []

    def _count(self, usage: object) -> None:
        # message_delta's counts are cumulative: the latest value wins.
        if not isinstance(usage, dict):
            return
        inputs = [usage.get(name) for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
        if any(isinstance(value, int) for value in inputs):
            self.input_tokens = sum(value for value in inputs if isinstance(value, int))
        if isinstance(usage.get("output_tokens"), int):
            self.output_tokens = usage["output_tokens"]

    def finish(self) -> Usage:
        """Usage once `message_stop` arrived; without it the stream was cut off."""
        if not self.stopped:
            raise ProviderUnavailableError("anthropic", "ended the answer early", retryable=False)
        return Usage(self.input_tokens, self.output_tokens, self.finish_reason or "other", self.model)


def _stream_error(error: object) -> ProviderError:
    kind = error.get("type") if isinstance(error, dict) else None
    if kind == "rate_limit_error":
        return ProviderRateLimitedError("anthropic", status=None, code=kind)
    # overloaded_error / api_error arrive after the 200: nothing was billed, so the same request may be retried.
    retryable = kind in ("overloaded_error", "api_error")
    return ProviderUnavailableError("anthropic", "failed while answering", code=kind, retryable=retryable)
