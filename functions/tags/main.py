"""`tags`: a community's user tags, with how many members hold each."""

from __future__ import annotations

from uuid import UUID

from shared.identity.people import policy
from shared.identity.people import tag_service as service
from shared.identity.people.schemas import CreateTag, DeleteTagQuery, TagDeleted, TagPage, TagView, UpdateTag
from shared.platform.audit import meta_of
from shared.platform.guards import community
from shared.platform.http import Context, Function
from shared.platform.pagination import PageQuery

fn = Function("tags", body_limit=16 * 1024, description="Community-scoped user tags.")
TAGS = "/communities/{community_id:uuid}/tags"
TAG = TAGS + "/{tag_id:uuid}"
READERS = community(policy.require_community_reader)
WRITERS = community(policy.require_community_writer)


@fn.get(TAGS, query=PageQuery, rate_limit="admin", allow=READERS)
async def list_tags(ctx: Context, community_id: UUID, query: PageQuery) -> TagPage:
    """The community's tags by name, each with its member count."""
    return await service.list_tags(community_id, query, tx=ctx.db, principal=ctx.user)


@fn.post(TAGS, body=CreateTag, status=201, idempotent=True, rate_limit="admin", allow=WRITERS)
async def create_tag(ctx: Context, community_id: UUID, body: CreateTag) -> TagView:
    """Create a tag; its name is unique within the community, whatever the case (409 tag_name_taken)."""
    return await service.create_tag(community_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get(TAG, rate_limit="admin", allow=READERS)
async def get_tag(ctx: Context, community_id: UUID, tag_id: UUID) -> TagView:
    """One tag of the community with its member count."""
    return await service.get_tag(community_id, tag_id, tx=ctx.db, principal=ctx.user)


@fn.patch(TAG, body=UpdateTag, rate_limit="admin", allow=WRITERS)
async def update_tag(ctx: Context, community_id: UUID, tag_id: UUID, body: UpdateTag) -> TagView:
    """Rename and/or recolour a tag."""
    return await service.update_tag(
        community_id, tag_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


@fn.delete(TAG, query=DeleteTagQuery, rate_limit="admin", allow=WRITERS)
async def delete_tag(ctx: Context, community_id: UUID, tag_id: UUID, query: DeleteTagQuery) -> TagDeleted:
    """Delete a tag and remove it from its members; needs `confirm=true` (422 without it)."""
    return await service.delete_tag(
        community_id, tag_id, is_confirmed=query.confirm, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


handler = fn.handler
