"""`members`: communities' members, their roles and tags; staff deactivate and reactivate accounts.

A membership is identified by its community and its user, so its path names both, once:
`/members/{community_id}/{user_id}`.
"""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.people import service
from shared.identity.people.schemas import (
    AccountStatusView,
    ChangeMemberRole,
    MemberPage,
    MemberQuery,
    MemberView,
    ReplaceMemberTags,
)
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.audit import meta_of
from shared.platform.guards import caller, community
from shared.platform.http import Context, Function

fn = Function("members", body_limit=32 * 1024, description="Community members, their roles and tags.")
MEMBER = "/{community_id:uuid}/{user_id:uuid}"
WRITERS = community(policy.require_community_writer)
ACCOUNT_MANAGERS = caller(policy.require_staff_writer)


@fn.get(
    "/",
    query=MemberQuery,
    rate_limit="admin",
    allow=caller(policy.require_any_community_reader),
    responses=NO_SUCH_COMMUNITY,
)
async def list_members(ctx: Context, query: MemberQuery) -> MemberPage:
    """A community's members (`?community_id=`), newest first: search by name or email, role or tag."""
    return await service.list_members(query, tx=ctx.db, principal=ctx.user)


@fn.patch(MEMBER, body=ChangeMemberRole, rate_limit="admin", allow=WRITERS)
async def change_role(ctx: Context, community_id: UUID, user_id: UUID, body: ChangeMemberRole) -> MemberView:
    """Make a member an admin or a plain member; the last admin cannot be demoted (409 last_admin)."""
    return await service.change_role(
        community_id, user_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.delete(MEMBER, rate_limit="admin", allow=WRITERS)
async def remove_member(ctx: Context, community_id: UUID, user_id: UUID) -> None:
    """Remove a member and their tags from the community; the last admin stays (409 last_admin)."""
    await service.remove_member(community_id, user_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.put(MEMBER + "/tags", body=ReplaceMemberTags, rate_limit="admin", allow=WRITERS)
async def replace_tags(
    ctx: Context, community_id: UUID, user_id: UUID, body: ReplaceMemberTags
) -> MemberView:
    """Replace the member's tags with the given ones, all of them tags of this community."""
    return await service.replace_tags(
        community_id, user_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.post(MEMBER + "/tags/{tag_id:uuid}", rate_limit="admin", allow=WRITERS)
async def add_tag(ctx: Context, community_id: UUID, user_id: UUID, tag_id: UUID) -> MemberView:
    """Give the member one tag of this community."""
    return await service.add_tag(
        community_id, user_id, tag_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.delete(MEMBER + "/tags/{tag_id:uuid}", rate_limit="admin", allow=WRITERS)
async def remove_tag(ctx: Context, community_id: UUID, user_id: UUID, tag_id: UUID) -> MemberView:
    """Take one tag from the member."""
    return await service.remove_tag(
        community_id, user_id, tag_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.post("/users/{user_id:uuid}/deactivate", rate_limit="admin", allow=ACCOUNT_MANAGERS)
async def deactivate_user(ctx: Context, user_id: UUID) -> AccountStatusView:
    """Deactivate an account: its requests are refused until it is reactivated (staff writers)."""
    return await service.set_account_status(
        user_id, "deactivated", tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.post("/users/{user_id:uuid}/reactivate", rate_limit="admin", allow=ACCOUNT_MANAGERS)
async def reactivate_user(ctx: Context, user_id: UUID) -> AccountStatusView:
    """Reactivate a deactivated account (staff writers)."""
    return await service.set_account_status(
        user_id, "active", tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


handler = fn.handler
