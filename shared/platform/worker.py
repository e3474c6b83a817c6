"""The worker's use cases: drain the events queue in batches, list dead letters, put one back on the queue."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from shared.platform import cursors, events
from shared.platform.config import Settings
from shared.platform.db import Tx
from shared.platform.errors import ConflictError, NotFoundError
from shared.platform.pagination import page_of
from shared.platform.validation import View

TIME_BUDGET_S = 45.0
"""A run starts no new batch after this long, so a once-a-minute schedule never overlaps much."""


class WorkerReport(View):
    """What one drain did, summed over its batches."""

    batches: int
    read: int
    archived: int
    retried: int
    dead: int


class DeadLetter(View):
    """An event that could not be delivered, with the last error."""

    msg_id: int
    dead_at: datetime
    event_name: str | None
    event_id: str | None
    error: str | None
    original_msg_id: int | None
    event: Any


class DeadLetterPage(View):
    """Dead letters and the cursor of the next page (null on the last)."""

    items: list[DeadLetter]
    next_cursor: str | None


class RetriedDeadLetter(View):
    """A dead letter's event, back on the queue under a new message id."""

    msg_id: int
    event_id: str
    event_name: str


async def drain(settings: Settings, time_budget_s: float = TIME_BUDGET_S) -> WorkerReport:
    """Deliver queued events in batches until the queue is drained or the time budget is spent."""
    deadline = time.monotonic() + time_budget_s
    totals = dict.fromkeys(("read", "archived", "retried", "dead"), 0)
    batches = 0
    while True:
        report = await events.run_batch(
            batch_size=settings.worker_batch_size,
            visibility_s=settings.worker_visibility_s,
            max_reads=settings.worker_max_reads,
        )
        batches += 1
        for name, count in report.as_dict().items():
            totals[name] += count
        # Go on while batches make progress: a handler may enqueue follow-up events (an import's next
        # chunk), which a run should drain too. A batch of nothing but retries ends the run.
        made_progress = report.archived + report.dead > 0
        if report.read == 0 or not made_progress or time.monotonic() >= deadline:
            return WorkerReport(batches=batches, **totals)


async def dead_letter_page(tx: Tx, *, limit: int, cursor: str | None) -> DeadLetterPage:
    """The newest dead letters first, with their last error; `cursor` continues a previous page."""
    rows = await events.dead_letters(tx, limit=limit + 1, before=cursors.integer(cursor))
    page, next_cursor = page_of(rows, limit, key=lambda row: [row["msg_id"]])
    return DeadLetterPage(items=[_dead_letter(row) for row in page], next_cursor=next_cursor)


async def retry_dead_letter(tx: Tx, msg_id: int) -> RetriedDeadLetter:
    """Put a dead letter's event back on the queue and remove the dead letter, in the caller's transaction."""
    try:
        moved = await events.retry_dead_letter(tx, msg_id)
    except ValueError:
        raise ConflictError("This dead letter is not a valid event, so it cannot be retried.") from None
    if moved is None:
        raise NotFoundError("No such dead letter.")
    new_id, event = moved
    return RetriedDeadLetter(msg_id=new_id, event_id=str(event.id), event_name=event.name)


def _dead_letter(row: dict[str, Any]) -> DeadLetter:
    body = row["message"] if isinstance(row["message"], dict) else {}
    event = body.get("event")
    fields = event if isinstance(event, dict) else {}
    return DeadLetter(
        msg_id=row["msg_id"],
        dead_at=row["enqueued_at"],
        event_name=_str_or_none(fields.get("name")),
        event_id=_str_or_none(fields.get("id")),
        error=_str_or_none(body.get("error")),
        original_msg_id=body.get("msg_id") if isinstance(body.get("msg_id"), int) else None,
        event=event,
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
