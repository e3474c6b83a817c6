"""Event handlers of the integrations context, registered on the worker's registry at import.

The worker imports this module; each handler runs in its own service transaction together with its
`app.applied_events` row, so a redelivered event is applied at most once. The handler names are stable
keys of that record: never rename them.
"""

from __future__ import annotations

from shared.integrations import billing, video
from shared.platform.db import Tx
from shared.platform.events import Event, registry


@registry.subscribe(video.EVENT_NAME, name="integrations.store_video_transcript")
async def store_video_transcript(tx: Tx, event: Event) -> None:
    """Store (upsert) the transcript of a `video.transcript_ready` event."""
    await video.store_transcript(tx, event)


@registry.subscribe(billing.EVENT_NAME, name="integrations.apply_subscription_change")
async def apply_subscription_change(tx: Tx, event: Event) -> None:
    """Upsert the community's subscription from a `billing.subscription_changed` event."""
    await billing.apply_subscription_change(tx, event)
