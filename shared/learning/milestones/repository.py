"""Milestones' SQL. Milestones are read under row level security (whoever sees the program); a learner's
state is `app.milestone_score` with their own results; the review decision is `app.decide_milestone_review`,
which checks its caller."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

PROGRAM_SQL = "select i.id from public.content_items i where i.id = %s and i.type = 'program'"
STATE_SQL = """
select m.id, m.position, m.title, m.required_score, m.item_ids::text[] as item_ids, m.validation,
       m.achievement_id, s.total, s.completed, s.score::float as score,
       r.id as result_id, r.status, coalesce(r.feedback, '') as feedback, r.met_at, r.decided_at
  from public.learning_milestones m
  cross join lateral app.milestone_score(auth.uid(), m.id) s
  left join public.learning_milestone_results r on r.milestone_id = m.id and r.user_id = auth.uid()
 where m.program_id = %s
 order by m.position
"""
RESULT_SELECT = """
select r.id, r.milestone_id, m.program_id, m.title, m.position, r.user_id, r.community_id, r.score::float as score,
       r.status, r.met_at, r.decided_by, r.decided_at, r.feedback
  from public.learning_milestone_results r join public.learning_milestones m on m.id = r.milestone_id
"""
DECIDE_SQL = "select app.decide_milestone_review(%s, %s, %s) as result"
OLDEST_FIRST = Order(("r.met_at", "r.id"))
AWARD_SQL = """
with earned as (
  insert into public.user_achievements (user_id, achievement_id, community_id, points)
  select %(user)s, a.id, %(community)s, a.points
    from public.learning_milestones m join public.achievements a on a.id = m.achievement_id
   where m.id = %(milestone)s and a.is_active and a.criterion = 'milestone'
  on conflict (user_id, achievement_id) do nothing
  returning id, user_id, achievement_id, community_id, points, awarded_at
)
select e.id, e.user_id, e.achievement_id, e.community_id, e.points, e.awarded_at, a.code, a.name, a.tier
  from earned e join public.achievements a on a.id = e.achievement_id
"""
"""The worker (service role): the milestone's active achievement for the learner, unless they hold it."""


async def program_visible(tx: Tx, program_id: UUID) -> bool:
    """Whether the caller sees this program."""
    return await tx.fetch_one(PROGRAM_SQL, (program_id,)) is not None


async def states(tx: Tx, program_id: UUID) -> list[Row]:
    """The program's milestones in order, with the caller's progress through each and their result."""
    return await tx.fetch_all(STATE_SQL, (program_id,))


async def result(tx: Tx, result_id: UUID) -> Row | None:
    """One milestone result the caller may see."""
    return await tx.fetch_one(*Select(RESULT_SELECT).where("r.id = %(id)s", id=result_id).statement())


async def queue(
    tx: Tx, community_id: UUID, status: str | None, after: tuple[datetime, UUID] | None, limit: int
) -> list[Row]:
    """A community's milestone results (of `status`, if given), oldest first."""
    results = Select(RESULT_SELECT).where("r.community_id = %(community)s", community=community_id)
    results.filter("r.status = %(status)s", status=status)
    return await tx.fetch_all(*results.page(OLDEST_FIRST, after, limit))


async def award_milestone(tx: Tx, user_id: UUID, milestone_id: UUID, community_id: UUID) -> Row | None:
    """Award the achievement the milestone names (the worker); the new award, or None."""
    return await tx.fetch_one(AWARD_SQL, {"user": user_id, "milestone": milestone_id, "community": community_id})


async def decide(tx: Tx, result_id: UUID, approve: bool, feedback: str) -> dict[str, Any]:
    """`app.decide_milestone_review`'s answer: {"outcome", "result"} or why not."""
    return dict(await tx.fetch_val(DECIDE_SQL, (result_id, approve, feedback)))
