"""`programs`: Programs: sections of WODs and BLOCKs, an optional calendar, lifecycle and versions."""

from __future__ import annotations

from uuid import UUID

from shared.authoring.program_schemas import PROGRAMS
from shared.content import routes
from shared.content.routes import ITEM, READERS, WRITERS
from shared.learning.milestones import editing as milestones
from shared.learning.milestones.schemas import Milestone, MilestoneChanges, MilestoneList, NewMilestone
from shared.platform.audit import meta_of
from shared.platform.http import Context, Function

fn = Function(
    "programs",
    body_limit=1024 * 1024,
    description="Programs: sections of WODs and BLOCKs, an optional calendar, lifecycle and versions.",
)
routes.mount(fn, PROGRAMS)

MILESTONES = ITEM + "/milestones"
MILESTONE = MILESTONES + "/{milestone_id:uuid}"
HIDDEN = {404: "No such program (or milestone) the caller can see"}
RULES = {**HIDDEN, 409: "unknown_milestone_item, unknown_achievement, too_many_milestones"}


@fn.get(MILESTONES, rate_limit="admin", allow=READERS, responses=HIDDEN)
async def list_milestones(ctx: Context, item_id: UUID) -> MilestoneList:
    """A program's milestones in order: what each covers, its required score, validation and award."""
    return await milestones.listed(item_id, tx=ctx.db)


@fn.post(MILESTONES, body=NewMilestone, status=201, rate_limit="admin", allow=WRITERS, responses=RULES)
async def create_milestone(ctx: Context, item_id: UUID, body: NewMilestone) -> Milestone:
    """Add a milestone at `position` (absent: last), the later ones moved along: its editors; audited."""
    return await milestones.create(item_id, body, tx=ctx.db, meta=meta_of(ctx))


@fn.patch(MILESTONE, body=MilestoneChanges, rate_limit="admin", allow=WRITERS, responses=RULES)
async def update_milestone(ctx: Context, item_id: UUID, milestone_id: UUID, body: MilestoneChanges) -> Milestone:
    """Change a milestone (title, items, required score, validation, award) and/or move it; audited."""
    return await milestones.update(item_id, milestone_id, body, tx=ctx.db, meta=meta_of(ctx))


@fn.delete(MILESTONE, rate_limit="admin", allow=WRITERS, responses=HIDDEN)
async def delete_milestone(ctx: Context, item_id: UUID, milestone_id: UUID) -> None:
    """Remove a milestone with its learners' results, the later ones moved up; audited."""
    await milestones.delete(item_id, milestone_id, tx=ctx.db, meta=meta_of(ctx))


handler = fn.handler
