"""The enrollments contract: enrol, assign, list, read and drop, with progress derived from completions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, View

EnrollmentStatus = Literal["active", "completed", "dropped"]
MAX_ASSIGNED = 200


class Enrol(Body):
    """Enrol yourself in a program granted to you through this community."""

    program_id: UUID
    community_id: UUID


class Assign(Body):
    """Enrol members of the community in a program: listed users, or every member holding a tag."""

    program_id: UUID
    community_id: UUID
    user_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MAX_ASSIGNED)
    tag_id: UUID | None = Field(default=None, description="Every member of the community holding this tag")

    @model_validator(mode="after")
    def _one_way(self) -> Assign:
        if (self.user_ids is None) == (self.tag_id is None):
            raise PydanticCustomError("one_of", "name either user_ids or tag_id")
        if self.user_ids is not None and len(set(self.user_ids)) != len(self.user_ids):
            raise PydanticCustomError("duplicate_id", "a user is named twice")
        return self


class Progress(View):
    """Completed program items out of all its items, and the percentage derived from them."""

    total: int
    completed: int
    percent: float = Field(description="completed / total × 100, one decimal; 0 for an empty program")


def progress_of(total: int, completed: int) -> Progress:
    """The derived progress of `completed` out of `total`."""
    percent = round(100 * completed / total, 1) if total else 0.0
    return Progress(total=total, completed=completed, percent=percent)


class EnrollmentView(View):
    """A learner's enrollment in a program, with their progress through it."""

    id: UUID
    community_id: UUID
    user_id: UUID
    program_id: UUID
    status: EnrollmentStatus
    source: Literal["self", "admin"]
    enrolled_by: UUID | None
    enrolled_at: datetime
    completed_at: datetime | None
    dropped_at: datetime | None
    progress: Progress

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Self:
        """The view of an enrollment row carrying `progress_total` and `progress_completed`."""
        return cls.model_validate({**row, "progress": progress_of(row["progress_total"], row["progress_completed"])})


class Enrolled(EnrollmentView):
    """An enrollment as enrolling answers it: new (or taken up again after a drop), or as it already was."""

    is_new: bool


class Assigned(View):
    """The enrollments of everyone assigned, new or as they were."""

    items: list[Enrolled]


class EnrollmentPage(View):
    """One page of enrollments, newest first."""

    items: list[EnrollmentView]
    next_cursor: str | None


class MyEnrollmentsQuery(PageQuery):
    """Filters of the caller's own enrollments."""

    community_id: UUID | None = None
    status: EnrollmentStatus | None = None


class EnrollmentsQuery(MyEnrollmentsQuery):
    """Filters of a community's enrollments (its admins, staff)."""

    community_id: UUID
    program_id: UUID | None = None
