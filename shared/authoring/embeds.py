"""What a page may embed: an item the author sees, of the block's type, that the item's owner may use.

Checked before a write, so the answer is a 422 naming each block; the database holds every writer to the
same rule (content_references and the page triggers), PostgREST callers included, with a 409.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from shared.authoring import pages
from shared.authoring import repository as repo
from shared.authoring.pages import Page
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ValidationFailedError

Embed = tuple[str, UUID, str]
"""Where an embedding block was sent (`body.blocks.2.content_id`), the item it names, its type."""


def of_blocks(blocks: Sequence[Any], prefix: str) -> list[Embed]:
    """The embeds of blocks sent at `prefix` (`body.blocks`)."""
    page = Page.model_construct(blocks=list(blocks))
    return [(f"{prefix}.{b}.content_id", block.content_id, block.type) for _, b, block in pages.embeds([page])]


def of_pages(editor: Sequence[Page], prefix: str) -> list[Embed]:
    """The embeds of pages sent at `prefix` (`body.payload.pages`)."""
    return [
        (f"{prefix}.{p}.blocks.{b}.content_id", block.content_id, block.type)
        for p, b, block in pages.embeds(editor)
    ]


async def require_usable(tx: Tx, owner: UUID | None, wanted: Iterable[Embed], known: Iterable[UUID] = ()) -> None:
    """422 naming each embed that is not an item the caller sees, of the block's type, that `owner` may
    use (its own, or platform content granted to it; platform content uses platform items only). Items
    in `known` (embedded already) are not asked about again."""
    skipped = set(known)
    fresh = [embed for embed in wanted if embed[1] not in skipped]
    if not fresh:
        return
    found = await repo.embeddable(tx, owner, sorted({item_id for _, item_id, _ in fresh}))
    errors = []
    for loc, item_id, kind in fresh:
        row = found.get(item_id)
        if row is None:
            errors.append(FieldError(loc, "no such item", "unknown_item"))
        elif row["type"] != kind:
            errors.append(FieldError(loc, f"the item is a {row['type']}, not a {kind}", "wrong_item_type"))
        elif not row["usable"]:
            message = "the item's owner may not use it (another community's, or platform content not granted)"
            errors.append(FieldError(loc, message, "item_not_usable"))
    if errors:
        raise ValidationFailedError(errors, "Some blocks embed items this item cannot use.")


def stored_references(payload: Mapping[str, Any] | None) -> set[UUID]:
    """The items a stored payload's pages embed (none for no payload)."""
    if payload is None:
        return set()
    return {item_id for item_id, _ in pages.references(pages.load(payload.get("pages", [])))}


async def check_payload(tx: Tx, owner: UUID | None, payload: BaseModel, before: Mapping[str, Any] | None) -> None:
    """A WOD's or BLOCK's payload sent whole (`body.payload`): what it newly embeds must be usable."""
    editor: list[Page] = getattr(payload, "pages", [])
    await require_usable(tx, owner, of_pages(editor, "body.payload.pages"), stored_references(before))
