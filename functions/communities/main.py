"""`communities`: create, list, read and change communities, their feature flags and AI settings."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.communities import ai_settings, service
from shared.identity.communities.read_view import CommunityReadView
from shared.identity.communities.schemas import (
    AiSettingsView,
    CommunityListQuery,
    CommunityPage,
    CommunityView,
    CreateCommunity,
    DeleteCommunityQuery,
    ReplaceFeatures,
    UpdateAiSettings,
    UpdateCommunity,
)
from shared.platform.audit import meta_of
from shared.platform.guards import caller, community
from shared.platform.http import Context, Function

fn = Function(
    "communities", body_limit=16 * 1024, description="Communities: settings, features, AI settings."
)
ONE = "/{community_id:uuid}"


def _versioned(ctx: Context, view: CommunityView) -> CommunityView:
    """Send the version the view shows as its ETag, for a later If-Match."""
    ctx.response_headers["ETag"] = service.etag(view)
    return view


@fn.post(
    "/",
    body=CreateCommunity,
    status=201,
    idempotent=True,
    rate_limit="admin",
    allow=caller(policy.require_staff_writer),
)
async def create_community(ctx: Context, body: CreateCommunity) -> CommunityView:
    """Create a community, optionally cloned from a template (staff who may write; Idempotency-Key)."""
    view = await service.create_community(body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))
    ctx.response_headers["Location"] = f"/functions/v1/communities/{view.id}"
    return _versioned(ctx, view)


@fn.get("/", query=CommunityListQuery, rate_limit="admin", allow=caller(policy.require_staff_reader))
async def list_communities(ctx: Context, query: CommunityListQuery) -> CommunityPage:
    """List communities by name, with search and filters (staff)."""
    return await service.list_communities(query, tx=ctx.db, principal=ctx.user)


@fn.get(ONE, allow=community(policy.require_visible))
async def read_community(ctx: Context, community_id: UUID) -> CommunityReadView:
    """A community: every setting for staff and its admins, the basics for its learners."""
    view = await service.read_community(community_id, tx=ctx.db, principal=ctx.user)
    return CommunityReadView(_versioned(ctx, view) if isinstance(view, CommunityView) else view)


@fn.patch(ONE, body=UpdateCommunity, rate_limit="admin", allow=community(policy.require_community_writer))
async def update_community(ctx: Context, community_id: UUID, body: UpdateCommunity) -> CommunityView:
    """Change settings; If-Match is optional and a stale one is a 409 `stale_version`."""
    if_match = ctx.request.headers.get("if-match")
    view = await service.update_community(
        community_id, body, if_match=if_match, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )
    return _versioned(ctx, view)


@fn.post(ONE + "/archive", rate_limit="admin", allow=caller(policy.require_staff_writer))
async def archive_community(ctx: Context, community_id: UUID) -> CommunityView:
    """Archive a community: its data stays, its members see nothing (staff who may write)."""
    view = await service.set_status(
        community_id, "archived", tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )
    return _versioned(ctx, view)


@fn.post(ONE + "/restore", rate_limit="admin", allow=caller(policy.require_staff_writer))
async def restore_community(ctx: Context, community_id: UUID) -> CommunityView:
    """Make an archived community active again (staff who may write)."""
    view = await service.set_status(community_id, "active", tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))
    return _versioned(ctx, view)


@fn.put(
    ONE + "/features",
    body=ReplaceFeatures,
    rate_limit="admin",
    allow=community(policy.require_community_writer),
)
async def replace_features(ctx: Context, community_id: UUID, body: ReplaceFeatures) -> CommunityView:
    """Replace the feature-flag map (staff who may write, or the community's admin; If-Match optional)."""
    if_match = ctx.request.headers.get("if-match")
    view = await service.replace_features(
        community_id, body, if_match=if_match, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )
    return _versioned(ctx, view)


@fn.get(ONE + "/ai-settings", rate_limit="admin", allow=community(policy.require_community_reader))
async def read_ai_settings(ctx: Context, community_id: UUID) -> AiSettingsView:
    """The community's AI settings; whether it has its own key, never the key."""
    return await ai_settings.read_ai_settings(community_id, tx=ctx.db, principal=ctx.user)


@fn.patch(
    ONE + "/ai-settings",
    body=UpdateAiSettings,
    rate_limit="admin",
    allow=community(policy.require_community_writer),
)
async def update_ai_settings(ctx: Context, community_id: UUID, body: UpdateAiSettings) -> AiSettingsView:
    """Change provider and model, the quota (staff), or set/remove the community's own key (write-only)."""
    return await ai_settings.update_ai_settings(
        community_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.delete(
    ONE,
    query=DeleteCommunityQuery,
    status=204,
    rate_limit="admin",
    allow=caller(policy.require_super_admin),
)
async def delete_community(ctx: Context, community_id: UUID, query: DeleteCommunityQuery) -> None:
    """Delete a community and everything in it (super admin; `?confirm=<slug>`); 204."""
    await service.delete_community(
        community_id, query.confirm, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


handler = fn.handler
