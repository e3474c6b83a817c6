"""Bulk operations: move, copy, delete, favourite or unfavourite many items in one transaction.

All or nothing: every item is read (and, for a write, locked) first, as the caller under row level
security, and checked by the same rules as its single-item route; any item that fails stops the
batch, and one problem lists every failing id with its code, with nothing written. Then each step is
one set-based statement. Every item changed is audited as its own route audits it; favourites are the
caller's own bookmarks, not an administrative change, and are not.

Bulk writes name no revisions (an editor acts on a selection, not on what they last read); the row locks
keep each item's change whole against a concurrent editor, whose stale If-Match then fails as usual.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, LiteralString
from uuid import UUID

from shared.authoring.bulk_schemas import BulkCopy, BulkFailure, BulkRequest, BulkResult
from shared.content import files, policy
from shared.content import repository as repo
from shared.content.scope import Scope
from shared.content.service import CONTENT_ITEM, version_of
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Row, Statement, Tx
from shared.platform.errors import ConflictError

_record = functools.partial(audit.record_row, target_type=CONTENT_ITEM)
COPY_SUFFIX = " (copy)"
MAX_TITLE = 200

PayloadCopier = Callable[[str, Mapping[str, Any]], dict[str, Any]]
"""A copy's payload from its type and the original's (e.g. fresh page and block ids)."""


@dataclass(frozen=True, slots=True)
class Bulk:
    """What a function's bulk route acts on: its scope's items (their types, their folders' repository)
    and how a copy's payload is made (None: copied as it is)."""

    scope: Scope
    copy_payload: PayloadCopier | None = None


class BulkRefusedError(ConflictError):
    code, title = "bulk_refused", "Bulk operation refused"

    def __init__(self, failures: Sequence[BulkFailure]) -> None:
        super().__init__(
            f"{len(failures)} of the items cannot be acted on; nothing was done. `failures` names each"
            " with its reason.",
            extra={"failures": [f.model_dump(mode="json") for f in failures]},
        )


# --- SQL ----------------------------------------------------------------------------------------------

_CHECKED: LiteralString = "i.id, i.community_id, i.type, i.title, i.folder_id, i.status, i.revision, i.published_at"
"""What the checks, the audit entries and a move need of an item (payloads may be large: only a copy reads them)."""
ITEMS_SQL: LiteralString = f"select {_CHECKED} from public.content_items i where i.id = any(%s::uuid[])"  # noqa: S608
SOURCES_SQL: LiteralString = (
    f"select {_CHECKED}, i.payload from public.content_items i where i.id = any(%s::uuid[])"  # noqa: S608
)
_LOCKED: LiteralString = "select i.id from public.content_items i where i.id = any(%s::uuid[]) order by i.id"
LOCK_SQL: Mapping[str, LiteralString] = {
    "move": _LOCKED + " for update",
    "delete": _LOCKED + " for update",
    "copy": _LOCKED + " for key share",  # the originals stay until their copies are made
}
"""Lock what the caller may change, in one order (two batches never wait on each other in a cycle);
row level security leaves out what they may only read."""
FOLDER_SQL = "select f.id, f.community_id, f.repository from public.content_folders f where f.id = %s for key share"
"""The target folder, kept from deletion until the batch commits; only a folder its owner's writers see."""
MOVE_SQL: LiteralString = f"""
update public.content_items i set folder_id = %(folder)s, updated_by = %(actor)s
where i.id = any(%(ids)s::uuid[])
returning {_CHECKED}
"""  # noqa: S608 - constants
PUBLISH_VERSIONS_SQL: LiteralString = f"""
insert into public.content_versions (item_id, kind, snapshot, change_summary, author_id)
select i.id, 'publish', {repo.SNAPSHOT}, '', %(actor)s from public.content_items i
where i.id = any(%(ids)s::uuid[]) order by i.id
"""  # noqa: S608 - constants
"""A version of each changed published item, as a single change saves one (the database numbers them)."""
COPY_SQL: LiteralString = """
insert into public.content_items as i
  (id, community_id, type, title, description, thumbnail_url, tags, folder_id, payload, created_by, updated_by)
select c.id, s.community_id, s.type, c.title, s.description, s.thumbnail_url, s.tags, c.folder_id,
       coalesce(c.payload, s.payload), %(actor)s, %(actor)s
from jsonb_to_recordset(%(copies)s) as c (id uuid, source_id uuid, title text, folder_id uuid, payload jsonb)
join public.content_items s on s.id = c.source_id
returning i.id, i.community_id, i.type, i.title
"""
"""Each copy from its original; a payload is sent only where the copy's differs from the original's."""
COPY_KEYS_SQL = """
insert into public.content_item_keys (item_id, keys)
select c.id, k.keys from unnest(%(ids)s::uuid[], %(sources)s::uuid[]) as c (id, source_id)
join public.content_item_keys k on k.item_id = c.source_id
"""
"""Each copy's quiz answers, the original's (a separate statement: the keys' policy must see the copies)."""
DELETE_SQL = "delete from public.content_items where id = any(%s::uuid[])"
FAVOURITE_SQL = """
insert into public.content_favourites (user_id, item_id) select %(user)s, unnest(%(ids)s::uuid[])
on conflict do nothing
"""
UNFAVOURITE_SQL = "delete from public.content_favourites where user_id = %(user)s and item_id = any(%(ids)s::uuid[])"

WRITES = frozenset({"move", "copy", "delete"})


# --- the use case -------------------------------------------------------------------------------------


async def run(cmd: BulkRequest, bulk: Bulk, *, tx: Tx, principal: Principal, meta: RequestMeta) -> BulkResult:
    """Do `cmd.action` to every item named, or to none: a 409 `bulk_refused` lists each item that fails."""
    if cmd.action in WRITES:
        policy.require_writer(principal)
    items, locked, folder = await _read(tx, cmd)
    failures = [
        BulkFailure(id=item_id, code=code)
        for item_id in cmd.ids
        if (code := _failure(cmd, bulk.scope, principal, items.get(item_id), item_id in locked, folder))
    ]
    if failures:
        raise BulkRefusedError(failures)
    copies: list[BulkCopy] = []
    if cmd.action == "move":
        await _move(tx, cmd, [items[i] for i in cmd.ids], actor=principal.user_id, meta=meta)
    elif cmd.action == "copy":
        copies = await _copy(tx, cmd, bulk, [items[i] for i in cmd.ids], actor=principal.user_id, meta=meta)
    elif cmd.action == "delete":
        await tx.execute(DELETE_SQL, (cmd.ids,))
        for item_id in cmd.ids:
            before = items[item_id]
            await _record(tx, meta, "content.deleted", before, {"type": before["type"], "title": before["title"]})
    else:
        sql = FAVOURITE_SQL if cmd.action == "favourite" else UNFAVOURITE_SQL
        await tx.execute(sql, {"user": principal.user_id, "ids": cmd.ids})
    return BulkResult(action=cmd.action, ids=cmd.ids, copies=copies)


async def _read(tx: Tx, cmd: BulkRequest) -> tuple[dict[UUID, Row], set[UUID], Row | None]:
    """The items the caller sees, those of them locked for the change, and the target folder; one round trip."""
    statements: list[Statement] = []
    if cmd.action in WRITES:
        statements.append((LOCK_SQL[cmd.action], (cmd.ids,)))  # first: what is read next is what was locked
    statements.append((SOURCES_SQL if cmd.action == "copy" else ITEMS_SQL, (cmd.ids,)))
    if cmd.folder_id is not None:
        statements.append((FOLDER_SQL, (cmd.folder_id,)))
    results = await tx.batch(statements)
    locked = {row["id"] for row in results.pop(0)} if cmd.action in WRITES else set()
    items = {row["id"]: row for row in results.pop(0)}
    folder = results[0][0] if cmd.folder_id is not None and results[0] else None
    return items, locked, folder


def _failure(
    cmd: BulkRequest, scope: Scope, principal: Principal, item: Row | None, locked: bool, folder: Row | None
) -> str | None:
    """Why this item stops the batch, as its single-item route would answer; None when it does not."""
    if item is None or item["type"] not in scope.types:
        return "not_found"
    if cmd.action not in WRITES:
        return None
    if not policy.may_write(principal, item["community_id"]) or not locked:
        return "forbidden"
    if cmd.action == "delete" and item["published_at"] is not None:
        return "item_was_published"
    if cmd.action == "move" and item["status"] == "archived":
        return "item_archived"
    if cmd.folder_id is not None and not _fits(folder, item, scope):
        return "unknown_folder"
    return None


def _fits(folder: Row | None, item: Row, scope: Scope) -> bool:
    """Whether the folder is one of the item's owner in its repository."""
    return (
        folder is not None
        and scope.folders is not None
        and folder["repository"] == scope.folders
        and folder["community_id"] == item["community_id"]
    )


async def _move(tx: Tx, cmd: BulkRequest, items: list[Row], *, actor: UUID, meta: RequestMeta) -> None:
    """File the items in the folder; those already there are left alone (no new revision, no entry)."""
    moving = [item for item in items if item["folder_id"] != cmd.folder_id]
    if not moving:
        return
    published = [i["id"] for i in moving if version_of(i, {"folder_id": cmd.folder_id}, None) is not None]
    statements: list[Statement] = [
        (MOVE_SQL, {"folder": cmd.folder_id, "actor": actor, "ids": [i["id"] for i in moving]})
    ]
    if published:
        statements.append((PUBLISH_VERSIONS_SQL, {"actor": actor, "ids": published}))
    moved = {row["id"]: row for row in (await tx.batch(statements))[0]}
    for before in moving:
        after = moved[before["id"]]
        await _record(
            tx,
            meta,
            "content.updated",
            after,
            {"folder_id": before["folder_id"], "revision": before["revision"]},
            {"folder_id": after["folder_id"], "revision": after["revision"]},
        )


async def _copy(
    tx: Tx, cmd: BulkRequest, bulk: Bulk, items: list[Row], *, actor: UUID, meta: RequestMeta
) -> list[BulkCopy]:
    """Each item copied as a new draft of the same owner: its content and quiz answers, a new id and a
    "(copy)" title."""
    from psycopg.types.json import Jsonb

    new_ids = {item["id"]: uuid.uuid4() for item in items}
    into = "folder_id" in cmd.model_fields_set  # absent: each copy beside its original
    rows = [
        {
            "id": str(new_ids[item["id"]]),
            "source_id": str(item["id"]),
            "title": item["title"][: MAX_TITLE - len(COPY_SUFFIX)] + COPY_SUFFIX,
            "folder_id": _text(cmd.folder_id if into else item["folder_id"]),
            "payload": _changed_payload(bulk, item, new_ids[item["id"]]),
        }
        for item in items
    ]
    made, _ = await tx.batch(
        [
            (COPY_SQL, {"actor": actor, "copies": Jsonb(rows)}),
            (COPY_KEYS_SQL, {"ids": list(new_ids.values()), "sources": list(new_ids)}),
        ]
    )
    created = {row["id"]: row for row in made}
    copies = []
    for item in items:
        row = created[new_ids[item["id"]]]
        after = {"type": row["type"], "title": row["title"], "copied_from": str(item["id"])}
        await _record(tx, meta, "content.copied", row, None, after)
        copies.append(BulkCopy(source_id=item["id"], id=row["id"]))
    return copies


def _changed_payload(bulk: Bulk, item: Row, copy_id: UUID) -> dict[str, Any] | None:
    """The copy's payload where it is not the original's (None: the same)."""
    payload = item["payload"] if bulk.copy_payload is None else bulk.copy_payload(item["type"], item["payload"])
    payload = files.copied(item["type"], payload, item["id"], copy_id)
    return None if payload == item["payload"] else payload


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)
