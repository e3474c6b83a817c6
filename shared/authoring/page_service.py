"""Page use cases of WODs and BLOCKs: add, save, move and remove pages and blocks; duplicate an item.

Each change is one transaction on the item's locked row, like every content write (the content service's
`locked` and `write`): it names the revision it is made against (428 without, 409 `stale_version` when
stale), a published item's result is saved as a version, and the audit records it. A page sent is split
into its stored form and its quizzes' keys; the stored pages are changed by a pure operation (`pages.py`)
and what they newly embed is checked; the keys of the quizzes still there are kept. Payload and keys are
written in the same round trip. Pages already stored are not joined with their answers and checked again
(they were on their way in): a save costs the page it sends, not the item.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.authoring import embeds, pages
from shared.authoring.embeds import Embed
from shared.authoring.page_schemas import Duplicate, MoveBlock, MovePage, NewPage, SavePage
from shared.authoring.pages import LearnerPage, Page
from shared.content import policy
from shared.content import repository as content_repo
from shared.content import service as content
from shared.content.errors import ItemNotFoundError
from shared.content.scope import Scope
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx

if TYPE_CHECKING:
    from shared.content.schemas import ItemView

Edit = Callable[[list[LearnerPage]], list[LearnerPage]]
COPY_SUFFIX = " (copy)"
MAX_TITLE = 200


async def _change(
    item_id: UUID,
    edit: Edit,
    action: str,
    *,
    revision: int | None,
    sent: list[Embed] | None = None,
    sent_keys: pages.Keys | None = None,
    scope: Scope,
    if_match: str | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> ItemView:
    """Apply `edit` to the item's stored pages under its lock; `sent`: the embeds of the blocks the body
    sent, `sent_keys`: their quizzes' keys."""
    before = await content.editable(tx, principal, scope, item_id, if_match, revision)
    current = pages.load(before["payload"].get("pages", []))
    after = edit(current)
    known = [item for item, _ in pages.references(current)]
    await embeds.require_usable(tx, before["community_id"], sent or [], known)
    keys = pages.kept_keys(after, {**(before["keys"] or {}), **(sent_keys or {})})
    requested = {"payload": {**before["payload"], "pages": pages.dump(after)}, "keys": keys}
    return await content.write(tx, scope, before, requested, action, principal=principal, meta=meta)


def _stored(page: Page) -> tuple[LearnerPage, pages.Keys]:
    """A page sent, as stored, and its quizzes' keys."""
    (learner,), keys = pages.split_keys([page])
    return learner, keys


async def add_page(item_id: UUID, cmd: NewPage, **context: Any) -> ItemView:
    """Insert a page at `position` (after the last without one)."""
    page, keys = _stored(Page(id=cmd.id, title=cmd.title, blocks=cmd.blocks))
    sent = embeds.of_blocks(cmd.blocks, "body.blocks")

    def edit(current: list[LearnerPage]) -> list[LearnerPage]:
        return pages.add_page(current, page, cmd.position)

    return await _change(
        item_id, edit, "content.page_added", revision=cmd.revision, sent=sent, sent_keys=keys, **context
    )


async def save_page(item_id: UUID, page_id: UUID, cmd: SavePage, **context: Any) -> ItemView:
    """Replace a page's title and blocks."""
    page, keys = _stored(Page(id=page_id, title=cmd.title, blocks=cmd.blocks))
    sent = embeds.of_blocks(cmd.blocks, "body.blocks")

    def edit(current: list[LearnerPage]) -> list[LearnerPage]:
        return pages.save_page(current, page_id, page.title, page.blocks)

    return await _change(
        item_id, edit, "content.page_saved", revision=cmd.revision, sent=sent, sent_keys=keys, **context
    )


async def move_page(item_id: UUID, page_id: UUID, cmd: MovePage, **context: Any) -> ItemView:
    """Move a page to `position`."""

    def edit(current: list[LearnerPage]) -> list[LearnerPage]:
        return pages.move_page(current, page_id, cmd.position)

    return await _change(item_id, edit, "content.page_moved", revision=cmd.revision, **context)


async def remove_page(item_id: UUID, page_id: UUID, *, revision: int | None, **context: Any) -> ItemView:
    """Remove a page with its blocks."""

    def edit(current: list[LearnerPage]) -> list[LearnerPage]:
        return pages.remove_page(current, page_id)

    return await _change(item_id, edit, "content.page_removed", revision=revision, **context)


async def move_block(item_id: UUID, block_id: UUID, cmd: MoveBlock, **context: Any) -> ItemView:
    """Move a block within its page or onto another page."""

    def edit(current: list[LearnerPage]) -> list[LearnerPage]:
        return pages.move_block(current, block_id, cmd.position, cmd.page_id)

    return await _change(item_id, edit, "content.block_moved", revision=cmd.revision, **context)


async def remove_block(item_id: UUID, block_id: UUID, *, revision: int | None, **context: Any) -> ItemView:
    """Remove a block."""

    def edit(current: list[LearnerPage]) -> list[LearnerPage]:
        return pages.remove_block(current, block_id)

    return await _change(item_id, edit, "content.block_removed", revision=revision, **context)


async def duplicate(
    item_id: UUID, cmd: Duplicate, *, scope: Scope, tx: Tx, principal: Principal, meta: RequestMeta
) -> ItemView:
    """A new draft copy of an item the caller may change: same owner and folder, new ids throughout (the
    quizzes' answers follow their questions), created as any new item is."""
    row = await content_repo.get_item(tx, item_id)
    if row is None or row["type"] not in scope.types:
        raise ItemNotFoundError()
    policy.require_item_writer(principal, row["community_id"])
    editor = pages.fresh_ids(pages.join_keys(row["payload"].get("pages", []), row["keys"]))
    title = cmd.title or row["title"][: MAX_TITLE - len(COPY_SUFFIX)] + COPY_SUFFIX
    body = {
        "type": row["type"],
        "community_id": row["community_id"],
        "title": title,
        "description": row["description"],
        "thumbnail_url": row["thumbnail_url"],
        "tags": row["tags"],
        "folder_id": row["folder_id"],
        "payload": {**row["payload"], "pages": pages.dump(editor)},
    }
    new = scope.create.model_validate_json(json.dumps(body, default=str)).root
    return await content.create_item(new, scope=scope, tx=tx, principal=principal, meta=meta)
