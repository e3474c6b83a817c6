"""The contract of the `reports` function: weekly digests (Monday to Sunday, UTC) and their preparation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field, model_validator

from shared.platform.validation import Body, Query, View


class DigestSummary(View):
    """A stored weekly digest (Monday to Sunday, UTC)."""

    id: UUID
    community_id: UUID
    week_start: date
    created_at: datetime


class Digest(DigestSummary):
    """A weekly digest: totals, top learners and content, learners at risk, AI usage against the quota."""

    body: dict[str, Any]


class DigestList(View):
    """A community's digests, newest first."""

    items: list[DigestSummary]


class DigestQuery(Query):
    """Whose digests."""

    community_id: UUID
    limit: int = Field(default=12, ge=1, le=104)


class DigestRun(View):
    """The week prepared and how many communities' digests were stored."""

    week_start: date
    digests: int


class PrepareWeek(Body):
    """Which week to prepare; omitted: the last whole week."""

    week_start: date | None = Field(default=None, description="A Monday (UTC), YYYY-MM-DD")

    @model_validator(mode="after")
    def _a_monday(self) -> PrepareWeek:
        if self.week_start is not None and self.week_start.weekday() != 0:
            raise ValueError("`week_start` must be a Monday")
        return self
