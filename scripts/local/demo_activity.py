"""Demo activity for the local dashboards: 30 days (UTC) of completions, quizzes and AI calls, then rolled up.

Lena (Acme) is active most days, Liam (Acme) stopped completing ten days ago (the at-risk list shows his
falling completions), Gina (Globex) is steady. Written as the database owner, straight into the facts the
rollups read (no events are sent: streaks and badges stay the demo content's). Idempotent: the stamps
and attempts have fixed ids per day, and the AI calls are added once.
"""

from __future__ import annotations

ACTIVITY_SQL = """
insert into public.learning_completions (user_id, community_id, target_type, target_id, item_id, time_spent_s,
                                         completed_at)
select l.user_id, l.community_id, 'page', md5('demo-activity/' || l.user_id || '/' || d || '/' || n)::uuid,
       l.item_id, 60 + (d * 37 + n * 53) % 900,
       (current_date - d)::timestamp at time zone 'UTC' + make_interval(hours => 7 + n * 3)
  from (values ('a0000000-0000-4000-8000-000000000012'::uuid, 'c0000000-0000-4000-8000-000000000001'::uuid,
                'e0000000-0000-4000-8000-0000000c1001'::uuid, 0),
               ('a0000000-0000-4000-8000-000000000013', 'c0000000-0000-4000-8000-000000000001',
                'e0000000-0000-4000-8000-0000000c1001', 10),
               ('a0000000-0000-4000-8000-000000000022', 'c0000000-0000-4000-8000-000000000002',
                'e0000000-0000-4000-8000-0000000c1101', 0)) l(user_id, community_id, item_id, quiet_days),
       generate_series(1, 30) d, generate_series(1, 3) n
 where d > l.quiet_days and n <= 1 + (d * 7 + l.quiet_days) % 3 and (d + l.quiet_days) % 5 <> 0
on conflict do nothing;
insert into public.learning_quiz_attempts (user_id, community_id, item_id, block_id, number, status, started_at,
                                           submitted_at, score, passed)
select 'a0000000-0000-4000-8000-000000000012', 'c0000000-0000-4000-8000-000000000001',
       'e0000000-0000-4000-8000-0000000c1001', md5('demo-quiz/' || d)::uuid, 1, 'submitted', at, at,
       55 + (d * 13) % 45, 55 + (d * 13) % 45 >= 70
  from generate_series(1, 30, 3) d,
       lateral (select (current_date - d)::timestamp at time zone 'UTC' + interval '15 hours' as at) t
on conflict do nothing;
insert into public.ai_usage (community_id, user_id, feature, provider, model, input_tokens, output_tokens, cost_usd,
                             created_at)
select l.community_id, l.user_id, 'chat', 'offline', 'offline-demo', 120 + d * 5, 300 + d * 11, 0.0006,
       (current_date - d)::timestamp at time zone 'UTC' + interval '11 hours'
  from (values ('a0000000-0000-4000-8000-000000000012'::uuid, 'c0000000-0000-4000-8000-000000000001'::uuid),
               ('a0000000-0000-4000-8000-000000000022', 'c0000000-0000-4000-8000-000000000002')) l(user_id, community_id),
       generate_series(1, 30, 2) d
 where not exists (select 1 from public.ai_usage where model = 'offline-demo')
"""


def seed_demo_activity(dsn: str) -> None:
    """Add the demo activity of the last 30 days (idempotent)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        for statement in ACTIVITY_SQL.split(";\n"):
            conn.execute(statement)


def roll_up_at_start(dsn: str) -> None:
    """Add the demo activity and roll the days up, so the local dashboards show curves at once."""
    import asyncio

    from shared.analytics import rollups
    from shared.platform.db import close_pool

    seed_demo_activity(dsn)

    async def roll_up() -> None:
        try:
            await rollups.run()
        finally:
            await close_pool()  # the pool belongs to this loop; serve opens its own

    asyncio.run(roll_up())
