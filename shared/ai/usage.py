"""Metering AI calls against a community's monthly token quota: reserve before the call, settle after.

The quota is per community per calendar month (UTC), in tokens (input + output). Before a provider is
called, `reserve` takes up to the call's estimate from what is left; it is refused with 429
`quota_exceeded` once used and reserved tokens reach the quota. The database locks the month's row for
this, so two concurrent calls cannot both take the last budget. `settle` records what the provider
actually counted (the ledger `public.ai_usage`, and the month's used tokens) and drops the reservation;
`release` gives back a reservation that was never used. A reservation that is never settled (the
instance died mid-stream) lapses after RESERVATION_TTL_S on its own.

Every statement runs as the platform role: no API role may write usage (migration 20261203000100).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from shared.platform.errors import QuotaExceededError

if TYPE_CHECKING:
    from shared.platform.db import Statement, Tx

Feature = Literal["chat", "summary", "generate"]
RESERVATION_TTL_S = 600
"""How long a reservation holds budget: longer than any turn may run (a turn's total timeout)."""
CHARS_PER_TOKEN = 4
"""A deliberately rough estimate (English text averages about four characters per token); the quota is
settled with the provider's own counts, so the estimate only sizes the reservation."""

_RESERVE_SQL = "select * from app.ai_reserve(%s, %s, %s)"
_SETTLE_SQL = "select app.ai_settle(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) as id"
_RELEASE_SQL = "select app.ai_release(%s)"


@dataclass(frozen=True, slots=True)
class Reservation:
    """Budget held for one call until it is settled or released."""

    id: UUID
    community_id: UUID
    tokens: int


@dataclass(frozen=True, slots=True)
class Metered:
    """What one provider call consumed, as the provider counted it, and who it is billed to."""

    community_id: UUID | None
    """None: the platform's own use (staff writing platform content): in the ledger, against no quota."""
    user_id: UUID | None
    feature: Feature
    provider: str
    model: str
    key_source: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    agent_id: UUID | None = None
    conversation_id: UUID | None = None


def estimate_tokens(*texts: str) -> int:
    """A rough token count of `texts` (at least one token each)."""
    return sum(max(1, -(-len(text) // CHARS_PER_TOKEN)) for text in texts)


async def reserve(tx: Tx, community_id: UUID, tokens: int) -> Reservation:
    """Hold up to `tokens` of this month's budget; 429 quota_exceeded when none is left."""
    return reservation_of(await tx.as_platform(*reserve_statement(community_id, tokens)), community_id)


def reserve_statement(community_id: UUID, tokens: int) -> Statement:
    """The reservation as a platform statement, to send with others (`Tx.then_as_platform`); its rows
    go to `reservation_of`, and whatever was sent with it must be rolled back when that refuses."""
    return _RESERVE_SQL, (community_id, tokens, RESERVATION_TTL_S)


def reservation_of(rows: list[dict[str, Any]], community_id: UUID) -> Reservation:
    """The reservation `reserve_statement` made; 429 quota_exceeded when it was refused."""
    (row,) = rows
    if not row["granted"]:
        raise QuotaExceededError(
            "The community has used its AI tokens for this month.",
            extra={"quota_tokens": int(row["quota"]), "used_tokens": int(row["used"])},
        )
    return Reservation(row["reservation_id"], community_id, int(row["reserved"]))


async def settle(tx: Tx, reservation: Reservation | None, metered: Metered) -> None:
    """Record the call in the ledger and the month's usage, and drop its reservation (settle once)."""
    await tx.as_platform(
        _SETTLE_SQL,
        (
            None if reservation is None else reservation.id,
            metered.community_id,
            metered.user_id,
            metered.agent_id,
            metered.conversation_id,
            metered.feature,
            metered.provider,
            metered.model,
            metered.key_source,
            metered.input_tokens,
            metered.output_tokens,
            metered.cost_usd,
        ),
    )


async def release(tx: Tx, reservation: Reservation) -> None:
    """Give back a reservation no call used."""
    await tx.as_platform(_RELEASE_SQL, (reservation.id,))
