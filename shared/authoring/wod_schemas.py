"""The contract of `wods`: the content item's bodies and views for a WOD."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shared.authoring.payloads import WodPayload, WodShown
from shared.authoring.schemas import paged
from shared.content.item_schemas import ItemChanges, ItemSummary, NewItem
from shared.platform.validation import NotNull, Root


class NewWod(NewItem):
    type: Literal["wod"]
    payload: WodPayload = Field(default_factory=WodPayload)


class WodChanges(ItemChanges):
    type: Literal["wod"]
    payload: Annotated[WodPayload | None, *NotNull] = None


class CreateWod(Root[Annotated[NewWod, Field(discriminator="type")]]):
    """A new draft WOD (`type` "wod"): the common fields and its payload."""


class UpdateWod(Root[Annotated[WodChanges, Field(discriminator="type")]]):
    """Changes to a WOD (`type` "wod"); a payload is replaced whole."""


class WodView(ItemSummary):
    """A WOD with its pages."""

    payload: WodShown


WODS = paged("wods", "wod", WodView, CreateWod, UpdateWod, WodShown)
