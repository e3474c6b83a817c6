"""A chat turn in three steps, so that no transaction is open while a provider answers.

`begin` runs in the request's own transaction, as the caller, in two round trips: its reads (the
conversation with its history, the agent under row level security and its secrets) leave with the request's
opening (`prefetch`, the route's `prefetch=`); it then fits the context, and the quota reservation with the
turn (storing the user's message) leave with COMMIT (`Tx.commit_after_platform`). `run` then calls the
providers with no transaction open, and `store.finish` stores the answer (whole, interrupted or failed)
and settles its usage in a short transaction of the platform's. The answer is stored however the turn
ends, the client leaving included.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import cast
from uuid import UUID

from shared.ai import fallback, keys, usage
from shared.ai.agents import Agent, NoSuchAgentError, agent_from
from shared.ai.candidates import with_key
from shared.ai.chat import context, repository, store
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
from shared.ai.providers.errors import NoProviderError, ProviderError
from shared.identity.errors import CommunityNotFoundError
from shared.platform.auth import Principal
from shared.platform.config import Settings
from shared.platform.db import Row, Tx, as_service
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.routing import Prefetch, Prefetched

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


def prefetch(body: SendMessage, **_: object) -> Prefetch:
    """What a turn reads before it writes, sent with the request's opening round trip (`ai-chat`'s `prefetch=`)."""
    if body.conversation_id is not None:
        return repository.conversation_reads(body.conversation_id)
    return repository.new_conversation_reads(body.agent_id, body.community_id)  # type: ignore[arg-type]  # one or the other


async def begin(
    tx: Tx, principal: Principal, body: SendMessage, settings: Settings, request_id: str, read: Prefetched
) -> Turn:
    """Check the caller may talk to the agent, reserve quota and store their message, committing the
    request's transaction: `read` is what `prefetch` read, and the writes leave with the COMMIT."""
    (caller, (secrets,)) = read
    conversation: Row | None = None
    history: list[context.Stored] = []
    if body.conversation_id is not None:
        found, rows, agents = caller
        if not found:
            raise ConversationNotFoundError()
        conversation = found[0]
        if conversation["agent_id"] is None:
            raise NoSuchAgentError("The agent of this conversation was deleted.")
        if body.agent_id is not None and body.agent_id != conversation["agent_id"]:
            raise AgentMismatchError("This conversation is with another agent.")
        history = [context.Stored(r["seq"], r["role"], r["content"]) for r in reversed(rows)]
        community_id: UUID = conversation["community_id"]
    else:
        (agents,) = caller
        community_id = _community_of(principal, body.community_id)
    reach = next((row for row in agents if row["billed_community"] == community_id), None)
    if reach is None or not reach["reaches"]:
        raise NoSuchAgentError("No published agent with this id is available to you.")
    agent = agent_from(reach, secrets)
    summary = None if conversation is None else conversation["summary"]
    budget = context.budget(agent.provider, agent.max_output_tokens)
    fitted = context.fit(agent.system_prompt, summary, history, body.content, budget)
    summarised_through = 0 if conversation is None else conversation["summary_through"]
    due = context.to_summarise(history, body.content, budget) if fitted.dropped_through > summarised_through else []
    estimate = fitted.prompt_tokens + agent.max_output_tokens
    if due:
        estimate += usage.estimate_tokens(*(m.content for m in due)) + context.SUMMARY_OUTPUT_TOKENS
    own_key = reach["has_own_key"] and agent.provider != "offline"
    # One round trip: the reservation with the turn (taken only when the reservation is granted: a turn
    # past the quota writes nothing), the community's own key when it has one, and COMMIT.
    opened, *key_rows = await tx.commit_after_platform(
        [
            repository.open_turn_statement(
                body.conversation_id, agent.id, community_id, body.content, LEASE_S, estimate
            ),
            *([keys.community_key_statement(community_id)] if own_key else []),
        ]
    )
    reservation = usage.reservation_of(opened, community_id)
    own = keys.community_key_from(key_rows[0], community_id) if key_rows else None
    candidates = with_key(agent.provider, agent.model, settings, own)
    request = ChatRequest(
        system=fitted.system,
        messages=fitted.messages,
        model=agent.model,
        temperature=agent.temperature,
        max_output_tokens=agent.max_output_tokens,
    )
    (begun,) = opened
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
        store.log_failure(turn, "ai summary failed", outcome)
        return
    through = due[-1].seq
    async with as_service() as tx:
        await repository.save_summary(tx, turn.conversation_id, outcome.text, through)
        await usage.settle(tx, None, store.metered(turn, finished, "summary"))
    turn.summary = outcome.text
    turn.history = [m for m in turn.history if m.seq > through]
    budget = context.budget(turn.agent.provider, turn.agent.max_output_tokens)
    fitted = context.fit(turn.agent.system_prompt, turn.summary, turn.history, turn.message, budget)
    turn.request = replace(turn.request, system=fitted.system, messages=fitted.messages)
