"""`invitations`: admins invite an email address into a community, list and revoke; invitees accept or decline."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.onboarding import invitations
from shared.identity.onboarding.invitation_schemas import (
    CreateInvitation,
    InvitationPage,
    InvitationQuery,
    InvitationView,
    MyInvitationPage,
    MyInvitationView,
)
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function
from shared.platform.pagination import PageQuery

fn = Function("invitations", body_limit=16 * 1024, description="Invite people into a community.")


@fn.post(
    "/",
    body=CreateInvitation,
    idempotent=True,
    status=201,
    rate_limit="admin",
    allow=caller(policy.require_any_community_writer),
    responses=NO_SUCH_COMMUNITY,
)
async def create_invitation(ctx: Context, body: CreateInvitation) -> InvitationView:
    """Invite an address: a pending invitation, the same answer whether or not it has an account.

    Nobody joins until the invitee accepts. 409 `already_member` when a member here has the address,
    `invitation_pending` when it has a pending invitation here.
    """
    return await invitations.invite(
        body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx), allowed_origins=ctx.settings.cors_origins
    )


@fn.get(
    "/",
    query=InvitationQuery,
    allow=caller(policy.require_any_community_reader),
    responses=NO_SUCH_COMMUNITY,
)
async def list_invitations(ctx: Context, query: InvitationQuery) -> InvitationPage:
    """A community's invitations (`?community_id=`), newest first, optionally only those of one status."""
    return await invitations.list_invitations(query, tx=ctx.db, principal=ctx.user)


@fn.post(
    "/{invitation_id:uuid}/revoke", rate_limit="admin", allow=caller(policy.require_any_community_writer)
)
async def revoke_invitation(ctx: Context, invitation_id: UUID) -> InvitationView:
    """Revoke a pending invitation."""
    return await invitations.revoke(invitation_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.post(
    "/{invitation_id:uuid}/resend",
    rate_limit="admin",
    allow=caller(policy.require_any_community_writer),
    responses={409: "Not pending any more (invitation_closed), or its delivery has not failed (delivery_not_failed)"},
)
async def resend_invitation(ctx: Context, invitation_id: UUID) -> InvitationView:
    """Send a pending invitation again whose delivery failed; the worker delivers it once more."""
    return await invitations.resend(invitation_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get("/mine", query=PageQuery)
async def my_invitations(ctx: Context, query: PageQuery) -> MyInvitationPage:
    """The caller's pending invitations, newest first."""
    return await invitations.my_invitations(ctx.db, query)


@fn.post("/{invitation_id:uuid}/accept")
async def accept_invitation(ctx: Context, invitation_id: UUID) -> MyInvitationView:
    """Accept an invitation addressed to the caller: join with the invited role and tags; again: the same.

    404 when no such invitation is addressed to the caller; 409 `invitation_revoked`, `invitation_declined`
    or `community_archived`.
    """
    return await invitations.accept(ctx.db, invitation_id, meta_of(ctx))


@fn.post("/{invitation_id:uuid}/decline")
async def decline_invitation(ctx: Context, invitation_id: UUID) -> MyInvitationView:
    """Decline an invitation addressed to the caller; again: the same.

    404 when no such invitation is addressed to the caller; 409 `invitation_accepted` or `invitation_revoked`.
    """
    return await invitations.decline(ctx.db, invitation_id, meta_of(ctx))


handler = fn.handler
