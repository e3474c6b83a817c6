"""`staff`: platform staff roles. Every staff member may list them; only super admins change them."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.people import staff_service as service
from shared.identity.people.staff_schemas import SetStaffRole, StaffPage, StaffView
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function
from shared.platform.pagination import PageQuery

fn = Function("staff", body_limit=4 * 1024, description="Platform staff and their roles.")


@fn.get("/", query=PageQuery, rate_limit="admin", allow=caller(policy.require_staff_reader))
async def list_staff(ctx: Context, query: PageQuery) -> StaffPage:
    """Platform staff with their names, emails and roles."""
    return await service.list_staff(query, tx=ctx.db, principal=ctx.user)


@fn.put("/{user_id:uuid}", body=SetStaffRole, rate_limit="admin", allow=caller(policy.require_super_admin))
async def set_staff_role(ctx: Context, user_id: UUID, body: SetStaffRole) -> StaffView:
    """Grant a user a staff role or change it; nobody changes their own (409 own_staff_role)."""
    return await service.set_role(user_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.delete("/{user_id:uuid}", rate_limit="admin", allow=caller(policy.require_super_admin))
async def revoke_staff_role(ctx: Context, user_id: UUID) -> None:
    """Take a user's staff role away; the last super admin stays (409 last_super_admin)."""
    await service.revoke(user_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


handler = fn.handler
