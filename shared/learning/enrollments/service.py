"""Enrollment use cases: enrol yourself, assign members (listed or by tag), list, read, drop.

The rules (who may, what is granted to whom, capacity and deadline under concurrency) are the
database's (`app.enroll`, `app.drop_enrollment`), so they hold for PostgREST callers too; these check
the caller's role first for a clear answer, and audit what admins do.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.identity import policy
from shared.learning.enrollments import repository
from shared.learning.enrollments.schemas import (
    Assign,
    Assigned,
    Enrol,
    Enrolled,
    EnrollmentPage,
    EnrollmentsQuery,
    EnrollmentView,
    MyEnrollmentsQuery,
)
from shared.learning.errors import EnrollmentNotFoundError, check
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.pagination import page_of

ENROLLMENT = "enrollment"


async def enrol(cmd: Enrol, *, tx: Tx, principal: Principal) -> Enrolled:
    """Enrol the caller in a program granted to them through the community (as they were, if enrolled)."""
    result = check(await repository.enroll(tx, cmd.program_id, cmd.community_id, [principal.user_id], "self"))
    return Enrolled.of(result["enrollments"][0])


async def assign(cmd: Assign, *, tx: Tx, principal: Principal, meta: RequestMeta) -> Assigned:
    """Enrol members of the community, all or none; each new enrollment is audited."""
    policy.require_community_writer(principal, cmd.community_id)
    users = cmd.user_ids or await repository.tag_holders(tx, _tag(cmd), cmd.community_id)
    if not users:
        raise ValidationFailedError(
            [FieldError("body.tag_id", "no member of the community holds this tag", "no_members")],
            "Nobody holds this tag in the community.",
        )
    result = check(await repository.enroll(tx, cmd.program_id, cmd.community_id, users, "admin"))
    items = [Enrolled.of(row) for row in result["enrollments"]]
    for item in items:
        if item.is_new:
            after = {"user_id": item.user_id, "program_id": item.program_id, "source": "admin"}
            await audit.record(
                tx, meta, "enrollment.assigned", target_type=ENROLLMENT, target_id=item.id,
                community_id=item.community_id, after=after,
            )
    return Assigned(items=items)


async def drop(enrollment_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta) -> EnrollmentView:
    """Drop an active enrollment (a dropped one stays as it is); an admin's drop is audited."""
    result = check(await repository.drop(tx, enrollment_id), EnrollmentNotFoundError)
    view = EnrollmentView.of(result["enrollment"])
    if view.user_id != principal.user_id and result["before"] != view.status:
        await audit.record(
            tx, meta, "enrollment.dropped", target_type=ENROLLMENT, target_id=view.id,
            community_id=view.community_id, before={"status": result["before"]}, after={"status": view.status},
        )
    return view


async def get(enrollment_id: UUID, *, tx: Tx) -> EnrollmentView:
    """One enrollment the caller may see (their own; their community's as its admin; any as staff)."""
    row = await repository.get(tx, enrollment_id)
    if row is None:
        raise EnrollmentNotFoundError()
    return EnrollmentView.of(row)


async def mine(query: MyEnrollmentsQuery, *, tx: Tx, principal: Principal) -> EnrollmentPage:
    """The caller's own enrollments, newest first."""
    return await _page(tx, query, user_id=principal.user_id, program_id=None)


async def of_community(query: EnrollmentsQuery, *, tx: Tx, principal: Principal) -> EnrollmentPage:
    """A community's enrollments, newest first (its admins, staff)."""
    policy.require_community_reader(principal, query.community_id)
    return await _page(tx, query, user_id=None, program_id=query.program_id)


async def _page(
    tx: Tx, query: MyEnrollmentsQuery, *, user_id: UUID | None, program_id: UUID | None
) -> EnrollmentPage:
    rows = await repository.page(
        tx,
        user_id=user_id,
        community_id=query.community_id,
        program_id=program_id,
        status=query.status,
        after=cursors.time_and_id(query.cursor),
        limit=query.limit + 1,
    )
    page, next_cursor = page_of(rows, query.limit, key=_key)
    return EnrollmentPage(items=[EnrollmentView.of(row) for row in page], next_cursor=next_cursor)


def _key(row: Row) -> list[Any]:
    return [row["enrolled_at"].isoformat(), str(row["id"])]


def _tag(cmd: Assign) -> UUID:
    assert cmd.tag_id is not None  # the model requires user_ids or tag_id
    return cmd.tag_id

