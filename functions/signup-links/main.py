"""`signup-links`: communities' self-service join links: create (token shown once), list, revoke."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.onboarding import links
from shared.identity.onboarding.link_schemas import (
    CreatedSignupLink,
    CreateSignupLink,
    SignupLinkPage,
    SignupLinkQuery,
    SignupLinkView,
)
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("signup-links", body_limit=16 * 1024, description="Communities' self-service signup links.")
READERS = caller(policy.require_any_community_reader)
WRITERS = caller(policy.require_any_community_writer)


@fn.post(
    "/",
    body=CreateSignupLink,
    idempotent=True,
    status=201,
    rate_limit="admin",
    allow=WRITERS,
    responses=NO_SUCH_COMMUNITY,
)
async def create_link(ctx: Context, body: CreateSignupLink) -> CreatedSignupLink:
    """Create a signup link; its token is in this response only (only its SHA-256 is stored)."""
    created = await links.create_link(
        body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx), origins=ctx.settings.cors_origins
    )
    # A replay under the same Idempotency-Key gets the link without its token: it is shown once.
    ctx.replay_body = created.model_copy(update={"token": None, "join_url": None}).model_dump_json().encode()
    return created


@fn.get("/", query=SignupLinkQuery, allow=READERS, responses=NO_SUCH_COMMUNITY)
async def list_links(ctx: Context, query: SignupLinkQuery) -> SignupLinkPage:
    """A community's signup links (`?community_id=`), newest first, with status and use count (never a token)."""
    return await links.list_links(query, tx=ctx.db, principal=ctx.user)


@fn.post("/{link_id:uuid}/revoke", rate_limit="admin", allow=WRITERS)
async def revoke_link(ctx: Context, link_id: UUID) -> SignupLinkView:
    """Revoke a signup link: nobody can join through it any more (people who joined stay)."""
    return await links.revoke_link(link_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


handler = fn.handler
