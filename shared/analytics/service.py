"""Dashboard use cases: totals and series per day, top content, top learners, learners at risk.

A community's admins read their own community; staff (any role) any community, or every community
together when none is named. Learners read none of it (403), not even their own figures.
"""

from __future__ import annotations

from datetime import date

from shared.analytics import repository
from shared.analytics.schemas import (
    AtRiskList,
    AtRiskQuery,
    ContentFigures,
    ContentRanking,
    Dashboard,
    DayFigures,
    LearnerAtRisk,
    LearnerFigures,
    LearnerRanking,
    RangeQuery,
    TopQuery,
    Totals,
)
from shared.identity.communities.scope import require_reader_scope
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx


async def dashboard(query: RangeQuery, *, tx: Tx, principal: Principal) -> Dashboard:
    """Totals over the range and the figures of each day."""
    await require_reader_scope(tx, principal, query.community_id)
    first, last = query.range
    totals = await repository.totals(tx, query.community_id, first, last)
    days = await repository.series(tx, query.community_id, first, last)
    return Dashboard(
        community_id=query.community_id,
        from_day=first,
        to_day=last,
        totals=Totals.model_validate(totals),
        series=[DayFigures.model_validate(d) for d in days],
    )


async def top_content(query: TopQuery, *, tx: Tx, principal: Principal) -> ContentRanking:
    """Content by completions over the range, most first."""
    await require_reader_scope(tx, principal, query.community_id)
    rows = await repository.top_content(tx, query.community_id, *query.range, query.limit)
    return ContentRanking(items=[ContentFigures.model_validate(r) for r in rows])


async def top_learners(query: TopQuery, *, tx: Tx, principal: Principal) -> LearnerRanking:
    """Learners by completions over the range, most first."""
    await require_reader_scope(tx, principal, query.community_id)
    rows = await repository.top_learners(tx, query.community_id, *query.range, query.limit)
    return LearnerRanking(items=[LearnerFigures.model_validate(r) for r in rows])


async def at_risk(query: AtRiskQuery, *, tx: Tx, principal: Principal) -> AtRiskList:
    """Members at risk at the end of the range, with the reason."""
    await require_reader_scope(tx, principal, query.community_id)
    return await at_risk_list(tx, query)


async def at_risk_list(tx: Tx, query: AtRiskQuery) -> AtRiskList:
    """Members at risk in the communities the transaction's role sees (no policy: the caller checked it)."""
    first, last = query.range
    rows = await repository.at_risk(
        tx, query.community_id, first, last, inactive_days=query.inactive_days, limit=query.limit
    )
    items = [LearnerAtRisk.model_validate({**r, "detail": reason_text(r, last)}) for r in rows]
    return AtRiskList(inactive_days=query.inactive_days, items=items)


def reason_text(row: Row, last: date) -> str:
    """Why a learner is at risk, in words."""
    if row["reason"] == "falling":
        return f"completions fell from {row['previous_completions']} to {row['completions']}"
    if row["last_active_day"] is None:
        return "no activity yet"
    return f"no activity for {(last - row['last_active_day']).days} days"
