"""The learning and forum events' payloads read as activity (pydantic: only the worker's handlers import it)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.gamification import model
from shared.gamification.model import Activity, Fact


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
    if event_name == model.COMPLETED:
        done = _Completed.model_validate(payload)
        fact = Fact(done.target_type, done.target_id, done.score)
        return Activity(done.user_id, done.community_id, done.completed_at, fact)
    if event_name == model.QUIZ_ATTEMPTED:
        quiz = _QuizAttempted.model_validate(payload)
        return Activity(quiz.user_id, quiz.community_id, quiz.submitted_at, Fact("quiz", quiz.attempt_id, quiz.score))
    if event_name == model.PROGRAM_COMPLETED:
        graduated = _ProgramCompleted.model_validate(payload)
        fact = Fact("program", graduated.program_id, None)
        return Activity(graduated.user_id, graduated.community_id, graduated.completed_at, fact)
    if event_name == model.ENROLLED:
        enrolled = _Enrolled.model_validate(payload)
        return Activity(enrolled.user_id, enrolled.community_id, enrolled.enrolled_at, None)
    if event_name == model.POSTED:
        posted = _Posted.model_validate(payload)
        return Activity(posted.user_id, posted.community_id, posted.posted_at, None)
    raise ValueError(f"not a learning event: {event_name}")
