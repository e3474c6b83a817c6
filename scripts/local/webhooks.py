"""`scripts/webhook`: signed sample deliveries to the local stack, as `stripe trigger` does for Stripe.

The payloads are the samples the tests use (`tests/events/`); each delivery gets a fresh event id and
timestamp, so the stack processes it instead of acknowledging a duplicate.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scripts.local.stack import CHECKOUT

EVENTS_DIR = CHECKOUT / "tests" / "events"


@dataclass(frozen=True, slots=True)
class Sample:
    """Where a provider's event is delivered, its sample payload and the secret that signs it."""

    path: str
    file: str
    secret_env: str
    scheme: str  # "standard" (Standard Webhooks) or "stripe"


SAMPLES: dict[tuple[str, str], Sample] = {
    ("auth-hook", "custom-access-token"): Sample(
        "/functions/v1/auth-hook", "auth_hook_payload.json", "SUPABASE_AUTH_HOOK_SECRET", "standard"
    ),
    ("stripe", "subscription.updated"): Sample(
        "/functions/v1/webhooks/billing/stripe", "stripe_subscription_updated.json", "STRIPE_WEBHOOK_SECRET", "stripe"
    ),
    ("stripe", "subscription.deleted"): Sample(
        "/functions/v1/webhooks/billing/stripe", "stripe_subscription_deleted.json", "STRIPE_WEBHOOK_SECRET", "stripe"
    ),
    ("stripe", "invoice.paid"): Sample(
        "/functions/v1/webhooks/billing/stripe", "stripe_invoice_paid.json", "STRIPE_WEBHOOK_SECRET", "stripe"
    ),
    ("video", "transcript.ready"): Sample(
        "/functions/v1/webhooks/video/transcript-ready", "video_transcript_ready.json", "VIDEO_WEBHOOK_SECRET", "standard"
    ),
}


def events_of(provider: str) -> list[str]:
    """The sample events a provider has."""
    return sorted(event for p, event in SAMPLES if p == provider)


def delivery(provider: str, event: str, secrets: Mapping[str, str]) -> tuple[str, bytes, dict[str, str]]:
    """The path, body and signed headers of one fresh delivery of a sample event."""
    from shared.platform.webhooks import sign_standard_webhook, sign_stripe_payload

    sample = SAMPLES.get((provider, event))
    if sample is None:
        raise KeyError(f"no sample {provider} {event}; {provider} has: {', '.join(events_of(provider)) or 'none'}")
    payload: dict[str, Any] = json.loads((EVENTS_DIR / sample.file).read_text())
    now = int(time.time())
    if sample.scheme == "stripe":
        payload.update(id=f"evt_local_{uuid.uuid4().hex[:20]}", created=now)
    body = json.dumps(payload).encode()
    secret = secrets[sample.secret_env]
    headers = {"content-type": "application/json"}
    if sample.scheme == "stripe":
        headers["stripe-signature"] = sign_stripe_payload(body, now, secret)
    else:
        msg_id = f"msg_local_{uuid.uuid4().hex[:20]}"
        headers |= {
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": sign_standard_webhook(body, msg_id, now, secret),
        }
    return sample.path, body, headers


def send_sample(provider: str, event: str, base_url: str, secrets: Mapping[str, str]) -> tuple[int, str]:
    """Deliver one signed sample to the stack at `base_url`; its status and body."""
    import httpx

    path, body, headers = delivery(provider, event, secrets)
    response = httpx.post(base_url + path, content=body, headers=headers, timeout=10)
    return response.status_code, response.text
