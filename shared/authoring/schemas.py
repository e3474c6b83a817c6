"""The contract of `wods` and `blocks`: the content item's bodies and views, per type (a program's is
shared/authoring/program_schemas.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from shared.authoring import embeds, payloads
from shared.authoring.payloads import BlockPayload, BlockShown, WodPayload, WodShown
from shared.content.item_schemas import ItemChanges, ItemSummary, NewItem
from shared.content.scope import Scope
from shared.platform.validation import NotNull, Root


class NewWod(NewItem):
    type: Literal["wod"]
    payload: WodPayload = Field(default_factory=WodPayload)


class NewBlock(NewItem):
    type: Literal["block"]
    payload: BlockPayload = Field(default_factory=BlockPayload)


class WodChanges(ItemChanges):
    type: Literal["wod"]
    payload: Annotated[WodPayload | None, *NotNull] = None


class BlockChanges(ItemChanges):
    type: Literal["block"]
    payload: Annotated[BlockPayload | None, *NotNull] = None


class CreateWod(Root[Annotated[NewWod, Field(discriminator="type")]]):
    """A new draft WOD (`type` "wod"): the common fields and its payload."""


class UpdateWod(Root[Annotated[WodChanges, Field(discriminator="type")]]):
    """Changes to a WOD (`type` "wod"); a payload is replaced whole."""


class CreateBlock(Root[Annotated[NewBlock, Field(discriminator="type")]]):
    """A new draft BLOCK (`type` "block"): the common fields and its payload."""


class UpdateBlock(Root[Annotated[BlockChanges, Field(discriminator="type")]]):
    """Changes to a BLOCK (`type` "block"); a payload is replaced whole."""


class WodView(ItemSummary):
    """A WOD with its pages."""

    payload: WodShown


class BlockView(ItemSummary):
    """A BLOCK with its pages."""

    payload: BlockShown


def _paged(
    name: str, item_type: str, view: type[ItemSummary], create: Any, changes: Any, shown: type[BaseModel]
) -> Scope:
    """The scope of an item type made of pages: answers kept apart, embeds checked, filed by its name."""
    return Scope(
        name,
        frozenset({item_type}),
        folders=name,
        view=view,
        create=create,
        changes=changes,
        views={item_type: shown},
        stored=payloads.stored,
        keys=payloads.keys,
        joined=payloads.joined,
        check=embeds.check_payload,
    )


WODS = _paged("wods", "wod", WodView, CreateWod, UpdateWod, WodShown)
BLOCKS = _paged("blocks", "block", BlockView, CreateBlock, UpdateBlock, BlockShown)
