"""Hand-written SQL reading the audit log. Row level security limits a community admin to their communities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

# The actor's e-mail comes from app.audit_actor_email: row level security on profiles hides staff and
# former members from a community admin, who must still see who acted in their community.
_SELECT = """
select a.id, a.occurred_at, a.actor_id, a.actor_type, app.audit_actor_email(a.id) as actor_email, a.action,
       a.target_type, a.target_id, a.community_id, a.before, a.after, a.request_id, a.ip, a.user_agent
from public.audit_log a
"""
NEWEST_FIRST = Order(("a.id",), descending=True)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What narrows the audit trail; `before_id` is the keyset position (ids descend)."""

    community_id: UUID | None = None
    actor_id: UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    before_id: int | None = None


async def list_entries(tx: Tx, where: AuditFilter, limit: int) -> list[Row]:
    """Up to `limit` entries matching `where`, newest first, with the actor's email."""
    entries = (
        Select(_SELECT)
        .filter("a.community_id = %(community_id)s", community_id=where.community_id)
        .filter("a.actor_id = %(actor_id)s", actor_id=where.actor_id)
        .filter("a.action = %(action)s", action=where.action)
        .filter("a.target_type = %(target_type)s", target_type=where.target_type)
        .filter("a.target_id = %(target_id)s", target_id=where.target_id)
        .filter("a.occurred_at >= %(occurred_from)s", occurred_from=where.occurred_from)
        .filter("a.occurred_at < %(occurred_to)s", occurred_to=where.occurred_to)
    )
    after = None if where.before_id is None else (where.before_id,)
    return await tx.fetch_all(*entries.page(NEWEST_FIRST, after, limit))
