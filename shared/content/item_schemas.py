"""The item contract every repository function shares (`content`, `wods`, `blocks`, `programs`).

What an item has whatever its type: the common fields of its bodies, the lifecycle and version bodies,
the listing and version views. Each function adds its own types' payloads (shared/content/schemas.py,
shared/authoring/wod_schemas.py, …); one function's import builds none of another's models (cold start).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.content.fields import ChangeSummary, Description, Labels, Revision, SecureUrl, Title
from shared.content.model import ItemType, Status, VersionKind
from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, NotNull, Patch, Query, View

# --- create and change --------------------------------------------------------------------------------


class NewItem(Body):
    """What every new item has, whatever its type."""

    community_id: UUID | None = Field(
        default=None, description="The owning community; absent or null for platform content (staff)"
    )
    title: Title
    description: Description = ""
    thumbnail_url: SecureUrl | None = None
    tags: Labels = Field(default_factory=list)
    folder_id: UUID | None = None


def _names_a_change(schema: dict[str, Any]) -> None:
    """The contract says what the validator below checks: `type` and `revision` alone change nothing."""
    changes = [name for name in schema.get("properties", {}) if name not in ("type", "revision")]
    schema["minProperties"] = 2
    schema["anyOf"] = [{"required": [name]} for name in changes]


class ItemChanges(Patch):
    """What changes (omitted fields stay); `revision` or If-Match names the revision changed."""

    model_config = ConfigDict(json_schema_extra=_names_a_change)

    title: Annotated[Title | None, *NotNull] = None
    description: Annotated[Description | None, *NotNull] = None
    thumbnail_url: SecureUrl | None = Field(default=None, description="null removes it")
    tags: Annotated[Labels | None, *NotNull] = None
    folder_id: UUID | None = Field(default=None, description="null moves the item out of its folder")
    revision: Annotated[Revision | None, *NotNull] = None
    change_summary: Annotated[ChangeSummary | None, *NotNull] = Field(
        default=None,
        description="Save a version of the result with this summary (a published item always gets one)",
    )

    @model_validator(mode="after")
    def _changes_something(self) -> ItemChanges:
        if not self.model_fields_set - {"type", "revision"}:
            raise PydanticCustomError("empty_body", "name at least one field to change")
        return self


class Transition(Body):
    """A lifecycle step; name the revision you read here or in If-Match."""

    revision: Annotated[Revision | None, *NotNull] = None


class Publish(Transition):
    """Publish a draft; the published state is saved as a version."""

    change_summary: Annotated[ChangeSummary | None, *NotNull] = None


class Restore(Transition):
    """Make a version's content the item's current content, as a new version."""

    change_summary: Annotated[ChangeSummary | None, *NotNull] = None


class DeleteQuery(Query):
    """The revision being deleted, when not sent as If-Match."""

    revision: Revision | None = None


# --- read ---------------------------------------------------------------------------------------------


class ItemSummary(View):
    """An item as listed: everything but its payload."""

    id: UUID
    community_id: UUID | None = Field(description="The owning community; null for platform content")
    type: ItemType
    title: str
    description: str
    thumbnail_url: str | None
    tags: list[str]
    folder_id: UUID | None
    status: Status
    revision: int = Field(description="Bumped by every change; send it back (or the ETag) to change the item")
    published_at: datetime | None
    created_by: UUID | None
    updated_by: UUID | None
    created_at: datetime
    updated_at: datetime


class ItemPage(View):
    """One page of items: by relevance when searching, else most recently changed first."""

    items: list[ItemSummary]
    next_cursor: str | None


class ItemQuery(PageQuery):
    """Search and filters; each narrows the result, and visibility is the database's (row level security)."""

    q: str | None = Field(default=None, min_length=1, max_length=200, description="Full-text search")
    community_id: UUID | None = Field(default=None, description="Only this community's own items")
    platform: bool | None = Field(
        default=None, description="true: only platform content; false: only communities'"
    )
    type: ItemType | None = None
    status: Status | None = None
    tag: str | None = Field(default=None, max_length=50, description="Only items with this label")
    folder_id: UUID | None = None
    favourite: bool | None = Field(
        default=None, description="true: only the caller's favourites; false: only items they have not favourited"
    )

    @model_validator(mode="after")
    def _one_owner(self) -> ItemQuery:
        if self.community_id is not None and self.platform is not None:
            raise PydanticCustomError("owner_conflict", "give community_id or platform, not both")
        return self


class VersionSummary(View):
    """A saved version: its number (gapless per item), why it was made, by whom and when."""

    number: int
    kind: VersionKind = Field(description="save, publish or restore")
    change_summary: str
    author_id: UUID | None
    created_at: datetime


class VersionView(VersionSummary):
    """A saved version with the item's content as it was."""

    item_id: UUID
    snapshot: dict[str, Any]


class VersionPage(View):
    """One page of an item's versions, newest first."""

    items: list[VersionSummary]
    next_cursor: str | None


class CompareQuery(Query):
    """Two versions of the item; without `to`, the item as it is now."""

    from_: Annotated[int, Field(alias="from", ge=1, le=2**31 - 1)]
    to: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None


class FieldChange(View):
    """One field that differs; nested payload fields are named by dotted path (`payload.model_settings.model`)."""

    field: str
    before: Any
    after: Any


class Comparison(View):
    """What changed from one version to another (`to` null: the item as it is now)."""

    item_id: UUID
    from_version: int
    to_version: int | None
    changes: list[FieldChange]
