"""`ai-usage`: AI usage per month against the quota, per agent and per user (community admins, staff)."""

from __future__ import annotations

from shared.ai.usage_reads import service
from shared.ai.usage_reads.schemas import (
    AgentUsagePage,
    BreakdownQuery,
    MonthsQuery,
    MonthsView,
    UserUsagePage,
)
from shared.identity import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("ai-usage", body_limit=1024, description="AI usage and quotas, for community admins and staff.")
READERS = caller(policy.require_any_community_reader)


@fn.get("/", query=MonthsQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_COMMUNITY)
async def read_months(ctx: Context, query: MonthsQuery) -> MonthsView:
    """Tokens used per month against the quota, and the ledger's totals (`?community_id=`, `from`, `to`)."""
    return await service.months(query, tx=ctx.db, principal=ctx.user)


@fn.get("/agents", query=BreakdownQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_COMMUNITY)
async def read_by_agent(ctx: Context, query: BreakdownQuery) -> AgentUsagePage:
    """One month's usage per agent, most tokens first (`?community_id=`, `month`, pages)."""
    return await service.by_agent(query, tx=ctx.db, principal=ctx.user)


@fn.get("/users", query=BreakdownQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_COMMUNITY)
async def read_by_user(ctx: Context, query: BreakdownQuery) -> UserUsagePage:
    """One month's usage per user, most tokens first (`?community_id=`, `month`, pages)."""
    return await service.by_user(query, tx=ctx.db, principal=ctx.user)


handler = fn.handler
