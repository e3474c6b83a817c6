"""`maintenance`: nightly purges of expired keys, old rate-limit windows, dead letters, event records and
uploads nobody can use any more."""

from __future__ import annotations

import functools

from shared.platform import maintenance
from shared.platform.http import Context, Function
from shared.platform.validation import View

fn = Function("maintenance", body_limit=1024, description="Nightly housekeeping, called by its schedule.")
fn.schedule("maintenance-nightly", "30 3 * * *", "/run")


class MaintenanceRun(View):
    """Rows deleted per purge, and the purges that failed (their errors are in the logs)."""

    purged: dict[str, int]
    failed: list[str]


@fn.post("/run", auth="service", rate_limit=None, tx=None)
async def run(ctx: Context) -> MaintenanceRun:
    """Run every purge, each in a transaction of its own; dead uploads go with their stored files."""
    # Imported here (cold start): the uploads' service and contract are needed by this nightly run only.
    from shared.content.uploads import service as uploads

    purge_uploads = functools.partial(uploads.purge_dead, ctx.settings.storage)
    report = await maintenance.run_all(tasks={"dead_uploads": purge_uploads})
    return MaintenanceRun(purged=report.purged, failed=report.failed)


handler = fn.handler
