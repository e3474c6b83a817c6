"""The prerequisites contract: what an item requires (its editors set it), and whether it is unlocked for you."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field

from shared.platform.validation import Body, Integral, View

DEFAULT_THRESHOLD = 80
MAX_PREREQUISITES = 20


class Requirement(Body):
    """An item that must be completed first, at least this far."""

    item_id: UUID = Field(description="A program, WOD or BLOCK of the same owner, or platform content")
    threshold: Annotated[int, Field(ge=1, le=100), Integral] = Field(
        default=DEFAULT_THRESHOLD, description="Percent of it completed"
    )


def _distinct(requires: list[Requirement]) -> list[Requirement]:
    from pydantic_core import PydanticCustomError

    ids = [r.item_id for r in requires]
    if len(set(ids)) != len(ids):
        raise PydanticCustomError("duplicate_item", "an item is required twice")
    return requires


class SetPrerequisites(Body):
    """The item's complete set of prerequisites afterwards (an empty list removes them all)."""

    requires: Annotated[list[Requirement], Field(max_length=MAX_PREREQUISITES), AfterValidator(_distinct)]


class RequirementView(View):
    """A prerequisite as its editors set it."""

    item_id: UUID
    threshold: int


class Prerequisites(View):
    """What an item requires."""

    item_id: UUID
    requires: list[RequirementView]


class RequirementStatus(RequirementView):
    """A prerequisite, how far you are through it and whether that is enough."""

    percent: float
    is_met: bool


class Missing(RequirementView):
    """A prerequisite you have not met yet, and how far you are through it."""

    percent: float


class PrerequisiteStatus(View):
    """Whether an item is unlocked for you, and each of its prerequisites."""

    item_id: UUID
    is_unlocked: bool
    requires: list[RequirementStatus]
