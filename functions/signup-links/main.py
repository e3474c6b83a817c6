"""`signup-links`: a community's self-service join links: create (token shown once), list, revoke."""

from __future__ import annotations

from uuid import UUID

from shared.identity.onboarding import links
from shared.identity.onboarding.policy import require_reader, require_writer
from shared.identity.onboarding.schemas import (
    CreatedSignupLink,
    CreateSignupLink,
    SignupLinkPage,
    SignupLinkQuery,
    SignupLinkView,
)
from shared.platform.audit import meta_of
from shared.platform.guards import community
from shared.platform.http import Context, Function

fn = Function("signup-links", body_limit=16 * 1024, description="A community's self-service signup links.")


@fn.post(
    "/communities/{community_id:uuid}/links",
    body=CreateSignupLink,
    idempotent=True,
    status=201,
    rate_limit="admin",
    allow=community(require_writer),
)
async def create_link(ctx: Context, community_id: UUID, body: CreateSignupLink) -> CreatedSignupLink:
    """Create a signup link; its token is in this response only (only its SHA-256 is stored)."""
    require_writer(ctx.user, community_id)
    created = await links.create_link(
        body,
        community_id,
        tx=ctx.db,
        principal=ctx.user,
        meta=meta_of(ctx),
        origins=ctx.settings.cors_origins,
    )
    # A replay under the same Idempotency-Key gets the link without its token: it is shown once.
    ctx.replay_body = created.model_copy(update={"token": None, "join_url": None}).model_dump_json().encode()
    return created


@fn.get("/communities/{community_id:uuid}/links", query=SignupLinkQuery, allow=community(require_reader))
async def list_links(ctx: Context, community_id: UUID, query: SignupLinkQuery) -> SignupLinkPage:
    """The community's signup links, newest first, with status and use count (never a token)."""
    require_reader(ctx.user, community_id)
    return await links.list_links(ctx.db, community_id, query)


@fn.post(
    "/communities/{community_id:uuid}/links/{link_id:uuid}/revoke",
    rate_limit="admin",
    allow=community(require_writer),
)
async def revoke_link(ctx: Context, community_id: UUID, link_id: UUID) -> SignupLinkView:
    """Revoke a signup link: nobody can join through it any more (people who joined stay)."""
    require_writer(ctx.user, community_id)
    return await links.revoke_link(community_id, link_id, tx=ctx.db, meta=meta_of(ctx))


handler = fn.handler
