"""Preparing the weekly digests: each active community's week (Monday to Sunday, UTC) from the rollups, stored.

Preparing a week again rewrites its digests (one per community and week), so a re-run after late facts
were rolled up brings them up to date. The body is JSON: totals against the week before, top learners and
content, learners at risk, and the AI tokens of the month against the quota.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter

from shared.ai.usage_reads import repository as usage
from shared.analytics import repository, service
from shared.analytics.digest_schemas import DigestRun
from shared.analytics.schemas import AtRiskQuery, ContentFigures, LearnerFigures, Totals, today
from shared.platform.db import Row, Tx

TOP = 5
AT_RISK = 20
INACTIVE_DAYS = 14

ACTIVE_COMMUNITIES_SQL = "select id from public.communities where status = 'active' order by id"
STORE_SQL = """
insert into public.analytics_digests (community_id, week_start, body) values (%(community_id)s, %(week)s, %(body)s)
on conflict (community_id, week_start) do update set body = excluded.body, created_at = now()
"""

_JSON = TypeAdapter(dict[str, Any])


def last_week(now: date | None = None) -> date:
    """The Monday of the last whole week (UTC)."""
    current = now or today()
    return current - timedelta(days=current.weekday() + 7)


async def prepare_week(tx: Tx, week: date) -> DigestRun:
    """Store the digest of the week starting on Monday `week` for every active community."""
    communities = await tx.fetch_all(ACTIVE_COMMUNITIES_SQL)
    for row in communities:
        body = await digest_body(tx, row["id"], week)
        await tx.execute(STORE_SQL, {"community_id": row["id"], "week": week, "body": _JSON.dump_json(body).decode()})
    return DigestRun(week_start=week, digests=len(communities))


async def digest_body(tx: Tx, community_id: UUID, week: date) -> dict[str, Any]:
    """One community's week: totals and the week before, top learners and content, at risk, AI against the quota."""
    last = week + timedelta(days=6)
    before = week - timedelta(days=7)
    at_risk_query = AtRiskQuery.model_validate(
        {"community_id": community_id, "from": week, "to": last, "inactive_days": INACTIVE_DAYS, "limit": AT_RISK}
    )
    month = last.replace(day=1)
    quota = await usage.months(tx, community_id, month, month)
    return {
        "from_day": week.isoformat(),
        "to_day": last.isoformat(),
        "totals": _totals(await repository.totals(tx, community_id, week, last)),
        "previous_totals": _totals(await repository.totals(tx, community_id, before, week - timedelta(days=1))),
        "top_learners": [
            LearnerFigures.model_validate(r).model_dump(mode="json")
            for r in await repository.top_learners(tx, community_id, week, last, TOP)
        ],
        "top_content": [
            ContentFigures.model_validate(r).model_dump(mode="json")
            for r in await repository.top_content(tx, community_id, week, last, TOP)
        ],
        "at_risk": (await service.at_risk_list(tx, at_risk_query)).model_dump(mode="json")["items"],
        "ai_usage": _usage(quota[0]),
    }


def _totals(row: Row) -> dict[str, Any]:
    return Totals.model_validate(row).model_dump(mode="json")


def _usage(row: Row) -> dict[str, Any]:
    """The month's tokens counted against the quota."""
    keys = ("month", "used_tokens", "quota", "remaining_tokens", "cost_usd")
    return {k: (str(row[k]) if k in ("month", "cost_usd") else row[k]) for k in keys}


