"""What a program's sections may name: a WOD or BLOCK the author sees and the program's owner may use.

Checked in the saving transaction, before the write, so the answer is a 422 naming each failing item;
the database holds every writer to the owner rule too (content_references), PostgREST callers included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from shared.authoring import repository as repo
from shared.authoring.programs import ProgramPayload, item_loc, placed_items
from shared.platform.db import Row, Tx
from shared.platform.errors import FieldError, ValidationFailedError

ITEM_TYPES = frozenset({"wod", "block"})


class UnknownItemsError(ValidationFailedError):
    """Items a program names that are not WODs or BLOCKs it may use; `item_ids` lists them."""

    def __init__(self, errors: list[FieldError], item_ids: list[UUID]) -> None:
        super().__init__(errors, "Some items are not WODs or BLOCKs this program may use.")
        self.extra = {"item_ids": [str(item_id) for item_id in item_ids]}


def _problem(row: Row | None) -> str | None:
    if row is None:
        return "no such WOD or BLOCK"
    if row["type"] not in ITEM_TYPES:
        return f"the item is a {row['type']}, not a WOD or BLOCK"
    if not row["usable"]:
        return "the program's owner may not use it (another community's, or platform content not granted)"
    return None


async def check_items(
    tx: Tx, owner: UUID | None, payload: BaseModel, before: Mapping[str, Any] | None
) -> None:
    """422 `unknown_item` for each item of the sections that is not a WOD or BLOCK the caller sees and
    `owner` may use (its own, or platform content granted to it; a platform program, platform items)."""
    if not isinstance(payload, ProgramPayload):
        return
    placed = list(placed_items(payload))
    if not placed:
        return
    found = await repo.embeddable(tx, owner, sorted({item.item_id for _, item in placed}))
    errors, failing = [], []
    for place, item in placed:
        message = _problem(found.get(item.item_id))
        if message is not None:
            loc = ".".join(str(part) for part in ("body", "payload", *item_loc(place, "item_id")))
            errors.append(FieldError(loc, message, "unknown_item"))
            failing.append(item.item_id)
    if errors:
        raise UnknownItemsError(errors, failing)
