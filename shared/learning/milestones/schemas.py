"""The milestones as a program's editors define them (a learner's results and their review: `results_schemas`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from shared.content.fields import Title
from shared.platform.validation import Body, Integral, NotNull, Patch, View

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
