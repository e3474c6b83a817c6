"""The contract of `programs`: the content item's bodies and views for a program."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shared.authoring import program_items
from shared.authoring.programs import ProgramPayload, ProgramShown
from shared.content.item_schemas import ItemChanges, ItemSummary, NewItem
from shared.content.scope import Scope
from shared.platform.validation import NotNull, Root


class NewProgram(NewItem):
    type: Literal["program"]
    payload: ProgramPayload = Field(default_factory=ProgramPayload)


class ProgramChanges(ItemChanges):
    type: Literal["program"]
    payload: Annotated[ProgramPayload | None, *NotNull] = None


class CreateProgram(Root[Annotated[NewProgram, Field(discriminator="type")]]):
    """A new draft program (`type` "program"): the common fields and its payload."""


class UpdateProgram(Root[Annotated[ProgramChanges, Field(discriminator="type")]]):
    """Changes to a program (`type` "program"); a payload is replaced whole."""


class ProgramView(ItemSummary):
    """A program with its sections."""

    payload: ProgramShown


PROGRAMS = Scope(
    "programs",
    frozenset({"program"}),
    folders=None,
    view=ProgramView,
    create=CreateProgram,
    changes=UpdateProgram,
    views={"program": ProgramShown},
    check=program_items.check_items,
)
