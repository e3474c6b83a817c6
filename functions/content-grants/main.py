"""`content-grants`: hand content items to communities, to their user tags or to single members, for a window."""

from __future__ import annotations

from uuid import UUID

from shared.content.grants import service
from shared.content.grants.schemas import (
    CreateGrant,
    GrantPage,
    GrantQuery,
    GrantRevoked,
    GrantView,
    UpdateGrant,
)
from shared.identity import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function(
    "content-grants", body_limit=16 * 1024, description="Grants of content items and their windows."
)
GRANT = "/{grant_id:uuid}"
READERS = caller(policy.require_any_community_reader)
WRITERS = caller(policy.require_any_community_writer)
NO_SUCH_ITEM = {**NO_SUCH_COMMUNITY, 404: "No such community or content item, or one the caller cannot see"}


@fn.get("/", query=GrantQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_ITEM)
async def list_grants(ctx: Context, query: GrantQuery) -> GrantPage:
    """The grants of an item (`?item_id=`) or in a community (`?community_id=`), newest first."""
    return await service.list_grants(query, tx=ctx.db, principal=ctx.user)


@fn.post(
    "/",
    body=CreateGrant,
    status=201,
    idempotent=True,
    rate_limit="admin",
    allow=WRITERS,
    responses=NO_SUCH_ITEM,
)
async def grant_item(ctx: Context, body: CreateGrant) -> GrantView:
    """Grant an item in a community: to all its members, to a tag's holders or to one member, optionally for a window.

    Staff who may write grant any item; a community's admins grant their community's own items. A
    community's item is granted only within it (409 grant_outside_owner); one grant per target (409
    grant_exists: move its window instead).
    """
    return await service.grant_item(body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get(GRANT, rate_limit="admin", allow=READERS)
async def get_grant(ctx: Context, grant_id: UUID) -> GrantView:
    """One grant."""
    return await service.get_grant(grant_id, tx=ctx.db, principal=ctx.user)


@fn.patch(GRANT, body=UpdateGrant, rate_limit="admin", allow=WRITERS)
async def update_grant(ctx: Context, grant_id: UUID, body: UpdateGrant) -> GrantView:
    """Move a grant's window: `starts_at` and/or `ends_at` (null opens that end)."""
    return await service.update_grant(grant_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.delete(GRANT, rate_limit="admin", allow=WRITERS)
async def revoke_grant(ctx: Context, grant_id: UUID) -> GrantRevoked:
    """Revoke a grant."""
    return await service.revoke_grant(grant_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


handler = fn.handler
