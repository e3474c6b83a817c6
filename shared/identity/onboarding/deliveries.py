"""Delivering invitations: the worker asks the identity provider, outside any transaction, once per invitation.

Inserting pending invitations queues `invitations.delivery_requested` (a database trigger, up to 50
invitations per event). For each event the worker, with no transaction open around a provider call:
1. claims the deliveries still pending (a short transaction), so no other worker sends them too (a
   claim left by a worker that died is taken again once stale);
2. records at once, without the provider, those whose address already has an account (Supabase's invite
   API refuses existing users; the invitation waits for them in the app, `GET /invitations/mine`) and
   those revoked before delivery;
3. asks the provider for each of the others and records that one outcome (the provider's user id, or
   the failure's reason) in its own short transaction, settling the import row it came from. A 429
   (rate limited) is no outcome: nothing was sent, so the untried claims go back and the event is retried
   after the queue's visibility timeout (until the worker gives up on it: then they fail).
A retried event sends only what is still pending: a recorded failure is not sent again blindly, and a
delivery claimed by a live worker is left to it (the event is retried until that one has recorded it).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from shared.identity.onboarding import imports, worker_repository
from shared.identity.provider import (
    AccountExistsError,
    IdentityProvider,
    ProviderBusyError,
    identity_provider,
)
from shared.platform import logging as log
from shared.platform.db import Row, Tx, as_service
from shared.platform.errors import UnavailableError
from shared.platform.events import Event


class DeliveryInProgressError(Exception):
    """Another worker holds some of these deliveries: try the event again later."""


Outcome = tuple[UUID, str, str | None, UUID | None]
"""(invitation, 'sent' or 'failed', error code, user id)."""


def invitation_ids(event: Event) -> list[UUID]:
    """The invitations a delivery event is about."""
    return [UUID(str(i)) for i in event.payload.get("invitation_ids", [])]


async def deliver(event: Event) -> None:
    """Deliver the event's invitations that are still pending; never inside a transaction."""
    ids = invitation_ids(event)
    provider = identity_provider()  # a configuration error fails the event before anything is claimed
    async with as_service() as tx:
        claimed = await worker_repository.claim_deliveries(tx, ids)
    at_once = [row for row in claimed if not _needs_provider(row)]
    unattempted = {row["id"] for row in claimed}
    try:
        jobs = await _record([_without_provider(row) for row in at_once])
        unattempted -= {row["id"] for row in at_once}
        for row in filter(_needs_provider, claimed):
            outcome = await _send(provider, row)  # ProviderBusyError: nothing was sent, this one included
            unattempted.discard(row["id"])  # from here on it was (or may have been) sent: it keeps its claim
            jobs |= await _record([outcome])
    except Exception:
        # The provider is rate limiting us, or recording failed (the database): claims never attempted go
        # back, so the event's retry (after the queue's visibility timeout) sends them without waiting.
        async with as_service() as tx:
            await worker_repository.release_claims(tx, sorted(unattempted))
        raise
    async with as_service() as tx:
        for job_id in sorted(jobs):
            await imports.settle_job(tx, job_id)
        left = await worker_repository.undelivered(tx, ids)
    if left:
        raise DeliveryInProgressError(f"{left} deliveries are held by another worker")


def _needs_provider(row: Row) -> bool:
    return row["status"] == "sent" and row["account_id"] is None


def _without_provider(row: Row) -> Outcome:
    if row["status"] != "sent":  # revoked (or answered) before it was delivered: nothing to send
        return (row["id"], "failed", "invitation_closed", None)
    return (row["id"], "sent", None, row["account_id"])


async def _send(provider: IdentityProvider, row: Row) -> Outcome:
    """Ask the provider to invite one address; the outcome to record. Raises only ProviderBusyError."""
    data = {
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "invited_to": str(row["community_id"]),
    }
    try:
        user_id = await provider.invite(row["email"], data=data, redirect_to=row["redirect_to"])
    except AccountExistsError:  # an account made since the claim, or outside our profiles
        return (row["id"], "sent", None, None)
    except ProviderBusyError:
        raise  # not an outcome: nothing was sent, the event is retried later
    except UnavailableError:
        return (row["id"], "failed", "provider_unavailable", None)
    except Exception as exc:  # the provider boundary: record it rather than retry a send blindly
        log.error("invitation delivery failed", invitation_id=str(row["id"]), error=type(exc).__name__)
        return (row["id"], "failed", "provider_error", None)
    return (row["id"], "sent", None, user_id)


async def _record(outcomes: Sequence[Outcome]) -> set[UUID]:
    """Record outcomes in one short transaction of their own; the import jobs they touched."""
    return await worker_repository.record_deliveries_alone(outcomes)


async def delivery_died(tx: Tx, event: Event, error: str) -> None:
    """The worker gave up on a delivery event: its undelivered invitations (and their rows) fail."""
    outcomes = [(i, "failed", "worker_gave_up", None) for i in invitation_ids(event)]
    for job_id in sorted(await worker_repository.record_deliveries(tx, outcomes)):
        await imports.settle_job(tx, job_id)
