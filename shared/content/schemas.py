"""The content contract: request and response models of the `content` function's seven types.

Creating and changing an item are discriminated unions on `type`: each type's body carries its own
typed payload, so the contract states every payload and a body of one type cannot carry another's.
What every item has, whatever its type, is shared/content/item_schemas.py.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.content import payloads
from shared.content.fields import ChangeSummary, Revision
from shared.content.fields import Title as Title  # the name other domains import
from shared.content.item_schemas import ItemChanges, ItemSummary, NewItem
from shared.content.item_schemas import ItemQuery as ItemQuery  # tests import it here
from shared.content.model import CONTENT_TYPES
from shared.content.payloads import (
    VIEWS,
    AiAgentPayload,
    AutomationPayload,
    DocumentPayload,
    ImagePayload,
    PayloadView,
    PdfPayload,
    PromptPayload,
    VideoPayload,
)
from shared.content.scope import Scope
from shared.platform.validation import Body, NotNull, Root

# --- create -------------------------------------------------------------------------------------------


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


class AttachFile(Body):
    """A confirmed upload to become an image or PDF item's file; name the revision here or in If-Match."""

    upload_id: UUID = Field(description="A confirmed upload of the item's owner and kind (image or pdf)")
    revision: Annotated[Revision | None, *NotNull] = None
    change_summary: Annotated[ChangeSummary | None, *NotNull] = Field(
        default=None,
        description="Save a version of the result with this summary (a published item always gets one)",
    )


class ItemView(ItemSummary):
    """An item with its typed payload (which payload is told by `type`)."""

    payload: PayloadView


CONTENT = Scope(
    "content",
    CONTENT_TYPES,
    folders="content",
    view=ItemView,
    create=CreateItem,
    changes=UpdateItem,
    views=VIEWS,
    stored=payloads.stored,
    keys=payloads.keys,
    joined=payloads.joined,
)
"""The content repository's seven types."""
