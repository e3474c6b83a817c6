"""What the gamification context keeps from the learning events, and its rules (standard library only).

The events are the contract with the progress slice (`learning.completed`, `learning.quiz_attempted`,
`learning.program_completed`, `learning.enrolled`): every one is activity on its day in the learner's
time zone, and all but enrolment are also a fact (something done, keyed by what was done, so the same
fact sent twice counts once) that achievements count and score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

COMPLETED = "learning.completed"
QUIZ_ATTEMPTED = "learning.quiz_attempted"
PROGRAM_COMPLETED = "learning.program_completed"
ENROLLED = "learning.enrolled"
AWARDED = "achievement.awarded"
POSTED = "forum.posted"
"""A forum post or reply (issue 15): activity for streaks, no fact for achievements."""

Kind = Literal["block", "page", "wod", "program_item", "program", "quiz"]
Period = Literal["all", "7d", "30d"]
PERIOD_DAYS: dict[str, int] = {"7d": 7, "30d": 30}


@dataclass(frozen=True, slots=True)
class Fact:
    """Something a learner did that achievements count: a completion, a program, a quiz attempt."""

    kind: Kind
    subject_id: UUID
    score: float | None


@dataclass(frozen=True, slots=True)
class Activity:
    """A learner's activity in a community at a moment, and the fact it records (None: enrolment)."""

    user_id: UUID
    community_id: UUID
    at: datetime
    fact: Fact | None


def since(period: Period, now: datetime) -> datetime | None:
    """The start of a leaderboard period ending now (None: all time)."""
    days = PERIOD_DAYS.get(period)
    return None if days is None else now - timedelta(days=days)
