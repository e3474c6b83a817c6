"""Hand-written SQL for profiles. Runs inside the caller's transaction, under row level security."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import assignments, compose

PROFILE_COLUMNS = "id, email, first_name, last_name, avatar_url, timezone, status"
UPDATABLE = frozenset({"first_name", "last_name", "avatar_url", "timezone"})
UPDATE_SQL = "update public.profiles set {changes} where id = %(id)s returning {columns}"


async def update_own_profile(tx: Tx, user_id: UUID, changes: Mapping[str, Any]) -> Row | None:
    """Apply `changes` to the caller's profile; None when row level security shows no such profile."""
    statement = compose(UPDATE_SQL, changes=assignments(changes, UPDATABLE), columns=PROFILE_COLUMNS)
    return await tx.fetch_one(statement, {**changes, "id": user_id})
