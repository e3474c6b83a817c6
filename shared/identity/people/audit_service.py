"""Reading the audit trail: the whole of it for staff, a community's own entries for its admins."""

from __future__ import annotations

from shared.identity import policy
from shared.identity.communities.scope import require_existing
from shared.identity.people.audit_repository import AuditFilter, list_entries
from shared.identity.people.audit_schemas import AuditEntryView, AuditPage, AuditQuery
from shared.platform import cursors
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.pagination import page_of


async def list_entries_page(query: AuditQuery, *, tx: Tx, principal: Principal) -> AuditPage:
    """Audit entries matching the filters, newest first: a community's (its admins, staff) or all (staff)."""
    if query.community_id is None:
        policy.require_staff_reader(principal)
    else:
        policy.require_community_reader(principal, query.community_id)
        await require_existing(tx, principal, query.community_id)
    where = AuditFilter(
        community_id=query.community_id,
        actor_id=query.actor_id,
        action=query.action,
        target_type=query.target_type,
        target_id=query.target_id,
        occurred_from=query.from_,
        occurred_to=query.to,
        before_id=cursors.integer(query.cursor),
    )
    rows = await list_entries(tx, where, query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=lambda r: [r["id"]])
    return AuditPage(items=[AuditEntryView.model_validate(r) for r in page], next_cursor=next_cursor)
