"""A chat turn in three steps, so that no transaction is open while a provider answers.

`begin` runs in the request's own transaction, as the caller: it loads the conversation and the agent
under row level security, fits the context, reserves quota and takes the conversation's turn (storing
the user's message); the route's COMMIT follows. `run` then calls the providers with no transaction
open, and `finish` stores the answer (whole, interrupted or failed) and settles its usage in a short
transaction of the platform's. The answer is stored however the turn ends, the client leaving included.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import cast
from uuid import UUID

from shared.ai import fallback, keys, pricing, usage
from shared.ai.agents import Agent, NoSuchAgentError, load_agent
from shared.ai.chat import context, repository
from shared.ai.chat.errors import AgentMismatchError, ConversationNotFoundError
from shared.ai.chat.schemas import SendMessage
from shared.ai.fallback import Candidate, TurnEvent, TurnFinished
from shared.ai.keys import ApiKey, KeySource
from shared.ai.providers.base import (
    ChatEvent,
    ChatMessage,
    ChatProvider,
    ChatRequest,
    ProviderName,
    TextDelta,
    Timeouts,
)
from shared.ai.providers.errors import NoProviderError, ProviderError, StreamInterruptedError
from shared.identity.errors import CommunityNotFoundError
from shared.platform import logging as log
from shared.platform.auth import Principal
from shared.platform.config import Settings
from shared.platform.db import Row, Tx, as_service
from shared.platform.errors import FieldError, ValidationFailedError

LEASE_S = 180
"""How long a turn holds its conversation: longer than a turn may run (its summary's and its own total timeouts)."""
SUMMARY_TIMEOUTS = Timeouts(total_s=45.0)


@dataclass(slots=True)
class Turn:
    """A begun turn: what was committed, and what the provider is to be asked."""

    conversation_id: UUID
    turn_id: UUID
    user_seq: int
    title: str
    community_id: UUID
    user_id: UUID
    agent: Agent
    reservation: usage.Reservation
    request: ChatRequest
    candidates: list[Candidate]
    message: str
    history: list[context.Stored]
    summary: str | None
    summary_due: list[context.Stored]
    """The oldest messages to fold into the summary before the provider is asked (none: not due)."""
    request_id: str


@dataclass(frozen=True, slots=True)
class Answering:
    """Who began the answer: known from its first token, so a broken stream is metered to the right key."""

    provider: ProviderName
    model: str
    key_source: KeySource | None


@dataclass(slots=True)
class Outcome:
    """How the provider side of a turn ended; filled in while it runs."""

    started: float = field(default_factory=time.monotonic)
    pieces: list[str] = field(default_factory=list)
    answering: Answering | None = None
    first_token_ms: int | None = None
    finished: TurnFinished | None = None
    failure: ProviderError | NoProviderError | None = None
    client_left: bool = False

    @property
    def text(self) -> str:
        """The answer so far."""
        return "".join(self.pieces)


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


async def begin(tx: Tx, principal: Principal, body: SendMessage, settings: Settings, request_id: str) -> Turn:
    """Check the caller may talk to the agent, reserve quota and store their message (in the request's transaction)."""
    conversation: Row | None = None
    history: list[context.Stored] = []
    if body.conversation_id is not None:
        conversation, rows, reach = await repository.conversation_with_history(tx, body.conversation_id)
        if conversation is None:
            raise ConversationNotFoundError()
        if conversation["agent_id"] is None:
            raise NoSuchAgentError("The agent of this conversation was deleted.")
        if body.agent_id is not None and body.agent_id != conversation["agent_id"]:
            raise AgentMismatchError("This conversation is with another agent.")
        history = [context.Stored(r["seq"], r["role"], r["content"]) for r in reversed(rows)]
        community_id: UUID = conversation["community_id"]
        agent_id: UUID = conversation["agent_id"]
    else:
        community_id = _community_of(principal, body.community_id)
        agent_id = body.agent_id  # type: ignore[assignment]  # the body names one or the other
        reach = await repository.reach(tx, agent_id, community_id)
    if reach is None or not reach["reaches"]:
        raise NoSuchAgentError("No published agent with this id is available to you.")
    agent = await load_agent(tx, agent_id)
    summary = None if conversation is None else conversation["summary"]
    budget = context.budget(agent.provider, agent.max_output_tokens)
    fitted = context.fit(agent.system_prompt, summary, history, body.content, budget)
    summarised_through = 0 if conversation is None else conversation["summary_through"]
    due = context.to_summarise(history, body.content, budget) if fitted.dropped_through > summarised_through else []
    estimate = fitted.prompt_tokens + agent.max_output_tokens
    if due:
        estimate += usage.estimate_tokens(*(m.content for m in due)) + context.SUMMARY_OUTPUT_TOKENS
    reservation = await usage.reserve(tx, community_id, estimate)
    candidates = await _candidates(tx, agent, community_id, has_own_key=reach["has_own_key"], settings=settings)
    begun = await repository.begin_turn(tx, body.conversation_id, agent.id, community_id, body.content, LEASE_S)
    request = ChatRequest(
        system=fitted.system,
        messages=fitted.messages,
        model=agent.model,
        temperature=agent.temperature,
        max_output_tokens=agent.max_output_tokens,
    )
    return Turn(
        begun["conversation_id"], begun["turn_id"], begun["seq"], begun["title"], community_id, principal.user_id,
        agent, reservation, request, candidates, body.content, history, summary, due, request_id,
    )


def _community_of(principal: Principal, named: UUID | None) -> UUID:
    """The community a new conversation is billed to: the one named, else the caller's only one."""
    communities = [m.community_id for m in principal.memberships]
    if named is not None:
        if named not in communities:
            raise CommunityNotFoundError()
        return named
    if len(communities) == 1:
        return communities[0]
    if not communities:
        raise CommunityNotFoundError("The caller is not a member of any community.")
    message = "You are a member of several communities: name the one this conversation belongs to."
    raise ValidationFailedError([FieldError("body.community_id", message, "missing")])


async def _candidates(
    tx: Tx, agent: Agent, community_id: UUID, *, has_own_key: bool, settings: Settings
) -> list[Candidate]:
    own = await keys.community_key(tx, community_id) if has_own_key and agent.provider != "offline" else None
    return fallback.plan(
        agent.provider,
        agent.model,
        fallback_order=settings.ai.fallback_order,
        community=own,
        platform=keys.platform_keys(settings),
    )


async def run(turn: Turn, outcome: Outcome, deliver: Callable[[TextDelta], None] | None = None) -> None:
    """Ask the providers (after summarising, when due), recording the answer in `outcome` and passing each
    text delta to `deliver`; a provider failure is recorded, never raised."""
    if turn.summary_due:
        await _summarise(turn)
    watched = _watched(turn, outcome)
    try:
        # stream_turn is an async generator (typed as an iterator): closed here when the turn is cancelled.
        answer = cast(AsyncGenerator[TurnEvent, None], fallback.stream_turn(turn.request, turn.candidates, providers=watched))
        async with aclosing(answer) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    if outcome.first_token_ms is None:
                        outcome.first_token_ms = round((time.monotonic() - outcome.started) * 1000)
                    outcome.pieces.append(event.text)
                    if deliver is not None:
                        deliver(event)
                else:
                    outcome.finished = event
    except (ProviderError, NoProviderError) as exc:
        outcome.failure = exc


def _watched(turn: Turn, outcome: Outcome) -> Mapping[ProviderName, ChatProvider]:
    providers = fallback.default_providers()  # looked up per turn: the bench and tests pace or record it
    return {name: _Watched(provider, outcome, turn.candidates) for name, provider in providers.items()}


class _Watched:
    """A provider that notes, at its first token, that it is the one answering and with whose key."""

    def __init__(self, inner: ChatProvider, outcome: Outcome, candidates: Sequence[Candidate]) -> None:
        self.inner, self.outcome, self.candidates = inner, outcome, candidates

    @property
    def name(self) -> ProviderName:
        """The wrapped provider's name."""
        return self.inner.name

    async def stream(self, request: ChatRequest, key: ApiKey | None) -> AsyncGenerator[ChatEvent, None]:
        """The wrapped provider's events, unchanged."""
        async with aclosing(self.inner.stream(request, key)) as events:
            async for event in events:
                if self.outcome.answering is None and isinstance(event, TextDelta):
                    source = next(
                        (c.key_source for c in self.candidates if c.credential is not None and c.credential.key is key),
                        None,
                    )
                    self.outcome.answering = Answering(self.inner.name, request.model, source)
                yield event


async def _summarise(turn: Turn) -> None:
    """Fold the oldest messages into the conversation's summary, then refit the context; a failure only logs."""
    due = turn.summary_due
    request = ChatRequest(
        system=context.SUMMARY_INSTRUCTION,
        messages=[ChatMessage("user", context.summary_request_text(turn.summary, due))],
        model=turn.agent.model,
        temperature=0.2,
        max_output_tokens=context.SUMMARY_OUTPUT_TOKENS,
        timeouts=SUMMARY_TIMEOUTS,
    )
    outcome = Outcome()
    await run(replace(turn, summary_due=[], request=request), outcome)
    finished = outcome.finished
    if finished is None or not outcome.text.strip():
        _log_failure(turn, "ai summary failed", outcome)
        return
    through = due[-1].seq
    async with as_service() as tx:
        await repository.save_summary(tx, turn.conversation_id, outcome.text, through)
        await usage.settle(tx, None, _metered(turn, finished, "summary"))
    turn.summary = outcome.text
    turn.history = [m for m in turn.history if m.seq > through]
    budget = context.budget(turn.agent.provider, turn.agent.max_output_tokens)
    fitted = context.fit(turn.agent.system_prompt, turn.summary, turn.history, turn.message, budget)
    turn.request = replace(turn.request, system=fitted.system, messages=fitted.messages)


def _metered(turn: Turn, finished: TurnFinished, feature: usage.Feature) -> usage.Metered:
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
    error = _error_of(outcome)
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


def _error_of(outcome: Outcome) -> str | None:
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


def _log_failure(turn: Turn, message: str, outcome: Outcome) -> None:
    log.log("WARNING", message, request_id=turn.request_id, conversation_id=str(turn.conversation_id),
            error=_error_of(outcome))


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
        error=_error_of(outcome),
    )
