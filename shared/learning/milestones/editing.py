"""A program's editors (staff who may write, the owning community's admins) define its milestones: list,
add, change, move and remove them; every write is audited.

Positions stay 1…n in order: adding, moving or removing one renumbers the others in the same transaction.
What a milestone covers (items of its program) and awards (a milestone achievement, global or the owner's)
is checked by the database for every writer (409 `unknown_milestone_item`, `unknown_achievement`).
Changing a milestone does not touch the results already decided.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.learning.errors import LearningNotFoundError, MilestoneNotFoundError, conflict
from shared.learning.milestones import repository
from shared.learning.milestones.schemas import (
    MAX_MILESTONES,
    Milestone,
    MilestoneChanges,
    MilestoneList,
    NewMilestone,
)
from shared.learning.prerequisites import repository as items
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.db import Row, Tx
from shared.platform.errors import ForbiddenError

TARGET = "learning_milestone"


async def listed(program_id: UUID, *, tx: Tx) -> MilestoneList:
    """A program's milestones in order, for whoever sees the program."""
    await _program(tx, program_id)
    rows = await repository.defined(tx, program_id)
    return MilestoneList(program_id=program_id, milestones=[Milestone.model_validate(row) for row in rows])


async def create(program_id: UUID, cmd: NewMilestone, *, tx: Tx, meta: RequestMeta) -> Milestone:
    """Add a milestone at its position (absent: last), the later ones moved along."""
    program = await _editable(tx, program_id)
    order: list[UUID | None] = list(await repository.locked_order(tx, program_id))
    if len(order) >= MAX_MILESTONES:
        raise conflict("too_many_milestones")
    order.insert(_index(cmd.position, len(order)), None)
    await repository.renumber(tx, order)
    values = cmd.model_dump(exclude={"position"}) | {"program_id": program_id, "position": order.index(None) + 1}
    row = await _row(tx, program_id, await repository.insert(tx, values))
    await _record(tx, meta, "milestone.created", program, row["id"], None, _values(row))
    return Milestone.model_validate(row)


async def update(
    program_id: UUID, milestone_id: UUID, cmd: MilestoneChanges, *, tx: Tx, meta: RequestMeta
) -> Milestone:
    """Change a milestone's definition and/or move it."""
    program = await _editable(tx, program_id)
    order: list[UUID | None] = list(await repository.locked_order(tx, program_id))
    before = await _row(tx, program_id, milestone_id)
    changes = cmd.model_dump(include=cmd.model_fields_set - {"position"})
    if changes:
        await repository.update(tx, milestone_id, changes)
    if cmd.position is not None:
        order.remove(milestone_id)
        order.insert(_index(cmd.position, len(order)), milestone_id)
        await repository.renumber(tx, order)
    after = await _row(tx, program_id, milestone_id)
    await _record(tx, meta, "milestone.updated", program, milestone_id, _values(before), _values(after))
    return Milestone.model_validate(after)


async def delete(program_id: UUID, milestone_id: UUID, *, tx: Tx, meta: RequestMeta) -> None:
    """Remove a milestone (its learners' results with it), the later ones moved up."""
    program = await _editable(tx, program_id)
    order = await repository.locked_order(tx, program_id)
    before = await _row(tx, program_id, milestone_id)
    await repository.delete(tx, milestone_id)
    order.remove(milestone_id)
    await repository.renumber(tx, list(order))
    await _record(tx, meta, "milestone.deleted", program, milestone_id, _values(before), None)


async def _program(tx: Tx, program_id: UUID) -> Row:
    program = await items.item(tx, program_id)
    if program is None or program["type"] != "program":
        raise LearningNotFoundError()
    return program


async def _editable(tx: Tx, program_id: UUID) -> Row:
    program = await _program(tx, program_id)
    if not program["may_edit"]:
        raise ForbiddenError("Only platform staff who may write and the program's community admins do this.")
    return program


async def _row(tx: Tx, program_id: UUID, milestone_id: UUID) -> Row:
    row = await repository.one(tx, program_id, milestone_id)
    if row is None:
        raise MilestoneNotFoundError()
    return row


def _index(position: int | None, count: int) -> int:
    """Where in an order of `count` a 1-based position goes (absent or beyond: last)."""
    return count if position is None else min(position - 1, count)


def _values(row: Row) -> dict[str, Any]:
    keys = ("position", "title", "required_score", "item_ids", "validation", "achievement_id")
    return {key: row[key] for key in keys}


async def _record(
    tx: Tx, meta: RequestMeta, action: str, program: Row, milestone_id: UUID,
    before: dict[str, Any] | None, after: dict[str, Any] | None,
) -> None:
    await audit.record(
        tx, meta, action, target_type=TARGET, target_id=milestone_id, community_id=program["community_id"],
        before=before, after=after,
    )
