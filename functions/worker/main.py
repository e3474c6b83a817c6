"""`worker`: drains the events queue into the registered handlers; lists and retries dead letters."""

from __future__ import annotations

import importlib

from shared.platform import worker
from shared.platform.http import Context, Function
from shared.platform.pagination import PageQuery

HANDLER_MODULES: tuple[str, ...] = (
    "shared.integrations.handlers",
    "shared.identity.onboarding.handlers",
    "shared.gamification.handlers",
    "shared.learning.milestones.handlers",
    "shared.notifications.handlers",
)
"""Modules whose import subscribes handlers to `events.registry`, e.g. "shared.learning.handlers"."""
for _module in HANDLER_MODULES:
    importlib.import_module(_module)

fn = Function("worker", body_limit=1024, description="Delivers queued events to their handlers.")
fn.schedule("worker-drain", "* * * * *", "/run")


@fn.post("/run", auth="service", rate_limit=None, tx=None)
async def run(ctx: Context) -> worker.WorkerReport:
    """Deliver queued events in batches until the queue is drained or the time budget is spent."""
    return await worker.drain(ctx.settings)


@fn.get("/dead-letters", auth="service", rate_limit=None, query=PageQuery)
async def list_dead_letters(ctx: Context, query: PageQuery) -> worker.DeadLetterPage:
    """The newest dead letters first, with their last error."""
    return await worker.dead_letter_page(ctx.db, limit=query.limit, cursor=query.cursor)


@fn.post("/dead-letters/{msg_id:int}/retry", auth="service", rate_limit=None)
async def retry_dead_letter(ctx: Context, msg_id: int) -> worker.RetriedDeadLetter:
    """Put a dead letter's event back on the queue and remove the dead letter, in one transaction."""
    return await worker.retry_dead_letter(ctx.db, msg_id)


handler = fn.handler
