"""Community existence and read scope checks for every domain's services (no schemas: cheap to import)."""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.identity.communities import repository
from shared.identity.errors import CommunityNotFoundError
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ValidationFailedError


async def require_existing(tx: Tx, principal: Principal, community_id: UUID) -> None:
    """404 when the community does not exist; the caller's membership proves it does, staff ask the database."""
    if principal.community_role(community_id) is None and not await repository.exists(tx, community_id):
        raise CommunityNotFoundError()


async def require_reader_scope(tx: Tx, principal: Principal, community_id: UUID | None) -> None:
    """A named community its readers may read (404 unseen, 403 learners); every community: staff only (422)."""
    if community_id is not None:
        policy.require_community_reader(principal, community_id)
        await require_existing(tx, principal, community_id)
    elif not principal.is_staff:
        raise ValidationFailedError(
            [FieldError("query.community_id", "Name the community; only platform staff read them all.", "missing")]
        )
