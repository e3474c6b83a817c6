"""`invitations`: invite an email address into a community with a role and tags; list; revoke."""

from __future__ import annotations

from uuid import UUID

from shared.identity.onboarding import invitations
from shared.identity.onboarding.policy import require_reader, require_writer
from shared.identity.onboarding.schemas import (
    CreateInvitation,
    InvitationPage,
    InvitationQuery,
    InvitationView,
)
from shared.platform.audit import meta_of
from shared.platform.guards import community
from shared.platform.http import Context, Function

fn = Function("invitations", body_limit=16 * 1024, description="Invite people into a community.")


@fn.post(
    "/communities/{community_id:uuid}/invitations",
    body=CreateInvitation,
    idempotent=True,
    status=201,
    rate_limit="admin",
    allow=community(require_writer),
)
async def create_invitation(ctx: Context, community_id: UUID, body: CreateInvitation) -> InvitationView:
    """Invite an address: an existing account becomes a member now, a new one gets the provider's invite."""
    require_writer(ctx.user, community_id)
    return await invitations.invite(
        body,
        community_id,
        tx=ctx.db,
        principal=ctx.user,
        meta=meta_of(ctx),
        allowed_origins=ctx.settings.cors_origins,
    )


@fn.get(
    "/communities/{community_id:uuid}/invitations", query=InvitationQuery, allow=community(require_reader)
)
async def list_invitations(ctx: Context, community_id: UUID, query: InvitationQuery) -> InvitationPage:
    """The community's invitations, newest first, optionally only those of one status."""
    require_reader(ctx.user, community_id)
    return await invitations.list_invitations(ctx.db, community_id, query)


@fn.post(
    "/communities/{community_id:uuid}/invitations/{invitation_id:uuid}/revoke",
    rate_limit="admin",
    allow=community(require_writer),
)
async def revoke_invitation(ctx: Context, community_id: UUID, invitation_id: UUID) -> InvitationView:
    """Revoke a sent invitation and the membership it created."""
    require_writer(ctx.user, community_id)
    return await invitations.revoke(community_id, invitation_id, tx=ctx.db, meta=meta_of(ctx))


handler = fn.handler
