"""Content use cases: create, read, search, change, lifecycle, delete; versions listed, compared, restored;
an image or PDF item's file attached and handed out.

Reading is row level security's: an item the database does not show the caller is a 404, whatever the
reason. Every write to an existing item names the revision it was made against (If-Match or
`revision`): without one it is a 428, with an old one a 409 `stale_version` that changes nothing. The
item's row is locked first, so the check and the change cannot interleave with another writer's; the
database numbers each version (the item's next `latest_version`) under that same lock, so numbers are
gapless per item whoever writes them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import ValidationError

from shared.content import files, model, policy
from shared.content import repository as repo
from shared.content.errors import (
    InvalidTransitionError,
    ItemArchivedError,
    ItemNotFoundError,
    ItemWasPublishedError,
    NoFileError,
    NotAFileItemError,
    PreconditionRequiredError,
    StaleVersionError,
    VersionNotFoundError,
    VersionNotRestorableError,
)
from shared.content.item_schemas import (
    Comparison,
    FieldChange,
    ItemPage,
    ItemQuery,
    ItemSummary,
    VersionPage,
    VersionSummary,
    VersionView,
)
from shared.content.model import DERIVED, FILE_FIELDS
from shared.content.scope import Scope
from shared.identity.communities.scope import require_existing
from shared.platform import audit, caching, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.config import StorageSettings, require
from shared.platform.db import Row, Tx
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.pagination import PageQuery, page_of
from shared.platform.sql import Select

if TYPE_CHECKING:  # the content function's own models: wods, blocks and programs never build them
    from shared.content.schemas import AnyChanges, AnyNewItem, AttachFile, ItemView
    from shared.content.uploads.links import DownloadLink

CONTENT_ITEM = "content_item"
_record = functools.partial(audit.record_row, target_type=CONTENT_ITEM)
"""An audit entry for a row of this kind (its own id and community)."""


def etag(item: ItemSummary) -> str:
    """The strong ETag of an item's revision (what If-Match names)."""
    return caching.strong_etag(item.id, item.revision)


def cache_control(item: ItemSummary) -> str:
    """Published content may be kept and revalidated by the caller; drafts and archived items are not kept."""
    return caching.PRIVATE_REVALIDATE if item.status == "published" else caching.NO_STORE


# --- read ---------------------------------------------------------------------------------------------


def item_of(rows: list[Row], *, scope: Scope) -> ItemView:
    """The item of the scope's types `rows` hold (its `repo.item_statement`, run as the caller), with its
    payload and the answer keys the caller may read; a 404 when the database did not show it."""
    if not rows or rows[0]["type"] not in scope.types:
        raise ItemNotFoundError()
    return _view(rows[0], scope)


async def list_items(query: ItemQuery, *, scope: Scope, tx: Tx, principal: Principal) -> ItemPage:
    """A page of the scope's items the caller sees, searched and filtered; by relevance when searching."""
    policy.require_reader(principal)
    base = repo.LIST_SQL if query.q is None else repo.SEARCH_SQL
    select = (
        Select(base)
        .where("i.type = any(%(types)s)", types=sorted(scope.types))
        .filter(repo.MATCHES, q=query.q)
        .filter("i.community_id = %(community_id)s", community_id=query.community_id)
        .filter("i.type = %(type)s", type=query.type)
        .filter("i.status = %(status)s", status=query.status)
        .filter("i.tags @> array[%(tag)s]::text[]", tag=query.tag)
        .filter("i.folder_id = %(folder_id)s", folder_id=query.folder_id)
    )
    if query.platform is not None:
        select.where("i.community_id is null" if query.platform else "i.community_id is not null")
    if query.favourite is not None:
        select.where(repo.FAVOURITE if query.favourite else f"not {repo.FAVOURITE}")
    if query.q is None:
        after: Any = cursors.time_and_id(query.cursor)
        rows = await repo.list_items(tx, select, repo.NEWEST_FIRST, after, query.limit + 1)
        page, next_cursor = page_of(
            rows, query.limit, key=lambda r: [r["updated_at"].isoformat(), str(r["id"])]
        )
    else:
        after = cursors.number_and_id(query.cursor)
        rows = await repo.list_items(tx, select, repo.BY_RELEVANCE, after, query.limit + 1)
        page, next_cursor = page_of(rows, query.limit, key=lambda r: [r["rank"], str(r["id"])])
    return ItemPage(items=[ItemSummary.model_validate(r) for r in page], next_cursor=next_cursor)


# --- create and change --------------------------------------------------------------------------------


