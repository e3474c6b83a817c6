"""The three provider adapters against their documented request shapes and streams (respx stands in)."""

from __future__ import annotations

import json
import pickle
import traceback

import httpx
import pytest
import respx

from shared.ai.keys import ApiKey
from shared.ai.providers.base import ChatRequest, Finished, TextDelta
from shared.ai.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderRequestError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    StreamInterruptedError,
)
from shared.ai.providers.transport import HttpProvider, retry_after
from tests.ai_streams import (
    ANSWER,
    ANTHROPIC,
    GEMINI,
    KEY,
    KEY_VALUE,
    OPENAI,
    WIRES,
    Wire,
    breaking,
    echoing_error,
    request,
    sse,
    until_first_text,
)

ids = [wire.name for wire in WIRES]


async def run(provider: HttpProvider, chat: ChatRequest, key: ApiKey | None = KEY) -> tuple[list[str], Finished]:
    """Every text delta and the Finished event of one answer."""
    pieces: list[str] = []
    finished: list[Finished] = []
    async for event in provider.stream(chat, key):
        if isinstance(event, TextDelta):
            assert not finished, "text after Finished"
            pieces.append(event.text)
        else:
            finished.append(event)
    assert len(finished) == 1
    return pieces, finished[0]


async def failure(wire: Wire, response: httpx.Response | Exception) -> ProviderError:
    """The error one call raises when the provider answers `response`; the text it yielded is checked by callers."""
    with respx.mock(assert_all_called=True) as router:
        router.post(wire.url).mock(side_effect=[response])
        with pytest.raises(ProviderError) as raised:
            await run(wire.provider(), request(wire.model))
    return raised.value


# --- the request each provider is sent -------------------------------------------------------------------


