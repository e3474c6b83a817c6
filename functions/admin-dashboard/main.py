"""`admin-dashboard`: counts for the platform's staff and for a community's admins."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.communities import dashboard
from shared.identity.communities.dashboard_schemas import CommunityOverview, PlatformOverview
from shared.platform.guards import caller, community
from shared.platform.http import Context, Function

fn = Function("admin-dashboard", body_limit=1024, description="Admin dashboard counts.")


@fn.get("/", rate_limit="admin", allow=caller(policy.require_staff_reader))
async def platform_overview(ctx: Context) -> PlatformOverview:
    """Communities, users, staff and content across the platform (staff)."""
    return await dashboard.platform_overview(tx=ctx.db, principal=ctx.user)


@fn.get("/{community_id:uuid}", rate_limit="admin", allow=community(policy.require_community_reader))
async def community_overview(ctx: Context, community_id: UUID) -> CommunityOverview:
    """Members, admins, recent activity, tags, invitations, signup links and content of one community."""
    return await dashboard.community_overview(community_id, tx=ctx.db, principal=ctx.user)


handler = fn.handler
