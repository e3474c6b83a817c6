"""The contract of the `achievements` function: request and response models (the streaks': `streak_schemas`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, model_validator

from shared.gamification.model import Kind, Period
from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, Integral, NotNull, Patch, PlainText, Query, View

Tier = Literal["bronze", "silver", "gold", "platinum"]
Criterion = Literal["completions", "streak", "score", "milestone"]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,49}$", description="Unique within its scope")]
EntryName = Annotated[
    PlainText, Field(min_length=1, max_length=100, json_schema_extra={"pattern": r"^(?!\s*[=+\-@])\s*\S"})
]
"""Trimmed, so the contract says what the model does: not blank, and no formula start."""
Description = Annotated[PlainText, Field(max_length=500)]
Points = Annotated[int, Field(ge=0, le=10000), Integral]


class AchievementQuery(PageQuery):
    """The catalogue: global entries and those of the caller's communities, or of one (`community_id`)."""

    community_id: UUID | None = Field(default=None, description="Global entries and this community's only")


class AchievementEntry(View):
    """A catalogue entry: what earns it (criterion, target type, threshold) and what it is worth."""

    id: UUID
    community_id: UUID | None = Field(description="null: a global entry")
    code: str
    name: str
    description: str
    tier: Tier
    points: int
    criterion: Criterion = Field(
        description="completions: at least `threshold` of `target_type` done; streak: a run of `threshold`"
        " active days; score: a `target_type` scored at least `threshold` (0..100); milestone: completing a"
        " milestone that names this entry"
    )
    target_type: Kind | None
    threshold: int
    is_active: bool
    created_at: datetime
    updated_at: datetime


class AchievementView(AchievementEntry):
    """A catalogue entry, and when the caller earned it (null: not yet)."""

    awarded_at: datetime | None


class AchievementPage(View):
    """One page of the catalogue, by name."""

    items: list[AchievementView]
    next_cursor: str | None


class AwardView(View):
    """An achievement the caller earned: the entry, the points it brought and where."""

    award_id: UUID
    achievement: AchievementEntry
    community_id: UUID = Field(description="The community whose activity earned it (its leaderboard counts it)")
    points: int
    awarded_at: datetime


class AwardPage(View):
    """The caller's awards, newest first, and the points of all of them."""

    items: list[AwardView]
    total_points: int
    next_cursor: str | None


class LeaderboardQuery(Query):
    """A community's leaderboard over a period."""

    community_id: UUID
    period: Period = Field(default="all", description="all: all time; 7d, 30d: the last 7 or 30 days")
    limit: int = Field(default=20, ge=1, le=100)


class LeaderboardRow(View):
    """A member's place: rank (ties share it), name and points in the period."""

    rank: int
    user_id: UUID
    first_name: str | None
    last_name: str | None
    avatar_url: str | None
    points: int
    awards: int


class Leaderboard(View):
    """A community's members by points earned there in the period, best first."""

    community_id: UUID
    period: Period
    since: datetime | None
    items: list[LeaderboardRow]


class CreateAchievement(Body):
    """A new catalogue entry: a community's (its admins) or global (no community; staff who may write)."""

    community_id: UUID | None = None
    code: Code
    name: EntryName
    description: Description = ""
    tier: Tier
    points: Points
    criterion: Criterion
    target_type: Kind | None = None
    threshold: Annotated[int, Field(ge=1, le=100000), Integral]

    @model_validator(mode="after")
    def _criteria_hold_together(self) -> CreateAchievement:
        if (self.criterion in ("streak", "milestone")) != (self.target_type is None):
            raise ValueError(
                "target_type is required for completions and score criteria, and absent for streak and milestone"
            )
        if self.criterion == "score" and self.threshold > 100:
            raise ValueError("a score threshold is at most 100")
        if self.criterion == "completions" and self.target_type == "quiz":
            raise ValueError("quizzes are attempted, not completed: use the score criterion")
        return self


class UpdateAchievement(Patch):
    """Change an entry's name, description, tier, points, or whether it is still awarded (criteria stay)."""

    name: Annotated[EntryName | None, *NotNull] = None
    description: Annotated[Description | None, *NotNull] = None
    tier: Annotated[Tier | None, *NotNull] = None
    points: Annotated[Points | None, *NotNull] = None
    is_active: Annotated[bool | None, *NotNull] = None
