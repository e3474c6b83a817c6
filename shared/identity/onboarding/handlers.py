"""Event handlers of onboarding: the import worker. Importing this module subscribes them."""

from __future__ import annotations

from uuid import UUID

from shared.identity.onboarding import imports
from shared.platform.db import Tx
from shared.platform.events import Event, registry


@registry.subscribe(imports.REQUESTED, name="onboarding.import_first_chunk")
@registry.subscribe(imports.CHUNK_REQUESTED, name="onboarding.import_next_chunk")
async def import_chunk(tx: Tx, event: Event) -> None:
    """Import the next chunk of the job in the handler's transaction; the next chunk is queued from it."""
    await imports.process_chunk(tx, UUID(str(event.payload["job_id"])), chunk_size=imports.CHUNK_SIZE)