async def create_item(
    cmd: AnyNewItem, *, scope: Scope, tx: Tx, principal: Principal, meta: RequestMeta
) -> ItemView:
    """Create a draft item: platform content by staff who may write, a community's by its writers."""
    policy.require_creator(principal, cmd.community_id)
    if cmd.community_id is not None:
        await require_existing(tx, principal, cmd.community_id)
    if cmd.folder_id is not None:
        await _require_folder(tx, scope, cmd.folder_id, cmd.community_id)
    if scope.check is not None:
        await scope.check(tx, cmd.community_id, cmd.payload, None)
    values = cmd.model_dump(mode="json", exclude={"payload"}) | {"payload": scope.stored(cmd.payload)}
    keys = scope.keys(cmd.payload) if scope.keys is not None else None
    row = await repo.create_item(tx, values, principal.user_id, keys)
    await _record(tx, meta, "content.created", row, None, {"type": row["type"], "title": row["title"]})
    return _view(row, scope)


async def update_item(
    item_id: UUID,
    cmd: AnyChanges,
    *,
    scope: Scope,
    if_match: str | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> ItemView:
    """Change an item; a published item's result is saved as a version, a draft's when a summary is given."""
    before = await editable(tx, principal, scope, item_id, if_match, cmd.revision)
    if cmd.type != before["type"]:
        message = f"An item's type never changes; this item is a {before['type']}."
        raise ValidationFailedError([FieldError("body.type", message, "type_immutable")])
    requested = cmd.model_dump(
        mode="json", include=cmd.model_fields_set - {"type", "revision", "change_summary"}
    )
    if cmd.payload is not None:
        if scope.check is not None:
            await scope.check(tx, before["community_id"], cmd.payload, before["payload"])
        requested["payload"] = files.carried(before["type"], before["payload"], scope.stored(cmd.payload))
        if scope.keys is not None:
            requested["keys"] = scope.keys(cmd.payload)
    if "folder_id" in cmd.model_fields_set and cmd.folder_id is not None:
        await _require_folder(tx, scope, cmd.folder_id, before["community_id"])
    return await write(
        tx, scope, before, requested, "content.updated", principal=principal, meta=meta, summary=cmd.change_summary
    )


async def write(
    tx: Tx,
    scope: Scope,
    before: Row,
    requested: Mapping[str, Any],
    action: str,
    *,
    principal: Principal,
    meta: RequestMeta,
    summary: str | None = None,
) -> ItemView:
    """Write what `requested` changes of a locked item (`keys`: its answer keys), with the version it
    saves (a published item's, or a save with `summary`) and its audit entry; the item as it now is."""
    changed = {name: value for name, value in requested.items() if _differs(before[name], value)}
    version = version_of(before, changed, summary)
    if not changed and version is None:
        return _view(before, scope)
    row = await repo.write_item(tx, before["id"], changed, actor=principal.user_id, version=version)
    action = action if changed else "content.version_saved"
    await _record(tx, meta, action, row, _summary(before, changed), _summary(row, changed))
    return _view(row, scope)


async def attach_file(
    item_id: UUID,
    cmd: AttachFile,
    *,
    scope: Scope,
    if_match: str | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
    settings: StorageSettings,
) -> ItemView:
    """Make a confirmed upload an image or PDF item's file; versions as for any change of the item."""
    before = await editable(tx, principal, scope, item_id, if_match, cmd.revision)
    if before["type"] not in files.FILE_TYPES:
        raise NotAFileItemError(before["type"])
    found = await files.attachable(tx, cmd.upload_id, owner=before["community_id"], kind=before["type"])
    public_url = require(settings.public_url, "SUPABASE_URL", "files cannot be attached")
    payload = files.with_file(before["type"], before["payload"], found, files.file_route(public_url, item_id))
    changed = {"payload": payload} if _differs(before["payload"], payload) else {}
    version = version_of(before, changed, cmd.change_summary)
    if not changed and version is None:
        return _view(before, scope)
    row = await repo.write_item(tx, item_id, changed, actor=principal.user_id, version=version)
    after = {**_summary(row, changed), "upload_id": str(found.upload_id)}
    await _record(tx, meta, "content.file_attached", row, _summary(before, changed), after)
    return _view(row, scope)


def file_link(rows: list[Row], *, settings: StorageSettings) -> DownloadLink:
    """A short-lived URL of the item's attached file, for whoever the database shows the item to (`rows`:
    the item's `repo.file_statement`, run as the caller)."""
    # cold start: only the content function's file route answers a link; the other functions never do
    from shared.content.uploads.links import DownloadLink
    from shared.platform.storage import storage_for

    if not rows or rows[0]["type"] not in model.CONTENT_TYPES:
        raise ItemNotFoundError()
    key = files.object_key(rows[0]["type"], rows[0])
    if key is None:
        raise NoFileError()
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.download_url_ttl_s)
    url = storage_for(settings).download_url(key, expires_at=expires_at)
    return DownloadLink(url=url, expires_at=expires_at)


