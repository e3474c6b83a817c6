"""Transactional events on pgmq, and the worker loop that delivers them to idempotent handlers.

An event is enqueued with `enqueue(tx, event)` inside the transaction of the change it announces, so it
exists iff that change committed (a transactional outbox without an extra table). No API role may send
events (a user who could would name any event, for any community, and the worker would apply it as the
service role), so the platform sends it as the platform role in the transaction's COMMIT round trip
(`Tx.as_platform_at_commit`): atomic with the change and without a round trip of its own. The worker reads a
batch with a visibility timeout; each handler runs in its own service transaction together with a row
in `app.applied_events`, so a redelivered event is applied at most once per handler. A message is
archived when every handler has applied it, left to reappear when one fails, and moved to the
dead-letter queue `events_dead`, with its last error, once it has been read `max_reads` times.

Two kinds of handler: most run inside the worker's transaction (`subscribe`); a handler that calls a
provider runs outside any transaction (`subscribe_outside_transaction`), opens its own short ones and is
idempotent itself (its applied-events record is written once it returned). Either may declare
`on_dead`: called, in a transaction of its own, when the event is dead-lettered before that handler
applied it, so work the event stood for (an import job, a delivery) can be marked failed with the reason.
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.platform import logging as log
from shared.platform.db import Tx, as_service
from shared.platform.sql import Order, Select

QUEUE = "events"
DEAD_LETTER_QUEUE = "events_dead"


class Event(BaseModel):
    """A fact that happened: name in the past tense (`member.joined`), schema version, payload."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100)
    version: int = 1
    payload: dict[str, Any] = Field(default_factory=dict)
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


_ENQUEUE_SQL = "select app.enqueue_event(%s::jsonb)"
_SEND_SQL = "select pgmq.send(%s, %s::jsonb) as msg_id"


async def enqueue(tx: Tx, event: Event) -> None:
    """Enqueue `event` in the caller's transaction: it is sent with the COMMIT, and only if it commits."""
    tx.as_platform_at_commit(_ENQUEUE_SQL, (event.model_dump_json(),))


EventHandler = Callable[[Tx, Event], Awaitable[None]]
"""Runs in the worker's transaction, together with its applied-events record."""
OutsideHandler = Callable[[Event], Awaitable[None]]
"""Runs outside any transaction (it calls a provider); opens its own short ones."""
DeadLetterHook = Callable[[Tx, Event, str], Awaitable[None]]
"""Called with the last error when the event is dead-lettered before its handler applied it."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """One handler of an event: its stable key, how it runs, what to do when the event dies."""

    key: str
    handler: EventHandler | None = None
    outside: OutsideHandler | None = None
    on_dead: DeadLetterHook | None = None

    @property
    def function(self) -> Callable[..., Awaitable[None]]:
        """The handler itself, whichever kind it is."""
        found = self.handler or self.outside
        assert found is not None
        return found


@dataclass(slots=True)
class Registry:
    """Event name → subscriptions, each with a stable name that keys its applied-events record."""

    handlers: dict[str, list[Subscription]] = field(default_factory=dict)

    def subscribe(
        self, event_name: str, *, name: str | None = None, on_dead: DeadLetterHook | None = None
    ) -> Callable[[EventHandler], EventHandler]:
        """Register a handler run in the worker's transaction; its name defaults to module.function."""

        def register(handler: EventHandler) -> EventHandler:
            key = name or f"{handler.__module__}.{handler.__qualname__}"
            self._add(event_name, Subscription(key, handler=handler, on_dead=on_dead))
            return handler

        return register

    def subscribe_outside_transaction(
        self, event_name: str, *, name: str | None = None, on_dead: DeadLetterHook | None = None
    ) -> Callable[[OutsideHandler], OutsideHandler]:
        """Register a handler run outside any transaction (provider calls); it must be idempotent itself."""

        def register(handler: OutsideHandler) -> OutsideHandler:
            key = name or f"{handler.__module__}.{handler.__qualname__}"
            self._add(event_name, Subscription(key, outside=handler, on_dead=on_dead))
            return handler

        return register

    def _add(self, event_name: str, subscription: Subscription) -> None:
        self.handlers.setdefault(event_name, []).append(subscription)

    def for_event(self, event_name: str) -> list[Subscription]:
        """The subscriptions of an event (none is fine: the event is archived)."""
        return list(self.handlers.get(event_name, []))


