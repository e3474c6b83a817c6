"""The contract of `blocks`: the content item's bodies and views for a BLOCK."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shared.authoring.payloads import BlockPayload, BlockShown
from shared.authoring.schemas import paged
from shared.content.item_schemas import ItemChanges, ItemSummary, NewItem
from shared.platform.validation import NotNull, Root


class NewBlock(NewItem):
    type: Literal["block"]
    payload: BlockPayload = Field(default_factory=BlockPayload)


class BlockChanges(ItemChanges):
    type: Literal["block"]
    payload: Annotated[BlockPayload | None, *NotNull] = None


class CreateBlock(Root[Annotated[NewBlock, Field(discriminator="type")]]):
    """A new draft BLOCK (`type` "block"): the common fields and its payload."""


class UpdateBlock(Root[Annotated[BlockChanges, Field(discriminator="type")]]):
    """Changes to a BLOCK (`type` "block"); a payload is replaced whole."""


class BlockView(ItemSummary):
    """A BLOCK with its pages."""

    payload: BlockShown


BLOCKS = paged("blocks", "block", BlockView, CreateBlock, UpdateBlock, BlockShown)
