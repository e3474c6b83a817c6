"""The progress contract: record a completion stamp; read progress of a WOD or BLOCK, of a program, overall."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.learning.enrollments.schemas import EnrollmentView, Progress
from shared.learning.prerequisites.schemas import Missing
from shared.platform.validation import Body, Integral, Query, View

TargetType = Literal["block", "page", "wod", "program_item"]
Score = Annotated[float, Field(ge=0, le=100)]
MAX_TIME_SPENT_S = 7 * 24 * 3600


class RecordCompletion(Body):
    """A completion of something you can see through the community."""

    community_id: UUID
    target_type: TargetType = Field(
        description="block or page (of a WOD or BLOCK), wod (a whole WOD or BLOCK), program_item"
    )
    target_id: UUID = Field(description="The block's, page's or program item's id; for wod the item's id")
    item_id: UUID | None = Field(
        default=None,
        description="The WOD or BLOCK the block or page is in, or the program of the program item (not for wod)",
    )
    score: Score | None = Field(default=None, description="Percent, when the target was scored")
    time_spent_s: Annotated[int, Field(ge=0, le=MAX_TIME_SPENT_S), Integral] | None = None


class CompletionView(View):
    """A completion stamp: who completed what, when, with which score and time spent."""

    id: UUID
    user_id: UUID
    community_id: UUID
    target_type: TargetType
    target_id: UUID
    item_id: UUID
    score: float | None
    time_spent_s: int | None
    completed_at: datetime


class CompletionRecorded(View):
    """The stamp, and whether this request recorded it (false: it was recorded before, as it is)."""

    created: bool
    completion: CompletionView


class PageProgress(View):
    """One page of a WOD or BLOCK and whether you completed it."""

    id: UUID
    title: str
    completed_at: datetime | None


class ItemProgress(View):
    """Your progress through a WOD or BLOCK: completed pages out of its pages."""

    item_id: UUID
    type: Literal["wod", "block"]
    progress: Progress
    completed_at: datetime | None = Field(description="When the whole item was completed; null: not yet")
    pages: list[PageProgress]
    completed_blocks: list[UUID] = Field(description="Blocks you completed (a passed quiz, a task)")
    missing_prerequisites: list[Missing] = Field(description="What you must complete first; empty: unlocked")


class ProgramItemProgress(View):
    """One item of a program and whether you completed it (its own stamp or the whole WOD or BLOCK)."""

    id: UUID
    item_id: UUID
    is_completed: bool


class SectionProgress(View):
    """One section of a program with its items."""

    id: UUID
    title: str
    items: list[ProgramItemProgress]


class ProgramProgress(View):
    """Your progress through a program: completed items out of its items, and your enrollment."""

    program_id: UUID
    progress: Progress
    enrollment: EnrollmentView | None
    sections: list[SectionProgress]
    missing_prerequisites: list[Missing] = Field(description="What you must complete first; empty: unlocked")


class OverviewQuery(Query):
    """Narrow the overview to what was done through one community."""

    community_id: UUID | None = None


class Overview(View):
    """Your progress overall: completions by kind, quiz attempts, enrollments by status."""

    completions: dict[TargetType, int]
    quiz_attempts: int
    quizzes_passed: int
    enrollments: dict[Literal["active", "completed", "dropped"], int]
