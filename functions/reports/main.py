"""`reports`: each community's weekly digest (Monday to Sunday, UTC), prepared by a schedule, read by admins."""

from __future__ import annotations

from uuid import UUID

from shared.analytics import digests
from shared.analytics.digest_schemas import Digest, DigestList, DigestQuery, DigestRun, PrepareWeek
from shared.identity import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("reports", body_limit=1024, description="Weekly digests of each community's learning.")
fn.schedule("reports-weekly", "0 6 * * 1", "/run")
READERS = caller(policy.require_any_community_reader)


@fn.get("/", query=DigestQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_COMMUNITY)
async def list_digests(ctx: Context, query: DigestQuery) -> DigestList:
    """A community's weekly digests, newest first (`?community_id=`)."""
    return await digests.list_digests(query, tx=ctx.db, principal=ctx.user)


@fn.get("/{digest_id:uuid}", rate_limit="admin", allow=READERS)
async def read_digest(ctx: Context, digest_id: UUID) -> Digest:
    """One weekly digest: totals against the week before, top learners and content, at risk, AI usage."""
    return await digests.read_digest(digest_id, tx=ctx.db)


@fn.post("/run", auth="service", rate_limit=None, body=PrepareWeek)
async def run(ctx: Context, body: PrepareWeek) -> DigestRun:
    """Prepare (or prepare again) every active community's digest of a week."""
    # Imported here (cold start): only the weekly schedule prepares digests, with the analytics models.
    from shared.analytics import weekly

    return await weekly.prepare_week(ctx.db, body.week_start or weekly.last_week())


handler = fn.handler
