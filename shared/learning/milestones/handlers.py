"""The worker's handler of `learning.milestone_completed`, registered on the worker's registry at import.

A completed milestone is the learner's activity (their day, streak and the catalogue's awards, as the
gamification context applies any learning event) and earns the achievement the milestone names, once.
The handler name is a stable key of `app.applied_events`: never rename it.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.gamification import service as gamification
from shared.gamification.model import AWARDED, Activity
from shared.learning.milestones import repository
from shared.platform import events
from shared.platform.db import Tx
from shared.platform.events import Event, registry

COMPLETED = "learning.milestone_completed"


class _Completed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_id: UUID
    community_id: UUID
    milestone_id: UUID
    completed_at: AwareDatetime


@registry.subscribe(COMPLETED, name=f"milestones.{COMPLETED}")
async def _completed(tx: Tx, event: Event) -> None:
    done = _Completed.model_validate(event.payload)
    await gamification.apply_activity(tx, Activity(done.user_id, done.community_id, done.completed_at, None))
    award = await repository.award_milestone(tx, done.user_id, done.milestone_id, done.community_id)
    if award is not None:
        await events.enqueue(tx, events.Event(name=AWARDED, payload=gamification.announcement(award)))
