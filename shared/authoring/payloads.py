"""The typed payloads of the training zone's items: a WOD's and a BLOCK's pages (a program's
sections are shared/authoring/programs.py).

A WOD's and a BLOCK's pages are sent and shown to their editors with each quiz's answers; what is stored
in the payload (and read by learners) has none: the answers are the item's keys (shared/authoring/pages.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, Field, SkipValidation

from shared.authoring import pages
from shared.authoring.model import Category, Difficulty
from shared.authoring.pages import LearnerPage, Page, Pages
from shared.content.fields import Label
from shared.platform.validation import Body, Integral


def _two_forms(schema: dict[str, Any]) -> None:
    schema["anyOf"] = [form for form in schema["anyOf"] if "$ref" in form.get("items", {})]


ShownPages = Annotated[
    list[Page] | list[LearnerPage] | list[dict[str, Any]],
    # Stored pages were checked on their way in; checking 200 blocks again would be most of a read's CPU.
    SkipValidation,
    Field(
        description="With each quiz's answers for the item's editors; without for other readers",
        json_schema_extra=_two_forms,
    ),
]


class WodLevel(Body):
    """A WOD's level and how long it takes."""

    difficulty: Difficulty = "beginner"
    estimated_minutes: Annotated[int, Field(ge=1, le=24 * 60), Integral] | None = None


class WodPayload(WodLevel):
    """A WOD (a lesson): its level, how long it takes, and its pages (a quiz with its answers)."""

    pages: Pages = Field(default_factory=list)


class WodShown(WodLevel):
    """A WOD's payload as shown."""

    pages: ShownPages


class BlockTraits(Body):
    """What a BLOCK trains and needs."""

    category: Category = "general"
    equipment: list[Label] = Field(default_factory=list, max_length=30)
    instructions: str = Field(default="", max_length=20_000)


class BlockPayload(BlockTraits):
    """A BLOCK: a reusable workout block of pages (a quiz with its answers), with what it trains and needs."""

    pages: Pages = Field(default_factory=list)


class BlockShown(BlockTraits):
    """A BLOCK's payload as shown."""

    pages: ShownPages


def stored(payload: BaseModel) -> dict[str, Any]:
    """A WOD's or BLOCK's payload as stored: its pages without the quizzes' answers."""
    learner, _ = pages.split_keys(getattr(payload, "pages"))  # noqa: B009 - one function for both types
    return payload.model_dump(mode="json", exclude={"pages"}) | {"pages": pages.dump(learner)}


def keys(payload: BaseModel) -> dict[str, Any] | None:
    """The answer keys of a WOD's or BLOCK's quizzes (None: it has no quiz)."""
    _, found = pages.split_keys(getattr(payload, "pages"))  # noqa: B009 - one function for both types
    return found or None


def joined(payload: Mapping[str, Any], answer_keys: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored WOD's or BLOCK's payload with the answer keys the caller may read put back."""
    return {**payload, "pages": pages.with_answers(payload.get("pages", []), answer_keys)}
