"""Milestone use cases: a learner reads their state through a program's milestones; a community's admin
works through the review queue, approving or rejecting each pending milestone with feedback (audited).

Validation is the database's: a new completion stamp or a submitted quiz settles the milestones it may
meet (`app.settle_milestones`); an automatic one is completed at once, a review one waits pending, and
a completed one sends `learning.milestone_completed` in the same transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.identity import policy
from shared.learning.enrollments.schemas import progress_of
from shared.learning.errors import LearningNotFoundError, MilestoneResultNotFoundError, check
from shared.learning.milestones import repository
from shared.learning.milestones.results_schemas import (
    Decide,
    MilestoneResult,
    MilestoneState,
    ProgramMilestones,
    ReviewPage,
    ReviewQueueQuery,
)
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.pagination import page_of

DECIDED = {"approve": "milestone.review_approved", "reject": "milestone.review_rejected"}


async def of_program(program_id: UUID, *, tx: Tx) -> ProgramMilestones:
    """The caller's state in each milestone of a program they see, in order."""
    if not await repository.program_visible(tx, program_id):
        raise LearningNotFoundError()
    return ProgramMilestones(program_id=program_id, milestones=[_state(row) for row in await repository.states(tx, program_id)])


async def queue(query: ReviewQueueQuery, *, tx: Tx, principal: Principal) -> ReviewPage:
    """A community's milestone results of a status, oldest first (its admins, staff)."""
    policy.require_community_reader(principal, query.community_id)
    rows = await repository.queue(
        tx, query.community_id, query.status, cursors.time_and_id(query.cursor), query.limit + 1
    )
    page, next_cursor = page_of(rows, query.limit, key=_key)
    return ReviewPage(items=[MilestoneResult.model_validate(row) for row in page], next_cursor=next_cursor)


async def decide(result_id: UUID, cmd: Decide, *, tx: Tx, meta: RequestMeta) -> MilestoneResult:
    """Approve or reject a pending milestone review with feedback; audited."""
    check(await repository.decide(tx, result_id, cmd.decision == "approve", cmd.feedback), MilestoneResultNotFoundError)
    row = await repository.result(tx, result_id)
    assert row is not None  # decided by the caller just now, so they see it
    view = MilestoneResult.model_validate(row)
    await audit.record(
        tx, meta, DECIDED[cmd.decision], target_type="milestone_result", target_id=view.id,
        community_id=view.community_id, before={"status": "pending"},
        after={"status": view.status, "feedback": view.feedback},
    )
    return view


def _state(row: Row) -> MilestoneState:
    progress = progress_of(row["total"], row["completed"])
    met = row["total"] > 0 and row["completed"] == row["total"] and row["score"] >= row["required_score"]
    return MilestoneState.model_validate({**row, "progress": progress, "is_met": met})


def _key(row: Row) -> list[Any]:
    return [row["met_at"].isoformat(), str(row["id"])]
