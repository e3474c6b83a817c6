"""A turn across providers: retries before the first token, the fallback order, never a switch mid-answer."""

from __future__ import annotations

import io
import json
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import httpx
import pytest
import respx

from shared.ai.fallback import Candidate, RetryPolicy, TurnEvent, TurnFinished, plan, stream_turn
from shared.ai.keys import ApiKey, Credential
from shared.ai.providers.base import ChatRequest, TextDelta, Timeouts
from shared.ai.providers.errors import (
    NoProviderError,
    ProviderRequestError,
    ProviderUnavailableError,
    StreamInterruptedError,
)
from shared.platform import logging as log
from tests.ai_streams import (
    ANSWER,
    ANTHROPIC,
    GEMINI,
    KEY_VALUE,
    OPENAI,
    breaking,
    echoing_error,
    request,
    sse,
)

COMMUNITY_KEY = "sk-community-own-key-000111222333"
PLATFORM = {
    "openai": Credential("openai", ApiKey(KEY_VALUE), "platform"),
    "anthropic": Credential("anthropic", ApiKey(KEY_VALUE + "-anthropic"), "platform"),
    "gemini": Credential("gemini", ApiKey(KEY_VALUE + "-gemini"), "platform"),
}
COMMUNITY = Credential("openai", ApiKey(COMMUNITY_KEY), "community")
ORDER = ("openai", "anthropic", "gemini")


