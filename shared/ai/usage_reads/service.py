"""Usage read use cases: a community's months against its quota, and one month by agent and by user.

A community's admins read their own community's usage and staff (any role) any community's, or every
community's together when none is named. Learners read none of it, not even their own (403).
"""

from __future__ import annotations

from typing import LiteralString

from shared.ai.usage_reads import repository
from shared.ai.usage_reads.schemas import (
    AgentUsage,
    AgentUsagePage,
    BreakdownQuery,
    MonthsQuery,
    MonthsView,
    MonthUsage,
    UsageScope,
    UserUsage,
    UserUsagePage,
)
from shared.identity.communities.scope import require_reader_scope
from shared.platform import cursors
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.pagination import page_of


async def months(query: MonthsQuery, *, tx: Tx, principal: Principal) -> MonthsView:
    """Each month of the range: tokens counted against the quota, the quota and what remains, the ledger."""
    await _require_scope(query, tx, principal)
    first, last = query.range
    rows = await repository.months(tx, query.community_id, first, last)
    return MonthsView(community_id=query.community_id, months=[MonthUsage.model_validate(r) for r in rows])


async def by_agent(query: BreakdownQuery, *, tx: Tx, principal: Principal) -> AgentUsagePage:
    """One month's usage per agent, most tokens first."""
    items, next_cursor = await _breakdown(query, repository.BY_AGENT, tx, principal)
    return AgentUsagePage(
        month=query.first_day, items=[AgentUsage.model_validate(r) for r in items], next_cursor=next_cursor
    )


async def by_user(query: BreakdownQuery, *, tx: Tx, principal: Principal) -> UserUsagePage:
    """One month's usage per user, most tokens first."""
    items, next_cursor = await _breakdown(query, repository.BY_USER, tx, principal)
    return UserUsagePage(
        month=query.first_day, items=[UserUsage.model_validate(r) for r in items], next_cursor=next_cursor
    )


async def _breakdown(
    query: BreakdownQuery, key: LiteralString, tx: Tx, principal: Principal
) -> tuple[list[Row], str | None]:
    await _require_scope(query, tx, principal)
    after = cursors.number_and_id(query.cursor)
    rows = await repository.breakdown(
        tx, key, community_id=query.community_id, month=query.first_day, after=after, limit=query.limit + 1
    )
    return page_of(rows, query.limit, key=lambda r: [r["total_tokens"], str(r["key"])])


async def _require_scope(query: UsageScope, tx: Tx, principal: Principal) -> None:
    await require_reader_scope(tx, principal, query.community_id)
