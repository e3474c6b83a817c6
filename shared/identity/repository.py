"""Hand-written SQL for profiles. Runs inside the caller's transaction, under row level security."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx

PROFILE_COLUMNS = "id, email, first_name, last_name, avatar_url, timezone, status"
UPDATABLE = frozenset({"first_name", "last_name", "avatar_url", "timezone"})


async def update_own_profile(tx: Tx, user_id: UUID, changes: Mapping[str, Any]) -> Row | None:
    """Apply `changes` to the caller's profile; None when row level security shows no such profile."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    # Column names come from the fixed set above; every value is a bound parameter.
    assignments = ", ".join(f"{name} = %({name})s" for name in sorted(changes))
    return await tx.fetch_one(
        f"update public.profiles set {assignments} where id = %(id)s returning {PROFILE_COLUMNS}",
        {**changes, "id": user_id},
    )