async def test_openai_is_sent_chat_completions_with_usage_in_the_stream() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(OPENAI.url).mock(return_value=sse(OPENAI.sample()))
        await run(OPENAI.provider(), request("gpt-4.1-mini"))
    sent = route.calls.last.request
    assert json.loads(sent.content) == {
        "model": "gpt-4.1-mini",
        "messages": [
            {"role": "system", "content": "You are a fitness coach."},
            {"role": "user", "content": "How do I start?"},
            {"role": "assistant", "content": "Gently."},
            {"role": "user", "content": "And before running?"},
        ],
        "temperature": 0.3,
        "max_completion_tokens": 256,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert sent.headers["authorization"] == f"Bearer {KEY_VALUE}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["accept"] == "text/event-stream"


async def test_anthropic_is_sent_messages_with_the_system_prompt_apart_and_its_version_header() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(ANTHROPIC.url).mock(return_value=sse(ANTHROPIC.sample()))
        await run(ANTHROPIC.provider(), request("claude-haiku-4-5"))
    sent = route.calls.last.request
    assert json.loads(sent.content) == {
        "model": "claude-haiku-4-5",
        "max_tokens": 256,
        "system": "You are a fitness coach.",
        "messages": [
            {"role": "user", "content": "How do I start?"},
            {"role": "assistant", "content": "Gently."},
            {"role": "user", "content": "And before running?"},
        ],
        "temperature": 0.3,
        "stream": True,
    }
    assert sent.headers["x-api-key"] == KEY_VALUE
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in sent.headers


async def test_gemini_is_sent_stream_generate_content_with_the_key_in_a_header_not_the_url() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(GEMINI.url).mock(return_value=sse(GEMINI.sample()))
        await run(GEMINI.provider(), request("gemini-2.5-flash"))
    sent = route.calls.last.request
    assert json.loads(sent.content) == {
        "contents": [
            {"role": "user", "parts": [{"text": "How do I start?"}]},
            {"role": "model", "parts": [{"text": "Gently."}]},
            {"role": "user", "parts": [{"text": "And before running?"}]},
        ],
        "systemInstruction": {"parts": [{"text": "You are a fitness coach."}]},
        "generationConfig": {"temperature": 0.3, "maxOutputTokens": 256},
    }
    assert sent.headers["x-goog-api-key"] == KEY_VALUE
    assert dict(sent.url.params) == {"alt": "sse"}
    assert KEY_VALUE not in str(sent.url)


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_an_empty_system_prompt_is_not_sent(wire: Wire) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(wire.url).mock(return_value=sse(wire.sample()))
        await run(wire.provider(), request(wire.model, system=""))
    sent = json.loads(route.calls.last.request.content)
    assert "system" not in sent and "systemInstruction" not in sent
    assert all(message.get("role") != "system" for message in sent.get("messages", []))


async def test_gemini_model_name_cannot_reach_another_path() -> None:
    call = GEMINI.wire.call(request("../tunedModels/x?key=1"))
    assert call.url.startswith("https://generativelanguage.googleapis.com/v1beta/models/..%2FtunedModels%2Fx%3Fkey%3D1:")


# --- normal streams ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_answer_streams_in_order_then_usage_finish_reason_and_the_providers_model(wire: Wire) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.post(wire.url).mock(return_value=sse(wire.sample()))
        pieces, finished = await run(wire.provider(), request(wire.model))
    assert pieces == ["Warm up", " for ten minutes."]
    assert "".join(pieces) == ANSWER
    assert (finished.input_tokens, finished.output_tokens) == wire.usage
    assert finished.finish_reason == "stop"
    assert finished.model == wire.answered_model
    assert finished.first_token_ms is not None and finished.latency_ms >= finished.first_token_ms


@pytest.mark.parametrize(
    ("wire", "marker", "replacement"),
    [
        (OPENAI, '"finish_reason":"stop"', '"finish_reason":"length"'),
        (ANTHROPIC, '"stop_reason":"end_turn"', '"stop_reason":"max_tokens"'),
        (GEMINI, '"finishReason":"STOP"', '"finishReason":"MAX_TOKENS"'),
    ],
    ids=ids,
)
async def test_answer_cut_at_the_token_limit_finishes_with_length(wire: Wire, marker: str, replacement: str) -> None:
    assert marker in wire.sample()
    with respx.mock() as router:
        router.post(wire.url).mock(return_value=sse(wire.sample().replace(marker, replacement)))
        _, finished = await run(wire.provider(), request(wire.model))
    assert finished.finish_reason == "length"


# --- failures before the first token ---------------------------------------------------------------------


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_429_is_rate_limited_and_carries_retry_after(wire: Wire) -> None:
    error = await failure(wire, httpx.Response(429, headers={"retry-after": "7"}, json={}))
    assert isinstance(error, ProviderRateLimitedError)
    assert error.retry_after_s == 7.0 and error.retryable and error.fallback_allowed


@pytest.mark.parametrize("wire", WIRES, ids=ids)
@pytest.mark.parametrize("status", [500, 502, 503, 529])
async def test_5xx_is_unavailable_and_retryable(wire: Wire, status: int) -> None:
    error = await failure(wire, httpx.Response(status, text="<html>upstream error</html>"))
    assert isinstance(error, ProviderUnavailableError)
    assert error.status == status and error.retryable and error.fallback_allowed


@pytest.mark.parametrize("wire", WIRES, ids=ids)
@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_key_is_an_auth_error_that_is_not_retried_but_may_fall_back(wire: Wire, status: int) -> None:
    error = await failure(wire, echoing_error(status, wire))
    assert isinstance(error, ProviderAuthError)
    assert not error.retryable and error.fallback_allowed


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_400_is_a_bad_request_neither_retried_nor_passed_on(wire: Wire) -> None:
    error = await failure(wire, httpx.Response(400, json={"error": {"type": "invalid_request_error"}}))
    assert isinstance(error, ProviderRequestError)
    assert not error.retryable and not error.fallback_allowed


async def test_gemini_invalid_key_400_is_an_auth_error() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
        }
    }
    error = await failure(GEMINI, httpx.Response(400, json=body))
    assert isinstance(error, ProviderAuthError) and error.code == "api_key_invalid"


