"""The offline provider: a deterministic answer derived from the input, streamed word by word.

It is used when no key is configured (the local stack, tests), and its answer says so: an offline
reply is never passed off as the model's. It never fails and costs nothing. Asked for structured
output it answers the request's own `offline_answer` (JSON the caller wrote to say it is offline).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import AsyncGenerator

from shared.ai.keys import ApiKey
from shared.ai.providers.base import ChatEvent, ChatRequest, Finished, FinishReason, ProviderName, TextDelta

MODEL = "offline-echo"
PREFIX = "[offline] "
_QUOTED = 200
_PIECES = re.compile(r"\S+\s*|\s+")


def estimate_tokens(text: str) -> int:
    """About four characters a token (what the providers' own rule of thumb says for English)."""
    return (len(text) + 3) // 4


def answer_to(request: ChatRequest) -> str:
    """The whole offline answer to a request (the same request always gets the same answer)."""
    if request.output is not None:
        return json.dumps(request.output.offline_answer or {}, ensure_ascii=False)
    last = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    quoted = " ".join(last.split())
    if len(quoted) > _QUOTED:
        quoted = quoted[: _QUOTED - 1] + "…"
    digest = hashlib.sha256(
        "\x00".join([request.system, *(f"{m.role}:{m.content}" for m in request.messages)]).encode()
    ).hexdigest()[:8]
    turn = sum(1 for m in request.messages if m.role == "user")
    return (
        f"{PREFIX}No AI provider is configured, so this reply was written offline, not by a model. "
        f'You said: "{quoted}". (turn {turn}, reference {digest})'
    )


class OfflineProvider:
    """A ChatProvider that needs no key and no network; `pace_s` spaces its chunks (benchmarks)."""

    name: ProviderName = "offline"

    def __init__(self, pace_s: float = 0.0) -> None:
        self.pace_s = pace_s

    async def stream(self, request: ChatRequest, key: ApiKey | None = None) -> AsyncGenerator[ChatEvent, None]:
        """The offline answer in word-sized pieces, then its estimated usage."""
        started = time.monotonic()
        text = answer_to(request)
        budget = request.max_output_tokens * 4
        reason: FinishReason = "stop"
        if len(text) > budget:
            text, reason = text[:budget], "length"
        first_token_ms: int | None = None
        for piece in _PIECES.findall(text):
            if self.pace_s:
                await asyncio.sleep(self.pace_s)
            if first_token_ms is None:
                first_token_ms = round((time.monotonic() - started) * 1000)
            yield TextDelta(piece)
        prompt = request.system + "".join(m.content for m in request.messages)
        yield Finished(
            input_tokens=estimate_tokens(prompt),
            output_tokens=estimate_tokens(text),
            finish_reason=reason,
            model=MODEL,
            latency_ms=round((time.monotonic() - started) * 1000),
            first_token_ms=first_token_ms,
        )
