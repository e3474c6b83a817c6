"""The API's use cases: the catalogue with the caller's awards, their awards, a leaderboard, managing entries.

A community's entries are managed by its admins and staff who may write; global entries by staff who
may write. An entry of a community the caller may not administer answers as a missing one to those who
cannot see it, 403 to its learners.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from shared.gamification import model, repository
from shared.gamification.errors import AchievementCodeTakenError, AchievementNotFoundError
from shared.gamification.schemas import (
    AchievementEntry,
    AchievementPage,
    AchievementQuery,
    AchievementView,
    AwardPage,
    AwardView,
    CreateAchievement,
    Leaderboard,
    LeaderboardQuery,
    LeaderboardRow,
    UpdateAchievement,
)
from shared.identity import policy
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal, require_staff
from shared.platform.db import Row, Tx
from shared.platform.pagination import PageQuery, page_of, time_and_id

AUDIT_TARGET = "achievement"
GLOBAL_WRITERS = ("super_admin", "manager")
_CHANGEABLE = ("name", "description", "tier", "points", "is_active")


async def catalogue(query: AchievementQuery, *, tx: Tx, principal: Principal) -> AchievementPage:
    """Entries by name: global ones and the caller's communities' (or one's), each with the caller's award."""
    if query.community_id is not None:
        policy.require_visible(principal, query.community_id)
    after = cursors.text_and_id(query.cursor)
    rows = await repository.catalogue(tx, query.community_id, after, query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=lambda r: [r["sort_name"], str(r["id"])])
    return AchievementPage(items=[AchievementView.model_validate(r) for r in page], next_cursor=next_cursor)


async def my_awards(query: PageQuery, *, tx: Tx) -> AwardPage:
    """The caller's awards, newest first, with the points of all of them."""
    rows = await repository.my_awards(tx, cursors.time_and_id(query.cursor), query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=time_and_id("awarded_at", "award_id"))
    total = await repository.my_points(tx)
    return AwardPage(items=[_award(r) for r in page], total_points=total, next_cursor=next_cursor)


async def leaderboard(query: LeaderboardQuery, *, tx: Tx, principal: Principal) -> Leaderboard:
    """A community's members by points earned there in the period; its members and staff only (404 else)."""
    policy.require_visible(principal, query.community_id)
    since = model.since(query.period, datetime.now(UTC))
    rows = await repository.leaderboard(tx, query.community_id, since, query.limit)
    items = [LeaderboardRow.model_validate(r) for r in rows]
    return Leaderboard(community_id=query.community_id, period=query.period, since=since, items=items)


async def create_entry(cmd: CreateAchievement, *, tx: Tx, principal: Principal, meta: RequestMeta) -> AchievementEntry:
    """Add an entry to a community's catalogue (or, without a community, the global one); audited."""
    if cmd.community_id is None:
        require_staff(principal, GLOBAL_WRITERS)
    else:
        policy.require_community_writer(principal, cmd.community_id)
    row = await repository.create_entry(tx, cmd.model_dump())
    if row is None:
        raise AchievementCodeTakenError(f"This catalogue already has an achievement coded {cmd.code!r}.")
    await audit.record_row(tx, meta, "achievement.created", row, None, _values(row), target_type=AUDIT_TARGET)
    return AchievementEntry.model_validate(row)


async def update_entry(
    entry_id: UUID, cmd: UpdateAchievement, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> AchievementEntry:
    """Change an entry's name, description, tier, points or whether it is still awarded; audited."""
    seen = await repository.get_entry(tx, entry_id)
    if seen is None:
        raise AchievementNotFoundError()
    if seen["community_id"] is None:
        require_staff(principal, GLOBAL_WRITERS)  # a global entry: every signed-in user sees it
    else:
        policy.require_item_writer(principal, seen["community_id"], AchievementNotFoundError)
    before = await repository.get_entry(tx, entry_id, lock=True)
    if before is None:
        raise AchievementNotFoundError()
    changes = cmd.model_dump(exclude_none=True)
    after = {**_values(before), **changes}
    if after == _values(before):
        return AchievementEntry.model_validate(before)
    row = await repository.update_entry(tx, {"id": entry_id, **after})
    await audit.record_row(tx, meta, "achievement.updated", row, _values(before), after, target_type=AUDIT_TARGET)
    return AchievementEntry.model_validate(row)


def _values(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in _CHANGEABLE}


def _award(row: Row) -> AwardView:
    return AwardView(
        award_id=row["award_id"],
        achievement=AchievementEntry.model_validate(row),
        community_id=row["awarded_in"],
        points=row["awarded_points"],
        awarded_at=row["awarded_at"],
    )
