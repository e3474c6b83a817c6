"""Hand-written SQL of the rollup job. Runs as the service role: it reads every community's facts.

A day is [00:00, 24:00) UTC. Its facts are the completion stamps, submitted quiz attempts and enrollments
recorded in it, the AI ledger's calls made in it, and the forum posts and replies written in it (activity
only: a member who only posted is an active user of the day, with nothing else counted). One statement reads them once and writes the three
rollups of the day (the day's old rows are deleted first, in the same transaction).
"""

from __future__ import annotations

DELETE_DAY_SQL = """
with a as (delete from public.analytics_daily where day = %(day)s),
     u as (delete from public.analytics_user_daily where day = %(day)s)
delete from public.analytics_content_daily where day = %(day)s
"""

INSERT_DAY_SQL = """
with bounds as (
  select (%(day)s::date)::timestamp at time zone 'UTC' as lo,
         (%(day)s::date + 1)::timestamp at time zone 'UTC' as hi
), facts as (
  select c.community_id, c.user_id, c.item_id, 1 as completions, coalesce(c.time_spent_s, 0) as time_spent_s,
         0 as quiz_attempts, 0::numeric as quiz_score, 0 as ai_messages, 0::bigint as ai_tokens, 0::numeric as ai_cost
    from public.learning_completions c, bounds b
   where c.completed_at >= b.lo and c.completed_at < b.hi
  union all
  select q.community_id, q.user_id, null, 0, 0, 1, q.score, 0, 0, 0
    from public.learning_quiz_attempts q, bounds b
   where q.status = 'submitted' and q.submitted_at >= b.lo and q.submitted_at < b.hi
  union all
  select e.community_id, e.user_id, null, 0, 0, 0, 0, 0, 0, 0
    from public.learning_enrollments e, bounds b
   where e.enrolled_at >= b.lo and e.enrolled_at < b.hi
  union all
  select u.community_id, u.user_id, null, 0, 0, 0, 0, (u.feature = 'chat')::int,
         u.input_tokens::bigint + u.output_tokens, coalesce(u.cost_usd, 0)
    from public.ai_usage u, bounds b
   where u.community_id is not null and u.created_at >= b.lo and u.created_at < b.hi
  union all
  select p.community_id, p.author_id, null, 0, 0, 0, 0, 0, 0, 0
    from public.forum_posts p, bounds b
   where p.author_id is not null and p.created_at >= b.lo and p.created_at < b.hi
  union all
  select r.community_id, r.author_id, null, 0, 0, 0, 0, 0, 0, 0
    from public.forum_replies r, bounds b
   where r.author_id is not null and r.created_at >= b.lo and r.created_at < b.hi
), users as (
  insert into public.analytics_user_daily (community_id, user_id, day, completions, time_spent_s, quiz_attempts,
                                           quiz_score_sum, ai_messages, ai_tokens, ai_cost_usd)
  select community_id, user_id, %(day)s, sum(completions), sum(time_spent_s), sum(quiz_attempts), sum(quiz_score),
         sum(ai_messages), sum(ai_tokens), sum(ai_cost)
    from facts where user_id is not null
   group by community_id, user_id
), content as (
  insert into public.analytics_content_daily (community_id, item_id, day, completions, time_spent_s)
  select community_id, item_id, %(day)s, sum(completions), sum(time_spent_s)
    from facts where item_id is not null
   group by community_id, item_id
)
insert into public.analytics_daily (community_id, day, active_users, completions, time_spent_s, quiz_attempts,
                                    quiz_score_sum, ai_messages, ai_tokens, ai_cost_usd)
select community_id, %(day)s, count(distinct user_id), sum(completions), sum(time_spent_s), sum(quiz_attempts),
       sum(quiz_score), sum(ai_messages), sum(ai_tokens), sum(ai_cost)
  from facts
 group by community_id
"""

# The first day with a fact: where a job that never ran starts.
FIRST_DAY_SQL = """
select least(
  (select min(completed_at) from public.learning_completions),
  (select min(submitted_at) from public.learning_quiz_attempts where status = 'submitted'),
  (select min(enrolled_at) from public.learning_enrollments),
  (select min(created_at) from public.ai_usage where community_id is not null),
  (select min(created_at) from public.forum_posts),
  (select min(created_at) from public.forum_replies)
) at time zone 'UTC' as first
"""

# Taken first in each day's transaction (made by the first run): concurrent runs take turns, and a run sees the cursor they left.
START_CURSOR_SQL = """
insert into app.analytics_cursor (job, next_day) values ('rollup', %(start)s) on conflict (job) do nothing
"""
LOCK_CURSOR_SQL = "select next_day from app.analytics_cursor where job = 'rollup' for update"

ADVANCE_CURSOR_SQL = """
update app.analytics_cursor set next_day = greatest(next_day, %(next_day)s), updated_at = now() where job = 'rollup'
"""

CURSOR_SQL = "select next_day from app.analytics_cursor where job = 'rollup'"
