"""Member administration use cases: list, change role, remove, tag; account deactivation and reactivation.

Each write checks who may do it, changes the rows and appends its audit entry in the caller's one
transaction, so the action and its record commit or roll back together. Rules every caller is held to
(the last admin stays) are the database's: its refusal surfaces as a 409 with the rule's code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from uuid import UUID

from shared.identity import policy
from shared.identity.communities.scope import require_existing
from shared.identity.errors import MemberNotFoundError, OwnAccountError, TagNotHeldError, UserNotFoundError
from shared.identity.people import repository
from shared.identity.people.schemas import (
    AccountStatusView,
    ChangeMemberRole,
    MemberPage,
    MemberQuery,
    MemberView,
    ReplaceMemberTags,
)
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import STAFF_WRITERS, Principal
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ForbiddenError, ValidationFailedError
from shared.platform.pagination import page_of, time_and_id

MEMBERSHIP = "membership"


async def list_members(query: MemberQuery, *, tx: Tx, principal: Principal) -> MemberPage:
    """A page of the community's members, newest first, filtered by text, role and tag."""
    community_id = query.community_id
    policy.require_community_reader(principal, community_id)
    where = repository.MemberFilter(
        role=query.role,
        pattern=repository.like_pattern(query.q) if query.q else None,
        tag_id=query.tag,
        after=cursors.time_and_id(query.cursor),
    )
    await require_existing(tx, principal, community_id)
    rows = await repository.list_members(tx, community_id, where, query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=time_and_id("joined_at", "user_id"))
    return MemberPage(items=[MemberView.model_validate(r) for r in page], next_cursor=next_cursor)


