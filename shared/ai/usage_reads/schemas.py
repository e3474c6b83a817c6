"""The contract of the `ai-usage` function: request and response models."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from shared.platform.pagination import PageQuery
from shared.platform.validation import Query, View

MAX_MONTHS = 24


MONTH_PATTERN = r"^(19|20)\d\d-(0[1-9]|1[0-2])$"


def _month(value: Any) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(MONTH_PATTERN, value):
            raise PydanticCustomError("month_format", "must be a calendar month, YYYY-MM")
        return date(int(value[:4]), int(value[5:7]), 1)
    return value


Month = Annotated[
    date,
    BeforeValidator(_month),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "description": "A calendar month (UTC), YYYY-MM"}),
]
"""A month as a query parameter, `YYYY-MM`; its first day."""


def this_month() -> date:
    """The first day of the current month (UTC), as the ledger's `month` column counts."""
    return datetime.now(UTC).date().replace(day=1)


def months_before(month: date, count: int) -> date:
    """The first day of the month `count` months before `month`."""
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


class UsageScope(Query):
    """Whose usage: one community (its admins, staff), or every community when omitted (staff only)."""

    community_id: UUID | None = Field(default=None, description="Omitted: every community (staff only)")


class MonthsQuery(UsageScope):
    """A range of months, oldest first: by default the twelve up to this one; at most 24."""

    from_month: Month | None = Field(default=None, alias="from", description="First month, YYYY-MM")
    to_month: Month | None = Field(default=None, alias="to", description="Last month, YYYY-MM (default: this one)")

    @model_validator(mode="after")
    def _a_range(self) -> MonthsQuery:
        first, last = self.range
        if first > last:
            raise ValueError("`from` must not be after `to`")
        if months_before(last, MAX_MONTHS - 1) > first:
            raise ValueError(f"a range spans at most {MAX_MONTHS} months")
        return self

    @property
    def range(self) -> tuple[date, date]:
        """The first and the last month of the range."""
        last = self.to_month or this_month()
        return self.from_month or months_before(last, 11), last


class BreakdownQuery(UsageScope, PageQuery):
    """One month's usage by agent or by user, most tokens first."""

    month: Month | None = Field(default=None, description="YYYY-MM (default: this month)")

    @property
    def first_day(self) -> date:
        """The month asked for, as its first day."""
        return self.month or this_month()


class Totals(View):
    """What the ledger recorded: tokens in and out, their cost, and how many provider calls."""

    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    calls: int


class MonthUsage(Totals):
    """One month: the tokens counted against the quota, the quota (the current setting) and what remains."""

    month: date
    used_tokens: int
    quota: int | None = Field(description="The community's monthly token quota; null for every community")
    remaining_tokens: int | None


class MonthsView(View):
    """A community's (or every community's) usage per month, oldest first."""

    community_id: UUID | None
    months: list[MonthUsage]


class AgentUsage(Totals):
    """One agent's usage in the month; `agent_id` null: calls of no agent, or of a deleted one."""

    agent_id: UUID | None
    agent_title: str | None
    total_tokens: int


class UserUsage(Totals):
    """One user's usage in the month; `user_id` null: a deleted account's calls."""

    user_id: UUID | None
    first_name: str | None
    last_name: str | None
    email: str | None
    total_tokens: int


class AgentUsagePage(View):
    """A page of agents by tokens used, and the cursor of the next one."""

    month: date
    items: list[AgentUsage]
    next_cursor: str | None


class UserUsagePage(View):
    """A page of users by tokens used, and the cursor of the next one."""

    month: date
    items: list[UserUsage]
    next_cursor: str | None
