"""The contract of the `streaks` function: the caller's streak, and what a rollover ended."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.platform.validation import View


class StreakView(View):
    """The caller's streak: consecutive active days in their time zone (a missed whole day ends it)."""

    current_days: int
    longest_days: int
    last_active_day: date | None
    today: date = Field(description="Today in the caller's time zone")
    timezone: str


class StreakRollover(View):
    """How many streaks the run ended (their learners missed a whole day in their time zone)."""

    ended: int
