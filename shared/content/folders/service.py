"""Folder use cases: a repository's tree, create, rename, move, delete.

The database holds the tree's rules for every caller (a parent of the same owner and repository, no
cycles, no deleting a folder that holds anything); these use cases check the caller first and name a
parent the caller cannot use as a field error rather than a key violation.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared.content import ownership
from shared.content.folders import repository
from shared.content.folders.errors import FolderNotFoundError
from shared.content.folders.schemas import CreateFolder, FolderTree, FolderView, TreeQuery, UpdateFolder
from shared.identity.communities.scope import require_existing
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.errors import FieldError, ValidationFailedError

FOLDER = "content_folder"
_record = functools.partial(audit.record_row, target_type=FOLDER)
"""An audit entry for a row of this kind (its own id and community)."""


async def folder_tree(query: TreeQuery, *, tx: Tx, principal: Principal) -> FolderTree:
    """Every folder of one owner's repository, parents first."""
    ownership.require_owner_reader(principal, query.community_id)
    if query.community_id is not None:
        await require_existing(tx, principal, query.community_id)
    rows = await repository.tree(tx, query.community_id, query.repository)
    return FolderTree(
        community_id=query.community_id,
        repository=query.repository,
        folders=[FolderView.model_validate(r) for r in rows],
    )


async def get_folder(folder_id: UUID, *, tx: Tx, principal: Principal) -> FolderView:
    """One folder with what it holds."""
    return FolderView.model_validate(await _visible(tx, principal, folder_id))


async def create_folder(cmd: CreateFolder, *, tx: Tx, principal: Principal, meta: RequestMeta) -> FolderView:
    """Create a folder at the top of the owner's tree or under one of its folders."""
    ownership.require_owner_writer(principal, cmd.community_id)
    if cmd.community_id is not None:
        await require_existing(tx, principal, cmd.community_id)
    if cmd.parent_id is not None:
        await _require_parent(tx, cmd.parent_id, cmd.community_id, cmd.repository)
    row = await repository.create_folder(tx, cmd.community_id, cmd.repository, cmd.parent_id, cmd.name)
    await _record(tx, meta, "folder.created", row, None, _values(row))
    return FolderView.model_validate(row)


async def update_folder(
    folder_id: UUID, cmd: UpdateFolder, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> FolderView:
    """Rename and/or move a folder; into itself or one of its subfolders is a 409 folder_cycle."""
    before = await _locked(tx, principal, folder_id)
    parent_id: UUID | None = cmd.parent_id if "parent_id" in cmd.model_fields_set else before["parent_id"]
    name: str = cmd.name or before["name"]
    if parent_id is not None and parent_id != before["parent_id"]:
        await _require_parent(tx, parent_id, before["community_id"], before["repository"])
    after = {"name": name, "parent_id": parent_id}
    if after != _values(before):
        await repository.update_folder(tx, folder_id, name, parent_id)
        await _record(tx, meta, "folder.updated", before, _values(before), after)
    return FolderView.model_validate(await _visible(tx, principal, folder_id))


async def delete_folder(folder_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta) -> None:
    """Delete an empty folder; one holding folders or items is a 409 folder_not_empty."""
    before = await _locked(tx, principal, folder_id)
    await repository.delete_folder(tx, folder_id)
    await _record(tx, meta, "folder.deleted", before, _values(before), None)


async def _visible(tx: Tx, principal: Principal, folder_id: UUID) -> Row:
    row = await repository.get_folder(tx, folder_id)
    if row is None:
        raise FolderNotFoundError()
    ownership.require_thing_reader(principal, row["community_id"], FolderNotFoundError)
    return row


async def _locked(tx: Tx, principal: Principal, folder_id: UUID) -> Row:
    """The folder, locked, for a writer of its owner; missing to non-readers, 403 to other readers."""
    row = await _visible(tx, principal, folder_id)
    ownership.require_thing_writer(principal, row["community_id"], FolderNotFoundError)
    locked = await repository.lock_folder(tx, folder_id)
    if locked is None:
        raise FolderNotFoundError()  # deleted meanwhile
    return locked


async def _require_parent(tx: Tx, parent_id: UUID, owner: UUID | None, repository_name: str) -> None:
    """The parent must be a folder the caller sees, of the same owner and repository."""
    parent = await repository.get_folder(tx, parent_id)
    if parent is None or parent["community_id"] != owner or parent["repository"] != repository_name:
        message = "No such folder in this owner's tree of this repository."
        raise ValidationFailedError([FieldError("body.parent_id", message, "unknown_folder")])


def _values(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "parent_id": row["parent_id"]}


