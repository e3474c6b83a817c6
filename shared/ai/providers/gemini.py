"""Google Gemini, streamed (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse`).

Each event is a whole GenerateContentResponse: text in `candidates[0].content.parts[].text`, a
`finishReason` on the last candidate, `usageMetadata` and `modelVersion`; there is no end marker, so a
stream that closes before a finish reason was cut off. The key goes in `x-goog-api-key`, never in the
`key=` query parameter: a URL ends up in exceptions, proxies' logs and traces.

Structured output sets `responseMimeType: application/json` and `responseSchema`, which takes a subset
of OpenAPI 3.0 as a proto message: unknown keywords (`additionalProperties`, `$ref`, `const`, a list of
types) are a 400, so a JSON Schema is brought down to that subset first (`response_schema`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from shared.ai.keys import ApiKey, KeyProvider
from shared.ai.providers.base import ChatRequest, FinishReason
from shared.ai.providers.errors import ProviderAuthError, ProviderError, ProviderUnavailableError
from shared.ai.providers.sse import ServerSentEvent
from shared.ai.providers.transport import HttpCall, Usage, by_status, json_event

BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
_FINISH: Mapping[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}
_ROLES = {"user": "user", "assistant": "model"}


class GeminiWire:
    """generateContent's streaming form: request, stream and errors."""

    name: KeyProvider = "gemini"

    def __init__(self, base_url: str = BASE_URL) -> None:
        self.base_url = base_url.rstrip("/")

    def call(self, request: ChatRequest) -> HttpCall:
        """`POST models/{model}:streamGenerateContent?alt=sse`; the assistant's role is `model`."""
        body: dict[str, Any] = {
            "contents": [
                {"role": _ROLES[message.role], "parts": [{"text": message.content}]} for message in request.messages
            ],
            "generationConfig": {
                "temperature": request.temperature,
                "maxOutputTokens": request.max_output_tokens,
            },
        }
        if request.output is not None:
            body["generationConfig"]["responseMimeType"] = "application/json"
            body["generationConfig"]["responseSchema"] = response_schema(request.output.schema)
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        model = quote(request.model, safe="")
        url = f"{self.base_url}/models/{model}:streamGenerateContent?alt=sse"
        return HttpCall(url, {"accept": "text/event-stream"}, body)

    def auth_headers(self, key: ApiKey) -> dict[str, str]:
        """`x-goog-api-key`."""
        return {"x-goog-api-key": key.reveal()}

    def decoder(self, request: ChatRequest) -> GeminiDecoder:
        """A decoder for one answer."""
        return GeminiDecoder()

    def error(self, status: int, body: Any, headers: Mapping[str, str]) -> ProviderError:
        """`{"error": {"code", "status", "details": [{"reason"}]}}`; a bad key is a 400 `API_KEY_INVALID`."""
        detail = body.get("error") if isinstance(body, dict) else None
        detail = detail if isinstance(detail, dict) else {}
        reasons = [item.get("reason") for item in detail.get("details") or [] if isinstance(item, dict)]
        if "API_KEY_INVALID" in reasons:
            return ProviderAuthError(self.name, "refused the key", status=status, code="API_KEY_INVALID")
        return by_status(self.name, status, detail.get("status"), headers)


_KEPT = frozenset(
    ("description", "enum", "required", "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum")
)
"""JSON Schema keywords that Gemini's Schema has under the same name and meaning."""


def response_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A self-contained JSON Schema as Gemini's Schema: `type` upper-cased, `const` as a one-value enum,
    a null branch of `anyOf` as `nullable`, `oneOf` as `anyOf`; other keywords (formats, patterns,
    defaults, titles) are dropped: the answer is validated against the full schema afterwards."""
    converted: dict[str, Any] = {key: value for key, value in schema.items() if key in _KEPT}
    if "const" in schema:
        converted["enum"] = [schema["const"]]
    kind = schema.get("type")
    if isinstance(kind, str):
        converted["type"] = kind.upper()
    if "enum" in converted and "type" not in converted:
        converted["type"] = "STRING"
    if isinstance(schema.get("properties"), Mapping):
        converted["properties"] = {name: response_schema(sub) for name, sub in schema["properties"].items()}
    if isinstance(schema.get("items"), Mapping):
        converted["items"] = response_schema(schema["items"])
    branches = [branch for branch in schema.get("anyOf") or schema.get("oneOf") or [] if isinstance(branch, Mapping)]
    if branches:
        kept = [response_schema(branch) for branch in branches if branch.get("type") != "null"]
        if len(kept) < len(branches):
            converted["nullable"] = True
        if len(kept) == 1:
            converted.update(kept[0])
        elif kept:
            converted["anyOf"] = kept
    return converted


class GeminiDecoder:
    """Reads GenerateContentResponse chunks."""

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self.model = ""
        self.finish_reason: FinishReason | None = None

    def feed(self, event: ServerSentEvent) -> list[str]:
        """The text parts of one chunk (thought summaries left out)."""
        chunk = json_event("gemini", event)
        if "error" in chunk:
            error = chunk["error"]
            code = error.get("status") if isinstance(error, dict) else None
            raise ProviderUnavailableError("gemini", "failed while answering", code=code, retryable=False)
        self.model = chunk.get("modelVersion") or self.model
        usage = chunk.get("usageMetadata")
        if isinstance(usage, dict):
            self.input_tokens = _count(usage.get("promptTokenCount"))
            # Thinking is billed as output.
            self.output_tokens = _count(usage.get("candidatesTokenCount")) + _count(usage.get("thoughtsTokenCount"))
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            self.finish_reason = "content_filter"
        candidates = chunk.get("candidates") or []
        if not candidates or not isinstance(candidates[0], dict):
            return []
        candidate = candidates[0]
        if candidate.get("finishReason"):
            self.finish_reason = _FINISH.get(candidate["finishReason"], "other")
        parts = (candidate.get("content") or {}).get("parts") or []
        return [
            part["text"]
            for part in parts
            if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"] and not part.get("thought")
        ]

    def finish(self) -> Usage:
        """Usage of the last chunk; a stream that closed before a finish reason was cut off."""
        if self.finish_reason is None:
            raise ProviderUnavailableError("gemini", "ended the answer early", retryable=False)
        return Usage(self.input_tokens, self.output_tokens, self.finish_reason, self.model)


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
