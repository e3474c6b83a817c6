"""The bulk contract: one action on many items, in one transaction, all or nothing."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.platform.validation import Body, View

BulkAction = Literal["move", "copy", "delete", "favourite", "unfavourite"]
MAX_BULK_IDS = 200
FOLDER_ACTIONS = frozenset({"move", "copy"})


def _distinct(ids: list[UUID]) -> list[UUID]:
    if len(set(ids)) != len(ids):
        raise PydanticCustomError("duplicate_ids", "name each item once")
    return ids


class BulkRequest(Body):
    """One action on up to 200 distinct items; `folder_id` is the target of a move or a copy."""

    action: BulkAction = Field(
        description="move (into `folder_id`), copy (drafts, new ids), delete (never-published items only),"
        " favourite or unfavourite (the caller's own favourites; reading the items is enough)"
    )
    ids: Annotated[
        list[UUID],
        Field(min_length=1, max_length=MAX_BULK_IDS, description="The items, each once"),
        AfterValidator(_distinct),
    ]
    folder_id: UUID | None = Field(
        default=None,
        description="move: required, the folder (null: out of any folder); copy: where the copies go"
        " (absent: beside each original, null: out of any folder); other actions: not allowed",
    )

    @model_validator(mode="after")
    def _folder_fits_action(self) -> BulkRequest:
        named = "folder_id" in self.model_fields_set
        if self.action == "move" and not named:
            raise PydanticCustomError("folder_required", "a move names its folder_id (null: out of any folder)")
        if named and self.action not in FOLDER_ACTIONS:
            raise PydanticCustomError("folder_not_allowed", "only a move or a copy takes a folder_id")
        return self


class BulkCopy(View):
    """A copy made: the new draft's id and the item it copies."""

    source_id: UUID
    id: UUID


class BulkResult(View):
    """What was done: every item of the request, and for a copy each new draft."""

    action: BulkAction
    ids: list[UUID] = Field(description="The items acted on, as requested")
    copies: list[BulkCopy] = Field(description="copy: each new draft by its original; empty otherwise")


class BulkFailure(View):
    """One item that stopped the batch, and why (not_found, forbidden, item_archived, item_was_published,
    unknown_folder)."""

    id: UUID
    code: str
