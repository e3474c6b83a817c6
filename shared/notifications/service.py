"""Notification use cases: the recipient lists theirs and marks them read (the worker writes them: handlers.py)."""

from __future__ import annotations

from uuid import UUID

from shared.notifications import repository
from shared.notifications.schemas import MarkedRead, NotificationPage, NotificationQuery, NotificationView
from shared.platform import cursors
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import NotFoundError
from shared.platform.pagination import page_of, time_and_id


class NotificationNotFoundError(NotFoundError):
    title = "No such notification"


async def list_mine(query: NotificationQuery, *, tx: Tx, principal: Principal) -> NotificationPage:
    """A page of the caller's notifications, newest first, with their unread count."""
    after = cursors.time_and_id(query.cursor)
    rows = await repository.page(tx, principal.user_id, unread=query.unread, after=after, limit=query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
    return NotificationPage(
        items=[NotificationView.model_validate(r) for r in page],
        next_cursor=next_cursor,
        unread_count=await repository.unread_count(tx, principal.user_id),
    )


async def mark_read(notification_id: UUID, *, tx: Tx) -> NotificationView:
    """Mark one of the caller's notifications read; anyone else's is a 404."""
    if not await repository.mark_read(tx, notification_id):
        raise NotificationNotFoundError()
    row = await repository.get(tx, notification_id)
    if row is None:
        raise NotificationNotFoundError()
    return NotificationView.model_validate(row)


async def mark_all_read(*, tx: Tx, principal: Principal) -> MarkedRead:
    """Mark every unread notification of the caller read."""
    return MarkedRead(marked=await repository.mark_all_read(tx, principal.user_id))
