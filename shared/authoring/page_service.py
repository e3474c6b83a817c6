"""Page use cases of WODs and BLOCKs: add, save, move and remove pages and blocks; duplicate an item.

Each change is one transaction on the item's locked row, like every content write: it names the revision
it is made against (428 without, 409 `stale_version` when stale), a published item's result is saved as
a version, and the audit records it. The pages are joined with their quiz keys, changed by a pure
operation (`pages.py`), checked (what they newly embed must be visible to the author, of the block's type
and usable by the item's owner) and split again: payload and keys are written together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from uuid import UUID

from shared.authoring import pages
from shared.authoring import repository as repo
from shared.authoring.page_schemas import Duplicate, MoveBlock, MovePage, NewPage, SavePage
from shared.authoring.pages import Page
from shared.content import service as content
from shared.content.errors import ItemArchivedError, ItemNotFoundError
from shared.content.scope import Scope
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ValidationFailedError

Edit = Callable[[list[Page]], list[Page]]


async def require_embeddable(
    tx: Tx, owner: UUID | None, wanted: Iterable[tuple[str, UUID, str]], known: Iterable[UUID] = ()
) -> None:
    """422 naming each embed (location, item id, block type) that is not an item the author sees, of the
    block's type, that the owner may use; items in `known` (already embedded) are not asked about again."""
    fresh = [(loc, item_id, kind) for loc, item_id, kind in wanted if item_id not in set(known)]
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


def block_embeds(blocks: Iterable[Any], prefix: str) -> list[tuple[str, UUID, str]]:
    """The embeds of a list of blocks sent at `prefix` (`body.blocks`)."""
    page = Page.model_construct(blocks=list(blocks))
    return [(f"{prefix}.{b}.content_id", block.content_id, block.type) for _, b, block in pages.embeds([page])]


def page_embeds(editor: Iterable[Page], prefix: str) -> list[tuple[str, UUID, str]]:
    """The embeds of pages sent at `prefix` (`body.payload.pages`)."""
    return [
        (f"{prefix}.{p}.blocks.{b}.content_id", block.content_id, block.type)
        for p, b, block in pages.embeds(list(editor))
    ]


async def _change(
    item_id: UUID,
    edit: Edit,
    *,
    action: str,
    embeds: list[tuple[str, UUID, str]],
    scope: Scope,
    if_match: str | None,
    revision: int | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> Any:
    before = await content.locked(tx, principal, scope, item_id, if_match, revision)
    if before["status"] == "archived":
        raise ItemArchivedError()
    current = pages.join_keys(pages.load(before["payload"].get("pages", [])), before["keys"] or {})
    after = edit(current)
    known = {item_id for item_id, _ in pages.references(current)}
    await require_embeddable(tx, before["community_id"], embeds, known)
    stored, keys = pages.split_keys(after)
    payload = {**before["payload"], "pages": pages.dump(stored)}
    return await content.write_content(
        tx, scope, before, {"payload": payload}, keys=keys, action=action, principal=principal, meta=meta
    )


def _common(cmd: NewPage | SavePage | MovePage | MoveBlock) -> dict[str, Any]:
    return {"revision": cmd.revision}


async def add_page(item_id: UUID, cmd: NewPage, **context: Any) -> Any:
    """Insert a page (at `position`, or after the last)."""
    page = Page(id=cmd.id, title=cmd.title, blocks=cmd.blocks)
    return await _change(
        item_id,
        lambda current: pages.add_page(current, page, cmd.position),
        action="content.page_added",
        embeds=block_embeds(cmd.blocks, "body.blocks"),
        revision=cmd.revision,
        **context,
    )


async def save_page(item_id: UUID, page_id: UUID, cmd: SavePage, **context: Any) -> Any:
    """Replace a page's title and blocks."""
    return await _change(
        item_id,
        lambda current: pages.save_page(current, page_id, cmd.title, cmd.blocks),
        action="content.page_saved",
        embeds=block_embeds(cmd.blocks, "body.blocks"),
        revision=cmd.revision,
        **context,
    )


async def move_page(item_id: UUID, page_id: UUID, cmd: MovePage, **context: Any) -> Any:
    """Move a page to `position`."""
    return await _change(
        item_id,
        lambda current: pages.move_page(current, page_id, cmd.position),
        action="content.page_moved",
        embeds=[],
        revision=cmd.revision,
        **context,
    )


async def remove_page(item_id: UUID, page_id: UUID, *, revision: int | None, **context: Any) -> Any:
    """Remove a page and its blocks."""
    return await _change(
        item_id,
        lambda current: pages.remove_page(current, page_id),
        action="content.page_removed",
        embeds=[],
        revision=revision,
        **context,
    )


async def move_block(item_id: UUID, block_id: UUID, cmd: MoveBlock, **context: Any) -> Any:
    """Move a block within its page or to another page."""
    return await _change(
        item_id,
        lambda current: pages.move_block(current, block_id, cmd.position, cmd.page_id),
        action="content.block_moved",
        embeds=[],
        revision=cmd.revision,
        **context,
    )


async def remove_block(item_id: UUID, block_id: UUID, *, revision: int | None, **context: Any) -> Any:
    """Remove a block."""
    return await _change(
        item_id,
        lambda current: pages.remove_block(current, block_id),
        action="content.block_removed",
        embeds=[],
        revision=revision,
        **context,
    )


def _unused(_: Mapping[str, Any], __: Duplicate) -> None:
    raise ItemNotFoundError()
