"""The contract of the `notifications` function."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from shared.platform.pagination import PageQuery
from shared.platform.validation import View


class NotificationQuery(PageQuery):
    """Your notifications, newest first."""

    unread: bool | None = Field(default=None, description="true: only the unread ones")


class NotificationView(View):
    """One notification: what happened, where to go, and whether you have read it."""

    id: UUID
    community_id: UUID | None
    kind: str = Field(description="forum.replied, achievement.awarded, …")
    subject: str
    link: str | None
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationPage(View):
    """One page of notifications, and how many are unread in all."""

    items: list[NotificationView]
    next_cursor: str | None
    unread_count: int


class MarkedRead(View):
    """How many notifications were marked read."""

    marked: int
