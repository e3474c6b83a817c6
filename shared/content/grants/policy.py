"""Who may grant: staff who may write, any item anywhere; a community's admins, their own items within it.

Specialists and any staff read every grant; a community's admins read their community's. Row level
security draws the same lines (and keeps a community's own item inside that community for everyone).
"""

from __future__ import annotations

from uuid import UUID

from shared.platform.auth import STAFF_WRITERS, Principal
from shared.platform.errors import ForbiddenError


def require_item_grantor(principal: Principal, community_id: UUID, item_owner: UUID | None) -> None:
    """Staff who may write grant anything; a community's admins only their community's own items."""
    if principal.staff_role in STAFF_WRITERS:
        return
    if item_owner != community_id:
        raise ForbiddenError(
            "A community's admins grant only their community's own items; staff grant the rest."
        )