async def transition(
    item_id: UUID,
    action: model.Action,
    *,
    scope: Scope,
    summary: str | None = None,
    if_match: str | None,
    revision: int | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> ItemView:
    """Publish (saved as a version), unpublish, archive or unarchive; any other step is a 409."""
    before = await locked(tx, principal, scope, item_id, if_match, revision)
    target = model.next_status(before["status"], action)
    if target is None:
        raise InvalidTransitionError(f"A {before['status']} item cannot be {_past[action]}.")
    version = ("publish", summary or "") if action == "publish" else None
    row = await repo.write_item(tx, item_id, {"status": target}, actor=principal.user_id, version=version)
    await _record(tx, meta, f"content.{_past[action]}", row, {"status": before["status"]}, {"status": target})
    return _view(row, scope)


_past: Mapping[model.Action, str] = {
    "publish": "published",
    "unpublish": "unpublished",
    "archive": "archived",
    "unarchive": "unarchived",
}


async def delete_item(
    item_id: UUID,
    *,
    scope: Scope,
    if_match: str | None,
    revision: int | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> None:
    """Delete an item that was never published (with its versions); one that was must be archived."""
    before = await locked(tx, principal, scope, item_id, if_match, revision)
    if before["published_at"] is not None:
        raise ItemWasPublishedError()
    await repo.delete_item(tx, item_id)
    await _record(
        tx, meta, "content.deleted", before, {"type": before["type"], "title": before["title"]}, None
    )


# --- versions -----------------------------------------------------------------------------------------


async def list_versions(
    item_id: UUID, query: PageQuery, *, scope: Scope, tx: Tx, principal: Principal
) -> VersionPage:
    """A page of the item's versions, newest first."""
    policy.require_reader(principal)
    before = cursors.integer(query.cursor)
    rows = await repo.list_versions(tx, item_id, scope.types, before, query.limit + 1)
    if rows is None:
        raise ItemNotFoundError()
    page, next_cursor = page_of(rows, query.limit, key=lambda r: [r["number"]])
    return VersionPage(items=[VersionSummary.model_validate(r) for r in page], next_cursor=next_cursor)


async def get_version(
    item_id: UUID, number: int, *, scope: Scope, tx: Tx, principal: Principal
) -> VersionView:
    """One version with the item's content as it was."""
    policy.require_reader(principal)
    row = await repo.get_version(tx, item_id, scope.types, number)
    if row is None:
        raise VersionNotFoundError()
    return VersionView.model_validate(row)


async def compare(
    item_id: UUID, first: int, second: int | None, *, scope: Scope, tx: Tx, principal: Principal
) -> Comparison:
    """Field by field, what differs from version `first` to version `second` (None: the item now)."""
    policy.require_reader(principal)
    numbers = [first] if second is None else [first, second]
    found = await repo.snapshots(tx, item_id, scope.types, numbers, current=second is None)
    if first not in found or second not in found:
        raise VersionNotFoundError()
    changes = model.changes(_as_edited(scope, found[first]), _as_edited(scope, found[second]))
    return Comparison(
        item_id=item_id,
        from_version=first,
        to_version=second,
        changes=[FieldChange.model_validate(c) for c in changes],
    )


def _as_edited(scope: Scope, snapshot: Any) -> Any:
    """A snapshot as its editors read the item: what is kept apart (a quiz's answers, an agent's prompt
    and model settings) back in the payload, so a comparison names the payload's own fields."""
    if scope.joined is None or not isinstance(snapshot, Mapping) or not isinstance(snapshot.get("payload"), Mapping):
        return snapshot
    kept = snapshot.get("answer_keys")
    rest = {k: v for k, v in snapshot.items() if k != "answer_keys"}
    try:
        return rest | {"payload": scope.joined(snapshot["payload"], kept if isinstance(kept, Mapping) else {})}
    except (TypeError, ValueError, KeyError, AttributeError):  # a snapshot written by hand: compared as it is
        return snapshot


async def restore_version(
    item_id: UUID,
    number: int,
    *,
    scope: Scope,
    summary: str | None,
    if_match: str | None,
    revision: int | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> ItemView:
    """Make a version's content (not its status or folder) current again, saved as a new version."""
    before = await editable(tx, principal, scope, item_id, if_match, revision)
    version = await repo.get_version(tx, item_id, scope.types, number)
    if version is None:
        raise VersionNotFoundError()
    restored = _restorable(scope, before["type"], version["snapshot"], number)
    changed = {name: value for name, value in restored.items() if _differs(before[name], value)}
    note = summary if summary is not None else f"Restored version {number}"
    row = await repo.write_item(tx, item_id, changed, actor=principal.user_id, version=("restore", note))
    await _record(
        tx,
        meta,
        "content.restored",
        row,
        _summary(before, changed),
        {**_summary(row, changed), "from": number},
    )
    return _view(row, scope)


# --- helpers ------------------------------------------------------------------------------------------


async def editable(
    tx: Tx, principal: Principal, scope: Scope, item_id: UUID, if_match: str | None, revision: int | None
) -> Row:
    """`locked`, for a change of content: an archived item is read-only (409 `item_archived`)."""
    row = await locked(tx, principal, scope, item_id, if_match, revision)
    if row["status"] == "archived":
        raise ItemArchivedError()
    return row


async def locked(
    tx: Tx, principal: Principal, scope: Scope, item_id: UUID, if_match: str | None, revision: int | None
) -> Row:
    """The item of the scope's types, locked, for a caller who may change it and names its revision."""
    if if_match is not None and if_match.strip() == "*":
        if_match = None  # "whatever is there" names no revision
    if if_match is None and revision is None:
        raise PreconditionRequiredError()
    row = await repo.lock_item(tx, item_id)
    if row is not None and row["type"] not in scope.types:
        raise ItemNotFoundError()
    if row is None:
        # Row level security locks only what the caller may change; one they may only read is a 403.
        readable = await repo.owner_of(tx, item_id)
        if readable is None or readable["type"] not in scope.types:
            raise ItemNotFoundError()
        policy.require_item_writer(principal, readable["community_id"])
        raise ItemNotFoundError()  # the policy and the database disagree: tell nothing
    policy.require_item_writer(principal, row["community_id"])
    current = caching.strong_etag(row["id"], row["revision"])
    if (if_match is not None and not caching.if_match_holds(if_match, current)) or (
        revision is not None and revision != row["revision"]
    ):
        raise StaleVersionError(row["revision"])
    return row


def version_of(before: Row, changed: Mapping[str, Any], summary: str | None) -> tuple[str, str] | None:
    """The version a change of `before` saves: any change of published content (live at once), else an
    explicit save (a summary given); None when neither."""
    if before["status"] == "published" and (changed or summary is not None):
        return ("publish", summary or "")  # what learners now see is a version too
    if summary is not None:
        return ("save", summary)
    return None


def _restorable(
    scope: Scope, content_type: str, snapshot: Mapping[str, Any], number: int
) -> dict[str, Any]:
    """A snapshot's content, checked as a change of this item would be (a version may have been written
    directly, through PostgREST, with any JSON in it); derived values are derived again."""
    fields = {name: snapshot.get(name) for name in model.RESTORED_FIELDS}
    payload = fields["payload"]
    if not isinstance(payload, Mapping):
        raise VersionNotRestorableError(number)
    content = {k: v for k, v in payload.items() if k not in DERIVED and k not in FILE_FIELDS}
    if scope.joined is not None:  # a quiz comes back with the answers the version kept
        answers = snapshot.get("answer_keys")
        content = dict(scope.joined(content, answers if isinstance(answers, Mapping) else {}))
    fields["payload"] = content
    try:
        checked = scope.changes.model_validate_json(json.dumps({"type": content_type, **fields})).root
    except ValidationError:
        raise VersionNotRestorableError(number) from None
    values: dict[str, Any] = checked.model_dump(mode="json", include=set(model.RESTORED_FIELDS) - {"payload"})
    content = scope.stored(checked.payload) if checked.payload is not None else dict(payload)
    if scope.keys is not None and checked.payload is not None:
        values["keys"] = scope.keys(checked.payload)
    # The file a version recorded comes back with it; the database checks it is still a confirmed upload.
    attached = {k: v for k, v in payload.items() if k in FILE_FIELDS}
    return values | {"payload": content | attached}


async def _require_folder(tx: Tx, scope: Scope, folder_id: UUID, community_id: UUID | None) -> None:
    """The folder must be one of the scope's repository and the item's owner (422 otherwise)."""
    if scope.folders is None or not await repo.is_folder_of(tx, folder_id, scope.folders, community_id):
        message = f"Not a folder of the {scope.name} repository of the item's owner."
        raise ValidationFailedError([FieldError("body.folder_id", message, "unknown_folder")])


def _differs(current: Any, requested: Any) -> bool:
    if isinstance(current, UUID):
        current = str(current)
    return bool(current != requested)


def _view(row: Row, scope: Scope) -> ItemView:
    payload = scope.shown(row["type"], row["payload"], row.get("keys"))
    view = scope.view.model_validate({**row, "payload": payload})
    return view  # type: ignore[return-value]  # each scope's view is an item view of its own payloads


def _summary(row: Mapping[str, Any], changed: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit keeps of a change: the small fields' values, payload only as changed or not."""
    kept = {name: row[name] for name in changed if name not in ("payload", "keys")}
    kept |= {name: "changed" for name in ("payload", "keys") if name in changed}
    return {**kept, "revision": row["revision"]}


