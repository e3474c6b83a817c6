"""`streaks`: the caller's streak of active days, and the schedule that ends missed streaks.

Active days come from the learning events, in the learner's time zone (the worker keeps them). A run
ends once a whole day passes without activity; the schedule runs every 15 minutes, so a streak is right
soon after midnight in every time zone (zones differ by quarter hours), and reads never wait for it.
"""

from __future__ import annotations

from shared.gamification import repository, service, streaks
from shared.gamification.streak_schemas import StreakRollover, StreakView
from shared.platform.http import Context, Function

fn = Function("streaks", body_limit=1024, description="Learners' streaks of active days.")
fn.schedule("streaks-rollover", "*/15 * * * *", "/run")


@fn.get("/", read=repository.my_streak_statement)
async def get_my_streak(ctx: Context) -> StreakView:
    """The caller's current and longest streak, and today in their time zone."""
    return streaks.streak_view(ctx.rows)


@fn.post("/run", auth="service", rate_limit=None)
async def run(ctx: Context) -> StreakRollover:
    """End the streaks of learners who missed a whole day in their time zone."""
    return StreakRollover(ended=await service.roll_over_streaks(ctx.db))


handler = fn.handler