registry = Registry()
"""The process-wide registry the worker function delivers from; contexts subscribe at import."""


@dataclass(slots=True)
class BatchReport:
    """What one worker run did."""

    read: int = 0
    archived: int = 0
    retried: int = 0
    dead: int = 0

    def as_dict(self) -> dict[str, int]:
        """The report as JSON-ready counts."""
        return {"read": self.read, "archived": self.archived, "retried": self.retried, "dead": self.dead}


_READ_SQL = "select msg_id, read_ct, message from pgmq.read(%s, %s, %s)"
_ARCHIVE_SQL = "select pgmq.archive(%s, %s::bigint)"
_APPLY_SQL = (
    "insert into app.applied_events (event_id, handler) values (%s, %s) on conflict do nothing returning 1"
)
_IS_APPLIED_SQL = "select 1 from app.applied_events where event_id = %s and handler = %s"
_FAILURE_SQL = """
insert into app.event_failures (msg_id, event_name, last_error) values (%s, %s, %s)
on conflict (msg_id) do update
  set last_error = excluded.last_error, failures = app.event_failures.failures + 1, updated_at = now()
"""


async def run_batch(
    *, batch_size: int = 20, visibility_s: int = 60, max_reads: int = 5, handlers: Registry | None = None
) -> BatchReport:
    """Read up to `batch_size` events and deliver each; safe to run concurrently and to crash at any point."""
    handlers = handlers or registry
    report = BatchReport()
    async with as_service() as tx:
        messages = await tx.fetch_all(_READ_SQL, (QUEUE, visibility_s, batch_size))
    report.read = len(messages)
    for message in messages:
        outcome = await _deliver(message, handlers, max_reads)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


async def _deliver(message: dict[str, Any], handlers: Registry, max_reads: int) -> str:
    """Deliver one message; return which report counter it adds to."""
    msg_id, read_ct = int(message["msg_id"]), int(message["read_ct"])
    try:
        event = Event.model_validate(message["message"])
    except ValueError as exc:
        return await _bury(msg_id, message["message"], f"malformed event: {exc}")
    subscriptions = handlers.for_event(event.name)
    if read_ct > max_reads:
        return await _bury(msg_id, message["message"], None, event, subscriptions)
    for subscription in subscriptions:
        key = subscription.key
        try:
            await _apply(subscription, event)
        except Exception as exc:
            error = f"{key}: {type(exc).__name__}: {exc}"
            log.warning(
                "event handler failed",
                event=event.name,
                event_id=str(event.id),
                handler=key,
                read_ct=read_ct,
                traceback=traceback.format_exc(limit=8),
            )
            async with as_service() as tx:
                await tx.execute(_FAILURE_SQL, (msg_id, event.name, error[:2000]))
            if read_ct >= max_reads:
                return await _bury(msg_id, message["message"], None, event, subscriptions)
            return "retried"
    async with as_service() as tx:
        await tx.execute(_ARCHIVE_SQL, (QUEUE, msg_id))
        await tx.execute("delete from app.event_failures where msg_id = %s", (msg_id,))
    return "archived"


async def _apply(subscription: Subscription, event: Event) -> None:
    """Run one handler unless it applied this event before, and record that it did."""
    if subscription.handler is not None:
        async with as_service() as tx:
            if await tx.fetch_one(_APPLY_SQL, (event.id, subscription.key)) is not None:
                await subscription.handler(tx, event)
        return
    outside = subscription.outside
    assert outside is not None
    if await _is_applied(event, subscription.key):
        return
    await outside(event)  # no transaction is open here: the handler opens its own short ones
    async with as_service() as tx:
        await tx.execute(_APPLY_SQL, (event.id, subscription.key))


