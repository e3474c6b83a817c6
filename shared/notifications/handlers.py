"""Event handlers writing notifications, registered on the worker's registry at import.

Each runs in the worker's service transaction with its `app.applied_events` row; a notification is also
unique per event and recipient, so a redelivered event writes nothing twice. The handler names are stable
keys of that record: never rename them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.notifications import repository
from shared.platform.db import Tx
from shared.platform.events import Event, registry

REPLIED = "forum.replied"
AWARDED = "achievement.awarded"
INVITATIONS_SENT = "invitations.delivery_requested"
INVITED = "invitation.received"
SUBJECT_LIMIT = 300


class _Replied(BaseModel):
    # Lenient about fields the event may add later; strict about the ones read here.
    model_config = ConfigDict(extra="ignore")

    user_id: UUID
    community_id: UUID
    post_id: UUID
    reply_id: UUID
    post_author_id: UUID | None
    post_title: str
    author_name: str | None = None


class _Awarded(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_id: UUID
    community_id: UUID
    achievement_id: UUID
    name: str
    tier: str
    points: int


async def on_replied(tx: Tx, event: Event) -> None:
    """Tell a post's author someone replied (not when they replied themselves, nor to a departed author)."""
    replied = _Replied.model_validate(event.payload)
    if replied.post_author_id is None or replied.post_author_id == replied.user_id:
        return
    who = replied.author_name or "Someone"
    await _write(
        tx,
        event,
        user_id=replied.post_author_id,
        community_id=replied.community_id,
        subject=f"{who} replied to your post “{replied.post_title}”",
        link=f"/forum/posts/{replied.post_id}#reply-{replied.reply_id}",
        data={"post_id": str(replied.post_id), "reply_id": str(replied.reply_id)},
    )


async def on_awarded(tx: Tx, event: Event) -> None:
    """Tell a learner they earned an achievement."""
    awarded = _Awarded.model_validate(event.payload)
    await _write(
        tx,
        event,
        user_id=awarded.user_id,
        community_id=awarded.community_id,
        subject=f"You earned “{awarded.name}” ({awarded.tier}, {awarded.points} points)",
        link="/achievements",
        data={"achievement_id": str(awarded.achievement_id)},
    )


async def on_invitations_sent(tx: Tx, event: Event) -> None:
    """Tell people who already have an account that a community invited them (they accept in the app)."""
    ids = [str(UUID(str(i))) for i in event.payload.get("invitation_ids", [])]
    for row in await repository.invited_accounts(tx, ids):
        await _write(
            tx,
            event,
            user_id=row["user_id"],
            community_id=row["community_id"],
            subject=f"You are invited to join {row['community_name']}",
            link="/invitations",
            data={"invitation_id": str(row["id"])},
            kind=INVITED,
        )


async def _write(
    tx: Tx,
    event: Event,
    *,
    user_id: UUID,
    community_id: UUID,
    subject: str,
    link: str,
    data: dict[str, Any],
    kind: str | None = None,
) -> None:
    await repository.insert(
        tx,
        user_id=user_id,
        community_id=community_id,
        kind=kind or event.name,
        subject=subject[: SUBJECT_LIMIT - 1] + "…" if len(subject) > SUBJECT_LIMIT else subject,
        link=link,
        data=data,
        event_id=event.id,
    )


registry.subscribe(REPLIED, name="notifications.forum.replied")(on_replied)
registry.subscribe(AWARDED, name="notifications.achievement.awarded")(on_awarded)
registry.subscribe(INVITATIONS_SENT, name="notifications.invitations.delivery_requested")(on_invitations_sent)
