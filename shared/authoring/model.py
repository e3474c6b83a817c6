"""Authoring rules other modules and domains name without the models: levels, categories, limits, ids.

No models here: a learner's quiz answers or a program's level import these without building the
fourteen block types (cold start).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

Difficulty = Literal["beginner", "intermediate", "advanced"]
Category = Literal["warm-up", "cardio", "strength", "flexibility", "cool-down", "general"]

MAX_BLOCKS = 100
"""Blocks on one page."""
MAX_QUESTIONS = 50
MAX_OPTIONS = 20

OptionId = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9_-]{1,36}$", description="The client's label for the option, unique in its question"),
]