async def test_openai_exhausted_balance_is_not_retried_but_falls_back() -> None:
    body = {"error": {"type": "insufficient_quota", "code": "insufficient_quota", "message": "You exceeded…"}}
    error = await failure(OPENAI, httpx.Response(429, json=body))
    assert isinstance(error, ProviderRateLimitedError)
    assert not error.retryable and error.fallback_allowed


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_connect_failure_is_unavailable_and_retryable(wire: Wire) -> None:
    error = await failure(wire, httpx.ConnectError("connection refused"))
    assert isinstance(error, ProviderUnavailableError) and error.retryable


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_no_first_byte_within_the_read_timeout_is_a_timeout_not_retried(wire: Wire) -> None:
    error = await failure(wire, httpx.ReadTimeout("timed out"))
    assert isinstance(error, ProviderTimeoutError)
    assert not error.retryable and error.fallback_allowed


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_unreadable_event_before_any_text_is_unavailable_and_may_fall_back(wire: Wire) -> None:
    error = await failure(wire, sse("data: {not json\n\n"))
    assert isinstance(error, ProviderUnavailableError)
    assert not error.retryable and error.fallback_allowed


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_empty_stream_is_an_answer_ended_early(wire: Wire) -> None:
    error = await failure(wire, sse(""))
    assert isinstance(error, ProviderUnavailableError) and not error.retryable


async def test_anthropic_overloaded_event_before_any_text_is_retryable() -> None:
    start = ANTHROPIC.events()[0]
    overloaded = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    error = await failure(ANTHROPIC, sse(start + overloaded))
    assert isinstance(error, ProviderUnavailableError)
    assert error.retryable and error.code == "overloaded_error"


async def test_turn_deadline_stops_a_stream_that_keeps_going() -> None:
    with respx.mock() as router:
        router.post(OPENAI.url).mock(return_value=sse(OPENAI.sample()))
        with pytest.raises(ProviderTimeoutError):
            await run(OPENAI.provider(), request(OPENAI.model, timeouts=request().timeouts.__class__(total_s=0.0)))


async def test_no_key_is_an_auth_error_and_nothing_is_sent() -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.post(OPENAI.url).mock(return_value=sse(OPENAI.sample()))
        with pytest.raises(ProviderAuthError):
            await run(OPENAI.provider(), request(), key=None)
    assert not route.called


# --- failures after the first token -------------------------------------------------------------------------


async def interrupted(wire: Wire, response: httpx.Response) -> tuple[list[str], StreamInterruptedError]:
    pieces: list[str] = []
    with respx.mock() as router:
        router.post(wire.url).mock(return_value=response)
        with pytest.raises(StreamInterruptedError) as raised:
            async for event in wire.provider().stream(request(wire.model), KEY):
                assert isinstance(event, TextDelta), "no Finished after a failure"
                pieces.append(event.text)
    return pieces, raised.value


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_connection_dropped_mid_answer_ends_it_interrupted_with_the_partial_text(wire: Wire) -> None:
    pieces, error = await interrupted(wire, breaking(until_first_text(wire)))
    assert pieces == ["Warm up"]
    assert error.partial_text == "Warm up" and error.cause_kind == "unavailable"
    assert not error.retryable and not error.fallback_allowed


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_read_timeout_mid_answer_ends_it_interrupted(wire: Wire) -> None:
    _, error = await interrupted(wire, breaking(until_first_text(wire), httpx.ReadTimeout("timed out")))
    assert error.partial_text == "Warm up" and error.cause_kind == "timeout"


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_stream_closed_before_its_last_event_is_interrupted_not_finished(wire: Wire) -> None:
    _, error = await interrupted(wire, sse(until_first_text(wire)))
    assert error.partial_text == "Warm up"


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_unreadable_event_after_text_is_interrupted(wire: Wire) -> None:
    _, error = await interrupted(wire, sse(until_first_text(wire) + "data: {oops\n\n"))
    assert error.partial_text == "Warm up" and error.cause_kind == "unavailable"


