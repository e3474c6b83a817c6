"""`audit`: the append-only record of administrative actions, for staff and for community admins."""

from __future__ import annotations

from shared.identity import policy
from shared.identity.people import audit_service as service
from shared.identity.people.audit_schemas import AuditPage, AuditQuery
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("audit", body_limit=1024, description="The audit trail of administrative actions.")


@fn.get(
    "/",
    query=AuditQuery,
    rate_limit="admin",
    allow=caller(policy.require_any_community_reader),
    responses=NO_SUCH_COMMUNITY,
)
async def list_entries(ctx: Context, query: AuditQuery) -> AuditPage:
    """Audit entries, newest first, by community, actor, action, target and time.

    Staff read every entry; a community's admins read its own (`?community_id=` is required of them).
    """
    return await service.list_entries_page(query, tx=ctx.db, principal=ctx.user)


handler = fn.handler
