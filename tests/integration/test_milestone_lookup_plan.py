"""The milestones a new completion may meet are found through indexes, not by reading every program.

Every recorded stamp runs `app.settle_milestones`; its lookup of candidate milestones (those of the stamp's
program, or of programs whose sections name the stamp's WOD or BLOCK) must not grow with the number of
programs that have milestones. With a few thousand programs of milestones, analysed, the plan Postgres runs
inside the function (auto_explain, nested statements) reads content_references and learning_milestones by
their indexes.
"""

from __future__ import annotations

from typing import Any

from tests.factories import ACME, ACME_ADMIN, ACME_LENA, ACME_LIAM
from tests.helpers import Sql
from tests.learning_helpers import make_program, make_wod

PROGRAMS = 3000


def _programs_with_milestones(sql: Sql, wods: list[str]) -> None:
    """PROGRAMS published Acme programs, each of one of `wods`, each with two milestones met by two other
    learners."""
    sql(
        """
        with made as (
          insert into public.content_items (community_id, type, title, status, payload)
          select %(community)s, 'program', 'Program ' || n, 'published',
                 jsonb_build_object('difficulty', 'beginner', 'calendar', false, 'sections', jsonb_build_array(
                   jsonb_build_object('id', gen_random_uuid(), 'title', 'All', 'items', jsonb_build_array(
                     jsonb_build_object('id', gen_random_uuid(), 'item_id', (%(wods)s::uuid[])[1 + n %% %(count)s])))))
            from generate_series(1, %(programs)s) as n
          returning id, payload
        )
        insert into public.learning_milestones (program_id, position, title, item_ids)
        select m.id, p.position, 'M' || p.position, array[(m.payload #>> '{sections,0,items,0,id}')::uuid]
          from made m cross join generate_series(1, 2) as p (position)
        """,
        {"community": ACME, "wods": wods, "count": len(wods), "programs": PROGRAMS},
    )
    sql(
        "insert into public.learning_milestone_results (milestone_id, user_id, community_id, score, status)"
        " select m.id, u.id, %s, 90, 'completed' from public.learning_milestones m cross join unnest(%s::uuid[]) as u (id)",
        (ACME, [ACME_ADMIN, ACME_LIAM]),
    )
    sql("analyze public.content_items, public.content_references, public.learning_milestones,"
        " public.learning_milestone_results")


def _nested_plans(dsn: str, statement: str, params: Any) -> list[str]:
    """The plans auto_explain logs for the statements run inside `statement`."""
    import psycopg

    plans: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
        for setting in (
            "load 'auto_explain'",
            "set auto_explain.log_min_duration = 0",
            "set auto_explain.log_nested_statements = on",
            "set client_min_messages = log",
        ):
            conn.execute(setting)
        conn.execute(statement, params)
    return plans


def test_the_milestones_a_completion_may_meet_are_found_through_indexes(sql: Sql, db: str) -> None:
    wods = [make_wod(sql, ACME, grant_to=ACME).id for _ in range(20)]
    _programs_with_milestones(sql, wods)
    target = make_wod(sql, ACME, grant_to=ACME)
    mine = make_program(sql, ACME, [target.id], grant_to=ACME)
    sql("insert into public.learning_milestones (program_id, position, title, item_ids) values (%s, 1, 'M', %s::uuid[])",
        (mine.id, mine.entries))

    plans = _nested_plans(db, "select app.settle_milestones(%s, %s, %s)", (ACME_LENA, ACME, target.id))

    lookup = [p for p in plans if "from public.learning_milestones ms" in p]
    assert len(lookup) == 1, plans
    assert "content_references_target_item_idx" in lookup[0], lookup[0]
    assert "learning_milestones_program_id_position_key" in lookup[0], lookup[0]
    assert "learning_milestone_results_milestone_id_user_id_key" in lookup[0], lookup[0]
    assert "Seq Scan" not in lookup[0], lookup[0]
