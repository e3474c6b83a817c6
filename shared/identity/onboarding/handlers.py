"""Event handlers of onboarding: import chunks and invitation deliveries. Importing this module subscribes them."""

from __future__ import annotations

from uuid import UUID

from shared.identity.onboarding import deliveries, imports
from shared.identity.onboarding.event_names import DELIVERY_REQUESTED
from shared.platform.db import Tx
from shared.platform.events import Event, registry


@registry.subscribe(imports.REQUESTED, name="onboarding.import_first_chunk", on_dead=imports.chunk_died)
@registry.subscribe(imports.CHUNK_REQUESTED, name="onboarding.import_next_chunk", on_dead=imports.chunk_died)
async def import_chunk(tx: Tx, event: Event) -> None:
    """Import the next chunk of the job in the handler's transaction; the next chunk is queued from it."""
    await imports.process_chunk(tx, UUID(str(event.payload["job_id"])), chunk_size=imports.CHUNK_SIZE)


@registry.subscribe_outside_transaction(
    DELIVERY_REQUESTED, name="onboarding.deliver_invitations", on_dead=deliveries.delivery_died
)
async def deliver_invitations(event: Event) -> None:
    """Send the event's pending invitations through the identity provider, outside any transaction."""
    await deliveries.deliver(event)
