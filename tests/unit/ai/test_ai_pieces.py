"""The small parts of the AI provider layer: the SSE reader, the offline provider, prices, settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from shared.ai import pricing
from shared.ai.keys import platform_keys
from shared.ai.providers.base import ChatMessage, Finished, TextDelta
from shared.ai.providers.offline import OfflineProvider, answer_to
from shared.ai.providers.sse import ServerSentEvent, events
from shared.platform.config import load_settings
from shared.platform.errors import ConfigError
from tests.ai_streams import request

# --- server-sent events -------------------------------------------------------------------------------------


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def read(*items: str) -> list[ServerSentEvent]:
    return [event async for event in events(lines(*items))]


async def test_sse_joins_data_lines_names_events_and_skips_comments_ids_and_retries() -> None:
    got = await read(
        ": keep-alive", "", "event: message_start", "data: {\"a\":", "data:1}", "id: 7", "retry: 100", "",
        "data: plain", "",
    )
    assert got == [ServerSentEvent("message_start", '{"a":\n1}'), ServerSentEvent("message", "plain")]


async def test_sse_drops_an_event_cut_off_by_the_end_of_the_stream() -> None:
    assert await read("data: first", "", "data: {\"half\":") == [ServerSentEvent("message", "first")]


async def test_sse_keeps_spaces_after_the_first_one() -> None:
    assert await read("data:  two spaces", "") == [ServerSentEvent("message", " two spaces")]


# --- the offline provider -----------------------------------------------------------------------------------


async def offline_answer(chat: object) -> tuple[list[str], Finished]:
    pieces: list[str] = []
    finished: list[Finished] = []
    async for event in OfflineProvider().stream(chat):  # type: ignore[arg-type]
        if isinstance(event, TextDelta):
            pieces.append(event.text)
        else:
            finished.append(event)
    return pieces, finished[0]


async def test_offline_answer_says_it_is_offline_quotes_the_user_and_streams_in_pieces() -> None:
    pieces, finished = await offline_answer(request())
    text = "".join(pieces)
    assert text.startswith("[offline] ") and "not by a model" in text
    assert '"And before running?"' in text
    assert len(pieces) > 5
    assert finished.model == "offline-echo" and finished.finish_reason == "stop"
    assert finished.input_tokens > 0 and finished.output_tokens == (len(text) + 3) // 4


async def test_offline_answer_is_the_same_for_the_same_input_and_differs_for_another() -> None:
    first, _ = await offline_answer(request())
    again, _ = await offline_answer(request())
    other, _ = await offline_answer(request(system="You are a yoga teacher."))
    assert first == again
    assert "".join(first) != "".join(other)
    assert answer_to(request()) == "".join(first)


async def test_offline_answer_respects_the_output_budget() -> None:
    pieces, finished = await offline_answer(request(max_output_tokens=5))
    assert len("".join(pieces)) <= 20 and finished.finish_reason == "length"


async def test_offline_answer_quotes_a_long_message_shortened() -> None:
    text = answer_to(request(messages=[ChatMessage("user", "word " * 500)]))
    assert len(text) < 500 and "…" in text


# --- prices ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "model", "listed"),
    [
        ("openai", "gpt-4.1-mini", "gpt-4.1-mini"),
        ("openai", "gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("openai", "gpt-4.1-2025-04-14", "gpt-4.1"),
        ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("gemini", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
    ],
)
def test_a_dated_model_is_priced_as_the_longest_listed_name_it_extends(provider: str, model: str, listed: str) -> None:
    assert pricing.price_of(provider, model) is pricing.PRICES[provider][listed]


@pytest.mark.parametrize(
    ("provider", "model"), [("openai", "gpt-4.1x"), ("openai", "claude-haiku-4-5"), ("mistral", "large"), ("gemini", "")]
)
def test_an_unlisted_model_has_no_price(provider: str, model: str) -> None:
    assert pricing.price_of(provider, model) is None
    assert pricing.cost_usd(provider, model, 1000, 1000) is None


def test_cost_of_a_turn() -> None:
    # claude-haiku-4-5: $1 in, $5 out per million tokens.
    assert pricing.cost_usd("anthropic", "claude-haiku-4-5", 1_000_000, 200_000) == Decimal("2.00000000")
    assert pricing.cost_usd("openai", "gpt-5-nano", 3, 1) == Decimal("0.00000055")
    assert pricing.cost_usd("offline", "offline-echo", 10_000, 10_000) == Decimal(0)


def test_long_prompts_cost_the_long_context_rates() -> None:
    assert pricing.cost_usd("gemini", "gemini-2.5-pro", 200_000, 0) == Decimal("0.25")
    assert pricing.cost_usd("gemini", "gemini-2.5-pro", 200_001, 1_000) == Decimal("0.5150025")


# --- settings -------------------------------------------------------------------------------------------------

BASE = {"DATABASE_URL": "postgresql://app@db.example.com/app", "SUPABASE_URL": "https://ref.supabase.co"}


def test_platform_keys_are_read_and_never_shown_in_the_settings_repr() -> None:
    settings = load_settings(
        {**BASE, "OPENAI_API_KEY": "sk-openai-secret-1", "GEMINI_API_KEY": "AIza-secret-2", "ANTHROPIC_API_KEY": ""}
    )
    keys = platform_keys(settings)
    assert sorted(keys) == ["gemini", "openai"]
    assert keys["openai"].key.reveal() == "sk-openai-secret-1" and keys["openai"].source == "platform"
    assert "secret" not in repr(settings) and "secret" not in repr(keys)


def test_fallback_order_defaults_to_all_three_and_reads_a_list() -> None:
    assert load_settings(BASE).ai.fallback_order == ("openai", "anthropic", "gemini")
    settings = load_settings({**BASE, "AI_FALLBACK_ORDER": " gemini, openai ,gemini"})
    assert settings.ai.fallback_order == ("gemini", "openai")


def test_an_unknown_provider_in_the_fallback_order_is_named_without_any_key() -> None:
    with pytest.raises(ConfigError, match="AI_FALLBACK_ORDER must list openai, anthropic, gemini") as raised:
        load_settings({**BASE, "AI_FALLBACK_ORDER": "openai,mistral", "OPENAI_API_KEY": "sk-visible-nowhere"})
    assert "sk-visible-nowhere" not in str(raised.value)


# --- cold start -----------------------------------------------------------------------------------------------


def test_importing_the_provider_layer_loads_no_http_client_and_no_crypto() -> None:
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import sys, shared.ai.fallback, shared.ai.keys, shared.ai.providers.transport, "
        "shared.ai.providers.openai, shared.ai.providers.anthropic, shared.ai.providers.gemini; "
        "print(sorted(m for m in ('httpx', 'httpcore', 'cryptography', 'psycopg') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
