"""One streaming HTTP call to a provider over httpx, shared by the three adapters.

An adapter (`WireFormat`) says how to build the request, read its events and name its errors; this
module sends it with explicit timeouts, turns every failure into a ProviderError, and once text has
been yielded turns any failure into StreamInterruptedError carrying that text. httpx is imported here
only when a provider is first called (a function's import stays light).

Failures are raised after the `except` block that caught them, so no exception we raise keeps an
httpx exception (and the request with its key header) as its `__context__`; and the revealed key is
never held in a local variable of the frame that raises (error reporters record frames' locals).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shared.ai.keys import ApiKey, KeyProvider
from shared.ai.providers.base import ChatEvent, ChatRequest, Finished, FinishReason, TextDelta, Timeouts
from shared.ai.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderRequestError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    StreamInterruptedError,
)
from shared.ai.providers.sse import ServerSentEvent, events

if TYPE_CHECKING:
    import httpx

ERROR_BODY_LIMIT = 64 * 1024
"""Bytes of an error answer read to classify it; the rest is dropped."""


@dataclass(frozen=True, slots=True)
class HttpCall:
    """The request an adapter builds: where, which headers (not the key's), which JSON."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    """What an adapter read from a complete stream."""

    input_tokens: int
    output_tokens: int
    finish_reason: FinishReason
    model: str


class Decoder(Protocol):
    """Reads one answer's events: text pieces as they come, usage at the end."""

    def feed(self, event: ServerSentEvent) -> list[str]:
        """The text this event adds (often none); raises a ProviderError for an error or unreadable event."""
        ...

    def finish(self) -> Usage:
        """Usage once the stream ended; raises ProviderUnavailableError if it ended before its last event."""
        ...


class WireFormat(Protocol):
    """One provider's request shape, stream format and error answers."""

    name: KeyProvider

    def call(self, request: ChatRequest) -> HttpCall:
        """The HTTP request for a chat turn, without its key."""
        ...

    def auth_headers(self, key: ApiKey) -> dict[str, str]:
        """The header that carries the key (never the URL)."""
        ...

    def decoder(self, request: ChatRequest) -> Decoder:
        """A fresh decoder for one answer."""
        ...

    def error(self, status: int, body: Any, headers: Mapping[str, str]) -> ProviderError:
        """The error a non-2xx answer means (`body` is its parsed JSON, or None)."""
        ...


def json_event(provider: str, event: ServerSentEvent) -> dict[str, Any]:
    """An event's data as a JSON object, or the error an unreadable event is."""
    try:
        data = json.loads(event.data)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderUnavailableError(provider, "sent an event we could not read", retryable=False)
    return data


def by_status(
    provider: str, status: int, code: str | None, headers: Mapping[str, str]
) -> ProviderError:
    """The usual meaning of an HTTP error status (adapters handle their exceptions first)."""
    if status == 429:
        return ProviderRateLimitedError(provider, code=code, retry_after_s=retry_after(headers))
    if status in (401, 403):
        return ProviderAuthError(provider, "refused the key", status=status, code=code)
    if status in (408, 409) or status >= 500:  # 529: Anthropic's "overloaded"
        return ProviderUnavailableError(provider, status=status, code=code)
    return ProviderRequestError(provider, "refused the request", status=status, code=code)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the provider asked us to wait: `retry-after-ms`, `retry-after` (seconds or a date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Clients:
    """One httpx client per instance (its connection pool is reused across turns), per event loop."""

    def __init__(self) -> None:
        self.client: httpx.AsyncClient | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        import httpx

        loop = asyncio.get_running_loop()
        if self.client is None or self.loop is not loop:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            self.client, self.loop = httpx.AsyncClient(limits=limits, follow_redirects=False), loop
        return self.client


clients = _Clients()


def _timeout(timeouts: Timeouts) -> httpx.Timeout:
    import httpx

    return httpx.Timeout(
        connect=timeouts.connect_s, read=timeouts.read_s, write=timeouts.connect_s, pool=timeouts.connect_s
    )


def _transport_error(provider: str, exc: Exception) -> ProviderError:
    """What an httpx exception means; only its class name is kept (it carries the request)."""
    import httpx

    kind = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ConnectError):
        return ProviderUnavailableError(provider, f"could not be reached ({kind})")
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeoutError(provider, f"did not answer in time ({kind})")
    # The request was sent: a broken answer is not retried (it may have been billed), the next provider is.
    return ProviderUnavailableError(provider, f"broke the connection ({kind})", retryable=False)


async def _error_body(response: httpx.Response) -> Any:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= ERROR_BODY_LIMIT:
            break
    try:
        return json.loads(b"".join(chunks)[:ERROR_BODY_LIMIT])
    except ValueError:
        return None


class HttpProvider:
    """A ChatProvider over one WireFormat."""

    def __init__(self, wire: WireFormat) -> None:
        self.wire = wire
        self.name = wire.name

    async def stream(self, request: ChatRequest, key: ApiKey | None) -> AsyncGenerator[ChatEvent, None]:
        """Text deltas then Finished; ProviderError before the first token, StreamInterruptedError after."""
        import httpx

        if key is None:
            raise ProviderAuthError(self.name, "has no key configured")
        started = time.monotonic()
        deadline = started + request.timeouts.total_s
        call = self.wire.call(request)
        decoder = self.wire.decoder(request)
        answered: list[str] = []
        first_token_ms: int | None = None
        usage: Usage | None = None
        failure: ProviderError | None = None
        try:
            async with clients.get().stream(
                "POST",
                call.url,
                headers={**call.headers, **self.wire.auth_headers(key)},
                json=call.body,
                timeout=_timeout(request.timeouts),
            ) as response:
                if response.status_code >= 300:
                    failure = self.wire.error(response.status_code, await _error_body(response), response.headers)
                else:
                    async with aclosing(_pieces(response, decoder)) as pieces:
                        async for piece in pieces:
                            if piece:
                                if first_token_ms is None:
                                    first_token_ms = _ms_since(started)
                                answered.append(piece)
                                yield TextDelta(piece)
                            if time.monotonic() > deadline:
                                failure = ProviderTimeoutError(self.name, "took longer than the turn allows")
                                break
                        else:
                            usage = decoder.finish()
        except ProviderError as exc:
            failure = exc
        except httpx.HTTPError as exc:
            failure = _transport_error(self.name, exc)
        if failure is not None or usage is None:
            failure = failure or ProviderUnavailableError(self.name, "ended the answer early", retryable=False)
            if answered:
                raise StreamInterruptedError(
                    self.name, "".join(answered), failure, model=request.model, latency_ms=_ms_since(started)
                )
            raise failure.with_traceback(None)  # the decoder's frames held the provider's events
        yield Finished(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            finish_reason=usage.finish_reason,
            model=usage.model or request.model,
            latency_ms=_ms_since(started),
            first_token_ms=first_token_ms,
        )


async def _pieces(response: httpx.Response, decoder: Decoder) -> AsyncGenerator[str, None]:
    """Text pieces of the answer, "" for events without text (so the deadline is checked on each).

    A frame of its own: the events it reads (which may echo anything the provider was sent) are not
    locals of the frame that raises.
    """
    async for event in events(response.aiter_lines()):
        pieces = decoder.feed(event)
        for piece in pieces:
            yield piece
        if not pieces:
            yield ""


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
