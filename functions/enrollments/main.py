"""`enrollments`: learners in programs, self-enrolled or assigned by their community's admin."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.learning.enrollments import service
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
from shared.learning.milestones import service as milestones
from shared.learning.milestones.results_schemas import Decide, MilestoneResult, ReviewPage, ReviewQueueQuery
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("enrollments", body_limit=16 * 1024, description="Learners' enrollments in programs.")
ENROLLMENT = "/{enrollment_id:uuid}"
READERS = caller(policy.require_any_community_reader)
WRITERS = caller(policy.require_any_community_writer)
REFUSALS = {
    404: "No such program granted to the caller (or the learners) through that community",
    409: "capacity_reached, enrollment_closed",
}


@fn.post("/", body=Enrol, responses=REFUSALS)
async def enrol(ctx: Context, body: Enrol) -> Enrolled:
    """Enrol yourself in a program granted to you through the community; enrolled already: as it is."""
    return await service.enrol(body, tx=ctx.db, principal=ctx.user)


@fn.post("/assign", body=Assign, rate_limit="admin", allow=WRITERS, responses={**REFUSALS, **NO_SUCH_COMMUNITY})
async def assign(ctx: Context, body: Assign) -> Assigned:
    """Enrol members (`user_ids`, or every holder of `tag_id`) in a program granted to each; all or none."""
    return await service.assign(body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get("/mine", query=MyEnrollmentsQuery)
async def my_enrollments(ctx: Context, query: MyEnrollmentsQuery) -> EnrollmentPage:
    """Your enrollments with your progress, newest first."""
    return await service.mine(query, tx=ctx.db, principal=ctx.user)


@fn.get("/", query=EnrollmentsQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_COMMUNITY)
async def list_enrollments(ctx: Context, query: EnrollmentsQuery) -> EnrollmentPage:
    """A community's enrollments with each learner's progress, newest first (`?community_id=`)."""
    return await service.of_community(query, tx=ctx.db, principal=ctx.user)


@fn.get(ENROLLMENT)
async def get_enrollment(ctx: Context, enrollment_id: UUID) -> EnrollmentView:
    """One enrollment with its progress: your own, or your community's as its admin."""
    return await service.get(enrollment_id, tx=ctx.db)


@fn.post(ENROLLMENT + "/drop", responses={409: "enrollment_completed"})
async def drop_enrollment(ctx: Context, enrollment_id: UUID) -> EnrollmentView:
    """Drop an active enrollment (yours, or one of your community's as its admin); dropped already: as it is."""
    return await service.drop(enrollment_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get("/milestone-reviews", query=ReviewQueueQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_COMMUNITY)
async def milestone_reviews(ctx: Context, query: ReviewQueueQuery) -> ReviewPage:
    """A community's milestone reviews, oldest first (`?community_id=`, `status` pending by default)."""
    return await milestones.queue(query, tx=ctx.db, principal=ctx.user)


@fn.post(
    "/milestone-reviews/{result_id:uuid}/decide",
    body=Decide,
    rate_limit="admin",
    allow=WRITERS,
    responses={404: "No such review in a community the caller administers", 409: "review_decided"},
)
async def decide_milestone_review(ctx: Context, result_id: UUID, body: Decide) -> MilestoneResult:
    """Approve (the milestone is completed) or reject a pending milestone review, with feedback; audited."""
    return await milestones.decide(result_id, body, tx=ctx.db, meta=meta_of(ctx))


handler = fn.handler
