"""Who may do what with a community, as plain functions of the principal (read fresh from the database).

Order of refusals: a community the caller cannot see at all is a 404 (as row level security hides it),
one they can see but may not change is a 403. Staff-only actions refuse non-staff with 403 before any
lookup, so they reveal nothing either.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Literal
from uuid import UUID

from shared.identity.communities.errors import CommunityNotFoundError
from shared.identity.communities.model import (
    ADMIN_FIELDS,
    AI_ADMIN_FIELDS,
)
from shared.platform.auth import STAFF_WRITERS, Principal, require_staff
from shared.platform.errors import ForbiddenError

Access = Literal["full", "basic"]
SUPER_ADMIN = ("super_admin",)


def access_to(principal: Principal, community_id: UUID) -> Access | None:
    """What of a community the caller sees: all of it (staff, its admins), the basics (its learners), nothing."""
    if principal.is_staff:
        return "full"
    role = principal.community_role(community_id)
    if role == "admin":
        return "full"
    return "basic" if role == "member" else None


def require_visible(principal: Principal, community_id: UUID) -> Access:
    """The caller's access to a community, or 404 when they cannot see it."""
    access = access_to(principal, community_id)
    if access is None:
        raise CommunityNotFoundError()
    return access


def is_settings_writer(principal: Principal, community_id: UUID) -> bool:
    """Staff who may write, or the community's own admin."""
    return principal.staff_role in STAFF_WRITERS or principal.community_role(community_id) == "admin"


def require_settings_writer(principal: Principal, community_id: UUID) -> None:
    """404 when the caller cannot see the community, 403 unless they may change its settings."""
    require_visible(principal, community_id)
    if not is_settings_writer(principal, community_id):
        raise ForbiddenError("Only platform staff who may write and the community's admins change it.")


def require_admin_reader(principal: Principal, community_id: UUID) -> None:
    """404 when the caller cannot see the community, 403 unless they are staff or its admin."""
    if require_visible(principal, community_id) != "full":
        raise ForbiddenError("Only platform staff and the community's admins see this.")


def require_platform_writer(principal: Principal) -> None:
    """Creating, archiving and restoring communities: super admins and managers."""
    require_staff(principal, STAFF_WRITERS)


def require_staff_reader(principal: Principal) -> None:
    """The platform-wide admin surface: any staff role, specialists included."""
    require_staff(principal)


def require_super_admin(principal: Principal) -> None:
    """Destructive platform actions: super admins only."""
    require_staff(principal, SUPER_ADMIN)


def require_fields(principal: Principal, changing: Set[str]) -> None:
    """A settings writer who is not staff may change only the admin fields (slug, status, template: staff)."""
    if principal.staff_role in STAFF_WRITERS:
        return
    refused = set(changing) - ADMIN_FIELDS
    if refused:
        raise ForbiddenError(f"Only platform staff may change {', '.join(sorted(refused))}.")


def require_ai_fields(
    principal: Principal, community_id: UUID, changing: Set[str], *, touches_key: bool
) -> None:
    """Provider and model: settings writers; quota: staff who may write; own key: super admin or its admin."""
    if principal.staff_role not in STAFF_WRITERS and set(changing) - AI_ADMIN_FIELDS:
        raise ForbiddenError("Only platform staff may change the monthly token quota.")
    may_handle_key = principal.staff_role in SUPER_ADMIN or principal.community_role(community_id) == "admin"
    if touches_key and not may_handle_key:
        # Managers administer many communities but do not handle provider keys (DOMAIN: super admin).
        raise ForbiddenError("Only a super admin or the community's admin may set its provider key.")
