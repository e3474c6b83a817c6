"""`notifications`: your in-app notifications (replies to your posts, achievements), newest first."""

from __future__ import annotations

from uuid import UUID

from shared.notifications import service
from shared.notifications.schemas import MarkedRead, NotificationPage, NotificationQuery, NotificationView
from shared.platform.http import Context, Function

fn = Function("notifications", body_limit=1024, description="Your in-app notifications.")


@fn.get("/", query=NotificationQuery)
async def list_notifications(ctx: Context, query: NotificationQuery) -> NotificationPage:
    """Your notifications, newest first (`unread=true`: only unread), with the unread count."""
    return await service.list_mine(query, tx=ctx.db, principal=ctx.user)


@fn.post("/{notification_id:uuid}/read")
async def mark_read(ctx: Context, notification_id: UUID) -> NotificationView:
    """Mark one of your notifications read."""
    return await service.mark_read(notification_id, tx=ctx.db)


@fn.post("/read-all")
async def mark_all_read(ctx: Context) -> MarkedRead:
    """Mark all your notifications read."""
    return await service.mark_all_read(tx=ctx.db, principal=ctx.user)


handler = fn.handler
