"""What a turn costs: USD per million input and output tokens, by provider and model.

Prices as listed on the providers' pricing pages, read 2026-11-30 (standard tier, no batch, no cache
discounts; an answer's thinking tokens are billed as output):
- OpenAI: https://platform.openai.com/docs/pricing
- Anthropic: https://docs.anthropic.com/en/docs/about-claude/pricing
- Google: https://ai.google.dev/gemini-api/docs/pricing
A model is matched exactly or as the longest listed name it extends with a dated suffix
(`gpt-4.1-mini-2025-04-14` → `gpt-4.1-mini`). A model not listed has no known cost (None): the caller
records the tokens and leaves the cost empty rather than guessing. Update the table with its date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MILLION = Decimal(1_000_000)
PRECISION = Decimal("0.00000001")
"""Costs are kept to 1e-8 USD: a few tokens of the cheapest model still cost something."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens; past `long_context_from` input tokens the whole request costs the long rates."""

    input: Decimal
    output: Decimal
    long_context_from: int | None = None
    long_input: Decimal | None = None
    long_output: Decimal | None = None


def _p(input_usd: str, output_usd: str, long: tuple[int, str, str] | None = None) -> Price:
    if long is None:
        return Price(Decimal(input_usd), Decimal(output_usd))
    return Price(Decimal(input_usd), Decimal(output_usd), long[0], Decimal(long[1]), Decimal(long[2]))


PRICES: Mapping[str, Mapping[str, Price]] = {
    "openai": {
        "gpt-5": _p("1.25", "10.00"),
        "gpt-5-mini": _p("0.25", "2.00"),
        "gpt-5-nano": _p("0.05", "0.40"),
        "gpt-4.1": _p("2.00", "8.00"),
        "gpt-4.1-mini": _p("0.40", "1.60"),
        "gpt-4.1-nano": _p("0.10", "0.40"),
        "gpt-4o": _p("2.50", "10.00"),
        "gpt-4o-mini": _p("0.15", "0.60"),
    },
    "anthropic": {
        "claude-opus-4-5": _p("5.00", "25.00"),
        "claude-opus-4-1": _p("15.00", "75.00"),
        "claude-sonnet-4-5": _p("3.00", "15.00", (200_000, "6.00", "22.50")),
        "claude-sonnet-4": _p("3.00", "15.00", (200_000, "6.00", "22.50")),
        "claude-haiku-4-5": _p("1.00", "5.00"),
        "claude-3-5-haiku": _p("0.80", "4.00"),
    },
    "gemini": {
        "gemini-2.5-pro": _p("1.25", "10.00", (200_000, "2.50", "15.00")),
        "gemini-2.5-flash": _p("0.30", "2.50"),
        "gemini-2.5-flash-lite": _p("0.10", "0.40"),
    },
    "offline": {"offline-echo": _p("0", "0")},
}


def price_of(provider: str, model: str) -> Price | None:
    """The listed price of a model (exact name, or the longest listed name it extends); None if unlisted."""
    listed = PRICES.get(provider, {})
    if model in listed:
        return listed[model]
    matches = [name for name in listed if model.startswith(name + "-")]
    return listed[max(matches, key=len)] if matches else None


def cost_usd(provider: str, model: str, input_tokens: int, output_tokens: int) -> Decimal | None:
    """The cost of one turn in USD, to 1e-8; None when the model's price is not listed."""
    price = price_of(provider, model)
    if price is None:
        return None
    input_rate, output_rate = price.input, price.output
    if price.long_context_from is not None and input_tokens > price.long_context_from:
        input_rate, output_rate = price.long_input or input_rate, price.long_output or output_rate
    total = (input_rate * input_tokens + output_rate * output_tokens) / MILLION
    return total.quantize(PRECISION, rounding=ROUND_HALF_UP)
