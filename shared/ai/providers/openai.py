"""OpenAI Chat Completions, streamed (`POST /v1/chat/completions`, SSE, `[DONE]` at the end).

`stream_options.include_usage` makes OpenAI send one more chunk before `[DONE]` whose `choices` is
empty and whose `usage` counts the whole request; without it a stream reports no tokens at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.ai.keys import ApiKey, KeyProvider
from shared.ai.providers.base import ChatRequest, FinishReason, JsonOutput
from shared.ai.providers.errors import ProviderError, ProviderRateLimitedError, ProviderUnavailableError
from shared.ai.providers.sse import ServerSentEvent
from shared.ai.providers.transport import HttpCall, Usage, by_status, json_event

BASE_URL = "https://api.openai.com/v1"
_FINISH: Mapping[str, FinishReason] = {"stop": "stop", "length": "length", "content_filter": "content_filter"}


class OpenAiWire:
    """Chat Completions' request, stream and errors."""

    name: KeyProvider = "openai"

    def __init__(self, base_url: str = BASE_URL) -> None:
        self.base_url = base_url.rstrip("/")

    def call(self, request: ChatRequest) -> HttpCall:
        """`POST /chat/completions` with the system prompt as the first message."""
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": message.role, "content": message.content} for message in request.messages]
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "temperature": request.temperature,
            "max_completion_tokens": request.max_output_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.output is not None:
            body["response_format"] = response_format(request.output)
        return HttpCall(f"{self.base_url}/chat/completions", {"accept": "text/event-stream"}, body)

    def auth_headers(self, key: ApiKey) -> dict[str, str]:
        """A bearer token."""
        return {"authorization": f"Bearer {key.reveal()}"}

    def decoder(self, request: ChatRequest) -> OpenAiDecoder:
        """A decoder for one answer."""
        return OpenAiDecoder()

    def error(self, status: int, body: Any, headers: Mapping[str, str]) -> ProviderError:
        """`{"error": {"type", "code", …}}`; a 429 for an exhausted balance is not worth retrying."""
        detail = body.get("error") if isinstance(body, dict) else None
        code = detail.get("code") or detail.get("type") if isinstance(detail, dict) else None
        error = by_status(self.name, status, code, headers)
        if isinstance(error, ProviderRateLimitedError) and code == "insufficient_quota":
            error.retryable = False
        return error


def response_format(output: JsonOutput) -> dict[str, Any]:
    """`response_format` of type `json_schema`, not strict: strict mode needs every property required and
    no defaults, which the block schemas have; the answer is validated against the schema anyway."""
    schema: dict[str, Any] = {"name": output.name, "schema": dict(output.schema), "strict": False}
    if output.description:
        schema["description"] = output.description
    return {"type": "json_schema", "json_schema": schema}


class OpenAiDecoder:
    """Reads chunks: `choices[0].delta.content`, `finish_reason`, then the usage chunk and `[DONE]`."""

    def __init__(self) -> None:
        self.done = False
        self.finish_reason: FinishReason | None = None
        self.usage: dict[str, Any] = {}
        self.model = ""

    def feed(self, event: ServerSentEvent) -> list[str]:
        """The text of one chunk."""
        if event.data == "[DONE]":
            self.done = True
            return []
        chunk = json_event("openai", event)
        if "error" in chunk:  # an error after the 200, sent as a data line of its own
            error = chunk["error"]
            code = error.get("code") or error.get("type") if isinstance(error, dict) else None
            raise ProviderUnavailableError("openai", "failed while answering", code=code, retryable=False)
        self.model = chunk.get("model") or self.model
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        pieces: list[str] = []
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str) and content:
                pieces.append(content)
            if choice.get("finish_reason"):
                self.finish_reason = _FINISH.get(choice["finish_reason"], "other")
        return pieces

    def finish(self) -> Usage:
        """Usage from the last chunk; a stream without `[DONE]` or a finish reason was cut off."""
        if not self.done or self.finish_reason is None:
            raise ProviderUnavailableError("openai", "ended the answer early", retryable=False)
        return Usage(
            input_tokens=_count(self.usage.get("prompt_tokens")),
            output_tokens=_count(self.usage.get("completion_tokens")),
            finish_reason=self.finish_reason,
            model=self.model,
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
