"""The tags' contract: a community's tags, created, renamed, recoloured and deleted by its admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from shared.platform.validation import Body, NotNull, Patch, PlainText, Query, View

Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="Hex colour, #rrggbb")]
TagName = Annotated[PlainText, Field(min_length=1, max_length=60)]
DEFAULT_TAG_COLOR = "#6b7280"



class TagView(View):
    """A community's tag and how many members hold it."""

    id: UUID
    community_id: UUID
    name: str
    color: str
    member_count: int
    created_at: datetime
    updated_at: datetime


class TagPage(View):
    """One page of a community's tags, by name."""

    items: list[TagView]
    next_cursor: str | None


class CreateTag(Body):
    """A new tag of a community; the name is unique within the community, whatever its case."""

    community_id: UUID
    name: TagName
    color: Color = DEFAULT_TAG_COLOR


class UpdateTag(Patch):
    """Rename and/or recolour a tag; omitted fields stay as they are."""

    name: Annotated[TagName | None, *NotNull] = None
    color: Annotated[Color | None, *NotNull] = None


class DeleteTagQuery(Query):
    """Deleting a tag removes it from every member holding it, so it must be confirmed."""

    confirm: bool = Field(default=False, description="Must be true: the tag's assignments are removed too")


class TagDeleted(View):
    """What deleting a tag removed."""

    id: UUID
    assignments_removed: int