async def test_anthropic_error_event_after_text_is_interrupted() -> None:
    overloaded = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    _, error = await interrupted(ANTHROPIC, sse(until_first_text(ANTHROPIC) + overloaded))
    assert error.partial_text == "Warm up" and error.code == "overloaded_error"


async def test_openai_error_line_after_text_is_interrupted() -> None:
    line = 'data: {"error":{"message":"The server had an error","type":"server_error","code":null}}\n\n'
    _, error = await interrupted(OPENAI, sse(until_first_text(OPENAI) + line))
    assert error.partial_text == "Warm up" and error.code == "server_error"


# --- keys never show --------------------------------------------------------------------------------------


def leaks_key(error: BaseException) -> bool:
    """Whether the key shows anywhere about the error, in any letter case."""
    return KEY_VALUE.lower() in everything_about(error).lower()


def everything_about(error: BaseException) -> str:
    """What an error reporter could see: message, repr, attributes, the formatted chain, frames' locals."""
    seen = [str(error), repr(error), repr(vars(error)), "".join(traceback.format_exception(error))]
    current: BaseException | None = error
    while current is not None:
        tb = current.__traceback__
        while tb is not None:
            seen.extend(f"{name}={value!r}" for name, value in tb.tb_frame.f_locals.items())
            tb = tb.tb_next
        current = current.__cause__ or current.__context__
    return "\n".join(seen)


@pytest.mark.parametrize("wire", WIRES, ids=ids)
@pytest.mark.parametrize("status", [400, 401, 429, 500])
async def test_a_key_echoed_by_the_provider_never_reaches_the_error(wire: Wire, status: int) -> None:
    error = await failure(wire, echoing_error(status, wire, headers={"x-echo": KEY_VALUE}))
    assert error.__context__ is None and error.__cause__ is None
    assert not leaks_key(error)


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_a_transport_error_carrying_the_request_does_not_leak_the_key(wire: Wire) -> None:
    def refuse(sent: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {sent.headers}", request=sent)

    with respx.mock() as router:
        router.post(wire.url).mock(side_effect=refuse)
        with pytest.raises(ProviderUnavailableError) as raised:
            await run(wire.provider(), request(wire.model))
    assert raised.value.__context__ is None
    assert not leaks_key(raised.value)


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_an_interrupted_answer_does_not_leak_the_key(wire: Wire) -> None:
    error_line = f'data: {{"error": {{"message": "{KEY_VALUE}", "type": "{KEY_VALUE}"}}}}\n\n'
    _, error = await interrupted(wire, sse(until_first_text(wire) + error_line))
    assert not leaks_key(error)


ERROR_EVENTS = {
    "openai": f'data: {{"error": {{"message": "{KEY_VALUE}", "type": "{KEY_VALUE}"}}}}\n\n',
    "anthropic": f'event: error\ndata: {{"type": "error", "error": {{"type": "{KEY_VALUE}", "message": "{KEY_VALUE}"}}}}\n\n',
    "gemini": f'data: {{"error": {{"code": 500, "message": "{KEY_VALUE}", "status": "{KEY_VALUE}"}}}}\n\n',
}


@pytest.mark.parametrize("wire", WIRES, ids=ids)
async def test_an_error_event_echoing_the_key_before_any_text_does_not_leak_it(wire: Wire) -> None:
    error = await failure(wire, sse(ERROR_EVENTS[wire.name]))
    assert isinstance(error, ProviderUnavailableError) and error.code is None
    assert not leaks_key(error)


def test_api_key_hides_itself() -> None:
    assert KEY_VALUE not in repr(KEY) and KEY_VALUE not in str(KEY) and KEY_VALUE not in f"{KEY}"
    assert KEY.reveal() == KEY_VALUE
    with pytest.raises(TypeError):
        pickle.dumps(KEY)


# --- Retry-After ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_seconds_or_milliseconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_retry_after_as_a_date_is_the_seconds_until_then() -> None:
    import email.utils
    import time

    wait = retry_after({"retry-after": email.utils.formatdate(time.time() + 30, usegmt=True)})
    assert wait is not None and 28 <= wait <= 31


