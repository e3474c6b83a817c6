"""The contract of the `analytics` function: request and response models (the reports': `digest_schemas`).

Every day here is a calendar day in UTC ([00:00, 24:00) UTC), for every community and every learner.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from shared.platform.validation import Body, Query, View

MAX_DAYS = 366
DEFAULT_DAYS = 30
UTC_DAY = "A calendar day in UTC (YYYY-MM-DD); analytics count every day in UTC"


DAY_PATTERN = r"^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


def _day(value: Any) -> Any:
    # Lenient query parsing would read "0" as a Unix timestamp; the contract says YYYY-MM-DD.
    if isinstance(value, str) and not re.fullmatch(DAY_PATTERN, value):
        raise PydanticCustomError("date_format", "must be a calendar day, YYYY-MM-DD")
    return value


Day = Annotated[
    date,
    BeforeValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN, "description": UTC_DAY}),
]
"""A day as a query parameter, `YYYY-MM-DD` (1900 to 2099), never a bare number."""


def today() -> date:
    """Today in UTC, the one scale of analytics."""
    return datetime.now(UTC).date()


class RangeQuery(Query):
    """Whose figures (one community, or every community when omitted: staff only) over which days (UTC)."""

    community_id: UUID | None = Field(default=None, description="Omitted: every community (staff only)")
    from_day: Day | None = Field(default=None, alias="from", description=UTC_DAY + "; default: 29 days before `to`")
    to_day: Day | None = Field(default=None, alias="to", description=UTC_DAY + "; default: today")

    @model_validator(mode="after")
    def _a_range(self) -> RangeQuery:
        first, last = self.range
        if first > last:
            raise ValueError("`from` must not be after `to`")
        if (last - first).days >= MAX_DAYS:
            raise ValueError(f"a range spans at most {MAX_DAYS} days")
        return self

    @property
    def range(self) -> tuple[date, date]:
        """The first and the last day of the range, both included."""
        last = self.to_day or today()
        return self.from_day or last - timedelta(days=DEFAULT_DAYS - 1), last


class TopQuery(RangeQuery):
    """A ranking over the range: the first `limit` entries."""

    limit: int = Field(default=10, ge=1, le=1000)


class AtRiskQuery(RangeQuery):
    """Learners at risk at the end of the range."""

    inactive_days: int = Field(
        default=14, ge=1, le=365, description="No activity for this many days up to `to` makes a learner at risk"
    )
    limit: int = Field(default=100, ge=1, le=1000)


Metric = Literal[
    "active_users", "completions", "minutes", "quiz_attempts", "average_score", "ai_messages", "ai_tokens"
]


class ChartQuery(RangeQuery):
    """One series per day, drawn."""

    metric: Metric = "active_users"


class Figures(View):
    """What learners did: completion stamps, minutes spent, quiz attempts and their mean score, AI use."""

    completions: int
    minutes: int = Field(description="Time reported on completions, in whole minutes")
    quiz_attempts: int
    average_score: Decimal | None = Field(description="Mean score of the submitted quiz attempts; null: none")
    ai_messages: int = Field(description="AI chat replies")
    ai_tokens: int
    ai_cost_usd: Decimal


class DayFigures(Figures):
    """One UTC day; `active_users` summed over the communities in scope."""

    day: date
    active_users: int


class Totals(Figures):
    """The whole range; `active_users` counts each learner once per community."""

    active_users: int


class Dashboard(View):
    """Totals and one entry per day of the range (zeros where nothing happened)."""

    community_id: UUID | None
    from_day: date
    to_day: date
    totals: Totals
    series: list[DayFigures]


class ContentFigures(View):
    """One content item's completions and minutes over the range; `title` null when hidden or deleted."""

    item_id: UUID
    title: str | None
    type: str | None
    completions: int
    minutes: int


class LearnerFigures(View):
    """One learner over the range."""

    user_id: UUID
    first_name: str | None
    last_name: str | None
    email: str | None
    active_days: int
    completions: int
    minutes: int
    quiz_attempts: int
    average_score: Decimal | None
    ai_messages: int


class LearnerAtRisk(View):
    """A member at risk, and why: `inactive` (no activity for `inactive_days`, or never) or `falling`."""

    community_id: UUID
    user_id: UUID
    first_name: str | None
    last_name: str | None
    email: str | None
    reason: Literal["inactive", "falling"]
    detail: str = Field(description="The reason in words, e.g. 'no activity for 16 days'")
    last_active_day: date | None
    completions: int = Field(description="Completions in the range")
    previous_completions: int = Field(description="Completions in the period of the same length before it")


class ContentRanking(View):
    """Content by completions over the range, most first."""

    items: list[ContentFigures]


class LearnerRanking(View):
    """Learners by completions over the range, most first."""

    items: list[LearnerFigures]


class AtRiskList(View):
    """Members at risk at the end of the range: the inactive first, longest inactive first."""

    inactive_days: int
    items: list[LearnerAtRisk]


class RollupRange(Body):
    """Days to rebuild (UTC, both included); omitted: from the job's cursor (and the last two days) to today."""

    from_day: date | None = Field(default=None, alias="from")
    to_day: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _both_or_neither(self) -> RollupRange:
        if (self.from_day is None) != (self.to_day is None):
            raise ValueError("give both `from` and `to`, or neither")
        if self.from_day is not None and self.to_day is not None:
            if self.from_day > self.to_day:
                raise ValueError("`from` must not be after `to`")
            if (self.to_day - self.from_day).days >= MAX_DAYS:
                raise ValueError(f"a range spans at most {MAX_DAYS} days")
        return self


class RollupRun(View):
    """The days rebuilt, and the job's cursor after the run (the first day not yet rolled up for good)."""

    days: list[date]
    next_day: date | None
