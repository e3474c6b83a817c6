"""Reading the audit trail: the whole of it for staff, a community's own entries for its admins."""

from __future__ import annotations

from uuid import UUID

from shared.identity.people import cursors, policy
from shared.identity.people.audit_repository import AuditFilter, list_entries
from shared.identity.people.schemas import AuditEntryView, AuditPage, AuditQuery, CommunityAuditQuery
from shared.identity.people.service import ensure_community
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.pagination import page_of


async def list_all(query: AuditQuery, *, tx: Tx, principal: Principal) -> AuditPage:
    """Every audit entry matching the filters, newest first (staff only)."""
    policy.require_staff_reader(principal)
    return await _page(tx, query, query.community_id)


async def list_for_community(
    community_id: UUID, query: CommunityAuditQuery, *, tx: Tx, principal: Principal
) -> AuditPage:
    """The community's audit entries matching the filters, newest first (its admins and staff)."""
    policy.require_community_reader(principal, community_id)
    await ensure_community(tx, principal, community_id)
    return await _page(tx, query, community_id)


async def _page(tx: Tx, query: CommunityAuditQuery, community_id: UUID | None) -> AuditPage:
    where = AuditFilter(
        community_id=community_id,
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
