"""Grant use cases: grant an item, move a grant's window, revoke it, list grants per item or community.

A grant is addressed by its own id: its community is read from the row (under row level security), then
the caller's rights there are checked; a grant of a community the caller may not administer answers
exactly as a missing one. Every grant, window change and revocation writes an audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared.content.errors import ItemNotFoundError
from shared.content.grants import policy, repository
from shared.content.grants.errors import (
    GrantExistsError,
    GrantNotFoundError,
    GrantOutsideOwnerError,
)
from shared.content.grants.schemas import (
    WINDOW_ORDER,
    CreateGrant,
    GrantPage,
    GrantQuery,
    GrantRevoked,
    GrantView,
    UpdateGrant,
    is_window_ordered,
)
from shared.identity import policy as identity
from shared.identity.communities.scope import require_existing
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.pagination import page_of, time_and_id

CONTENT_GRANT = "content_grant"


async def grant_item(cmd: CreateGrant, *, tx: Tx, principal: Principal, meta: RequestMeta) -> GrantView:
    """Grant an item in a community (to all of it, a tag or a member); 409 grant_exists for a repeated target."""
    identity.require_community_writer(principal, cmd.community_id)
    await require_existing(tx, principal, cmd.community_id)
    item = await repository.get_item(tx, cmd.item_id)
    if item is None:
        raise ItemNotFoundError()
    if item["community_id"] is not None and item["community_id"] != cmd.community_id:
        raise GrantOutsideOwnerError()
    policy.require_item_grantor(principal, cmd.community_id, item["community_id"])
    await _require_target_in(tx, cmd)
    row = await repository.insert_grant(
        tx,
        item_id=cmd.item_id,
        community_id=cmd.community_id,
        tag_id=cmd.tag_id,
        user_id=cmd.user_id,
        starts_at=cmd.starts_at,
        ends_at=cmd.ends_at,
        created_by=principal.user_id,
    )
    if row is None:
        raise GrantExistsError()
    await _record(tx, meta, "content.granted", row, None, _values(row))
    return GrantView.model_validate(row)


async def get_grant(grant_id: UUID, *, tx: Tx, principal: Principal) -> GrantView:
    """One grant."""
    row = await repository.get_grant(tx, grant_id)
    if row is None:
        raise GrantNotFoundError()
    identity.require_item_reader(principal, row["community_id"], GrantNotFoundError)
    return GrantView.model_validate(row)


async def update_grant(
    grant_id: UUID, cmd: UpdateGrant, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> GrantView:
    """Move a grant's window (the fields sent; null opens that end)."""
    before = await _locked_grant(tx, principal, grant_id)
    window = {name: getattr(cmd, name) if name in cmd.model_fields_set else before[name] for name in _WINDOW}
    if not is_window_ordered(window["starts_at"], window["ends_at"]):
        raise ValidationFailedError([FieldError("body.ends_at", WINDOW_ORDER, "window_order")])
    if window == _values(before):
        return GrantView.model_validate(before)
    row = await repository.update_window(tx, grant_id, window["starts_at"], window["ends_at"])
    await _record(tx, meta, "content.grant_window_changed", row, _values(before), _values(row))
    return GrantView.model_validate(row)


async def revoke_grant(grant_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta) -> GrantRevoked:
    """Revoke a grant: its target no longer sees the item through it."""
    before = await _locked_grant(tx, principal, grant_id)
    await repository.delete_grant(tx, grant_id)
    await _record(tx, meta, "content.revoked", before, _values(before), None)
    return GrantRevoked(id=grant_id, item_id=before["item_id"], community_id=before["community_id"])


async def list_grants(query: GrantQuery, *, tx: Tx, principal: Principal) -> GrantPage:
    """A page of an item's grants (those in communities the caller reads) or of a community's, newest first."""
    after = cursors.time_and_id(query.cursor)
    if query.community_id is not None:
        identity.require_community_reader(principal, query.community_id)
        await require_existing(tx, principal, query.community_id)
    elif query.item_id is not None and await repository.get_item(tx, query.item_id) is None:
        raise ItemNotFoundError()
    rows = await repository.list_grants(
        tx, item_id=query.item_id, community_id=query.community_id, after=after, limit=query.limit + 1
    )
    page, next_cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
    return GrantPage(items=[GrantView.model_validate(r) for r in page], next_cursor=next_cursor)


_WINDOW = ("starts_at", "ends_at")


async def _require_target_in(tx: Tx, cmd: CreateGrant) -> None:
    """A tag grant names a tag of the community, a user grant one of its members (422 otherwise)."""
    if cmd.tag_id is not None and not await repository.is_tag_of(tx, cmd.tag_id, cmd.community_id):
        raise ValidationFailedError(
            [FieldError("body.tag_id", "Not a tag of this community.", "unknown_tag")]
        )
    if cmd.user_id is not None and not await repository.is_member_of(tx, cmd.community_id, cmd.user_id):
        raise ValidationFailedError(
            [FieldError("body.user_id", "Not a member of this community.", "not_a_member")]
        )


async def _locked_grant(tx: Tx, principal: Principal, grant_id: UUID) -> Mapping[str, Any]:
    """The grant, locked, for a caller who may change it; missing to non-readers, 403 to other readers."""
    row = await repository.lock_grant(tx, grant_id)
    # Locking needs the right to change the row: a grant the caller only reads is locked by nobody.
    seen = row or await repository.get_grant(tx, grant_id)
    if seen is None:
        raise GrantNotFoundError()
    identity.require_item_writer(principal, seen["community_id"], GrantNotFoundError)
    policy.require_item_grantor(principal, seen["community_id"], row["item_owner"] if row else None)
    if row is None:
        raise GrantNotFoundError()
    return row


def _values(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in _WINDOW}


async def _record(
    tx: Tx,
    meta: RequestMeta,
    action: str,
    grant: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    target = {name: grant[name] for name in ("item_id", "target", "tag_id", "user_id")}
    await audit.record_row(
        tx,
        meta,
        action,
        grant,
        None if before is None else {**target, **before},
        None if after is None else {**target, **after},
        target_type=CONTENT_GRANT,
    )
