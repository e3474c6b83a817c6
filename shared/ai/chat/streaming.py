"""A begun turn's answer as an HTTP response: server-sent events, or one JSON object when asked.

Both are Responses whose work runs when the server sends them, which is after the route's transaction
has committed: no transaction is open while the provider answers.

Streaming, the provider is read by a task of its own, started when the response starts (before its
headers are sent), that hands text to the response through a queue; the response waits on the queue
with a heartbeat. When the client goes away, Starlette cancels the
response: the provider task is stopped and what it said is stored, marked interrupted, in a scope the
cancellation cannot reach (the store is also a task of its own, so even a second cancellation leaves it
to finish).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import anyio
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from shared.ai.chat import sse
from shared.ai.chat.schemas import TurnUsage, TurnView
from shared.ai.chat.store import Stored, finish
from shared.ai.chat.turn import Outcome, Turn, run
from shared.ai.errors import AiInterruptedError, AiRequestRefusedError, AiUnavailableError
from shared.ai.providers.base import TextDelta
from shared.ai.providers.errors import NoProviderError, ProviderError, StreamInterruptedError
from shared.platform import logging as log
from shared.platform.errors import AppError, internal_problem, problem_from
from shared.platform.responses import error_response

HEARTBEAT_S = 15.0
"""Seconds of silence after which a heartbeat is sent (proxies commonly close idle streams after 30–60 s)."""
T = TypeVar("T")
_END = object()
_running: set[asyncio.Task[Any]] = set()
"""Stores still running after their response was cancelled: kept referenced until they finish."""


def event_stream(turn: Turn) -> StreamingResponse:
    """The answer as server-sent events: `start`, `delta`s, then `done` (or `error`)."""
    return _EventStream(turn)


def json_answer(turn: Turn) -> Response:
    """The answer as one JSON object (TurnView), or its problem when the provider failed."""
    return _JsonAnswer(turn)


class _EventStream(StreamingResponse):
    """The answer's events; the provider is asked as soon as the response starts, before its headers go out.

    The provider's first token is then not waiting on the headers and the `start` event being written.
    Should the client be gone before the first event is written (the events never run), what the
    provider said is stored all the same, marked interrupted.
    """

    def __init__(self, turn: Turn) -> None:
        self.turn, self.outcome = turn, Outcome()
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.producer: asyncio.Task[None] | None = None
        self.started = False
        super().__init__(self._events(), media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.producer = asyncio.create_task(_produce(self.turn, self.outcome, self.queue))
        try:
            await super().__call__(scope, receive, send)
        finally:
            if not self.started:
                self.outcome.client_left = True
                await _shielded(_stop_and_finish(self.producer, self.turn, self.outcome))

    async def _events(self) -> AsyncIterator[bytes]:
        self.started = True
        turn, outcome, producer = self.turn, self.outcome, self.producer
        assert producer is not None
        yield sse.event("start", {"conversation_id": turn.conversation_id, "title": turn.title, "user_seq": turn.user_seq})
        try:
            while (chunk := await _next(self.queue)) is not None:
                yield chunk
        except BaseException:  # the client went away (cancelled, or the generator closed): keep what was said
            outcome.client_left = True
            await _shielded(_stop_and_finish(producer, turn, outcome))
            raise
        try:
            stored = await _shielded(finish(turn, outcome))
        except Exception as exc:
            log.error("ai turn could not be stored", request_id=turn.request_id, error=type(exc).__name__)
            problem = problem_from(exc, turn.request_id) if isinstance(exc, AppError) else internal_problem(turn.request_id)
            yield sse.event("error", problem.to_dict())
            return
        failure = problem_of(outcome, turn)
        if failure is not None:
            yield sse.event("error", {**problem_from(failure, turn.request_id).to_dict(), **_ids(turn, stored)})
        else:
            yield sse.event("done", view_of(turn, outcome, stored).model_dump(mode="json", exclude={"content"}))


async def _produce(turn: Turn, outcome: Outcome, queue: asyncio.Queue[object]) -> None:
    try:
        await run(turn, outcome, queue.put_nowait)
    finally:
        queue.put_nowait(_END)


async def _next(queue: asyncio.Queue[object]) -> bytes | None:
    """The next event to send: a delta, a heartbeat after HEARTBEAT_S of silence, or None at the end."""
    try:
        item = queue.get_nowait()
    except asyncio.QueueEmpty:
        try:
            async with asyncio.timeout(HEARTBEAT_S):
                item = await queue.get()
        except TimeoutError:
            return sse.HEARTBEAT
    if isinstance(item, TextDelta):
        return sse.delta(item.text)
    return None


async def _stop_and_finish(producer: asyncio.Task[None], turn: Turn, outcome: Outcome) -> Stored:
    producer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await producer
    return await finish(turn, outcome)


async def _shielded(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to the end even when the caller is cancelled (Starlette cancels a response whose client left)."""
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_running.discard)
    with anyio.CancelScope(shield=True):
        result = await asyncio.shield(task)
    return result


def problem_of(outcome: Outcome, turn: Turn) -> AppError | None:
    """The problem a provider failure is told as; None when the answer is whole."""
    failure = outcome.failure
    if isinstance(failure, NoProviderError):
        return AiUnavailableError("No AI provider could answer right now; try again in a moment.")
    if isinstance(failure, StreamInterruptedError):
        return AiInterruptedError("The answer broke off; what arrived is stored in the conversation.")
    if isinstance(failure, ProviderError):
        return AiRequestRefusedError("The AI provider refused this request.")
    return None


def view_of(turn: Turn, outcome: Outcome, stored: Stored) -> TurnView:
    """The stored answer as the caller sees it."""
    return TurnView(
        conversation_id=turn.conversation_id,
        title=turn.title,
        user_seq=turn.user_seq,
        message_id=stored.message_id,
        seq=stored.seq,
        content=outcome.text,
        provider=stored.provider,
        model=stored.model,
        finish_reason=stored.finish_reason,  # type: ignore[arg-type]  # one of FinishReason by construction
        usage=TurnUsage(
            input_tokens=stored.input_tokens,
            output_tokens=stored.output_tokens,
            cost_usd=None if stored.cost_usd is None else float(stored.cost_usd),
        ),
        latency_ms=stored.latency_ms,
        first_token_ms=outcome.first_token_ms,
    )


def _ids(turn: Turn, stored: Stored) -> dict[str, object]:
    return {"conversation_id": str(turn.conversation_id), "message_id": stored.message_id and str(stored.message_id)}


class _JsonAnswer(Response):
    """A response whose body is the turn's answer, computed when it is sent (after the route's COMMIT)."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.status_code = 200
        self.background = None
        self.body = b""
        self.raw_headers = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        turn, outcome = self.turn, Outcome()
        await run(turn, outcome)
        try:
            stored = await _shielded(finish(turn, outcome))
        except Exception as exc:  # the answer could not be stored: say so as the route would have
            log.error("ai turn could not be stored", request_id=turn.request_id, error=type(exc).__name__)
            await error_response(exc, turn.request_id, None)(scope, receive, send)
            return
        failure = problem_of(outcome, turn)
        if failure is None:
            body = view_of(turn, outcome, stored).model_dump_json().encode()
            media = b"application/json"
        else:
            self.status_code = failure.status
            problem = {**problem_from(failure, turn.request_id).to_dict(), **_ids(turn, stored)}
            body = _json(problem)
            media = b"application/problem+json"
        self.body = body
        self.raw_headers += [(b"content-type", media), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": body})


def _json(value: object) -> bytes:
    return json.dumps(value, default=str, separators=(",", ":")).encode()
