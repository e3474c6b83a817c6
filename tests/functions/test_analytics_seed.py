"""The local demo activity: 30 days of curves on Acme's dashboard, a learner at risk, idempotent."""

from __future__ import annotations

import httpx

from scripts.local.demo_activity import seed_demo_activity
from scripts.local.stack import seed_demo_content
from shared.analytics import rollups
from tests.factories import ACME, ACME_ADMIN, ACME_LIAM, auth
from tests.helpers import Sql


async def test_the_demo_activity_draws_curves_and_a_learner_at_risk(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    seed_demo_content(db)
    seed_demo_activity(db)
    counted = sql("select (select count(*) from public.learning_completions) as c,"
                  " (select count(*) from public.ai_usage) as a, (select count(*) from public.learning_quiz_attempts) as q")
    seed_demo_activity(db)  # serve's next start: nothing added twice
    assert sql("select (select count(*) from public.learning_completions) as c,"
               " (select count(*) from public.ai_usage) as a,"
               " (select count(*) from public.learning_quiz_attempts) as q") == counted
    await rollups.run()

    board = (await client.get("/analytics", params={"community_id": ACME}, headers=auth(ACME_ADMIN))).json()
    assert sum(1 for day in board["series"] if day["completions"] > 0) >= 20
    assert board["totals"]["ai_messages"] >= 10 and board["totals"]["quiz_attempts"] >= 5
    at_risk = await client.get("/analytics/at-risk", params={"community_id": ACME, "from": board["series"][20]["day"],
                                                                "to": board["to_day"]}, headers=auth(ACME_ADMIN))
    assert [(r["user_id"], r["reason"]) for r in at_risk.json()["items"]] == [(ACME_LIAM, "falling")]
