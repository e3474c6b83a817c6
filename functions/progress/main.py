"""`progress`: completion stamps, progress through WODs, BLOCKs and programs, and quiz attempts."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.learning.milestones import service as milestones
from shared.learning.milestones.results_schemas import ProgramMilestones
from shared.learning.prerequisites import service as prerequisites
from shared.learning.prerequisites.schemas import Prerequisites, PrerequisiteStatus, SetPrerequisites
from shared.learning.progress import service
from shared.learning.progress.schemas import (
    CompletionRecorded,
    ItemProgress,
    Overview,
    OverviewQuery,
    ProgramProgress,
    RecordCompletion,
)
from shared.learning.quizzes import service as quizzes
from shared.learning.quizzes.schemas import (
    AttemptList,
    AttemptStarted,
    AttemptView,
    StartAttempt,
    SubmitAttempt,
)
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("progress", body_limit=64 * 1024, description="Learners' completions, progress and quiz attempts.")
QUIZ = "/quizzes/{item_id:uuid}/{block_id:uuid}/attempts"
HIDDEN = {404: "Nothing the caller can see through that community"}
PREREQUISITES = "/prerequisites/{item_id:uuid}"


@fn.get("/", query=OverviewQuery)
async def overview(ctx: Context, query: OverviewQuery) -> Overview:
    """Your progress overall: completions by kind, quiz attempts and passes, enrollments by status."""
    return await service.overview(query.community_id, tx=ctx.db)


@fn.post(
    "/completions",
    body=RecordCompletion,
    responses={**HIDDEN, 409: "prerequisites_unmet, quiz_completed_by_passing"},
)
async def record_completion(ctx: Context, body: RecordCompletion) -> CompletionRecorded:
    """Record that you completed a block, page, WOD or BLOCK, or program item; once (a repeat: as it was)."""
    return await service.record(body, tx=ctx.db)


@fn.get("/items/{item_id:uuid}", responses=HIDDEN)
async def item_progress(ctx: Context, item_id: UUID) -> ItemProgress:
    """Your progress through a WOD or BLOCK: completed pages out of its pages, page by page."""
    return await service.item(item_id, tx=ctx.db)


@fn.get("/programs/{program_id:uuid}", responses=HIDDEN)
async def program_progress(ctx: Context, program_id: UUID) -> ProgramProgress:
    """Your progress through a program: completed items out of its items, and your enrollment."""
    return await service.program(program_id, tx=ctx.db, principal=ctx.user)


@fn.get("/programs/{program_id:uuid}/milestones", responses=HIDDEN)
async def program_milestones(ctx: Context, program_id: UUID) -> ProgramMilestones:
    """Your state in each milestone of a program, in order: items done, average score, validation, feedback."""
    return await milestones.of_program(program_id, tx=ctx.db)


@fn.post(QUIZ, body=StartAttempt, responses={**HIDDEN, 409: "retake_not_allowed, attempts_exhausted"})
async def start_attempt(ctx: Context, item_id: UUID, block_id: UUID, body: StartAttempt) -> AttemptStarted:
    """Start an attempt at a quiz block (its time limit runs from now), or resume your open one."""
    return await quizzes.start(item_id, block_id, body, tx=ctx.db)


@fn.get(QUIZ)
async def my_attempts(ctx: Context, item_id: UUID, block_id: UUID) -> AttemptList:
    """Your attempts at a quiz block, oldest first, with scores and results once submitted."""
    return await quizzes.mine(item_id, block_id, tx=ctx.db)


@fn.post(
    "/attempts/{attempt_id:uuid}/submit",
    body=SubmitAttempt,
    responses={404: "No such attempt of yours", 409: "attempt_submitted, quiz_time_expired, quiz_unscorable"},
)
async def submit_attempt(ctx: Context, attempt_id: UUID, body: SubmitAttempt) -> AttemptView:
    """Submit your answers: scored on the server; the score, pass and each question's explanation come back."""
    return await quizzes.submit(attempt_id, body, tx=ctx.db)


@fn.get(PREREQUISITES, responses=HIDDEN)
async def prerequisite_status(ctx: Context, item_id: UUID) -> PrerequisiteStatus:
    """Whether a program, WOD or BLOCK is unlocked for you, and how far you are through each prerequisite."""
    return await prerequisites.status(item_id, tx=ctx.db)


@fn.put(
    PREREQUISITES,
    body=SetPrerequisites,
    rate_limit="admin",
    allow=caller(policy.require_any_community_writer),
    responses={**HIDDEN, 409: "unknown_prerequisite, prerequisite_cycle"},
)
async def set_prerequisites(ctx: Context, item_id: UUID, body: SetPrerequisites) -> Prerequisites:
    """Set what an item requires, each at a completion threshold (default 80 %): its editors; audited."""
    return await prerequisites.replace(item_id, body, tx=ctx.db, meta=meta_of(ctx))


handler = fn.handler
