"""How a turn is stored and metered however it ended: whole, interrupted (by the provider or the client), failed."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from shared.ai import pricing, usage
from shared.ai.chat import repository
from shared.ai.keys import KeySource
from shared.ai.providers.errors import NoProviderError, ProviderError, StreamInterruptedError
from shared.platform import logging as log
from shared.platform.db import as_service

if TYPE_CHECKING:
    from shared.ai.chat.turn import Outcome, Turn
    from shared.ai.fallback import TurnFinished


@dataclass(frozen=True, slots=True)
class Stored:
    """The stored answer."""

    message_id: UUID | None
    seq: int | None
    finish_reason: str
    provider: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    latency_ms: int | None


def metered(turn: Turn, finished: TurnFinished, feature: usage.Feature) -> usage.Metered:
    return usage.Metered(
        community_id=turn.community_id,
        user_id=turn.user_id,
        feature=feature,
        provider=finished.provider,
        model=finished.finished.model,
        key_source=finished.key_source,
        input_tokens=finished.finished.input_tokens,
        output_tokens=finished.finished.output_tokens,
        cost_usd=finished.cost_usd,
        agent_id=turn.agent.id,
        conversation_id=turn.conversation_id,
    )


async def finish(turn: Turn, outcome: Outcome) -> Stored:
    """Store the answer however the turn ended, settle (or release) its quota and end the turn."""
    stored = _to_store(turn, outcome)
    latency_ms = round((time.monotonic() - outcome.started) * 1000)
    if outcome.finished is not None:
        latency_ms = outcome.finished.finished.latency_ms
    error = error_of(outcome)
    async with as_service() as tx:
        row = await tx.fetch_one(
            repository.FINISH_SQL,
            (
                turn.conversation_id, turn.turn_id, outcome.text, stored.provider, stored.model,
                _key_source(outcome), stored.input_tokens if stored.provider else None,
                stored.output_tokens if stored.provider else None, latency_ms, outcome.first_token_ms,
                stored.cost_usd, stored.finish_reason, error,
            ),
        )
        if stored.provider is not None and stored.model is not None:
            await usage.settle(tx, turn.reservation, _usage_of(turn, stored, outcome))
        else:
            await usage.release(tx, turn.reservation)
    # No row: the user deleted the conversation while it answered; there is nothing to keep.
    message_id, seq = (row["message_id"], row["seq"]) if row is not None else (None, None)
    stored = replace(stored, message_id=message_id, seq=seq, latency_ms=latency_ms)
    _log_turn(turn, outcome, stored)
    return stored


def _to_store(turn: Turn, outcome: Outcome) -> Stored:
    """What the answer is stored and metered as: the provider's counts, or estimates when the stream broke."""
    if outcome.finished is not None:
        done = outcome.finished
        return Stored(
            None, None, done.finished.finish_reason, done.provider, done.finished.model,
            done.finished.input_tokens, done.finished.output_tokens, done.cost_usd, None,
        )
    reason = "error" if isinstance(outcome.failure, NoProviderError) or not outcome.pieces else "interrupted"
    if outcome.client_left and outcome.failure is None:
        reason = "interrupted"
    answering = outcome.answering
    if answering is None:  # nothing came back: nothing the provider counts for us to meter
        return Stored(None, None, reason, None, None, 0, 0, None, None)
    prompt = usage.estimate_tokens(turn.request.system, *(m.content for m in turn.request.messages))
    answer = usage.estimate_tokens(outcome.text) if outcome.pieces else 0
    cost = pricing.cost_usd(answering.provider, answering.model, prompt, answer)
    return Stored(None, None, reason, answering.provider, answering.model, prompt, answer, cost, None)


def _key_source(outcome: Outcome) -> KeySource | None:
    if outcome.finished is not None:
        return outcome.finished.key_source
    return None if outcome.answering is None else outcome.answering.key_source


def _usage_of(turn: Turn, stored: Stored, outcome: Outcome) -> usage.Metered:
    return usage.Metered(
        community_id=turn.community_id,
        user_id=turn.user_id,
        feature="chat",
        provider=stored.provider or "offline",
        model=stored.model or "",
        key_source=_key_source(outcome),
        input_tokens=stored.input_tokens,
        output_tokens=stored.output_tokens,
        cost_usd=stored.cost_usd,
        agent_id=turn.agent.id,
        conversation_id=turn.conversation_id,
    )


def error_of(outcome: Outcome) -> str | None:
    """Why the answer is not whole, in our words: error kinds and statuses, never a provider's text."""
    failure = outcome.failure
    if isinstance(failure, NoProviderError):
        kinds = ", ".join(error.kind for error in failure.errors[-5:]) or "none configured"
        return f"no provider answered ({kinds})"[:200]
    if isinstance(failure, StreamInterruptedError):
        return f"the provider's stream broke ({failure.cause_kind})"
    if isinstance(failure, ProviderError):
        status = f", status {failure.status}" if failure.status else ""
        return f"the provider refused the request ({failure.kind}{status})"
    if outcome.client_left and outcome.finished is None:
        return "the client disconnected"
    return None


def log_failure(turn: Turn, message: str, outcome: Outcome) -> None:
    log.log("WARNING", message, request_id=turn.request_id, conversation_id=str(turn.conversation_id),
            error=error_of(outcome))


def _log_turn(turn: Turn, outcome: Outcome, stored: Stored) -> None:
    # The access line was written when the stream opened; this one says how the turn ended.
    log.log(
        "INFO" if stored.finish_reason not in ("error", "interrupted") else "WARNING",
        "ai turn finished",
        request_id=turn.request_id,
        user_id=str(turn.user_id),
        community_id=str(turn.community_id),
        conversation_id=str(turn.conversation_id),
        provider=stored.provider,
        model=stored.model,
        key_source=_key_source(outcome),
        finish_reason=stored.finish_reason,
        # Field names without "token": the log redacts those as credentials.
        usage_in=stored.input_tokens,
        usage_out=stored.output_tokens,
        first_delta_ms=outcome.first_token_ms,
        latency_ms=stored.latency_ms,
        error=error_of(outcome),
    )
