"""Who may do what in the identity context, as plain functions of the principal (read fresh from the database).

Order of refusals: a community the caller cannot see at all is a 404 (as row level security hides it),
one they can see but may not administer is a 403. An item (a tag, a link, an invitation, an import)
of a community the caller may not administer answers exactly as a missing one. Staff-only actions
refuse non-staff with 403 before any lookup, so they reveal nothing either.

Row level security draws the same boundaries in the database; these checks answer first, with a clear
status, and keep services from doing work for callers who may not have it. Routes use them as guards
(`allow=`) and the services call them again, so a service is safe whoever calls it.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Literal
from uuid import UUID

from shared.identity.communities.model import ADMIN_FIELDS, AI_ADMIN_FIELDS
from shared.identity.errors import CommunityNotFoundError
from shared.platform.auth import STAFF_WRITERS, Principal, require_staff
from shared.platform.errors import ForbiddenError, NotFoundError

Access = Literal["full", "basic"]
SUPER_ADMIN = ("super_admin",)

# --- one community ------------------------------------------------------------------------------------


def access_to(principal: Principal, community_id: UUID) -> Access | None:
    """What of a community the caller sees: all of it (staff, its admins), the basics (its learners), nothing."""
    if principal.is_staff:
        return "full"
    role = principal.community_role(community_id)
    if role == "admin":
        return "full"
    return "basic" if role == "member" else None


def may_administer(principal: Principal, community_id: UUID) -> bool:
    """Staff who may write, or the community's own admin: change its settings, people and onboarding."""
    return principal.staff_role in STAFF_WRITERS or principal.community_role(community_id) == "admin"


def require_visible(principal: Principal, community_id: UUID) -> Access:
    """The caller's access to a community, or 404 when they cannot see it."""
    access = access_to(principal, community_id)
    if access is None:
        raise CommunityNotFoundError()
    return access


def require_community_reader(principal: Principal, community_id: UUID) -> None:
    """Any staff role or the community's admin reads its administration (people, onboarding, audit, counts)."""
    if require_visible(principal, community_id) != "full":
        raise ForbiddenError("Only platform staff and the community's admins see this.")


def require_community_writer(principal: Principal, community_id: UUID) -> None:
    """Staff who may write or the community's admin change it; 404 when the caller cannot see it."""
    require_visible(principal, community_id)
    if not may_administer(principal, community_id):
        raise ForbiddenError("Only platform staff who may write and the community's admins change this.")


# --- an item of a community, found by its own id ------------------------------------------------------


def require_item_reader(principal: Principal, community_id: UUID, missing: type[NotFoundError]) -> None:
    """An item of the community may be read by its readers; to anyone else it is `missing`, as if absent."""
    if access_to(principal, community_id) != "full":
        raise missing()


def require_item_writer(principal: Principal, community_id: UUID, missing: type[NotFoundError]) -> None:
    """An item may be changed by the community's writers; `missing` to non-readers, 403 to other readers."""
    require_item_reader(principal, community_id, missing)
    if not may_administer(principal, community_id):
        raise ForbiddenError("Only platform staff who may write and the community's admins change this.")


def require_any_community_reader(principal: Principal) -> None:
    """Staff, or an admin of some community: who may call a route whose community comes from a row or query."""
    if not principal.is_staff and not any(m.role == "admin" for m in principal.memberships):
        raise ForbiddenError("Only platform staff and community admins may do this.")


def require_any_community_writer(principal: Principal) -> None:
    """Staff who may write, or an admin of some community: the writing counterpart of the above."""
    if principal.staff_role not in STAFF_WRITERS and not any(
        m.role == "admin" for m in principal.memberships
    ):
        raise ForbiddenError("Only platform staff who may write and community admins may do this.")


def require_fields(principal: Principal, changing: Set[str]) -> None:
    """A community writer who is not staff may change only the admin fields (slug, status, template: staff)."""
    if principal.staff_role in STAFF_WRITERS:
        return
    refused = set(changing) - ADMIN_FIELDS
    if refused:
        raise ForbiddenError(f"Only platform staff may change {', '.join(sorted(refused))}.")


def require_ai_fields(
    principal: Principal, community_id: UUID, changing: Set[str], *, touches_key: bool
) -> None:
    """Provider and model: community writers; quota: staff who may write; own key: super admin or its admin."""
    if principal.staff_role not in STAFF_WRITERS and set(changing) - AI_ADMIN_FIELDS:
        raise ForbiddenError("Only platform staff may change the monthly token quota.")
    may_handle_key = principal.staff_role in SUPER_ADMIN or principal.community_role(community_id) == "admin"
    if touches_key and not may_handle_key:
        # Managers administer many communities but do not handle provider keys (DOMAIN: super admin).
        raise ForbiddenError("Only a super admin or the community's admin may set its provider key.")


# --- the platform -------------------------------------------------------------------------------------


def require_staff_reader(principal: Principal) -> None:
    """The platform-wide admin surface (staff list, whole audit trail, counts): any staff role."""
    require_staff(principal)


def require_staff_writer(principal: Principal) -> None:
    """Creating, archiving, restoring communities; deactivating accounts: super admins and managers."""
    require_staff(principal, STAFF_WRITERS)


def require_super_admin(principal: Principal) -> None:
    """Deleting communities and granting staff roles: super admins only."""
    require_staff(principal, SUPER_ADMIN)


def require_may_change_status_of(principal: Principal, target_staff_role: str | None) -> None:
    """A staff member's account is a platform-level matter: only a super admin changes its status."""
    if target_staff_role is not None and principal.staff_role not in SUPER_ADMIN:
        raise ForbiddenError("Only a super admin may change the status of a staff member's account.")