async def _is_applied(event: Event, key: str) -> bool:
    async with as_service() as tx:
        return await tx.fetch_one(_IS_APPLIED_SQL, (event.id, key)) is not None


async def _run_dead_letter_hooks(event: Event, subscriptions: list[Subscription], error: str) -> None:
    """Tell the handlers that had not applied the event that it died; a failing hook is logged, not fatal."""
    for subscription in subscriptions:
        if subscription.on_dead is None or await _is_applied(event, subscription.key):
            continue
        try:
            async with as_service() as tx:
                await subscription.on_dead(tx, event, error)
        except Exception as exc:
            log.error(
                "dead-letter hook failed",
                event=event.name,
                event_id=str(event.id),
                handler=subscription.key,
                error=f"{type(exc).__name__}: {exc}",
            )


async def _bury(
    msg_id: int,
    body: Any,
    error: str | None,
    event: Event | None = None,
    subscriptions: list[Subscription] | None = None,
) -> str:
    """Run the dead-letter hooks, then move the message to the dead-letter queue with its last error.

    Hooks run first: a crash between the two leaves the message to be buried (and the idempotent hooks
    run) again, where the other order could lose the hooks for good.
    """
    if error is None:
        async with as_service() as tx:
            error = await tx.fetch_val(
                "select last_error from app.event_failures where msg_id = %s", (msg_id,)
            )
    if event is not None and subscriptions:
        await _run_dead_letter_hooks(event, subscriptions, error or "exceeded max reads")
    async with as_service() as tx:
        dead = {
            "event": body,
            "error": error or "exceeded max reads",
            "msg_id": msg_id,
            "dead_at": datetime.now(UTC).isoformat(),
        }
        await tx.fetch_val(
            "select pgmq.send(%s, %s::jsonb)", (DEAD_LETTER_QUEUE, json.dumps(dead, default=str))
        )
        await tx.execute("select pgmq.delete(%s, %s::bigint)", (QUEUE, msg_id))
        await tx.execute("delete from app.event_failures where msg_id = %s", (msg_id,))
    log.error("event moved to dead letters", msg_id=msg_id, error=error)
    return "dead"


_DEAD_LETTERS_SQL = f"select msg_id, enqueued_at, message from pgmq.q_{DEAD_LETTER_QUEUE}"  # noqa: S608 - constant
_TAKE_DEAD_LETTER_SQL = f"delete from pgmq.q_{DEAD_LETTER_QUEUE} where msg_id = %s returning message"  # noqa: S608
NEWEST_FIRST = Order(("msg_id",), descending=True)


async def dead_letters(tx: Tx, *, limit: int, before: int | None = None) -> list[dict[str, Any]]:
    """The newest dead letters first (msg_id, enqueued_at, message), those older than `before` if given."""
    after = None if before is None else (before,)
    return await tx.fetch_all(*Select(_DEAD_LETTERS_SQL).page(NEWEST_FIRST, after, limit))


async def retry_dead_letter(tx: Tx, msg_id: int) -> tuple[int, Event] | None:
    """Move a dead letter's event back to the queue in the caller's transaction: (new msg_id, event).

    None when there is no such dead letter; ValueError when its body is not an event (roll back then).
    The event keeps its id, so handlers that applied it before its death do not apply it again.
    """
    row = await tx.fetch_one(_TAKE_DEAD_LETTER_SQL, (msg_id,))
    if row is None:
        return None
    body = row["message"]
    event = Event.model_validate(body.get("event") if isinstance(body, dict) else None)
    # The worker's own service transaction, and the new message id is part of the answer: sent now.
    new_id = await tx.fetch_val(_SEND_SQL, (QUEUE, event.model_dump_json()))
    return int(new_id), event
