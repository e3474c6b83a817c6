"""What the gamification context keeps from the learning events, and its rules (standard library and pydantic).

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

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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


class _Payload(BaseModel):
    # Lenient about fields the contract may add later; strict about the ones read here.
    model_config = ConfigDict(extra="ignore")

    user_id: UUID
    community_id: UUID


class _Completed(_Payload):
    target_type: Literal["block", "page", "wod", "program_item"]
    target_id: UUID
    score: float | None = Field(default=None, ge=0, le=100)
    completed_at: AwareDatetime


class _QuizAttempted(_Payload):
    attempt_id: UUID
    score: float = Field(ge=0, le=100)
    submitted_at: AwareDatetime


class _ProgramCompleted(_Payload):
    program_id: UUID
    completed_at: AwareDatetime


class _Enrolled(_Payload):
    enrolled_at: AwareDatetime


class _Posted(_Payload):
    posted_at: AwareDatetime


def activity_of(event_name: str, payload: dict[str, object]) -> Activity:
    """The activity a learning or forum event reports; a payload outside the contract is a ValueError."""
    if event_name == COMPLETED:
        done = _Completed.model_validate(payload)
        fact = Fact(done.target_type, done.target_id, done.score)
        return Activity(done.user_id, done.community_id, done.completed_at, fact)
    if event_name == QUIZ_ATTEMPTED:
        quiz = _QuizAttempted.model_validate(payload)
        return Activity(quiz.user_id, quiz.community_id, quiz.submitted_at, Fact("quiz", quiz.attempt_id, quiz.score))
    if event_name == PROGRAM_COMPLETED:
        graduated = _ProgramCompleted.model_validate(payload)
        fact = Fact("program", graduated.program_id, None)
        return Activity(graduated.user_id, graduated.community_id, graduated.completed_at, fact)
    if event_name == ENROLLED:
        enrolled = _Enrolled.model_validate(payload)
        return Activity(enrolled.user_id, enrolled.community_id, enrolled.enrolled_at, None)
    if event_name == POSTED:
        posted = _Posted.model_validate(payload)
        return Activity(posted.user_id, posted.community_id, posted.posted_at, None)
    raise ValueError(f"not a learning event: {event_name}")


def since(period: Period, now: datetime) -> datetime | None:
    """The start of a leaderboard period ending now (None: all time)."""
    days = PERIOD_DAYS.get(period)
    return None if days is None else now - timedelta(days=days)
