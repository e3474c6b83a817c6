"""User tag use cases: list with member counts, create, rename or recolour, delete with confirmation.

A tag is addressed by its own id: its community is read from the row (under row level security), then
the caller's rights in that community are checked; a tag of a community they may not administer
answers exactly as a missing one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared.identity import policy
from shared.identity.communities.scope import require_existing
from shared.identity.errors import TagNotFoundError
from shared.identity.people import tag_repository as repository
from shared.identity.people.tag_schemas import CreateTag, TagDeleted, TagPage, TagView, UpdateTag
from shared.identity.schemas import CommunityPageQuery
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.pagination import page_of

USER_TAG = "user_tag"
_record = functools.partial(audit.record_row, target_type=USER_TAG)
"""An audit entry for a row of this kind (its own id and community)."""


async def list_tags(query: CommunityPageQuery, *, tx: Tx, principal: Principal) -> TagPage:
    """A page of the community's tags by name, each with how many members hold it."""
    policy.require_community_reader(principal, query.community_id)
    after = cursors.text_and_id(query.cursor)
    await require_existing(tx, principal, query.community_id)
    rows = await repository.list_tags(tx, query.community_id, after, query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=lambda r: [r["sort_name"], str(r["id"])])
    return TagPage(items=[TagView.model_validate(r) for r in page], next_cursor=next_cursor)


def tag_view(rows: list[Row], principal: Principal) -> TagView:
    """The tag `get_tag_statement` read (404 when there was none to read, or the caller may not read it)."""
    row = rows[0] if rows else None
    if row is None:
        raise TagNotFoundError()
    policy.require_item_reader(principal, row["community_id"], TagNotFoundError)
    return TagView.model_validate(row)


async def create_tag(cmd: CreateTag, *, tx: Tx, principal: Principal, meta: RequestMeta) -> TagView:
    """Create a tag; a name the community already has (in any case) is a 409 tag_name_taken."""
    policy.require_community_writer(principal, cmd.community_id)
    await require_existing(tx, principal, cmd.community_id)
    row = await repository.create_tag(tx, cmd.community_id, cmd.name, cmd.color)
    await _record(tx, meta, "tag.created", row, None, _values(row))
    return TagView.model_validate(row)


async def update_tag(
    tag_id: UUID, cmd: UpdateTag, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> TagView:
    """Rename and/or recolour a tag; a name another tag of the community has is a 409 tag_name_taken."""
    before = await _locked_tag(tx, principal, tag_id)
    after = {"name": cmd.name or before["name"], "color": cmd.color or before["color"]}
    if after != _values(before):
        await repository.update_tag(tx, tag_id, after["name"], after["color"])
        await _record(tx, meta, "tag.updated", before, _values(before), after)
    row = await repository.get_tag(tx, tag_id)
    if row is None:
        raise TagNotFoundError()
    return TagView.model_validate(row)


async def delete_tag(
    tag_id: UUID, *, is_confirmed: bool, tx: Tx, principal: Principal, meta: RequestMeta
) -> TagDeleted:
    """Delete a tag and its assignments; without `confirm=true` a 422 says how many members would lose it."""
    before = await _locked_tag(tx, principal, tag_id)
    if not is_confirmed:
        held_by = await repository.count_assignments(tx, tag_id)
        message = (
            f"Deleting this tag also removes it from the {held_by} member(s) holding it;"
            " repeat the request with confirm=true."
        )
        raise ValidationFailedError([FieldError("query.confirm", message, "confirmation_required")])
    removed = await repository.delete_tag(tx, tag_id)
    await _record(tx, meta, "tag.deleted", before, {**_values(before), "assignments": removed}, None)
    return TagDeleted(id=tag_id, assignments_removed=removed)


async def _locked_tag(tx: Tx, principal: Principal, tag_id: UUID) -> Mapping[str, Any]:
    """The tag, locked, for a caller who may change its community's tags; missing to anyone else."""
    row = await repository.lock_tag(tx, tag_id)
    if row is None:
        raise TagNotFoundError()
    policy.require_item_writer(principal, row["community_id"], TagNotFoundError)
    return row


def _values(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "color": row["color"]}


