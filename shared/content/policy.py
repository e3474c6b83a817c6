"""Who may do what with content, as plain functions of the principal (read fresh from the database).

Reading is row level security's alone: what the database shows the caller exists for them, the rest
answers 404. These checks decide writing: platform content (no owner) is written by staff who may
write; a community's own items by its admins and by staff who may write. Specialists read everything
and write nothing. Learners use the catalogue, not this authoring surface.
"""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy as identity
from shared.platform.auth import STAFF_WRITERS, Principal, require_staff
from shared.platform.errors import ForbiddenError


def may_write(principal: Principal, community_id: UUID | None) -> bool:
    """Whether the caller may change an item owned by `community_id` (None: platform content)."""
    if principal.staff_role in STAFF_WRITERS:
        return True
    return community_id is not None and principal.community_role(community_id) == "admin"


def require_reader(principal: Principal) -> None:
    """Staff of any role, or an admin of some community: who may use the authoring surface at all."""
    if not principal.is_staff and not any(m.role == "admin" for m in principal.memberships):
        raise ForbiddenError("Only platform staff and community admins use the content repository.")


def require_writer(principal: Principal) -> None:
    """Staff who may write, or an admin of some community: who may call a writing route at all."""
    if principal.staff_role not in STAFF_WRITERS and not any(
        m.role == "admin" for m in principal.memberships
    ):
        raise ForbiddenError("Only platform staff who may write and community admins change content.")


def require_creator(principal: Principal, community_id: UUID | None) -> None:
    """Platform content: staff who may write (403); a community's: its writers (404 when not visible)."""
    if community_id is None:
        require_staff(principal, STAFF_WRITERS)
    else:
        identity.require_community_writer(principal, community_id)


def require_item_writer(principal: Principal, community_id: UUID | None) -> None:
    """An item the caller can see but may not change is a 403 (e.g. platform content granted to them)."""
    if not may_write(principal, community_id):
        raise ForbiddenError(
            "Only platform staff who may write and the owning community's admins change this."
        )