class Sleeps:
    """Records the waits a turn asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, object]]]:
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


def candidates(community: Credential | None = None) -> list[Candidate]:
    return plan("openai", "gpt-4.1-mini", fallback_order=ORDER, community=community, platform=PLATFORM)


async def turn(
    chat: ChatRequest, chosen: list[Candidate], sleeps: Sleeps, policy: RetryPolicy | None = None
) -> tuple[str, TurnFinished]:
    text, finished = "", []
    events: list[TurnEvent] = []
    async for event in stream_turn(chat, chosen, policy=policy, sleep=sleeps, rand=random.Random(7)):
        events.append(event)
        if isinstance(event, TextDelta):
            text += event.text
        else:
            finished.append(event)
    assert len(finished) == 1 and events[-1] is finished[0]
    return text, finished[0]


# --- the order candidates are tried in ----------------------------------------------------------------------


def test_plan_puts_the_community_key_first_then_the_platform_key_then_the_fallback_order() -> None:
    chosen = candidates(COMMUNITY)
    assert [(c.provider, c.model, c.key_source) for c in chosen] == [
        ("openai", "gpt-4.1-mini", "community"),
        ("openai", "gpt-4.1-mini", "platform"),
        ("anthropic", "claude-haiku-4-5", "platform"),
        ("gemini", "gemini-2.5-flash", "platform"),
    ]
    assert chosen[0].credential is COMMUNITY


def test_plan_starts_with_the_requested_provider_and_skips_providers_without_a_key() -> None:
    chosen = plan(
        "gemini", "gemini-2.5-pro", fallback_order=ORDER, community=None, platform={"openai": PLATFORM["openai"]}
    )
    assert [(c.provider, c.model) for c in chosen] == [("openai", "gpt-4.1-mini")]
    chosen = plan("gemini", "gemini-2.5-pro", fallback_order=("anthropic",), community=None, platform=PLATFORM)
    assert [(c.provider, c.model) for c in chosen] == [("gemini", "gemini-2.5-pro"), ("anthropic", "claude-haiku-4-5")]


def test_plan_is_offline_when_no_key_is_configured_or_offline_is_asked_for() -> None:
    for provider, platform in (("openai", {}), ("offline", PLATFORM)):
        chosen = plan(provider, "gpt-4.1-mini", fallback_order=ORDER, community=None, platform=platform)  # type: ignore[arg-type]
        assert [(c.provider, c.model, c.credential) for c in chosen] == [("offline", "offline-echo", None)]


def test_a_community_key_of_another_provider_is_used_when_that_provider_comes_up() -> None:
    own_anthropic = Credential("anthropic", ApiKey(COMMUNITY_KEY), "community")
    chosen = plan("openai", "gpt-4.1-mini", fallback_order=ORDER, community=own_anthropic, platform={})
    assert [(c.provider, c.key_source) for c in chosen] == [("anthropic", "community")]


# --- retries and fallbacks ----------------------------------------------------------------------------------


async def test_429_then_success_is_retried_after_the_providers_retry_after(sleeps: Sleeps) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(OPENAI.url).mock(
            side_effect=[httpx.Response(429, headers={"retry-after": "2"}, json={}), sse(OPENAI.sample())]
        )
        text, finished = await turn(request(), candidates(), sleeps)
    assert text == ANSWER
    assert route.call_count == 2 and sleeps.waits == [2.0]
    assert (finished.provider, finished.key_source, finished.attempts) == ("openai", "platform", 2)


async def test_retries_without_retry_after_back_off_exponentially_with_jitter(sleeps: Sleeps) -> None:
    policy = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=3.0)
    with respx.mock(assert_all_called=True) as router:
        route = router.post(OPENAI.url).mock(
            side_effect=[httpx.Response(503), httpx.Response(502), httpx.ConnectError("refused"), sse(OPENAI.sample())]
        )
        text, finished = await turn(request(), candidates(), sleeps, policy)
    assert text == ANSWER and route.call_count == 4 and finished.attempts == 4
    ceilings = [1.0, 2.0, 3.0]  # 1·2^(n-1), capped at max_delay_s
    assert len(sleeps.waits) == 3
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleeps.waits, ceilings, strict=True))
    assert len(set(sleeps.waits)) == 3, "jittered, not fixed"


def test_full_jitter_stays_under_its_ceiling_and_spreads() -> None:
    policy, rand = RetryPolicy(base_delay_s=0.5, max_delay_s=8.0), random.Random(1)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (6, 8.0), (9, 8.0)):
        waits = [policy.delay(attempt, None, rand) for _ in range(200)]
        assert all(w is not None and 0 <= w <= ceiling for w in waits)
        assert max(w for w in waits if w is not None) > ceiling * 0.8
    assert policy.delay(1, 3.0, rand) == 3.0
    assert policy.delay(1, policy.max_retry_after_s + 1, rand) is None


async def test_500_until_retries_run_out_falls_back_to_the_next_provider(sleeps: Sleeps) -> None:
    with respx.mock(assert_all_called=True) as router:
        openai = router.post(OPENAI.url).mock(return_value=httpx.Response(500))
        anthropic = router.post(ANTHROPIC.url).mock(return_value=sse(ANTHROPIC.sample()))
        text, finished = await turn(request(), candidates(), sleeps)
    assert text == ANSWER
    assert openai.call_count == RetryPolicy().attempts and anthropic.call_count == 1
    assert len(sleeps.waits) == RetryPolicy().attempts - 1
    assert (finished.provider, finished.finished.model, finished.attempts) == (
        "anthropic", "claude-haiku-4-5-20251001", RetryPolicy().attempts + 1
    )
    assert json.loads(anthropic.calls.last.request.content)["model"] == "claude-haiku-4-5"


async def test_a_retry_after_longer_than_we_wait_moves_on_at_once(sleeps: Sleeps) -> None:
    with respx.mock(assert_all_called=True) as router:
        openai = router.post(OPENAI.url).mock(return_value=httpx.Response(429, headers={"retry-after": "600"}))
        router.post(ANTHROPIC.url).mock(return_value=sse(ANTHROPIC.sample()))
        _, finished = await turn(request(), candidates(), sleeps)
    assert openai.call_count == 1 and sleeps.waits == [] and finished.provider == "anthropic"


async def test_a_refused_community_key_is_not_retried_and_the_platform_key_answers(sleeps: Sleeps) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(OPENAI.url).mock(side_effect=[echoing_error(401, OPENAI), sse(OPENAI.sample())])
        text, finished = await turn(request(), candidates(COMMUNITY), sleeps)
    assert text == ANSWER and sleeps.waits == []
    sent = [call.request.headers["authorization"] for call in route.calls]
    assert sent == [f"Bearer {COMMUNITY_KEY}", f"Bearer {KEY_VALUE}"]
    assert finished.key_source == "platform"


async def test_a_bad_request_is_not_retried_nor_sent_to_another_provider(sleeps: Sleeps) -> None:
    with respx.mock(assert_all_called=False) as router:
        openai = router.post(OPENAI.url).mock(return_value=httpx.Response(400, json={"error": {"type": "invalid_request_error"}}))
        anthropic = router.post(ANTHROPIC.url).mock(return_value=sse(ANTHROPIC.sample()))
        with pytest.raises(ProviderRequestError):
            await turn(request(), candidates(), sleeps)
    assert openai.call_count == 1 and not anthropic.called and sleeps.waits == []


async def test_a_failure_after_the_first_token_ends_the_turn_interrupted_without_switching(sleeps: Sleeps) -> None:
    first = "".join(OPENAI.events()[:2])
    received: list[str] = []
    with respx.mock(assert_all_called=False) as router:
        openai = router.post(OPENAI.url).mock(return_value=breaking(first))
        anthropic = router.post(ANTHROPIC.url).mock(return_value=sse(ANTHROPIC.sample()))
        with pytest.raises(StreamInterruptedError) as raised:
            async for event in stream_turn(request(), candidates(), sleep=sleeps):
                assert isinstance(event, TextDelta)
                received.append(event.text)
    assert received == ["Warm up"] and raised.value.partial_text == "Warm up"
    assert raised.value.provider == "openai"
    assert openai.call_count == 1 and not anthropic.called and sleeps.waits == []


async def test_every_provider_failing_raises_no_provider_with_their_errors_in_order(sleeps: Sleeps) -> None:
    policy = RetryPolicy(attempts=1)
    with respx.mock(assert_all_called=True) as router:
        router.post(OPENAI.url).mock(return_value=httpx.Response(503))
        router.post(ANTHROPIC.url).mock(side_effect=httpx.ReadTimeout("slow"))
        router.post(GEMINI.url).mock(return_value=echoing_error(403, GEMINI))
        with pytest.raises(NoProviderError) as raised:
            await turn(request(), candidates(), sleeps, policy)
    assert [(e.provider, e.kind) for e in raised.value.errors] == [
        ("openai", "unavailable"), ("anthropic", "timeout"), ("gemini", "auth")
    ]
    assert KEY_VALUE not in str(raised.value) and KEY_VALUE not in repr(raised.value.errors)


async def test_a_turn_past_its_deadline_tries_no_further_candidate(sleeps: Sleeps) -> None:
    chat = request(timeouts=Timeouts(total_s=0.0))
    with respx.mock(assert_all_called=False) as router:
        openai = router.post(OPENAI.url).mock(return_value=sse(OPENAI.sample()))
        with pytest.raises(NoProviderError) as raised:
            await turn(chat, candidates(), sleeps)
    assert not openai.called and raised.value.errors[0].kind == "timeout"


async def test_the_offline_candidate_answers_without_a_network_call(sleeps: Sleeps) -> None:
    offline = plan("openai", "gpt-4.1-mini", fallback_order=ORDER, community=None, platform={})
    with respx.mock(assert_all_called=False) as router:
        text, finished = await turn(request(), offline, sleeps)
    assert not router.calls
    assert text.startswith("[offline] ") and finished.provider == "offline"
    assert finished.cost_usd == Decimal(0) and finished.key_source is None


async def test_the_cost_of_a_turn_is_priced_from_the_answering_model(sleeps: Sleeps) -> None:
    with respx.mock() as router:
        router.post(OPENAI.url).mock(return_value=sse(OPENAI.sample()))
        _, finished = await turn(request(), candidates(), sleeps)
    # gpt-4.1-mini: $0.40 in, $1.60 out per million; 31 in, 7 out.
    assert finished.cost_usd == Decimal("0.0000236")


async def test_failed_attempts_are_logged_without_the_key(
    sleeps: Sleeps, log_lines: Callable[[], list[dict[str, object]]]
) -> None:
    with respx.mock() as router:
        router.post(OPENAI.url).mock(side_effect=[echoing_error(401, OPENAI), echoing_error(500, OPENAI)])
        router.post(ANTHROPIC.url).mock(return_value=sse(ANTHROPIC.sample()))
        await turn(request(), candidates(COMMUNITY), sleeps, RetryPolicy(attempts=1))
    lines = log_lines()
    assert [(line["provider"], line["key_source"], line["error"]) for line in lines] == [
        ("openai", "community", "auth"), ("openai", "platform", "unavailable")
    ]
    everything = json.dumps(lines)
    assert KEY_VALUE not in everything and COMMUNITY_KEY not in everything


async def test_a_client_that_stops_reading_closes_the_provider_stream(sleeps: Sleeps) -> None:
    closed: list[bool] = []

    class Tracked(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for event in OPENAI.events():
                yield event.encode()

        async def aclose(self) -> None:
            closed.append(True)

    with respx.mock() as router:
        router.post(OPENAI.url).mock(return_value=httpx.Response(200, stream=Tracked()))
        stream = stream_turn(request(), candidates(), sleep=sleeps)
        first = await anext(stream)
        await stream.aclose()
    assert isinstance(first, TextDelta) and closed == [True]


class HalfAnswer:
    """A provider that says a little and then fails with an ordinary error (not StreamInterruptedError)."""

    name = "openai"

    async def stream(self, chat: ChatRequest, key: ApiKey | None) -> AsyncIterator[TextDelta]:
        yield TextDelta("Warm")
        raise ProviderUnavailableError("openai", "failed while answering")


async def test_any_provider_failing_after_its_first_token_is_interrupted_not_retried(sleeps: Sleeps) -> None:
    providers = {"openai": HalfAnswer(), "anthropic": HalfAnswer()}
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as raised:
        async for event in stream_turn(request(), candidates(), providers=providers, sleep=sleeps):  # type: ignore[arg-type]
            assert isinstance(event, TextDelta)
            received.append(event.text)
    assert received == ["Warm"] and raised.value.partial_text == "Warm"
    assert raised.value.cause_kind == "unavailable" and sleeps.waits == []
