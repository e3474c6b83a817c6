"""The content contract: request and response models of the `content` function.

Creating and changing an item are discriminated unions on `type`: each type's body carries its own
typed payload, so the contract states every payload and a body of one type cannot carry another's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.content import payloads
from shared.content.model import CONTENT_TYPES, ItemType, Status, VersionKind
from shared.content.payloads import (
    VIEWS,
    AiAgentPayload,
    AutomationPayload,
    DocumentPayload,
    ImagePayload,
    PayloadView,
    PdfPayload,
    PromptPayload,
    SecureUrl,
    VideoPayload,
)
from shared.content.scope import Scope
from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, Integral, NotNull, Patch, PlainText, Query, Root, View

Title = Annotated[PlainText, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
MAX_LABELS = 30


def _distinct(labels: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for label in labels:
        if label.lower() not in seen:
            seen.add(label.lower())
            kept.append(label)
    return kept


Labels = Annotated[
    list[Annotated[PlainText, Field(min_length=1, max_length=50)]],
    Field(max_length=MAX_LABELS, description="Content labels; repeats (in any case) are dropped"),
    AfterValidator(_distinct),
]
Revision = Annotated[
    int,
    Field(ge=1, le=2**31 - 1, description="The revision you read (the alternative to If-Match)"),
    Integral,
]
ChangeSummary = Annotated[str, Field(max_length=500, description="Why this version, in a line")]

# --- create -------------------------------------------------------------------------------------------


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


class NewAiAgent(NewItem):
    type: Literal["ai_agent"]
    payload: AiAgentPayload


class NewVideo(NewItem):
    type: Literal["video"]
    payload: VideoPayload


class NewDocument(NewItem):
    type: Literal["document"]
    payload: DocumentPayload


class NewPrompt(NewItem):
    type: Literal["prompt"]
    payload: PromptPayload


class NewAutomation(NewItem):
    type: Literal["automation"]
    payload: AutomationPayload


class NewImage(NewItem):
    type: Literal["image"]
    payload: ImagePayload


class NewPdf(NewItem):
    type: Literal["pdf"]
    payload: PdfPayload


AnyNewItem = NewAiAgent | NewVideo | NewDocument | NewPrompt | NewAutomation | NewImage | NewPdf


class CreateItem(Root[Annotated[AnyNewItem, Field(discriminator="type")]]):
    """A new draft item: its type, the common fields and that type's payload."""


# --- change -------------------------------------------------------------------------------------------


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


class AiAgentChanges(ItemChanges):
    type: Literal["ai_agent"]
    payload: Annotated[AiAgentPayload | None, *NotNull] = None


class VideoChanges(ItemChanges):
    type: Literal["video"]
    payload: Annotated[VideoPayload | None, *NotNull] = None


class DocumentChanges(ItemChanges):
    type: Literal["document"]
    payload: Annotated[DocumentPayload | None, *NotNull] = None


class PromptChanges(ItemChanges):
    type: Literal["prompt"]
    payload: Annotated[PromptPayload | None, *NotNull] = None


class AutomationChanges(ItemChanges):
    type: Literal["automation"]
    payload: Annotated[AutomationPayload | None, *NotNull] = None


class ImageChanges(ItemChanges):
    type: Literal["image"]
    payload: Annotated[ImagePayload | None, *NotNull] = None


class PdfChanges(ItemChanges):
    type: Literal["pdf"]
    payload: Annotated[PdfPayload | None, *NotNull] = None


AnyChanges = (
    AiAgentChanges
    | VideoChanges
    | DocumentChanges
    | PromptChanges
    | AutomationChanges
    | ImageChanges
    | PdfChanges
)


class UpdateItem(Root[Annotated[AnyChanges, Field(discriminator="type")]]):
    """Changes to an item of the stated `type` (an item's type never changes); a payload is replaced whole."""


class Transition(Body):
    """A lifecycle step; name the revision you read here or in If-Match."""

    revision: Annotated[Revision | None, *NotNull] = None


class Publish(Transition):
    """Publish a draft; the published state is saved as a version."""

    change_summary: Annotated[ChangeSummary | None, *NotNull] = None


class Restore(Transition):
    """Make a version's content the item's current content, as a new version."""

    change_summary: Annotated[ChangeSummary | None, *NotNull] = None


class AttachFile(Body):
    """A confirmed upload to become an image or PDF item's file; name the revision here or in If-Match."""

    upload_id: UUID = Field(description="A confirmed upload of the item's owner and kind (image or pdf)")
    revision: Annotated[Revision | None, *NotNull] = None
    change_summary: Annotated[ChangeSummary | None, *NotNull] = Field(
        default=None,
        description="Save a version of the result with this summary (a published item always gets one)",
    )


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


class ItemView(ItemSummary):
    """An item with its typed payload (which payload is told by `type`)."""

    payload: PayloadView


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


class ItemDeleted(View):
    """The item deleted."""

    id: UUID


CONTENT = Scope(
    "content",
    CONTENT_TYPES,
    folders="content",
    view=ItemView,
    create=CreateItem,
    changes=UpdateItem,
    views=VIEWS,
    keys=payloads.keys,
    joined=payloads.joined,
)
"""The content repository's seven types."""
