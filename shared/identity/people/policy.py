"""Who may do what in people administration, as plain functions of the principal.

Row level security guards the same boundaries in the database; these checks answer first, with a clear
403, and keep routes from doing work for callers who may not have it.
"""

from __future__ import annotations

from uuid import UUID

from shared.platform.auth import STAFF_ROLES, STAFF_WRITERS, Principal, require_community_role, require_staff
from shared.platform.errors import ForbiddenError

STAFF_ADMINS = ("super_admin",)


def require_community_reader(principal: Principal, community_id: UUID) -> None:
    """Any staff role, or an admin of this community, may read its people and their audit trail."""
    if principal.staff_role in STAFF_ROLES:
        return
    if principal.community_role(community_id) != "admin":
        raise ForbiddenError("Only this community's admins and platform staff may see this.")


def require_community_writer(principal: Principal, community_id: UUID) -> None:
    """Staff who may write, or an admin of this community, may change its members and tags."""
    require_community_role(principal, community_id, ("admin",))


def require_account_manager(principal: Principal) -> None:
    """Only staff who may write (super admins, managers) deactivate and reactivate accounts."""
    require_staff(principal, STAFF_WRITERS)


def require_may_change_status_of(principal: Principal, target_staff_role: str | None) -> None:
    """A staff member's account is a platform-level matter: only a super admin changes its status."""
    if target_staff_role is not None and principal.staff_role not in STAFF_ADMINS:
        raise ForbiddenError("Only a super admin may change the status of a staff member's account.")


def require_staff_reader(principal: Principal) -> None:
    """Every staff role may see the staff list and the whole audit trail."""
    require_staff(principal, STAFF_ROLES)


def require_staff_admin(principal: Principal) -> None:
    """Only super admins grant, change and revoke staff roles."""
    require_staff(principal, STAFF_ADMINS)
