"""`audit`: the append-only record of administrative actions, for staff and for community admins."""

from __future__ import annotations

from uuid import UUID

from shared.identity.people import audit_service as service
from shared.identity.people import policy
from shared.identity.people.schemas import AuditPage, AuditQuery, CommunityAuditQuery
from shared.platform.guards import caller, community
from shared.platform.http import Context, Function

fn = Function("audit", body_limit=1024, description="The audit trail of administrative actions.")


@fn.get("/", query=AuditQuery, rate_limit="admin", allow=caller(policy.require_staff_reader))
async def list_entries(ctx: Context, query: AuditQuery) -> AuditPage:
    """Every audit entry, newest first, filtered by community, actor, action, target and time (staff)."""
    return await service.list_all(query, tx=ctx.db, principal=ctx.user)


@fn.get(
    "/communities/{community_id:uuid}",
    query=CommunityAuditQuery,
    rate_limit="admin",
    allow=community(policy.require_community_reader),
)
async def list_community_entries(ctx: Context, community_id: UUID, query: CommunityAuditQuery) -> AuditPage:
    """The community's audit entries, newest first (its admins and staff)."""
    return await service.list_for_community(community_id, query, tx=ctx.db, principal=ctx.user)


handler = fn.handler
