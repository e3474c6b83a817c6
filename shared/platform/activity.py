"""Keeping `profiles.last_active_at`: at most one write per user per interval, never an extra round trip.

Each instance remembers when it last marked each user. When a user is due, one statement joins the
short transaction that counts the request's rate-limit hit (the opening Query, so no round trip is
added) and commits with it, whatever becomes of the request. `app.touch_last_active` writes at most
once per interval per user however many instances send it, and skips a row another transaction holds.
"""

from __future__ import annotations

import time
from uuid import UUID

from shared.platform.db import Statement

INTERVAL_S = 300.0
"""How often a user's activity is written; `app.touch_last_active` holds the same 5 minutes."""
TOUCH_SQL = "select app.touch_last_active(%s)"


class ActivityMemo:
    """When this instance last marked each user active (monotonic seconds), bounded in size."""

    def __init__(self, max_entries: int = 10_000, interval_s: float = INTERVAL_S) -> None:
        self.max_entries = max_entries
        self.interval_s = interval_s
        self.marked: dict[UUID, float] = {}

    def claim(self, user_id: UUID, now: float | None = None) -> bool:
        """Whether the user is due to be marked; if so, remember them as marked now."""
        now = time.monotonic() if now is None else now
        last = self.marked.get(user_id)
        if last is not None and now - last < self.interval_s:
            return False
        self.marked.pop(user_id, None)
        if len(self.marked) >= self.max_entries:
            self._evict(now)
        self.marked[user_id] = now
        return True

    def clear(self) -> None:
        """Forget every mark (tests, which give each test a fresh database)."""
        self.marked.clear()

    def _evict(self, now: float) -> None:
        self.marked = {u: t for u, t in self.marked.items() if now - t < self.interval_s}
        while len(self.marked) >= self.max_entries:
            del self.marked[next(iter(self.marked))]  # the oldest mark: dicts keep insertion order


memo = ActivityMemo()


def touch_statement(user_id: UUID) -> Statement | None:
    """The statement recording the user's activity, when this instance has not sent it within the interval."""
    return (TOUCH_SQL, (user_id,)) if memo.claim(user_id) else None
