"""Prerequisite use cases: an editor sets what an item requires; a learner reads whether it is unlocked.

Enrolling in a locked program, recording a completion in a locked item and starting its quizzes are
refused by the database functions themselves (409 `prerequisites_unmet`, naming what is missing).
"""

from __future__ import annotations

import json
from uuid import UUID

from shared.learning.errors import LearningNotFoundError
from shared.learning.prerequisites import repository
from shared.learning.prerequisites.schemas import (
    Prerequisites,
    PrerequisiteStatus,
    RequirementStatus,
    RequirementView,
    SetPrerequisites,
)
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.db import Row, Tx
from shared.platform.errors import FieldError, ForbiddenError, ValidationFailedError

LOCKABLE = ("program", "wod", "block")


async def status(item_id: UUID, *, tx: Tx) -> PrerequisiteStatus:
    """Whether an item the caller sees is unlocked for them, prerequisite by prerequisite."""
    await _lockable(tx, item_id)
    requires = [RequirementStatus.model_validate(row) for row in await repository.status(tx, item_id)]
    return PrerequisiteStatus(
        item_id=item_id, is_unlocked=all(r.is_met for r in requires), requires=requires
    )


async def replace(item_id: UUID, cmd: SetPrerequisites, *, tx: Tx, meta: RequestMeta) -> Prerequisites:
    """Set what an item requires (its editors); each required item must be one the caller sees."""
    item = await _lockable(tx, item_id)
    if not item["may_edit"]:
        raise ForbiddenError("Only the item's editors set its prerequisites.")
    wanted = [r.item_id for r in cmd.requires]
    unknown = [str(i) for i in wanted if i not in await repository.usable(tx, wanted)] if wanted else []
    if unknown:
        raise _unknown(unknown)
    before = [_view(row) for row in await repository.listed(tx, item_id)]
    rows = await repository.replace(tx, item_id, json.dumps([r.model_dump(mode="json") for r in cmd.requires]))
    after = [_view(row) for row in rows]
    await audit.record(
        tx, meta, "content.prerequisites_set", target_type="content_item", target_id=item_id,
        community_id=item["community_id"], before={"requires": before}, after={"requires": after},
    )
    return Prerequisites(item_id=item_id, requires=[RequirementView.model_validate(row) for row in rows])


async def _lockable(tx: Tx, item_id: UUID) -> Row:
    item = await repository.item(tx, item_id)
    if item is None or item["type"] not in LOCKABLE:
        raise LearningNotFoundError()
    return item


def _view(row: Row) -> dict[str, object]:
    return {"item_id": str(row["item_id"]), "threshold": row["threshold"]}


def _unknown(item_ids: list[str]) -> ValidationFailedError:
    error = ValidationFailedError(
        [FieldError("body.requires", "not a program, WOD or BLOCK you can see", "unknown_item")],
        "Some required items are not programs, WODs or BLOCKs you can see.",
    )
    error.extra["item_ids"] = item_ids
    return error
