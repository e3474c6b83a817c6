"""Progress use cases: record a completion stamp; read progress through a WOD or BLOCK, a program, overall.

Recording is the database's (`app.record_completion`): it checks that the caller sees the target,
records the stamp once, sends `learning.completed` in the same transaction and what the stamp
completes in turn (the last page of a WOD, a program). Percentages are derived here from counts the
database derives; no client ever sends one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.learning.enrollments import repository as enrollments
from shared.learning.enrollments.schemas import EnrollmentView, progress_of
from shared.learning.errors import LearningNotFoundError, check
from shared.learning.prerequisites.schemas import Missing
from shared.learning.progress import repository
from shared.learning.progress.schemas import (
    CompletionRecorded,
    ItemProgress,
    Overview,
    PageProgress,
    ProgramItemProgress,
    ProgramProgress,
    RecordCompletion,
    SectionProgress,
)
from shared.platform.auth import Principal
from shared.platform.db import Tx

TARGET_TYPES = ("block", "page", "wod", "program_item")
STATUSES = ("active", "completed", "dropped")


async def record(cmd: RecordCompletion, *, tx: Tx) -> CompletionRecorded:
    """Record the caller's completion once; a repeat answers the stamp as it was recorded."""
    result = check(
        await repository.record(
            tx, cmd.community_id, cmd.target_type, cmd.target_id, cmd.item_id, cmd.score, cmd.time_spent_s
        )
    )
    return CompletionRecorded.model_validate(result)


async def item(item_id: UUID, *, tx: Tx) -> ItemProgress:
    """The caller's progress through a WOD or BLOCK they can see."""
    row = await repository.item(tx, item_id)
    if row is None:
        raise LearningNotFoundError()
    stamps: dict[str, Any] = row["stamps"]
    pages = [
        PageProgress(id=page["id"], title=page.get("title", ""), completed_at=stamps.get(f"page:{page['id']}"))
        for page in row["pages"] or []
    ]
    blocks = [UUID(key.removeprefix("block:")) for key in stamps if key.startswith("block:")]
    return ItemProgress.model_validate(
        {
            "item_id": row["item_id"],
            "type": row["type"],
            "progress": progress_of(row["total"], row["completed"]),
            "completed_at": stamps.get(f"wod:{row['item_id']}"),
            "pages": pages,
            "completed_blocks": blocks,
            "missing_prerequisites": row["missing"],
        }
    )


async def program(program_id: UUID, *, tx: Tx, principal: Principal) -> ProgramProgress:
    """The caller's progress through a program they can see, item by item, with their enrollment."""
    row = await repository.program(tx, program_id)
    if row is None:
        raise LearningNotFoundError()
    done = set(row["done"])
    sections = [
        SectionProgress(
            id=section["id"],
            title=section["title"],
            items=[
                ProgramItemProgress(
                    id=entry["id"], item_id=entry["item_id"], is_completed=bool({entry["id"], entry["item_id"]} & done)
                )
                for entry in section.get("items", [])
            ],
        )
        for section in row["sections"] or []
    ]
    enrollment = await enrollments.of_program(tx, principal.user_id, program_id)
    return ProgramProgress(
        program_id=row["program_id"],
        progress=progress_of(row["total"], row["completed"]),
        enrollment=None if enrollment is None else EnrollmentView.of(enrollment),
        sections=sections,
        missing_prerequisites=[Missing.model_validate(m) for m in row["missing"]],
    )


async def overview(community_id: UUID | None, *, tx: Tx) -> Overview:
    """The caller's counts overall (or through one community)."""
    row = await repository.overview(tx, community_id)
    completions = {kind: int(row["completions"].get(kind, 0)) for kind in TARGET_TYPES}
    statuses = {status: int(row["enrollments"].get(status, 0)) for status in STATUSES}
    return Overview.model_validate(
        {
            "completions": completions,
            "quiz_attempts": row["quiz_attempts"],
            "quizzes_passed": row["quizzes_passed"],
            "enrollments": statuses,
        }
    )
