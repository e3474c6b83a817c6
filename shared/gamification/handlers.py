"""Event handlers of the gamification context, registered on the worker's registry at import.

Each runs in its own service transaction with its `app.applied_events` row, so a redelivered event is
applied once; a fact sent again under a new event id counts once too (facts are keyed by what was done).
The handler names are stable keys of that record: never rename them.
"""

from __future__ import annotations

from shared.gamification import model, service
from shared.platform.db import Tx
from shared.platform.events import Event, registry


async def _apply(tx: Tx, event: Event) -> None:
    # Imported here (cold start): the worker builds the payload models on its first learning event.
    from shared.gamification import payloads

    await service.apply_activity(tx, payloads.activity_of(event.name, event.payload))


for _name in (model.COMPLETED, model.QUIZ_ATTEMPTED, model.PROGRAM_COMPLETED, model.ENROLLED, model.POSTED):
    registry.subscribe(_name, name=f"gamification.{_name}")(_apply)
