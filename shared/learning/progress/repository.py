"""Progress SQL. Recording is `app.record_completion`, which checks the caller; reads run as the caller,
under row level security, and count only the caller's own stamps."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx

RECORD_SQL = "select app.record_completion(%s, %s, %s, %s, %s::numeric, %s::integer) as result"
ITEM_SQL = """
select i.id as item_id, i.type, i.payload -> 'pages' as pages, p.total, p.completed,
       coalesce(app.unmet_prerequisites(auth.uid(), i.id), '[]') as missing,
       coalesce((select jsonb_object_agg(c.target_type || ':' || c.target_id, c.completed_at)
                   from public.learning_completions c
                  where c.user_id = auth.uid() and c.item_id = i.id), '{}') as stamps
from public.content_items i
cross join lateral app.item_progress(auth.uid(), i.id) p
where i.id = %s and i.type in ('wod', 'block')
"""
PROGRAM_SQL = """
select i.id as program_id, i.payload -> 'sections' as sections, p.total, p.completed,
       coalesce(app.unmet_prerequisites(auth.uid(), i.id), '[]') as missing,
       coalesce((select jsonb_agg(c.target_id)
                   from public.learning_completions c
                  where c.user_id = auth.uid()
                    and ((c.target_type = 'program_item' and c.item_id = i.id)
                      or (c.target_type = 'wod' and c.target_id in (
                            select r.target_id from public.content_references r where r.item_id = i.id)))),
                '[]') as done
from public.content_items i
cross join lateral app.program_progress(auth.uid(), i.id) p
where i.id = %s and i.type = 'program'
"""
OVERVIEW_SQL = """
with mine as (select %(community)s::uuid as community)
select
  (select coalesce(jsonb_object_agg(k.target_type, k.n), '{}')
     from (select c.target_type, count(*) as n from public.learning_completions c, mine
            where c.user_id = auth.uid() and (mine.community is null or c.community_id = mine.community)
            group by c.target_type) k) as completions,
  (select count(*) filter (where a.status = 'submitted')::int from public.learning_quiz_attempts a, mine
    where a.user_id = auth.uid() and (mine.community is null or a.community_id = mine.community)) as quiz_attempts,
  (select count(*) filter (where a.passed)::int from public.learning_quiz_attempts a, mine
    where a.user_id = auth.uid() and (mine.community is null or a.community_id = mine.community)) as quizzes_passed,
  (select coalesce(jsonb_object_agg(k.status, k.n), '{}')
     from (select e.status, count(*) as n from public.learning_enrollments e, mine
            where e.user_id = auth.uid() and (mine.community is null or e.community_id = mine.community)
            group by e.status) k) as enrollments
"""


async def record(
    tx: Tx,
    community_id: UUID,
    target_type: str,
    target_id: UUID,
    item_id: UUID | None,
    score: float | None,
    time_spent_s: int | None,
) -> dict[str, Any]:
    """`app.record_completion`'s answer: {"outcome", "created", "completion"} or why not."""
    params = (community_id, target_type, target_id, item_id, score, time_spent_s)
    return dict(await tx.fetch_val(RECORD_SQL, params))


async def item(tx: Tx, item_id: UUID) -> Row | None:
    """A WOD's or BLOCK's pages, the caller's progress and stamps in it; None when they cannot see it."""
    return await tx.fetch_one(ITEM_SQL, (item_id,))


async def program(tx: Tx, program_id: UUID) -> Row | None:
    """A program's sections, the caller's progress and the targets they completed; None when hidden."""
    return await tx.fetch_one(PROGRAM_SQL, (program_id,))


async def overview(tx: Tx, community_id: UUID | None) -> Row:
    """The caller's counts: completions by kind, quiz attempts and passes, enrollments by status."""
    row = await tx.fetch_one(OVERVIEW_SQL, {"community": community_id})
    assert row is not None  # an aggregate answers one row
    return row
