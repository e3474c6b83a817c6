"""Who may run onboarding: plain functions of the principal, answered before any work is done.

Row level security draws the same boundaries in the database; these checks give the clear 403 first.
"""

from __future__ import annotations

from uuid import UUID

from shared.platform.auth import STAFF_ROLES, Principal, require_community_role
from shared.platform.errors import ForbiddenError


def require_reader(principal: Principal, community_id: UUID) -> None:
    """Any staff role, or an admin of this community, may see its links, invitations and imports."""
    if principal.staff_role in STAFF_ROLES:
        return
    if principal.community_role(community_id) != "admin":
        raise ForbiddenError("Only this community's admins and platform staff may see this.")


def require_writer(principal: Principal, community_id: UUID) -> None:
    """Staff who may write (super admins, managers), or an admin of this community, may onboard people."""
    require_community_role(principal, community_id, ("admin",))
