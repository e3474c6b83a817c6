"""Admin dashboard counts: the platform's for staff, one community's for its admins and staff."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.identity import policy
from shared.identity.communities import repository
from shared.identity.communities.dashboard_schemas import (
    CommunityCounts,
    CommunityOverview,
    ContentCounts,
    PlatformOverview,
    StaffCounts,
    UserCounts,
)
from shared.identity.errors import CommunityNotFoundError
from shared.platform.auth import Principal
from shared.platform.db import Tx


async def platform_overview(*, tx: Tx, principal: Principal) -> PlatformOverview:
    """Platform-wide counts for the staff dashboard."""
    policy.require_staff_reader(principal)
    row = await repository.platform_counts(tx)

    def group(prefix: str) -> dict[str, Any]:
        return {k.removeprefix(prefix): v for k, v in row.items() if k.startswith(prefix)}

    return PlatformOverview(
        communities=CommunityCounts.model_validate(group("communities_")),
        users=UserCounts.model_validate(group("users_")),
        staff=StaffCounts.model_validate(group("staff_")),
        content=ContentCounts.model_validate(group("content_")),
    )


async def community_overview(community_id: UUID, *, tx: Tx, principal: Principal) -> CommunityOverview:
    """One community's counts for its admins and staff."""
    policy.require_community_reader(principal, community_id)
    row = await repository.community_counts(tx, community_id)
    if row is None:
        raise CommunityNotFoundError()
    return CommunityOverview.model_validate(row)
