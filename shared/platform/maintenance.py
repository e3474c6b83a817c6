"""Nightly housekeeping: delete what has outlived its purpose, one purge per table, each on its own.

A purge is one DELETE, so it commits or fails alone and one failing purge does not stop the others.
Adding a purge is one more entry in PURGES (e.g. expired signup links:
`Purge("signup_links", "public.signup_links", "expires_at < now()")`).

Most purges run as service_role. `app.rate_limits` and `app.idempotency_keys` are written only by the
database login role, in statements of their own ahead of a request's transaction, and no API role has
privileges on them; their purges run the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, LiteralString

from shared.platform import logging as log
from shared.platform.config import get_settings
from shared.platform.db import Statement, as_login_role, as_service
from shared.platform.sql import compose, identifier

APPLIED_EVENTS_RETENTION_DAYS = 30


@dataclass(frozen=True, slots=True)
class Purge:
    """Delete the rows of `table` that match `condition` (SQL that may use the named retention parameters)."""

    name: str
    table: str
    condition: LiteralString
    as_login_role: bool = False


_PAST_COMMUNITY_RETENTION = """exists (
  select 1 from public.community_ai_settings s
   where s.community_id = ai_conversations.community_id
     and ai_conversations.last_message_at < now() - make_interval(days => s.conversation_retention_days))"""

PURGES: tuple[Purge, ...] = (
    Purge("idempotency_keys", "app.idempotency_keys", "expires_at < now()", as_login_role=True),
    Purge("rate_limits", "app.rate_limits", "window_start < now() - interval '1 day'", as_login_role=True),
    Purge("dead_letters", "pgmq.q_events_dead", "enqueued_at < now() - make_interval(days => %(dead_days)s)"),
    Purge("archived_events", "pgmq.a_events", "archived_at < now() - interval '30 days'"),
    Purge(
        "applied_events", "app.applied_events", "applied_at < now() - make_interval(days => %(applied_days)s)"
    ),
    Purge("webhook_events", "app.webhook_events", "received_at < now() - interval '90 days'"),
    # A community's retention setting (null: kept forever); the usage ledger keeps its rows, unlinked.
    Purge("ai_conversations", "public.ai_conversations", _PAST_COMMUNITY_RETENTION),
    # In-app notifications 90 days after they were read; unread ones wait for their reader.
    Purge("notifications", "public.notifications", "read_at < now() - interval '90 days'"),
)


@dataclass(slots=True)
class MaintenanceReport:
    """Rows deleted per purge, and the purges that failed (logged with their error)."""

    purged: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def retention_params(dead_days: int | None = None) -> dict[str, int]:
    """The retention parameters of the purges: dead letters' from the settings unless given."""
    if dead_days is None:
        dead_days = get_settings().dead_letter_retention_days
    # A retried dead letter keeps its event id: its handlers' applied records must outlive it.
    return {"dead_days": dead_days, "applied_days": max(APPLIED_EVENTS_RETENTION_DAYS, dead_days)}


def delete_statement(purge: Purge, params: Mapping[str, Any]) -> Statement:
    """The purge as one statement that returns how many rows it deleted."""
    template = (
        "with gone as (delete from {table} where {condition} returning 1) select count(*) as n from gone"
    )
    return compose(template, table=identifier(purge.table), condition=purge.condition), dict(params)


async def run_purge(purge: Purge, params: Mapping[str, Any]) -> int:
    """Run one purge in a transaction of its own; the number of rows it deleted."""
    statement = delete_statement(purge, params)
    if purge.as_login_role:
        return int((await as_login_role(*statement))[0]["n"])
    async with as_service() as tx:
        return int(await tx.fetch_val(*statement))


Task = Callable[[], Awaitable[int]]
"""A purge that is more than one DELETE (e.g. it removes stored files too); how many rows it removed."""


async def run_all(
    purges: tuple[Purge, ...] = PURGES,
    params: Mapping[str, Any] | None = None,
    tasks: Mapping[str, Task] | None = None,
) -> MaintenanceReport:
    """Run every purge, then every task; a failing one is logged and reported, and the others still run."""
    params = retention_params() if params is None else params
    steps: dict[str, Task] = {p.name: functools.partial(run_purge, p, params) for p in purges}
    report = MaintenanceReport()
    for name, step in {**steps, **(tasks or {})}.items():
        try:
            report.purged[name] = count = await step()
        except Exception as exc:
            log.error("purge failed", purge=name, error=type(exc).__name__, detail=str(exc)[:500])
            report.failed.append(name)
            continue
        log.info("purged", purge=name, rows=count)
    return report
