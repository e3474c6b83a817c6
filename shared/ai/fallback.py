"""One chat turn across providers: retry before the first token, then the configured fallback order.

Before the first token a turn may be retried (429, 5xx, could not connect: exponential backoff with
full jitter, or the provider's Retry-After when it gave one) and then handed to the next candidate (the
community's own key first, then the platform's; the requested provider first, then the fallback
order). After the first token nothing is retried or switched: a failure ends the turn as
StreamInterruptedError with the text so far, so an answer is never stitched from two models.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from shared.ai import pricing
from shared.ai.keys import Credential, KeyProvider, KeySource
from shared.ai.providers import offline
from shared.ai.providers.base import ChatEvent, ChatProvider, ChatRequest, Finished, ProviderName, TextDelta
from shared.ai.providers.errors import (
    NoProviderError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    StreamInterruptedError,
)
from shared.platform import logging as log

DEFAULT_MODELS: Mapping[KeyProvider, str] = {
    "openai": "gpt-4.1-mini",
    "anthropic": "claude-haiku-4-5",
    "gemini": "gemini-2.5-flash",
}
"""The model asked of a provider the turn falls back to (the requested model is another provider's name)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One provider, model and key to try; offline has no key."""

    provider: ProviderName
    model: str
    credential: Credential | None

    @property
    def key_source(self) -> KeySource | None:
        """Whose key this is (None: offline)."""
        return None if self.credential is None else self.credential.source


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before asking the same candidate again."""

    attempts: int = 3
    """Tries per candidate, the first included."""
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 20.0
    """A provider asking us to wait longer than this is skipped for the next candidate instead."""

    def delay(self, attempt: int, retry_after_s: float | None, rand: random.Random) -> float | None:
        """Seconds before try `attempt + 1`: Retry-After if given, else full jitter; None: do not wait."""
        if retry_after_s is not None:
            return retry_after_s if retry_after_s <= self.max_retry_after_s else None
        return rand.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """The end of an answered turn: the provider's usage, who answered, with whose key, at what cost."""

    finished: Finished
    provider: ProviderName
    key_source: KeySource | None
    cost_usd: Decimal | None
    attempts: int
    """Provider calls made for this turn, the answering one included."""


TurnEvent = TextDelta | TurnFinished


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer, for callers that do not stream it: its text and how the turn finished."""

    text: str
    turn: TurnFinished


def plan(
    provider: ProviderName,
    model: str,
    *,
    fallback_order: Sequence[KeyProvider],
    community: Credential | None,
    platform: Mapping[KeyProvider, Credential],
) -> list[Candidate]:
    """Candidates in order: the requested provider, then the fallback order; per provider, the
    community's own key before the platform's. Offline when asked for, or when no key is configured."""
    offline_only = [Candidate("offline", offline.MODEL, None)]
    if provider == "offline":
        return offline_only
    candidates: list[Candidate] = []
    for name in [provider, *(other for other in fallback_order if other != provider)]:
        wanted = model if name == provider else DEFAULT_MODELS[name]
        if community is not None and community.provider == name:
            candidates.append(Candidate(name, wanted, community))
        if name in platform:
            candidates.append(Candidate(name, wanted, platform[name]))
    return candidates or offline_only


@lru_cache(maxsize=1)
def default_providers() -> Mapping[ProviderName, ChatProvider]:
    """The real providers, one per instance (their HTTP client is shared)."""
    from shared.ai.providers.anthropic import AnthropicWire
    from shared.ai.providers.gemini import GeminiWire
    from shared.ai.providers.openai import OpenAiWire
    from shared.ai.providers.transport import HttpProvider

    return {
        "openai": HttpProvider(OpenAiWire()),
        "anthropic": HttpProvider(AnthropicWire()),
        "gemini": HttpProvider(GeminiWire()),
        "offline": offline.OfflineProvider(),
    }


async def stream_turn(
    request: ChatRequest,
    candidates: Sequence[Candidate],
    *,
    providers: Mapping[ProviderName, ChatProvider] | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rand: random.Random | None = None,
) -> AsyncIterator[TurnEvent]:
    """Text deltas, then TurnFinished. Raises StreamInterruptedError after the first token,
    ProviderRequestError for a request no provider would accept, NoProviderError when all failed."""
    providers = providers or default_providers()
    policy, rand = policy or RetryPolicy(), rand or random.Random()  # noqa: S311 (jitter, not a secret)
    deadline = time.monotonic() + request.timeouts.total_s
    errors: list[ProviderError] = []
    for candidate in candidates:
        for attempt in range(1, policy.attempts + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                errors.append(ProviderTimeoutError(candidate.provider, "was not tried: the turn's time was up"))
                raise NoProviderError(errors)
            asked = replace(request, model=candidate.model, timeouts=replace(request.timeouts, total_s=remaining))
            answered, started = "", time.monotonic()
            failure: ProviderError | None = None
            try:
                async with aclosing(_events(providers, candidate, asked)) as events:
                    async for event in events:
                        if isinstance(event, Finished):
                            yield _finished(candidate, event, attempts=len(errors) + 1)
                            return
                        answered += event.text
                        yield event
            except StreamInterruptedError:
                raise
            except ProviderError as exc:
                failure = exc
            if failure is None:  # a provider that ends without Finished is broken: treated as cut off
                failure = ProviderUnavailableError(candidate.provider, "ended without finishing", retryable=False)
            if answered:
                latency_ms = round((time.monotonic() - started) * 1000)
                raise StreamInterruptedError(
                    candidate.provider, answered, failure, model=candidate.model, latency_ms=latency_ms
                )
            errors.append(failure)
            wait = _retry_wait(failure, attempt, policy, rand)
            _log_attempt(candidate, failure, attempt, wait)
            if wait is None and not failure.fallback_allowed:
                raise failure
            if wait is None or wait >= deadline - time.monotonic():
                break
            await sleep(wait)
    raise NoProviderError(errors)


async def answer(request: ChatRequest, candidates: Sequence[Candidate], **options: Any) -> Answer:
    """The whole answer of `stream_turn` (same `options`, same errors) once it has finished."""
    pieces: list[str] = []
    finished: TurnFinished | None = None
    async for event in stream_turn(request, candidates, **options):  # runs to its end: nothing left open
        if isinstance(event, TurnFinished):
            finished = event
        else:
            pieces.append(event.text)
    if finished is None:  # stream_turn ends with TurnFinished or raises: never reached
        raise NoProviderError([])
    return Answer("".join(pieces), finished)


def _events(
    providers: Mapping[ProviderName, ChatProvider], candidate: Candidate, request: ChatRequest
) -> AsyncGenerator[ChatEvent, None]:
    key = None if candidate.credential is None else candidate.credential.key
    return providers[candidate.provider].stream(request, key)


def _retry_wait(failure: ProviderError, attempt: int, policy: RetryPolicy, rand: random.Random) -> float | None:
    if not failure.retryable or attempt >= policy.attempts:
        return None
    retry_after = failure.retry_after_s if isinstance(failure, ProviderRateLimitedError) else None
    return policy.delay(attempt, retry_after, rand)


def _finished(candidate: Candidate, finished: Finished, *, attempts: int) -> TurnFinished:
    cost = pricing.cost_usd(candidate.provider, finished.model, finished.input_tokens, finished.output_tokens)
    if cost is None:  # the answer names a model we do not list: try the one we asked for
        cost = pricing.cost_usd(candidate.provider, candidate.model, finished.input_tokens, finished.output_tokens)
    return TurnFinished(finished, candidate.provider, candidate.key_source, cost, attempts)


def _log_attempt(candidate: Candidate, failure: ProviderError, attempt: int, wait: float | None) -> None:
    log.log(
        "WARNING",
        "ai provider call failed",
        provider=candidate.provider,
        model=candidate.model,
        key_source=candidate.key_source,
        error=failure.kind,
        provider_status=failure.status,
        code=failure.code,
        attempt=attempt,
        retry_in_s=None if wait is None else round(wait, 3),
    )
