"""`me`: who the caller is (profile, staff role, memberships) and changes to their own profile."""

from __future__ import annotations

from shared.identity import service
from shared.identity.me_schemas import MeView, UpdateProfile
from shared.platform.http import Context, Function

fn = Function("me", body_limit=16 * 1024, description="The signed-in user's own profile and roles.")


@fn.get("/", allow_inactive=True, caller_only=True)
async def read_me(ctx: Context) -> MeView:
    """The caller's profile, staff role and community memberships."""
    return service.me_view(ctx.user)


@fn.patch("/", body=UpdateProfile)
async def update_me(ctx: Context, body: UpdateProfile) -> MeView:
    """Update the caller's own names, avatar url and time zone."""
    return await service.update_profile(body, tx=ctx.db, principal=ctx.user)


handler = fn.handler
