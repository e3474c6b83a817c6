"""Platform staff use cases: list, grant or change a role, revoke.

Only super admins write. Nobody changes their own role and the last super admin stays: the database's
triggers enforce both for every caller, and their refusals surface as 409 own_staff_role and
last_super_admin.
"""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.errors import StaffNotFoundError, UserNotFoundError
from shared.identity.people import staff_repository as repository
from shared.identity.people.staff_schemas import SetStaffRole, StaffPage, StaffView
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import ForbiddenError
from shared.platform.pagination import PageQuery, page_of, time_and_id

USER = "user"


async def list_staff(query: PageQuery, *, tx: Tx, principal: Principal) -> StaffPage:
    """A page of platform staff with their names, emails and roles."""
    policy.require_staff_reader(principal)
    rows = await repository.list_staff(tx, cursors.time_and_id(query.cursor), query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=time_and_id("created_at", "user_id"))
    return StaffPage(items=[StaffView.model_validate(r) for r in page], next_cursor=next_cursor)


async def set_role(
    user_id: UUID, cmd: SetStaffRole, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> StaffView:
    """Grant the user a staff role or change theirs (setting the role they hold changes nothing)."""
    current = await _locked_role(tx, principal, user_id)
    if current is None:
        if not await repository.profile_exists(tx, user_id):
            raise UserNotFoundError()
        if await repository.grant(tx, user_id, cmd.role, principal.user_id):
            await _record(tx, meta, "staff.granted", user_id, None, cmd.role)
        else:
            # Granted by a concurrent request that has committed since: carry on as if it came first.
            current = await _locked_role(tx, principal, user_id)
    if current is not None and current != cmd.role:
        await repository.change(tx, user_id, cmd.role, principal.user_id)
        await _record(tx, meta, "staff.changed", user_id, current, cmd.role)
    row = await repository.get_staff(tx, user_id)
    if row is None:
        raise StaffNotFoundError()
    return StaffView.model_validate(row)


async def revoke(user_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta) -> None:
    """Take the user's staff role away."""
    current = await _locked_role(tx, principal, user_id)
    if current is None:
        raise StaffNotFoundError()
    await repository.revoke(tx, user_id)
    await _record(tx, meta, "staff.revoked", user_id, current, None)


async def _locked_role(tx: Tx, principal: Principal, user_id: UUID) -> str | None:
    """Authorise a staff write, lock the rows it depends on; the target's current role, if any.

    The caller's own role is read again under the lock: one demoted while waiting no longer writes.
    """
    policy.require_super_admin(principal)
    roles = await repository.lock_roles(tx, [principal.user_id, user_id])
    if roles.get(principal.user_id) != "super_admin":
        raise ForbiddenError("Only a super admin may manage staff roles.")
    return roles.get(user_id)


async def _record(
    tx: Tx, meta: RequestMeta, action: str, user_id: UUID, before: str | None, after: str | None
) -> None:
    await audit.record(
        tx,
        meta,
        action,
        target_type=USER,
        target_id=user_id,
        before=None if before is None else {"role": before},
        after=None if after is None else {"role": after},
    )
