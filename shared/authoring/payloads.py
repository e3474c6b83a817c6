"""The typed payloads of the training zone's items: a WOD's and a BLOCK's pages, a program's sections."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from shared.content.payloads import Label
from shared.platform.validation import Body, Integral

Difficulty = Literal["beginner", "intermediate", "advanced"]
Category = Literal["warm-up", "cardio", "strength", "flexibility", "cool-down", "general"]
MAX_PAGES = 100

Pages = Annotated[list[dict[str, Any]], Field(max_length=MAX_PAGES, description="Ordered pages of blocks")]


class WodPayload(Body):
    """A WOD (a lesson): its level, how long it takes, and its pages."""

    difficulty: Difficulty = "beginner"
    estimated_minutes: Annotated[int, Field(ge=1, le=24 * 60), Integral] | None = None
    pages: Pages = Field(default_factory=list)


class BlockPayload(Body):
    """A BLOCK: a reusable workout block of pages, with what it trains and needs."""

    category: Category = "general"
    equipment: list[Label] = Field(default_factory=list, max_length=30)
    instructions: str = Field(default="", max_length=20_000)
    pages: Pages = Field(default_factory=list)


class ProgramPayload(Body):
    """A program: ordered sections of WODs and BLOCKs, with an optional week/day calendar (a course has
    none), capacity and enrollment deadline."""

    difficulty: Difficulty = "beginner"
    estimated_weeks: Annotated[int, Field(ge=1, le=104), Integral] | None = None
    calendar: bool = False
    sections: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
