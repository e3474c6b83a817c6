"""The worker's use cases: apply a learning event (fact, activity day, streak, awards); end missed streaks.

Each runs in the worker's service transaction. A learner's events are applied one at a time (their
streak row is locked first), so each sees what the previous one kept; an award is made at most once
per learner by the unique key, and announced (`achievement.awarded`) in the transaction that made it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.gamification import repository
from shared.gamification.model import AWARDED, Activity
from shared.platform import events
from shared.platform.db import Row, Tx


async def apply_activity(tx: Tx, activity: Activity, now: datetime | None = None) -> list[Row]:
    """Keep the activity's fact and day, recount the streak on a new day, award what is earned; the awards."""
    timezone = await repository.lock_learner(tx, activity.user_id)
    if timezone is None:
        return []  # the account is gone: nothing to keep for it
    await repository.record_fact(tx, activity)
    if await repository.record_day(tx, activity, timezone):
        await repository.update_streak(tx, activity.user_id, timezone, now or datetime.now(UTC))
    awards = await repository.award_earned(tx, activity.user_id, activity.community_id)
    for award in awards:
        await events.enqueue(tx, events.Event(name=AWARDED, payload=announcement(award)))
    return awards


async def roll_over_streaks(tx: Tx, now: datetime | None = None) -> int:
    """End the streaks of learners who missed a whole day in their time zone; how many ended."""
    return await repository.roll_over_streaks(tx, now or datetime.now(UTC))


def announcement(award: Row) -> dict[str, Any]:
    """The `achievement.awarded` payload: ids as strings, the time in ISO 8601 (as the learning events)."""
    return {
        "award_id": str(award["id"]),
        "user_id": str(award["user_id"]),
        "community_id": str(award["community_id"]),
        "achievement_id": str(award["achievement_id"]),
        "code": award["code"],
        "name": award["name"],
        "tier": award["tier"],
        "points": award["points"],
        "awarded_at": award["awarded_at"].isoformat(),
    }
