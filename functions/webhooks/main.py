"""`webhooks`: provider callbacks: the video provider's transcripts and Stripe subscription events.

Each route is verified by its provider's signature before the body is parsed, its event id is recorded
so a repeat is acknowledged without being processed again, and it only validates and enqueues an event
in that same transaction: the worker's handlers do the work, so the provider gets its answer fast.
"""

from __future__ import annotations

from typing import Any

from shared.integrations import billing, video
from shared.platform.http import Context, Function, Reply
from shared.platform.webhooks_http import Webhook

fn = Function(
    "webhooks",
    body_limit=1024 * 1024,  # a long video's transcript arrives in one callback
    description="Provider webhooks: video transcripts and Stripe billing events.",
)

# secret_env names the environment variable that holds the secret, it is not one (hence the noqa).
VIDEO = Webhook(provider=video.PROVIDER, secret_env="VIDEO_WEBHOOK_SECRET", scheme="standard")  # noqa: S106
STRIPE = Webhook(provider=billing.PROVIDER, secret_env="STRIPE_WEBHOOK_SECRET", scheme="stripe")  # noqa: S106

# rate_limit=None on both: only the provider can sign a request that reaches the route, and throttling a
# provider's verified deliveries would only make it retry them later.


@fn.post("/video/transcript-ready", auth="webhook", webhook=VIDEO, rate_limit=None, status=202)
async def transcript_ready(ctx: Context, event_id: str, payload: Any) -> Reply:
    """Accept a video's transcript; it is stored in the background."""
    await video.accept_transcript(ctx.db, event_id, payload)
    return Reply({"status": "accepted"}, status=202)


@fn.post("/billing/stripe", auth="webhook", webhook=STRIPE, rate_limit=None)
async def stripe_event(ctx: Context, event_id: str, payload: Any) -> dict[str, str]:
    """Accept a Stripe event: subscription changes are applied in the background, others acknowledged."""
    return await billing.accept_stripe_event(ctx.db, event_id, payload)


handler = fn.handler
