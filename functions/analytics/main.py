"""`analytics`: dashboards from the daily rollups, for community admins and staff, and the rollup job.

Every day is a calendar day in UTC. The rollups are rebuilt from the learning facts and the AI ledger
every hour (today so far, the days since the cursor, and the two days before today for late facts);
`POST /run` with `from` and `to` rebuilds any past days by hand.
"""

from __future__ import annotations

from starlette.responses import Response

from shared.analytics import charts, exports, rollups, service
from shared.analytics.schemas import (
    AtRiskList,
    AtRiskQuery,
    ChartQuery,
    ContentFigures,
    ContentRanking,
    Dashboard,
    DayFigures,
    LearnerAtRisk,
    LearnerFigures,
    LearnerRanking,
    RangeQuery,
    RollupRange,
    RollupRun,
    TopQuery,
)
from shared.identity import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("analytics", body_limit=1024, description="Learning analytics for community admins and staff.")
fn.schedule("analytics-rollup", "20 * * * *", "/run")
READERS = caller(policy.require_any_community_reader)
READ = {"rate_limit": "admin", "allow": READERS, "responses": NO_SUCH_COMMUNITY}


@fn.get("/", query=RangeQuery, **READ)
async def read_dashboard(ctx: Context, query: RangeQuery) -> Dashboard:
    """Totals and figures per UTC day (`?community_id=`, `from`, `to`; default: the last 30 days)."""
    return await service.dashboard(query, tx=ctx.db, principal=ctx.user)


@fn.get("/content", query=TopQuery, **READ)
async def read_top_content(ctx: Context, query: TopQuery) -> ContentRanking:
    """Content by completions over the range, most first."""
    return await service.top_content(query, tx=ctx.db, principal=ctx.user)


@fn.get("/learners", query=TopQuery, **READ)
async def read_top_learners(ctx: Context, query: TopQuery) -> LearnerRanking:
    """Learners by completions over the range, most first."""
    return await service.top_learners(query, tx=ctx.db, principal=ctx.user)


@fn.get("/at-risk", query=AtRiskQuery, **READ)
async def read_at_risk(ctx: Context, query: AtRiskQuery) -> AtRiskList:
    """Members with no activity for `inactive_days` up to `to`, or completing less than the period before."""
    return await service.at_risk(query, tx=ctx.db, principal=ctx.user)


@fn.get("/series.csv", query=RangeQuery, **READ)
async def export_series(ctx: Context, query: RangeQuery) -> Response:
    """The figures per UTC day as CSV, safe to open in a spreadsheet."""
    return exports.csv_response("series", DayFigures, (await service.dashboard(query, tx=ctx.db, principal=ctx.user)).series)


@fn.get("/content.csv", query=TopQuery, **READ)
async def export_top_content(ctx: Context, query: TopQuery) -> Response:
    """Content by completions as CSV, safe to open in a spreadsheet."""
    return exports.csv_response("content", ContentFigures, (await service.top_content(query, tx=ctx.db, principal=ctx.user)).items)


@fn.get("/learners.csv", query=TopQuery, **READ)
async def export_top_learners(ctx: Context, query: TopQuery) -> Response:
    """Learners by completions as CSV, safe to open in a spreadsheet."""
    ranking = await service.top_learners(query, tx=ctx.db, principal=ctx.user)
    return exports.csv_response("learners", LearnerFigures, ranking.items)


@fn.get("/at-risk.csv", query=AtRiskQuery, **READ)
async def export_at_risk(ctx: Context, query: AtRiskQuery) -> Response:
    """Members at risk as CSV, with the reason, safe to open in a spreadsheet."""
    return exports.csv_response("at-risk", LearnerAtRisk, (await service.at_risk(query, tx=ctx.db, principal=ctx.user)).items)


@fn.get("/chart.svg", query=ChartQuery, **READ)
async def chart(ctx: Context, query: ChartQuery) -> Response:
    """One series per UTC day (`metric`) as a small SVG line chart, to embed in a page or an e-mail."""
    board = await service.dashboard(query, tx=ctx.db, principal=ctx.user)
    values = [float(getattr(day, query.metric) or 0) for day in board.series]
    title = f"{query.metric.replace('_', ' ')} per day (UTC), {board.from_day} to {board.to_day}"
    svg = charts.line_chart(title, [day.day for day in board.series], values)
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(svg.encode(), media_type="image/svg+xml", headers=headers)


@fn.post("/run", auth="service", rate_limit=None, tx=None, body=RollupRange)
async def run(ctx: Context, body: RollupRange) -> RollupRun:
    """Rebuild the rollups: from the cursor to today, or the days `from`..`to` (UTC) when given."""
    if body.from_day is not None and body.to_day is not None:
        return await rollups.rebuild(body.from_day, body.to_day)
    return await rollups.run()


handler = fn.handler
