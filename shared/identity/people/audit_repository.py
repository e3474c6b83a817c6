"""Hand-written SQL reading the audit log. Row level security limits a community admin to their communities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.platform.db import Row, Tx

# The actor's e-mail comes from app.audit_actor_email: row level security on profiles hides staff and
# former members from a community admin, who must still see who acted in their community.
_SELECT = """
select a.id, a.occurred_at, a.actor_id, a.actor_type, app.audit_actor_email(a.id) as actor_email, a.action,
       a.target_type, a.target_id, a.community_id, a.before, a.after, a.request_id, a.ip, a.user_agent
from public.audit_log a
"""
# Each optional filter is a fixed fragment; only the values vary, always as bound parameters.
_FILTERS = {
    "community_id": "a.community_id = %(community_id)s",
    "actor_id": "a.actor_id = %(actor_id)s",
    "action": "a.action = %(action)s",
    "target_type": "a.target_type = %(target_type)s",
    "target_id": "a.target_id = %(target_id)s",
    "occurred_from": "a.occurred_at >= %(occurred_from)s",
    "occurred_to": "a.occurred_at < %(occurred_to)s",
    "before_id": "a.id < %(before_id)s",
}


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
    params: dict[str, object] = {"limit": limit}
    clauses = []
    for name, clause in _FILTERS.items():
        value = getattr(where, name)
        if value is not None:
            clauses.append(clause)
            params[name] = value
    condition = ("where " + " and ".join(clauses) + "\n") if clauses else ""
    return await tx.fetch_all(_SELECT + condition + "order by a.id desc limit %(limit)s", params)
