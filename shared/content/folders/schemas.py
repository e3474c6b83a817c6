"""The folders contract: a repository's tree, creating, renaming and moving a folder."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.platform.validation import Body, NotNull, Patch, PlainText, Query, View

Repository = Literal["wods", "blocks", "content"]
FolderName = Annotated[PlainText, Field(min_length=1, max_length=120)]


class TreeQuery(Query):
    """Whose tree of which repository: `community_id` absent means the platform's."""

    community_id: UUID | None = Field(default=None, description="The owning community; absent: the platform")
    repository: Repository = Field(description="wods, blocks or content")


class CreateFolder(Body):
    """A new folder: its owner, repository, parent (absent or null: at the top) and name."""

    community_id: UUID | None = Field(
        default=None, description="The owning community; absent or null: the platform"
    )
    repository: Repository
    parent_id: UUID | None = Field(default=None, description="A folder of the same owner and repository")
    name: FolderName


class UpdateFolder(Patch):
    """Rename and/or move a folder; `parent_id: null` moves it to the top of its tree."""

    name: Annotated[FolderName | None, *NotNull] = None
    parent_id: UUID | None = Field(default=None, description="The new parent; null: the top of the tree")


class FolderView(View):
    """A folder in its tree, with how many folders and items it holds directly."""

    id: UUID
    community_id: UUID | None
    repository: Repository
    parent_id: UUID | None
    name: str
    folder_count: int
    item_count: int = Field(description="Content items filed here (content repository; 0 elsewhere)")
    created_at: datetime


class FolderTree(View):
    """Every folder of one owner's repository, parents before their children, siblings by name."""

    community_id: UUID | None
    repository: Repository
    folders: list[FolderView]
