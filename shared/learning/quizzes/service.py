"""Quiz use cases: start (or resume) an attempt, submit it for scoring, list your attempts.

The database scores (`app.submit_quiz_attempt`): it reads the quiz's keys, which no learner may read,
so the answers never leave it before a submission; it holds the retake rule and the time limit, stores
the attempt, sends `learning.quiz_attempted` and, on a pass, stamps the quiz block as completed.
"""

from __future__ import annotations

from uuid import UUID

from shared.learning.errors import AttemptNotFoundError, check
from shared.learning.quizzes import repository
from shared.learning.quizzes.schemas import (
    AttemptList,
    AttemptStarted,
    AttemptView,
    StartAttempt,
    SubmitAttempt,
)
from shared.platform.db import Tx


async def start(item_id: UUID, block_id: UUID, cmd: StartAttempt, *, tx: Tx) -> AttemptStarted:
    """Start an attempt at a quiz the caller sees through the community, or resume the open one."""
    result = check(await repository.start(tx, cmd.community_id, item_id, block_id))
    return AttemptStarted.model_validate(result)


async def submit(attempt_id: UUID, cmd: SubmitAttempt, *, tx: Tx) -> AttemptView:
    """Submit the caller's open attempt: its score, whether it passed, each question's result."""
    answers = {str(question): answer for question, answer in cmd.answers.items()}
    result = check(await repository.submit(tx, attempt_id, answers), AttemptNotFoundError)
    return AttemptView.model_validate(result["attempt"])


async def mine(item_id: UUID, block_id: UUID, *, tx: Tx) -> AttemptList:
    """The caller's attempts at one quiz, oldest first."""
    return AttemptList(items=[AttemptView.model_validate(row) for row in await repository.mine(tx, item_id, block_id)])
