"""The video provider's "transcript ready" callback: validate, enqueue, and later store the transcript.

A transcript is stored under the provider's own video id in `app.video_transcripts`; the database
attaches it to every video item naming the same platform and platform video id, whether the item
exists already or is created later (supabase/migrations/20261201000100_content.sql).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from shared.platform import logging as log
from shared.platform.db import Tx
from shared.platform.errors import ValidationFailedError
from shared.platform.events import Event, enqueue
from shared.platform.validation import field_errors

if TYPE_CHECKING:
    from shared.integrations.video_payloads import TranscriptReady

PROVIDER = "video"
EVENT_NAME = "video.transcript_ready"


def parse(payload: Any) -> TranscriptReady:
    """The validated callback, or a 422 naming every failing field."""
    # Imported here (cold start): only this route and the worker's handler build the callback's models.
    from shared.integrations import video_payloads

    try:
        return video_payloads.TranscriptReady.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailedError(field_errors(exc, "body")) from None


async def accept_transcript(tx: Tx, webhook_id: str, payload: Any) -> Event:
    """Validate the callback and enqueue `video.transcript_ready` in the webhook's transaction."""
    body = parse(payload)
    event = Event(
        name=EVENT_NAME,
        payload={
            "webhook_id": webhook_id,
            "platform": body.data.platform,
            "video_id": body.data.video_id,
            "language": body.data.language,
            "transcript": body.data.transcript,
        },
    )
    await enqueue(tx, event)
    log.info("transcript accepted", platform=body.data.platform, video_id=body.data.video_id)
    return event


UPSERT_TRANSCRIPT_SQL = """
insert into app.video_transcripts (platform, provider_video_id, language, transcript, received_at)
values (%(platform)s, %(video_id)s, %(language)s, %(transcript)s, %(received_at)s)
on conflict (platform, provider_video_id) do update
   set language = excluded.language, transcript = excluded.transcript, received_at = excluded.received_at
 where app.video_transcripts.received_at <= excluded.received_at
"""
"""Newest callback wins: a redelivered older event never replaces a transcript received after it."""


async def store_transcript(tx: Tx, event: Event) -> None:
    """Upsert the transcript an event carries, keyed by platform and provider video id."""
    from shared.integrations.video_payloads import TranscriptData  # cold start, as in parse

    data = TranscriptData.model_validate(event.payload)
    received_at: datetime = event.occurred_at
    await tx.execute(
        UPSERT_TRANSCRIPT_SQL,
        {
            "platform": data.platform,
            "video_id": data.video_id,
            "language": data.language,
            "transcript": data.transcript,
            "received_at": received_at,
        },
    )
