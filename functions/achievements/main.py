"""`achievements`: the achievement catalogue with the caller's awards, their awards, community leaderboards.

Awards are made by the worker from the learning events (shared/gamification/handlers.py); here they
are read. Admins (and staff who may write) manage their community's entries; staff the global ones.
"""

from __future__ import annotations

from uuid import UUID

from shared.gamification import achievements as service
from shared.gamification.schemas import (
    AchievementEntry,
    AchievementPage,
    AchievementQuery,
    AwardPage,
    CreateAchievement,
    Leaderboard,
    LeaderboardQuery,
    UpdateAchievement,
)
from shared.identity import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function
from shared.platform.pagination import PageQuery

fn = Function("achievements", body_limit=16 * 1024, description="Achievements, awards and leaderboards.")
ENTRY = "/{achievement_id:uuid}"
WRITERS = caller(policy.require_any_community_writer)


@fn.get("/", query=AchievementQuery, responses=NO_SUCH_COMMUNITY)
async def list_catalogue(ctx: Context, query: AchievementQuery) -> AchievementPage:
    """The catalogue by name: global entries and the caller's communities' (or one's), with when they earned each."""
    return await service.catalogue(query, tx=ctx.db, principal=ctx.user)


@fn.get("/mine", query=PageQuery)
async def list_my_awards(ctx: Context, query: PageQuery) -> AwardPage:
    """The caller's awards, newest first, with the points of all of them."""
    return await service.my_awards(query, tx=ctx.db)


@fn.get("/leaderboard", query=LeaderboardQuery, responses=NO_SUCH_COMMUNITY)
async def get_leaderboard(ctx: Context, query: LeaderboardQuery) -> Leaderboard:
    """A community's members by points earned there: `period` all, 7d or 30d; its members and staff only."""
    return await service.leaderboard(query, tx=ctx.db, principal=ctx.user)


@fn.post(
    "/",
    body=CreateAchievement,
    status=201,
    idempotent=True,
    rate_limit="admin",
    allow=WRITERS,
    responses=NO_SUCH_COMMUNITY,
)
async def create_entry(ctx: Context, body: CreateAchievement) -> AchievementEntry:
    """Add an entry to a community's catalogue, or (no community_id; staff) the global one (409 achievement_code_taken)."""
    return await service.create_entry(body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.patch(ENTRY, body=UpdateAchievement, rate_limit="admin", allow=WRITERS)
async def update_entry(ctx: Context, achievement_id: UUID, body: UpdateAchievement) -> AchievementEntry:
    """Rename an entry, change its tier or points, or stop awarding it (`is_active`); its criteria stay."""
    return await service.update_entry(achievement_id, body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


handler = fn.handler
