"""Write a block with AI: pick the community billed, reserve its quota, ask, validate, retry once, meter.

No transaction is open while a provider answers (which takes seconds): the quota is reserved and the
providers chosen in one short transaction as the caller, committed before the call, and each answer is
settled in another. A held reservation keeps concurrent calls from spending the same last budget
(shared/ai/usage.py); a call that dies unsettled leaves a reservation that lapses on its own.

Every answer the provider counted is metered, valid or not (the community's key or ours paid for it);
a call that failed before any answer gives its reservation back.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from shared.ai import candidates, fallback, usage
from shared.ai.errors import AiRequestRefusedError, AiUnavailableError
from shared.ai.fallback import Answer, Candidate
from shared.ai.generate import output, prompt
from shared.ai.generate.errors import GenerationInvalidError
from shared.ai.generate.output import InvalidAnswerError
from shared.ai.generate.schemas import GenerateBlock, GeneratedBlock
from shared.ai.providers.base import ChatRequest
from shared.ai.providers.errors import NoProviderError, ProviderError, StreamInterruptedError
from shared.identity import policy as identity
from shared.platform import logging as log
from shared.platform.auth import STAFF_WRITERS, Principal
from shared.platform.config import Settings
from shared.platform.db import as_user
from shared.platform.errors import FieldError, ValidationFailedError

ATTEMPTS = 2
"""An invalid answer is asked for once more, with what was wrong with it."""


def billed_community(principal: Principal, community_id: UUID | None) -> UUID | None:
    """The community a generation is for and metered to; None: platform content, by staff who may write.

    Named: the caller must administer it (404 when they cannot see it, 403 when they only learn there).
    Not named: the caller's only administered community; staff who may write generate platform content.
    """
    if community_id is not None:
        identity.require_community_writer(principal, community_id)
        return community_id
    if principal.staff_role in STAFF_WRITERS:
        return None
    administered = [m.community_id for m in principal.memberships if m.role == "admin"]
    if len(administered) == 1:
        return administered[0]
    message = "Name the community you write for: you administer several."
    raise ValidationFailedError([FieldError("body.community_id", message, "community_required")])


async def generate(body: GenerateBlock, *, principal: Principal, settings: Settings) -> GeneratedBlock:
    """A block of `body.type` written by the community's provider (or offline), validated, metered."""
    community_id = billed_community(principal, body.community_id)
    async with as_user(principal.claims) as tx:
        chosen = (
            await candidates.for_community(tx, community_id, settings)
            if community_id is not None
            else candidates.for_platform(settings)
        )
    request = prompt.request_for(body, chosen[0].model)
    metering = _Metering(principal, community_id)
    invalid = InvalidAnswerError([])
    for attempt in range(1, ATTEMPTS + 1):
        answer = await metering.ask(request, chosen)
        try:
            block = output.block_from(body.type, answer.text)
        except InvalidAnswerError as exc:
            invalid = exc
            _log_outcome(answer, attempt, "invalid", problems=exc.problems[:3])
            request = prompt.corrected(request, answer.text, exc)
            continue
        _log_outcome(answer, attempt, "valid")
        return GeneratedBlock(
            block=block,
            provider=answer.turn.provider,
            model=answer.turn.finished.model,
            is_offline=answer.turn.provider == "offline",
            attempts=attempt,
            input_tokens=metering.input_tokens,
            output_tokens=metering.output_tokens,
            community_id=community_id,
        )
    raise GenerationInvalidError(
        f"The AI answered {ATTEMPTS} times without a valid {body.type} block; try rewording the request.",
        extra={"problems": invalid.problems},
    )


class _Metering:
    """One generation's provider calls, each reserved before and settled after (none for platform content)."""

    def __init__(self, principal: Principal, community_id: UUID | None) -> None:
        self.principal = principal
        self.community_id = community_id
        self.input_tokens = 0
        self.output_tokens = 0

    async def ask(self, request: ChatRequest, chosen: list[Candidate]) -> Answer:
        """The provider's whole answer; 429 before any call past the quota, 502/503 when no answer came."""
        reservation = await self._reserve(request)
        try:
            answer = await fallback.answer(request, chosen)
        except StreamInterruptedError as exc:
            # The provider had begun and counted tokens it never told us: metered as estimated.
            asked = usage.estimate_tokens(request.system, *(m.content for m in request.messages))
            tokens = (asked, usage.estimate_tokens(exc.partial_text))
            await self._settle(reservation, provider=exc.provider, model=exc.model, tokens=tokens)
            raise AiUnavailableError("The AI provider stopped mid-answer; try again.") from None
        except ProviderError as exc:  # our request was refused: another provider would refuse it too
            await self._release(reservation)
            log.error("ai generation refused by the provider", provider=exc.provider, status=exc.status, code=exc.code)
            raise AiRequestRefusedError("The AI provider refused the request.") from None
        except NoProviderError:
            await self._release(reservation)
            raise AiUnavailableError("No AI provider answered; try again in a moment.") from None
        turn, finished = answer.turn, answer.turn.finished
        await self._settle(
            reservation,
            provider=turn.provider,
            model=finished.model,
            tokens=(finished.input_tokens, finished.output_tokens),
            key_source=turn.key_source,
            cost_usd=turn.cost_usd,
        )
        return answer

    async def _reserve(self, request: ChatRequest) -> usage.Reservation | None:
        if self.community_id is None:
            return None
        schema = "" if request.output is None else str(request.output.schema)
        estimate = usage.estimate_tokens(request.system, schema, *(m.content for m in request.messages))
        async with as_user(self.principal.claims) as tx:
            return await usage.reserve(tx, self.community_id, estimate + request.max_output_tokens)

    async def _release(self, reservation: usage.Reservation | None) -> None:
        if reservation is not None:
            async with as_user(self.principal.claims) as tx:
                await usage.release(tx, reservation)

    async def _settle(
        self,
        reservation: usage.Reservation | None,
        *,
        provider: str,
        model: str,
        tokens: tuple[int, int],
        key_source: str | None = None,
        cost_usd: Decimal | None = None,
    ) -> None:
        """Record what one call consumed (`tokens`: input, output) as the provider counted it."""
        self.input_tokens += tokens[0]
        self.output_tokens += tokens[1]
        metered = usage.Metered(
            self.community_id, self.principal.user_id, "generate", provider, model, key_source, *tokens, cost_usd
        )
        async with as_user(self.principal.claims) as tx:
            await usage.settle(tx, reservation, metered)


def _log_outcome(answer: Answer, attempt: int, outcome: str, **fields: object) -> None:
    turn = answer.turn
    log.info(
        "ai generation answered", outcome=outcome, attempt=attempt, provider=turn.provider,
        model=turn.finished.model, key_source=turn.key_source, input_tokens=turn.finished.input_tokens,
        output_tokens=turn.finished.output_tokens, **fields,
    )
