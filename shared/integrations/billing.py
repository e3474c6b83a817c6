"""Stripe subscription events → a community's plan, seats and status.

The webhook route validates the event, maps the subscription to a `SubscriptionChange` and enqueues
`billing.subscription_changed`; the event handler upserts `public.community_subscriptions`. Stripe
does not deliver events in order, so the row remembers the `created` time of the event it reflects
and an older event arriving later changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from shared.platform import logging as log
from shared.platform.db import Tx
from shared.platform.errors import ValidationFailedError
from shared.platform.events import Event, enqueue
from shared.platform.validation import field_errors

PROVIDER = "stripe"
EVENT_NAME = "billing.subscription_changed"
SUBSCRIPTION_EVENTS = frozenset(
    {"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"}
)
ENDED_STATUSES = ("canceled", "incomplete_expired")
M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], payload: Any) -> M:
    """The payload as `model`, or a 422 naming every failing field."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailedError(field_errors(exc, "body")) from None


def _community_id(metadata: dict[str, Any]) -> UUID | None:
    raw = metadata.get("community_id")
    if not isinstance(raw, str):
        return None
    try:
        return UUID(raw)
    except ValueError:
        return None


async def accept_stripe_event(tx: Tx, event_id: str, payload: Any) -> dict[str, str]:
    """Enqueue `billing.subscription_changed` for a subscription event; acknowledge every other type."""
    # Imported here (cold start): only this route and the worker's handler build the Stripe models.
    from shared.integrations import stripe_events

    envelope = _validated(stripe_events.StripeEnvelope, payload)
    if envelope.type not in SUBSCRIPTION_EVENTS:
        log.info("stripe event ignored", stripe_event_type=envelope.type, stripe_event_id=event_id)
        return {"status": "ignored"}
    event = _validated(stripe_events.StripeSubscriptionEvent, payload)
    community_id = _community_id(event.data.object.metadata)
    if community_id is None:
        # Retrying cannot fix a subscription created without our metadata: acknowledge and say so.
        log.warning(
            "stripe subscription without a community_id in its metadata",
            stripe_event_id=event_id,
            subscription_id=event.data.object.id,
        )
        return {"status": "ignored"}
    change = stripe_events.subscription_change(event, community_id)
    await enqueue(tx, Event(name=EVENT_NAME, payload=change.model_dump(mode="json")))
    log.bind(community_id=str(community_id))
    return {"status": "accepted"}


APPLY_CHANGE_SQL = """
insert into public.community_subscriptions as s
  (community_id, provider, customer_id, subscription_id, plan, seats, status, current_period_end,
   provider_event_id, provider_event_created)
select c.id, %(provider)s, %(customer_id)s, %(subscription_id)s, %(plan)s, %(seats)s, %(status)s,
       %(current_period_end)s, %(provider_event_id)s, %(provider_event_created)s
from public.communities c
where c.id = %(community_id)s
on conflict (community_id) do update
   set provider = excluded.provider, customer_id = excluded.customer_id,
       subscription_id = excluded.subscription_id, plan = excluded.plan, seats = excluded.seats,
       status = excluded.status, current_period_end = excluded.current_period_end,
       provider_event_id = excluded.provider_event_id, provider_event_created = excluded.provider_event_created
 where s.provider_event_created <= excluded.provider_event_created
   and (s.subscription_id = excluded.subscription_id or excluded.status <> all (%(ended)s))
returning 1
"""
"""Upsert unless the stored row reflects a newer event, or the event ends a subscription the community
has already replaced (a late `deleted` of the old subscription must not cancel the new one)."""


def _timestamp(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


async def apply_subscription_change(tx: Tx, event: Event) -> None:
    """Upsert the community's subscription row from a `billing.subscription_changed` event."""
    from shared.integrations.stripe_events import SubscriptionChange  # cold start, as above

    change = SubscriptionChange.model_validate(event.payload)
    applied = await tx.fetch_one(
        APPLY_CHANGE_SQL,
        {
            **change.model_dump(),
            "current_period_end": _timestamp(change.current_period_end),
            "provider_event_created": _timestamp(change.provider_event_created),
            "ended": list(ENDED_STATUSES),
        },
    )
    if applied is None:
        log.info(
            "subscription change not applied: unknown community, or older than the stored state",
            community_id=str(change.community_id),
            stripe_event_id=change.provider_event_id,
        )
