"""Learning events as the progress slice sends them (/work/notes contract), for the gamification tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.gamification import model
from shared.platform import events
from shared.platform.db import as_service
from shared.platform.events import Event
from tests.factories import ACME
from tests.helpers import Sql


def completed(
    user: str, at: datetime, *, kind: str = "wod", target: str | None = None, community: str = ACME, score: float | None = None
) -> Event:
    """A `learning.completed` of a target (a new WOD unless named)."""
    target = target or str(uuid.uuid4())
    payload: dict[str, Any] = {
        "user_id": user,
        "community_id": community,
        "target_type": kind,
        "target_id": target,
        "item_id": target,
        "score": score,
        "time_spent_s": 60,
        "completed_at": at.isoformat(),
    }
    return Event(name=model.COMPLETED, payload=payload)


def quiz(user: str, at: datetime, score: float, *, community: str = ACME) -> Event:
    """A `learning.quiz_attempted` with its score."""
    payload = {
        "user_id": user,
        "community_id": community,
        "item_id": str(uuid.uuid4()),
        "block_id": str(uuid.uuid4()),
        "attempt_id": str(uuid.uuid4()),
        "score": score,
        "passed": score >= 70,
        "submitted_at": at.isoformat(),
    }
    return Event(name=model.QUIZ_ATTEMPTED, payload=payload)


def graduated(user: str, at: datetime, *, community: str = ACME) -> Event:
    """A `learning.program_completed`."""
    payload = {
        "user_id": user,
        "community_id": community,
        "program_id": str(uuid.uuid4()),
        "enrollment_id": str(uuid.uuid4()),
        "completed_at": at.isoformat(),
    }
    return Event(name=model.PROGRAM_COMPLETED, payload=payload)


def enrolled(user: str, at: datetime, *, community: str = ACME) -> Event:
    """A `learning.enrolled` (activity, no fact)."""
    payload = {
        "user_id": user,
        "community_id": community,
        "program_id": str(uuid.uuid4()),
        "enrollment_id": str(uuid.uuid4()),
        "source": "self",
        "enrolled_at": at.isoformat(),
    }
    return Event(name=model.ENROLLED, payload=payload)


async def send(*sent: Event) -> None:
    """Enqueue events in one committed service transaction, as the progress slice's commit would."""
    async with as_service() as tx:
        for event in sent:
            await events.enqueue(tx, event)


async def deliver(*sent: Event) -> None:
    """Enqueue the events and run the worker loop until the queue is empty."""
    import shared.gamification.handlers  # noqa: F401  (subscribes them, as the worker does)
    from tests.helpers import drain_events

    await send(*sent)
    await drain_events()


def award(sql: Sql, user: str, code: str, community: str, days_ago: int) -> None:
    """Award a global achievement directly in the database, `days_ago` days ago, in `community`."""
    sql(
        "insert into user_achievements (user_id, achievement_id, community_id, points, awarded_at)"
        " select %s, id, %s, points, now() - make_interval(days => %s) from achievements"
        " where code = %s and community_id is null",
        (user, community, days_ago, code),
    )
