"""Stripe's subscription events as we read them, and their mapping to a community's subscription change.

Imported by `billing` inside the paths that read an event, so the webhooks function starts without them.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

_STRIPE_ID = r"^[A-Za-z0-9_]{1,255}$"


class _Lenient(BaseModel):
    """Provider objects: fields Stripe adds in later API versions are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")


class StripeEnvelope(_Lenient):
    """The part of every Stripe event this endpoint reads first."""

    id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=255)
    created: int | None = None


class StripePrice(_Lenient):
    """A subscription item's price: its id and the lookup key we name plans by."""

    id: str = Field(min_length=1, max_length=255)
    lookup_key: str | None = Field(default=None, max_length=255)


class StripeSubscriptionItem(_Lenient):
    """One item of a subscription (API 2025-03-31 and later carry the period on the item)."""

    price: StripePrice
    quantity: int | None = Field(default=None, ge=0)
    current_period_end: int | None = None


class StripeItems(_Lenient):
    """The subscription's item list."""

    data: list[StripeSubscriptionItem] = Field(min_length=1)


class StripeCustomer(_Lenient):
    """An expanded customer object; only its id matters."""

    id: str = Field(min_length=1, max_length=255)


class StripeSubscription(_Lenient):
    """The subscription object of a `customer.subscription.*` event."""

    id: str = Field(pattern=_STRIPE_ID)
    customer: str | StripeCustomer
    status: str = Field(pattern=r"^[a-z_]{1,40}$")
    metadata: dict[str, Any] = Field(default_factory=dict)
    items: StripeItems
    current_period_end: int | None = None


class StripeSubscriptionData(_Lenient):
    """`data` of a subscription event."""

    object: StripeSubscription


class StripeSubscriptionEvent(_Lenient):
    """A `customer.subscription.created|updated|deleted` event."""

    id: str = Field(min_length=1, max_length=255)
    type: Literal[
        "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"
    ]
    created: int = Field(gt=0)
    data: StripeSubscriptionData


class SubscriptionChange(BaseModel):
    """The payload of `billing.subscription_changed`: the community's subscription as of one Stripe event."""

    community_id: UUID
    provider: Literal["stripe"] = "stripe"
    provider_event_id: str
    provider_event_type: str
    provider_event_created: int
    customer_id: str
    subscription_id: str
    plan: str
    seats: int
    status: str
    current_period_end: int | None


def subscription_change(event: StripeSubscriptionEvent, community_id: UUID) -> SubscriptionChange:
    """Map a Stripe subscription event to the community's plan, seats, status and period end."""
    subscription = event.data.object
    item = subscription.items.data[0]  # our plans are single-price subscriptions
    customer = subscription.customer if isinstance(subscription.customer, str) else subscription.customer.id
    period_end = subscription.current_period_end
    if period_end is None:
        period_end = max(
            (i.current_period_end for i in subscription.items.data if i.current_period_end), default=None
        )
    deleted = event.type == "customer.subscription.deleted"
    return SubscriptionChange(
        community_id=community_id,
        provider_event_id=event.id,
        provider_event_type=event.type,
        provider_event_created=event.created,
        customer_id=customer,
        subscription_id=subscription.id,
        plan=item.price.lookup_key or item.price.id,
        seats=item.quantity if item.quantity is not None else 0,
        status="canceled" if deleted else subscription.status,
        current_period_end=period_end,
    )
