"""The milestones contract: a learner's state through a program's milestones; the admins' review queue;
the milestones as a program's editors define them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from shared.content.schemas import Title
from shared.learning.enrollments.schemas import Progress
from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, Integral, NotNull, Patch, View

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


MAX_MILESTONES = 100
MAX_COVERED = 100
Position = Annotated[int, Field(ge=1, le=MAX_MILESTONES), Integral]
Score = Annotated[int, Field(ge=0, le=100, description="Average score of the covered items, at least"), Integral]
Validation = Literal["automatic", "review"]


def _distinct(item_ids: list[UUID]) -> list[UUID]:
    if len(set(item_ids)) != len(item_ids):
        raise PydanticCustomError("duplicate_item", "an item is covered twice")
    return item_ids


Covered = Annotated[
    list[UUID],
    Field(
        min_length=1,
        max_length=MAX_COVERED,
        description="The program items it covers: ids of entries in the program's sections (not their item_id)",
    ),
    AfterValidator(_distinct),
]
_POSITION = "Its place among the program's milestones (1: first), the others moved along; beyond the last: last"


class NewMilestone(Body):
    """A milestone to add to a program: what it covers, at what score, how it is validated, what it awards."""

    title: Title
    required_score: Score = 80
    item_ids: Covered
    validation: Validation = Field(default="automatic", description="automatic: when met; review: by an admin")
    achievement_id: UUID | None = Field(
        default=None, description="A milestone achievement (global or the program owner's) it awards"
    )
    position: Position | None = Field(default=None, description=_POSITION + "; absent: after the last")


class MilestoneChanges(Patch):
    """What changes in a milestone; omitted fields stay. Results already decided stay as they were."""

    title: Annotated[Title | None, *NotNull] = None
    required_score: Annotated[Score | None, *NotNull] = None
    item_ids: Annotated[Covered | None, *NotNull] = None
    validation: Annotated[Validation | None, *NotNull] = None
    achievement_id: UUID | None = Field(default=None, description="null: it awards nothing")
    position: Annotated[Position | None, *NotNull] = Field(default=None, description=_POSITION)


class Milestone(View):
    """A program's milestone as its editors define it."""

    id: UUID
    program_id: UUID
    position: int
    title: str
    required_score: int
    item_ids: list[UUID]
    validation: Validation
    achievement_id: UUID | None
    created_at: datetime


class MilestoneList(View):
    """A program's milestones in order."""

    program_id: UUID
    milestones: list[Milestone]
