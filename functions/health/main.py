"""`health`: liveness without the database, readiness with it."""

from __future__ import annotations

from shared.platform import db
from shared.platform.http import Context, Function
from shared.platform.validation import View

fn = Function("health", body_limit=0, description="Liveness and readiness probes.")


class Live(View):
    """The instance is up."""

    status: str


class Ready(View):
    """The database answers; the newest migration it has applied."""

    status: str
    migration_version: str | None


@fn.get("/live", auth="public", rate_limit=None)
async def live(ctx: Context) -> Live:
    """Liveness: answers without touching the database."""
    return Live(status="ok")


@fn.get("/ready", auth="public", rate_limit=None, responses={503: "The database is unreachable"})
async def ready(ctx: Context) -> Ready:
    """Readiness: probes the database (503 when it is unreachable) and reports the schema version."""
    return Ready(status="ok", migration_version=await db.probe())


handler = fn.handler
