"""`community-signup`: a signed-in user joins a community through a signup link's token."""

from __future__ import annotations

from shared.identity.onboarding import links
from shared.identity.onboarding.link_schemas import Redeemed, RedeemSignupLink
from shared.platform.audit import meta_of
from shared.platform.http import Context, Function, Reply

fn = Function("community-signup", body_limit=4 * 1024, description="Join a community with a signup link.")


# The strict "join" limit class slows anyone trying tokens (failed attempts count too); a person
# redeems a link rarely. Tokens carry 256 bits, so the limit is a second line, not the defence.
@fn.post(
    "/redeem",
    body=RedeemSignupLink,
    status=201,
    rate_limit="join",
    responses={
        201: "Joined the community",
        200: "Already a member",
        404: "No link has this token",
        410: "The link expired or was revoked",
    },
)
async def redeem(ctx: Context, body: RedeemSignupLink) -> Reply[Redeemed]:
    """Join the link's community: 201 joined, 200 when already a member; 404/410/409 for unusable links."""
    result = await links.redeem(body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))
    return Reply(result, status=201 if result.outcome == "joined" else 200)


handler = fn.handler
