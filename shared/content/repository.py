"""Hand-written SQL for content items and their versions. Runs in the caller's transaction, under RLS."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, LiteralString
from uuid import UUID

from shared.platform.db import Row, Statement, Tx
from shared.platform.sql import Order, Select, assignments, compose

SEARCH_CONFIG: LiteralString = "english"
"""The text search configuration of `content_items.search` (the queries must parse words alike)."""

_SUMMARY = """i.id, i.community_id, i.type, i.title, i.description, i.thumbnail_url, i.tags, i.folder_id,
 i.status, i.revision, i.published_at, i.created_by, i.updated_by, i.created_at, i.updated_at"""
_ITEM = _SUMMARY + ", i.payload"
SNAPSHOT: LiteralString = """jsonb_build_object('type', i.type, 'title', i.title, 'description', i.description,
 'thumbnail_url', i.thumbnail_url, 'tags', to_jsonb(i.tags), 'folder_id', i.folder_id, 'status', i.status,
 'payload', i.payload)
 || coalesce((select jsonb_build_object('answer_keys', k.keys) from public.content_item_keys k
              where k.item_id = i.id), '{}')"""
"""An item's content as a version keeps it (status for the record; a restore leaves it alone); a quiz's
answer keys with it (versions are read by the item's editors only)."""

_KEYS: LiteralString = "(select k.keys from public.content_item_keys k where k.item_id = i.id) as keys"
"""A quiz's answer keys, for whoever may read them (the item's editors); null for everyone else."""
GET_SQL = f"select {_ITEM}, {_KEYS} from public.content_items i where i.id = %s"  # noqa: S608 - constants
LOCK_SQL = GET_SQL + " for update of i"
FILE_SQL = "select i.type, i.payload ->> 'object_key' as object_key from public.content_items i where i.id = %s"
OWNER_SQL = "select i.community_id, i.type from public.content_items i where i.id = %s"
CREATE_SQL = f"""
insert into public.content_items as i
  (community_id, type, title, description, thumbnail_url, tags, folder_id, payload, created_by, updated_by)
values (%(community_id)s, %(type)s, %(title)s, %(description)s, %(thumbnail_url)s, %(tags)s, %(folder_id)s,
        %(payload)s, %(actor)s, %(actor)s)
returning {_ITEM}
"""  # noqa: S608 - constants
UPDATABLE = frozenset({"title", "description", "thumbnail_url", "tags", "folder_id", "payload", "status"})
UPDATE_TEMPLATE: LiteralString = (
    "update public.content_items i set {assignments}, updated_by = %(actor)s where i.id = %(id)s"
)
"""The revision, updated_at and published_at follow in the database (app.maintain_content_item)."""
SAVE_VERSION_SQL = f"""
insert into public.content_versions (item_id, kind, snapshot, change_summary, author_id)
select i.id, %(kind)s, {SNAPSHOT}, %(summary)s, %(actor)s from public.content_items i where i.id = %(id)s
returning number
"""  # noqa: S608 - constants
"""The database numbers the version: the item's next latest_version, under the item's row lock."""
FOLDER_SQL = """
select 1 from public.content_folders f
where f.id = %s and f.repository = %s and f.community_id is not distinct from %s
"""
DELETE_SQL = "delete from public.content_items where id = %s"
WRITE_KEYS_SQL = """
insert into public.content_item_keys as k (item_id, keys) values (%(id)s, %(keys)s)
on conflict (item_id) do update set keys = excluded.keys
"""
CLEAR_KEYS_SQL = "delete from public.content_item_keys where item_id = %(id)s"

_VERSION = "v.number, v.kind, v.change_summary, v.author_id, v.created_at"
VERSIONS_SQL = f"""
select i.id as item_id, {_VERSION}
from public.content_items i
left join public.content_versions v
  on v.item_id = i.id and (%(after)s::int is null or v.number < %(after)s::int)
where i.id = %(id)s and i.type = any(%(types)s)
order by v.number desc
limit %(limit)s
"""  # noqa: S608 - constants
"""The item's versions, newest first; one row of nulls when it has none, no row when it is not visible."""
VERSION_SQL = f"""
select v.item_id, {_VERSION}, v.snapshot
from public.content_versions v join public.content_items i on i.id = v.item_id
where v.item_id = %s and i.type = any(%s) and v.number = %s
"""  # noqa: S608 - constants
SNAPSHOTS_SQL = f"""
select v.number, v.snapshot
from public.content_versions v join public.content_items i on i.id = v.item_id
where v.item_id = %(id)s and i.type = any(%(types)s) and v.number = any(%(numbers)s)
union all
select null, {SNAPSHOT} from public.content_items i
where i.id = %(id)s and i.type = any(%(types)s) and %(current)s
"""  # noqa: S608 - constants
"""The snapshots of the versions named, and the item's current content (number null) when asked."""

_RANK: LiteralString = f"ts_rank(i.search, websearch_to_tsquery('{SEARCH_CONFIG}', %(q)s))::float8"
NEWEST_FIRST = Order(("i.updated_at", "i.id"), descending=True)
BY_RELEVANCE = Order((_RANK, "i.id"), descending=True)
LIST_SQL = f"select {_SUMMARY} from public.content_items i"  # noqa: S608 - constants
SEARCH_SQL = f"select {_SUMMARY}, {_RANK} as rank from public.content_items i"  # noqa: S608 - constants
MATCHES: LiteralString = f"i.search @@ websearch_to_tsquery('{SEARCH_CONFIG}', %(q)s)"
FAVOURITE: LiteralString = (
    "exists (select 1 from public.content_favourites f where f.item_id = i.id and f.user_id = (select auth.uid()))"
)
"""The item is one of the caller's favourites (a favourite is its user's own row)."""


async def get_item(tx: Tx, item_id: UUID) -> Row | None:
    """The item with its payload, or None (also when row level security hides it)."""
    return await tx.fetch_one(GET_SQL, (item_id,))


async def lock_item(tx: Tx, item_id: UUID) -> Row | None:
    """The item, locked for this transaction; None when absent or when the caller may not change it."""
    return await tx.fetch_one(LOCK_SQL, (item_id,))


def item_statement(item_id: UUID) -> Statement:
    """The query of an item with its payload and the answer keys the caller may read (a route's `read=`)."""
    return GET_SQL, (item_id,)


def file_statement(item_id: UUID) -> Statement:
    """The query of an item's type and attached file's key (no row when row level security hides the item)."""
    return FILE_SQL, (item_id,)


async def owner_of(tx: Tx, item_id: UUID) -> Row | None:
    """The owning community (`community_id`) and `type` of an item the caller can see, or None."""
    return await tx.fetch_one(OWNER_SQL, (item_id,))


async def create_item(tx: Tx, values: Mapping[str, Any], actor: UUID, keys: Mapping[str, Any] | None = None) -> Row:
    """Insert a draft item (and its answer keys, when it has some); its row as stored."""
    from psycopg.types.json import Jsonb

    row = await tx.fetch_one(CREATE_SQL, {**values, "payload": Jsonb(values["payload"]), "actor": actor})
    if row is None:
        raise RuntimeError("insert returned no row")
    if keys is not None:
        await tx.execute(*keys_statement(row["id"], keys))
    return {**row, "keys": keys}


def keys_statement(item_id: UUID, keys: Mapping[str, Any] | None) -> Statement:
    """Write an item's answer keys (None: it has none)."""
    from psycopg.types.json import Jsonb

    if keys is None:
        return CLEAR_KEYS_SQL, {"id": item_id}
    return WRITE_KEYS_SQL, {"id": item_id, "keys": Jsonb(keys)}


async def write_item(
    tx: Tx, item_id: UUID, changes: Mapping[str, Any], *, actor: UUID, version: tuple[str, str] | None
) -> Row:
    """Apply `changes` to the locked item (`keys`: its answer keys, kept apart) and, when `version` (kind,
    summary) is given, save the result as its next version; all in one round trip. The item's row as it
    now is."""
    from psycopg.types.json import Jsonb

    statements: list[Statement] = []
    columns = {k: Jsonb(v) if k == "payload" else v for k, v in changes.items() if k != "keys"}
    if columns:
        update = compose(UPDATE_TEMPLATE, assignments=assignments(columns, UPDATABLE))
        statements.append((update, {**columns, "id": item_id, "actor": actor}))
    if "keys" in changes:  # after the payload, and before the version that keeps them
        statements.append(keys_statement(item_id, changes["keys"]))
    if version is not None:
        kind, summary = version
        statements.append(
            (SAVE_VERSION_SQL, {"id": item_id, "kind": kind, "summary": summary, "actor": actor})
        )
    statements.append((GET_SQL, (item_id,)))
    *_, (row,) = await tx.batch(statements)
    return row


async def is_folder_of(tx: Tx, folder_id: UUID, repository: str, community_id: UUID | None) -> bool:
    """Whether the folder is one of this repository and owner (and visible to the caller)."""
    return await tx.fetch_one(FOLDER_SQL, (folder_id, repository, community_id)) is not None


async def delete_item(tx: Tx, item_id: UUID) -> None:
    """Delete the item; its versions go with it."""
    await tx.execute(DELETE_SQL, (item_id,))


async def list_items(tx: Tx, select: Select, order: Order, after: Any, limit: int) -> list[Row]:
    """Up to `limit` items of `select` in `order`, after the keyset position."""
    return await tx.fetch_all(*select.page(order, after, limit))


async def list_versions(
    tx: Tx, item_id: UUID, types: Collection[str], before: int | None, limit: int
) -> list[Row] | None:
    """Up to `limit` versions older than `before`, newest first; None when the item (of one of `types`)
    is not visible."""
    params = {"id": item_id, "types": sorted(types), "after": before, "limit": limit}
    rows = await tx.fetch_all(VERSIONS_SQL, params)
    if not rows:
        return None
    return [row for row in rows if row["number"] is not None]


async def get_version(tx: Tx, item_id: UUID, types: Collection[str], number: int) -> Row | None:
    """One version with its snapshot, or None (also when the item is not visible or of another type)."""
    return await tx.fetch_one(VERSION_SQL, (item_id, sorted(types), number))


async def snapshots(
    tx: Tx, item_id: UUID, types: Collection[str], numbers: list[int], *, current: bool
) -> dict[int | None, Any]:
    """Snapshots by version number (None: the item's current content, when `current`)."""
    params = {"id": item_id, "types": sorted(types), "numbers": numbers, "current": current}
    rows = await tx.fetch_all(SNAPSHOTS_SQL, params)
    return {row["number"]: row["snapshot"] for row in rows}
