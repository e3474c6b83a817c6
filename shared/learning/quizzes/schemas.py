"""The quizzes contract: start an attempt, submit answers, list your attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.authoring.model import MAX_OPTIONS, MAX_QUESTIONS, OptionId
from shared.platform.validation import Body, View

Answer = Annotated[
    Annotated[list[OptionId], Field(max_length=MAX_OPTIONS)] | bool | Annotated[str, Field(max_length=200)],
    Field(description="Chosen option ids (single or multiple choice), true or false, or a typed answer"),
]


class StartAttempt(Body):
    """Start (or resume) your attempt at a quiz you can see through the community."""

    community_id: UUID


class SubmitAttempt(Body):
    """Your answers by question id; a question left out counts as wrong."""

    answers: dict[UUID, Answer] = Field(max_length=MAX_QUESTIONS)


class QuestionResult(View):
    """Whether an answer was right, and the question's explanation (shown only after submitting)."""

    correct: bool
    explanation: str


class AttemptView(View):
    """An attempt at a quiz: open until submitted or past its deadline; scored when submitted."""

    id: UUID
    community_id: UUID
    item_id: UUID
    block_id: UUID
    number: int = Field(description="1 for the first attempt at this quiz, then 2, …")
    status: Literal["open", "submitted", "expired"]
    started_at: datetime
    deadline: datetime | None = Field(description="Submit before this (the quiz's time limit); null: none")
    submitted_at: datetime | None
    score: float | None = Field(description="Percent of questions answered right")
    passed: bool | None
    results: dict[UUID, QuestionResult] | None = Field(description="Per question, once submitted")


class AttemptStarted(View):
    """The attempt, and whether this request started it (false: the open one, resumed)."""

    created: bool
    attempt: AttemptView


class AttemptList(View):
    """Your attempts at one quiz, oldest first."""

    items: list[AttemptView]

