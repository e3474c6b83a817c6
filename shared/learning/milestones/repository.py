"""Milestones' SQL. Milestones are read under row level security (whoever sees the program); a learner's
state is `app.milestone_score` with their own results; the review decision is `app.decide_milestone_review`,
which checks its caller. A program's editors write its milestones under row level security; the database's
guard checks what each covers and awards."""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select, assignments, compose

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


MILESTONE_SELECT = """
select m.id, m.program_id, m.position, m.title, m.required_score, m.item_ids::text[] as item_ids, m.validation,
       m.achievement_id, m.created_at
  from public.learning_milestones m
"""
DEFINED_SQL = MILESTONE_SELECT + " where m.program_id = %s order by m.position"
ONE_SQL = MILESTONE_SELECT + " where m.id = %s and m.program_id = %s"
# Milestone writes of one program wait for each other: each renumbers the program's milestones from the
# order it read.
LOCK_SQL = "select pg_advisory_xact_lock(hashtextextended('learning_milestones:' || %s::text, 0))"
RENUMBER_SQL = """
update public.learning_milestones m set position = o.position
  from unnest(%s::uuid[], %s::smallint[]) as o (id, position)
 where m.id = o.id and m.position <> o.position
"""
INSERT_SQL = """
insert into public.learning_milestones (program_id, position, title, required_score, item_ids, validation, achievement_id)
values (%(program_id)s, %(position)s, %(title)s, %(required_score)s, %(item_ids)s::uuid[], %(validation)s, %(achievement_id)s)
returning id
"""
UPDATE_SQL: LiteralString = "update public.learning_milestones set {changes} where id = %(id)s"
DELETE_SQL = "delete from public.learning_milestones where id = %s"
UPDATABLE = frozenset({"title", "required_score", "item_ids", "validation", "achievement_id"})


async def defined(tx: Tx, program_id: UUID) -> list[Row]:
    """The program's milestones in order, as its editors define them."""
    return await tx.fetch_all(DEFINED_SQL, (program_id,))


async def one(tx: Tx, program_id: UUID, milestone_id: UUID) -> Row | None:
    """One milestone of the program, if the caller sees it."""
    return await tx.fetch_one(ONE_SQL, (milestone_id, program_id))


async def locked_order(tx: Tx, program_id: UUID) -> list[UUID]:
    """The program's milestone ids in order, other milestone writers of the program kept waiting."""
    await tx.execute(LOCK_SQL, (program_id,))
    return [row["id"] for row in await tx.fetch_all(DEFINED_SQL, (program_id,))]


async def renumber(tx: Tx, order: list[UUID | None]) -> None:
    """Give each milestone its place in `order` (1: first); None holds a place for one being added."""
    placed = [(milestone_id, n) for n, milestone_id in enumerate(order, 1) if milestone_id is not None]
    await tx.execute(RENUMBER_SQL, ([str(i) for i, _ in placed], [n for _, n in placed]))


async def insert(tx: Tx, values: dict[str, Any]) -> UUID:
    """Add a milestone (the database checks what it covers and awards); its id."""
    new_id: UUID = await tx.fetch_val(INSERT_SQL, {**values, "item_ids": [str(i) for i in values["item_ids"]]})
    return new_id


async def update(tx: Tx, milestone_id: UUID, changes: dict[str, Any]) -> None:
    """Change these columns of a milestone."""
    if "item_ids" in changes:
        changes = {**changes, "item_ids": [str(i) for i in changes["item_ids"]]}
    statement = compose(UPDATE_SQL, changes=assignments(changes, UPDATABLE))
    await tx.execute(statement, {**changes, "id": milestone_id})


async def delete(tx: Tx, milestone_id: UUID) -> None:
    """Remove a milestone with its learners' results."""
    await tx.execute(DELETE_SQL, (milestone_id,))
