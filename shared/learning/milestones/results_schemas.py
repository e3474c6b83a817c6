"""The milestone results' contract: a learner's state through a program's milestones; the admins' review queue."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.learning.enrollments.schemas import Progress
from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, View

ResultStatus = Literal["pending", "completed", "rejected"]
MAX_FEEDBACK = 2000


class MilestoneState(View):
    """A milestone and where you are with it: covered items done, their average score, its validation."""

    id: UUID
    position: int
    title: str
    required_score: int
    item_ids: list[UUID] = Field(description="The program items it covers")
    validation: Literal["automatic", "review"]
    achievement_id: UUID | None
    progress: Progress
    score: float | None = Field(description="Average score of the covered items you completed")
    is_met: bool = Field(description="Every covered item completed at an average of at least required_score")
    status: ResultStatus | None = Field(description="Validation: none yet, pending review, completed, rejected")
    feedback: str = Field(description="The reviewer's feedback, when reviewed")
    met_at: datetime | None
    decided_at: datetime | None


class ProgramMilestones(View):
    """A program's milestones in order, with your state in each."""

    program_id: UUID
    milestones: list[MilestoneState]


class MilestoneResult(View):
    """A learner's validated or pending milestone, as its community's admins review it."""

    id: UUID
    milestone_id: UUID
    program_id: UUID
    title: str
    position: int
    user_id: UUID
    community_id: UUID
    score: float
    status: ResultStatus
    met_at: datetime
    decided_by: UUID | None
    decided_at: datetime | None
    feedback: str


class ReviewQueueQuery(PageQuery):
    """A community's milestone results, oldest first (pending ones by default)."""

    community_id: UUID
    status: ResultStatus = "pending"


class ReviewPage(View):
    """One page of milestone results, oldest first."""

    items: list[MilestoneResult]
    next_cursor: str | None


class Decide(Body):
    """Approve (the milestone is completed) or reject a pending review, with feedback for the learner."""

    decision: Literal["approve", "reject"]
    feedback: str = Field(default="", max_length=MAX_FEEDBACK)
