"""Identity use cases for the signed-in user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.identity import repository
from shared.identity.me_schemas import MembershipView, MeView, UpdateProfile
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import NotFoundError


def me_view(principal: Principal, profile: Mapping[str, Any] | None = None) -> MeView:
    """Who the caller is, always definite: a user without a profile row still gets ids and an empty role set."""
    profile = profile if profile is not None else (principal.profile or {})
    return MeView(
        id=principal.user_id,
        email=profile.get("email") or principal.email,
        first_name=profile.get("first_name") or "",
        last_name=profile.get("last_name") or "",
        avatar_url=profile.get("avatar_url"),
        timezone=profile.get("timezone") or "UTC",
        status=profile.get("status") or principal.status,
        staff_role=principal.staff_role,
        roles=principal.roles,
        memberships=[
            MembershipView(
                community_id=m.community_id, name=m.community_name, slug=m.community_slug, role=m.role
            )
            for m in principal.memberships
        ],
    )


async def update_profile(cmd: UpdateProfile, *, tx: Tx, principal: Principal) -> MeView:
    """Change the caller's own names, avatar and time zone."""
    changes = {
        k: (str(v) if k == "avatar_url" and v is not None else v)
        for k, v in cmd.model_dump(exclude_unset=True).items()
    }
    if not changes:
        return me_view(principal)
    row = await repository.update_own_profile(tx, principal.user_id, changes)
    if row is None:
        raise NotFoundError("You have no profile yet.")
    return me_view(principal, row)