async def change_role(
    community_id: UUID,
    user_id: UUID,
    cmd: ChangeMemberRole,
    *,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> MemberView:
    """Make the member an admin or a plain member; demoting the last admin is refused (409 last_admin)."""
    membership = await _locked_membership(tx, principal, community_id, user_id)
    if membership["role"] != cmd.role:
        if not await repository.set_role(tx, community_id, user_id, cmd.role):
            raise ForbiddenError("You no longer may change this community's members.")
        await _record(
            tx,
            meta,
            "member.role_changed",
            community_id,
            user_id,
            {"role": membership["role"]},
            {"role": cmd.role},
        )
    return await _member(tx, community_id, user_id)


async def remove_member(
    community_id: UUID, user_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> None:
    """Remove the user from the community with their tag assignments; the last admin stays (409)."""
    membership = await _locked_membership(tx, principal, community_id, user_id)
    tag_ids = await repository.member_tag_ids(tx, community_id, user_id)
    if not await repository.delete_membership(tx, community_id, user_id):
        raise ForbiddenError("You no longer may change this community's members.")
    before = {**_plain(membership), "tag_ids": [str(t) for t in tag_ids]}
    await _record(tx, meta, "member.removed", community_id, user_id, before, None)


async def replace_tags(
    community_id: UUID,
    user_id: UUID,
    cmd: ReplaceMemberTags,
    *,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> MemberView:
    """Make `cmd.tag_ids` exactly the member's tags; every one must be a tag of this community (422)."""
    await _locked_membership(tx, principal, community_id, user_id)
    wanted = list(dict.fromkeys(cmd.tag_ids))
    await _require_community_tags(tx, community_id, wanted, "body.tag_ids")
    held = await repository.member_tag_ids(tx, community_id, user_id)
    if set(held) != set(wanted):
        await repository.replace_tags(tx, community_id, user_id, wanted, principal.user_id)
        await _record(
            tx, meta, "member.tags_replaced", community_id, user_id, _tag_ids(held), _tag_ids(wanted)
        )
    return await _member(tx, community_id, user_id)


async def add_tag(
    community_id: UUID,
    user_id: UUID,
    tag_id: UUID,
    *,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> MemberView:
    """Give the member one more tag of this community (422 for another community's); holding it is fine."""
    await _locked_membership(tx, principal, community_id, user_id)
    await _require_community_tags(tx, community_id, [tag_id], "path.tag_id")
    held = await repository.member_tag_ids(tx, community_id, user_id)
    if await repository.add_tags(tx, community_id, user_id, [tag_id], principal.user_id):
        after = _tag_ids([*held, tag_id])
        await _record(tx, meta, "member.tag_added", community_id, user_id, _tag_ids(held), after)
    return await _member(tx, community_id, user_id)


async def remove_tag(
    community_id: UUID,
    user_id: UUID,
    tag_id: UUID,
    *,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> MemberView:
    """Take one tag from the member; 404 when they do not hold it."""
    await _locked_membership(tx, principal, community_id, user_id)
    held = await repository.member_tag_ids(tx, community_id, user_id)
    if not await repository.remove_tag(tx, community_id, user_id, tag_id):
        raise TagNotHeldError()
    after = _tag_ids([t for t in held if t != tag_id])
    await _record(tx, meta, "member.tag_removed", community_id, user_id, _tag_ids(held), after)
    return await _member(tx, community_id, user_id)


async def set_account_status(
    user_id: UUID,
    status: Literal["active", "deactivated"],
    *,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> AccountStatusView:
    """Deactivate or reactivate an account (staff writers; a staff account only by a super admin)."""
    policy.require_staff_writer(principal)
    if user_id == principal.user_id:
        raise OwnAccountError("Nobody can change the status of their own account.")
    account = await repository.lock_account(tx, user_id)
    if account is None:
        raise UserNotFoundError()
    policy.require_may_change_status_of(principal, account["staff_role"])
    if account["status"] != status:
        if not await repository.set_status(tx, user_id, status):
            raise ForbiddenError("You no longer may change the status of accounts.")
        action = "user.deactivated" if status == "deactivated" else "user.reactivated"
        await audit.record(
            tx,
            meta,
            action,
            target_type="user",
            target_id=user_id,
            before={"status": account["status"]},
            after={"status": status},
        )
    return AccountStatusView(user_id=user_id, email=account["email"], status=status)


async def _locked_membership(
    tx: Tx, principal: Principal, community_id: UUID, user_id: UUID
) -> Mapping[str, Any]:
    """Authorise a write to the community and lock the membership it is about (404 when there is none).

    The lock serialises concurrent changes to one member (tag assignments referencing the membership
    wait for it). A community admin's own membership is locked with it and read again: one demoted
    while this request waited no longer writes, and nobody can demote them until it commits.
    """
    policy.require_community_writer(principal, community_id)
    await require_existing(tx, principal, community_id)
    by_membership = principal.staff_role not in STAFF_WRITERS
    locked = await repository.lock_memberships(
        tx, community_id, [user_id, principal.user_id] if by_membership else [user_id]
    )
    if by_membership and locked.get(principal.user_id, {}).get("role") != "admin":
        raise ForbiddenError("You no longer have that role in this community.")
    membership = locked.get(user_id)
    if membership is None:
        # Row level security also hides rows from staff who lost their role while this request ran.
        if not await repository.may_write(tx, community_id):
            raise ForbiddenError("You no longer may change this community's members.")
        raise MemberNotFoundError()
    return membership


async def _require_community_tags(tx: Tx, community_id: UUID, tag_ids: Sequence[UUID], loc: str) -> None:
    """A 422 naming every id that is not a tag of this community; nothing is written before it."""
    known = await repository.community_tag_ids(tx, community_id, tag_ids)
    unknown = [str(t) for t in tag_ids if t not in known]
    if unknown:
        message = "Not a tag of this community: " + ", ".join(unknown) + "."
        raise ValidationFailedError([FieldError(loc, message, "unknown_tag")])


async def _member(tx: Tx, community_id: UUID, user_id: UUID) -> MemberView:
    row = await repository.get_member(tx, community_id, user_id)
    if row is None:
        raise MemberNotFoundError()
    return MemberView.model_validate(row)


async def _record(
    tx: Tx,
    meta: RequestMeta,
    action: str,
    community_id: UUID,
    user_id: UUID,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    await audit.record(
        tx,
        meta,
        action,
        target_type=MEMBERSHIP,
        target_id=user_id,
        community_id=community_id,
        before=before,
        after=after,
    )


def _tag_ids(tag_ids: Sequence[UUID]) -> dict[str, list[str]]:
    return {"tag_ids": sorted(str(t) for t in tag_ids)}


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
