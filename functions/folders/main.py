"""`folders`: the folder tree of each owner's repository (wods, blocks, content)."""

from __future__ import annotations

from uuid import UUID

from shared.content.folders import service
from shared.content.folders.schemas import CreateFolder, FolderTree, FolderView, TreeQuery, UpdateFolder
from shared.identity import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function(
    "folders", body_limit=16 * 1024, description="Folder trees of the wods, blocks and content repositories."
)
FOLDER = "/{folder_id:uuid}"
READERS = caller(policy.require_any_community_reader)
WRITERS = caller(policy.require_any_community_writer)


@fn.get("/", query=TreeQuery, rate_limit="admin", allow=READERS, responses=NO_SUCH_COMMUNITY)
async def folder_tree(ctx: Context, query: TreeQuery) -> FolderTree:
    """A repository's whole tree (`?repository=` and `?community_id=`, absent for the platform's): every
    folder with its parent, parents before children and siblings by name."""
    return await service.folder_tree(query, tx=ctx.db, principal=ctx.user)


@fn.post(
    "/",
    body=CreateFolder,
    status=201,
    idempotent=True,
    rate_limit="admin",
    allow=WRITERS,
    responses=NO_SUCH_COMMUNITY,
)
async def create_folder(ctx: Context, body: CreateFolder) -> FolderView:
    """Create a folder, at the top of its tree or under a folder of the same owner and repository."""
    return await service.create_folder(body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get(FOLDER, rate_limit="admin", allow=READERS)
async def get_folder(ctx: Context, folder_id: UUID) -> FolderView:
    """One folder, with how many folders and items it holds."""
    return await service.get_folder(folder_id, tx=ctx.db, principal=ctx.user)


@fn.patch(FOLDER, body=UpdateFolder, rate_limit="admin", allow=WRITERS)
async def update_folder(ctx: Context, folder_id: UUID, body: UpdateFolder) -> FolderView:
    """Rename and/or move a folder (`parent_id: null`: to the top); into itself or a subfolder is a 409
    `folder_cycle`."""
    return await service.update_folder(folder_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.delete(FOLDER, rate_limit="admin", allow=WRITERS)
async def delete_folder(ctx: Context, folder_id: UUID) -> None:
    """Delete an empty folder; one holding folders or items is a 409 `folder_not_empty`."""
    await service.delete_folder(folder_id, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


handler = fn.handler
