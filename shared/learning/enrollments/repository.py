"""Enrollments' SQL. Writes are `app.enroll` and `app.drop_enrollment`, which check the caller; reads run
as the caller, under row level security (their own; a community's for its admins; staff every one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

ENROLL_SQL = "select app.enroll(%s, %s, %s::uuid[], %s) as result"
DROP_SQL = "select app.drop_enrollment(%s) as result"
TAG_HOLDERS_SQL = (
    "select a.user_id from public.user_tag_assignments a where a.tag_id = %s and a.community_id = %s"
    " order by a.user_id"
)
ENROLLMENT_SELECT = """
select e.id, e.community_id, e.user_id, e.program_id, e.status, e.source, e.enrolled_by, e.enrolled_at,
       e.completed_at, e.dropped_at, p.total as progress_total, p.completed as progress_completed
from public.learning_enrollments e
cross join lateral app.program_progress(e.user_id, e.program_id) p
"""
NEWEST_FIRST = Order(("e.enrolled_at", "e.id"), descending=True)


async def enroll(tx: Tx, program_id: UUID, community_id: UUID, user_ids: list[UUID], source: str) -> dict[str, Any]:
    """`app.enroll`'s answer: {"outcome", "enrollments": [...]} or why not."""
    result = await tx.fetch_val(ENROLL_SQL, (program_id, community_id, [str(u) for u in user_ids], source))
    return dict(result)


async def drop(tx: Tx, enrollment_id: UUID) -> dict[str, Any]:
    """`app.drop_enrollment`'s answer: {"outcome", "before", "enrollment"} or why not."""
    return dict(await tx.fetch_val(DROP_SQL, (enrollment_id,)))


async def tag_holders(tx: Tx, tag_id: UUID, community_id: UUID) -> list[UUID]:
    """The members of the community holding the tag (as the caller sees them)."""
    return [row["user_id"] for row in await tx.fetch_all(TAG_HOLDERS_SQL, (tag_id, community_id))]


async def get(tx: Tx, enrollment_id: UUID) -> Row | None:
    """One enrollment with its progress, if the caller may see it."""
    return await tx.fetch_one(*Select(ENROLLMENT_SELECT).where("e.id = %(id)s", id=enrollment_id).statement())


async def of_program(tx: Tx, user_id: UUID, program_id: UUID) -> Row | None:
    """The user's enrollment in the program with its progress, if the caller may see it."""
    enrollment = Select(ENROLLMENT_SELECT).where("e.user_id = %(user)s", user=user_id)
    return await tx.fetch_one(*enrollment.where("e.program_id = %(program)s", program=program_id).statement())


async def page(
    tx: Tx,
    *,
    user_id: UUID | None,
    community_id: UUID | None,
    program_id: UUID | None,
    status: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` enrollments after the keyset position, newest first, filtered as asked."""
    enrollments = Select(ENROLLMENT_SELECT)
    enrollments.filter("e.user_id = %(user)s", user=user_id)
    enrollments.filter("e.community_id = %(community)s", community=community_id)
    enrollments.filter("e.program_id = %(program)s", program=program_id)
    enrollments.filter("e.status = %(status)s", status=status)
    return await tx.fetch_all(*enrollments.page(NEWEST_FIRST, after, limit))

