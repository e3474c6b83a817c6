"""`tags`: communities' user tags, with how many members hold each."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.people import tag_repository
from shared.identity.people import tag_service as service
from shared.identity.people.tag_schemas import (
    CreateTag,
    DeleteTagQuery,
    TagDeleted,
    TagPage,
    TagView,
    UpdateTag,
)
from shared.identity.schemas import NO_SUCH_COMMUNITY, CommunityPageQuery
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("tags", body_limit=16 * 1024, description="Communities' user tags.")
TAG = "/{tag_id:uuid}"
READERS = caller(policy.require_any_community_reader)
WRITERS = caller(policy.require_any_community_writer)


@fn.get("/", query=CommunityPageQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_COMMUNITY)
async def list_tags(ctx: Context, query: CommunityPageQuery) -> TagPage:
    """A community's tags by name, each with its member count (`?community_id=`)."""
    return await service.list_tags(query, tx=ctx.db, principal=ctx.user)


@fn.post(
    "/",
    body=CreateTag,
    status=201,
    idempotent=True,
    rate_limit="admin",
    allow=WRITERS,
    responses=NO_SUCH_COMMUNITY,
)
async def create_tag(ctx: Context, body: CreateTag) -> TagView:
    """Create a tag; its name is unique within the community, whatever the case (409 tag_name_taken)."""
    return await service.create_tag(body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get(TAG, rate_limit="admin", allow=READERS, read=tag_repository.get_tag_statement)
async def get_tag(ctx: Context, tag_id: UUID) -> TagView:
    """One tag with its member count."""
    return service.tag_view(ctx.rows, ctx.user)


@fn.patch(TAG, body=UpdateTag, rate_limit="admin", allow=WRITERS)
async def update_tag(ctx: Context, tag_id: UUID, body: UpdateTag) -> TagView:
    """Rename and/or recolour a tag."""
    return await service.update_tag(tag_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.delete(TAG, query=DeleteTagQuery, rate_limit="admin", allow=WRITERS)
async def delete_tag(ctx: Context, tag_id: UUID, query: DeleteTagQuery) -> TagDeleted:
    """Delete a tag and remove it from its members; needs `confirm=true` (422 without it)."""
    return await service.delete_tag(
        tag_id, is_confirmed=query.confirm, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx)
    )


handler = fn.handler
