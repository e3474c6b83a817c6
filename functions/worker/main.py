"""`worker`: drains the events queue into the registered handlers; lists and retries dead letters."""

from __future__ import annotations

import importlib
import os
import time
from datetime import datetime
from typing import Any

from shared.platform import events
from shared.platform.errors import (
    ConfigError,
    ConflictError,
    FieldError,
    NotFoundError,
    ValidationFailedError,
)
from shared.platform.http import Context, Function
from shared.platform.pagination import PageQuery, decode_cursor, page_of
from shared.platform.validation import View

HANDLER_MODULES: tuple[str, ...] = ("shared.integrations.handlers", "shared.identity.onboarding.handlers")
"""Modules whose import subscribes handlers to `events.registry`, e.g. "shared.learning.handlers"."""
for _module in HANDLER_MODULES:
    importlib.import_module(_module)

TIME_BUDGET_S = 45.0
"""A run starts no new batch after this long, so a once-a-minute schedule never overlaps much."""

fn = Function("worker", body_limit=1024, description="Delivers queued events to their handlers.")
fn.schedule("worker-drain", "* * * * *", "/run")


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


@fn.post("/run", auth="service", rate_limit=None, tx=None)
async def run(ctx: Context) -> WorkerReport:
    """Deliver queued events in batches until the queue is drained or the time budget is spent."""
    batch_size = _env_int("WORKER_BATCH_SIZE", 50, minimum=1)
    visibility_s = _env_int("WORKER_VISIBILITY_SECONDS", 60, minimum=0)
    max_reads = _env_int("WORKER_MAX_READS", 5, minimum=1)
    deadline = time.monotonic() + TIME_BUDGET_S
    totals = dict.fromkeys(("read", "archived", "retried", "dead"), 0)
    batches = 0
    while True:
        report = await events.run_batch(batch_size=batch_size, visibility_s=visibility_s, max_reads=max_reads)
        batches += 1
        for name, count in report.as_dict().items():
            totals[name] += count
        # Go on while batches make progress: a handler may enqueue follow-up events (an import's next
        # chunk), which a run should drain too. A batch of nothing but retries ends the run.
        made_progress = report.archived + report.dead > 0
        if report.read == 0 or not made_progress or time.monotonic() >= deadline:
            return WorkerReport(batches=batches, **totals)


@fn.get("/dead-letters", auth="service", rate_limit=None, query=PageQuery)
async def list_dead_letters(ctx: Context, query: PageQuery) -> DeadLetterPage:
    """The newest dead letters first, with their last error."""
    rows = await events.dead_letters(ctx.db, limit=query.limit + 1, before=_before(query.cursor))
    page, next_cursor = page_of(rows, query.limit, key=lambda row: [row["msg_id"]])
    return DeadLetterPage(items=[_dead_letter(row) for row in page], next_cursor=next_cursor)


@fn.post("/dead-letters/{msg_id:int}/retry", auth="service", rate_limit=None)
async def retry_dead_letter(ctx: Context, msg_id: int) -> RetriedDeadLetter:
    """Put a dead letter's event back on the queue and remove the dead letter, in one transaction."""
    try:
        moved = await events.retry_dead_letter(ctx.db, msg_id)
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


def _before(cursor: str | None) -> int | None:
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    if isinstance(key[0], bool) or not isinstance(key[0], int):
        raise ValidationFailedError(
            [FieldError("query.cursor", "Not a cursor from this list.", "cursor_invalid")]
        )
    return key[0]


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _env_int(name: str, default: int, *, minimum: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ConfigError(f"{name} must be an integer of at least {minimum}")
    return int(raw)


handler = fn.handler
