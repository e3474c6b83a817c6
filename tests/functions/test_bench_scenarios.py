"""Every load scenario of scripts/bench is a request that succeeds, so the bench measures work, not refusals.

Run through the gateway as the bench sends it (the bench user's token, the body with `{n}` filled in, or
the first two of a scenario's bodies):
a route that moved or a body that no longer validates turns this red instead of a bench full of 4xx.
"""

from __future__ import annotations

import re

import httpx
import pytest

from scripts.local.bench import learning
from scripts.local.bench.cli import SCENARIOS
from scripts.local.bench.targets import BENCH_COMMUNITY, BENCH_USER, HELLO
from scripts.local.bench.throughput import Scenario
from tests.factories import ACME, ACME_ADMIN, auth
from tests.helpers import Sql

ROUND_TRIPS = re.compile(r'db;dur=[\d.]+;desc="(\d+) round trips?"')
MEASURED = [s for s in SCENARIOS if s.target != HELLO]


def test_the_bench_user_administers_the_bench_community() -> None:
    assert (BENCH_USER[0], BENCH_COMMUNITY) == (ACME_ADMIN, ACME)


@pytest.mark.parametrize("scenario", MEASURED, ids=[s.name for s in MEASURED])
async def test_bench_scenario_succeeds_and_reports_round_trips(
    client: httpx.AsyncClient, sql: Sql, scenario: Scenario
) -> None:
    for statement, params in scenario.setup() if scenario.setup is not None else ():
        sql(statement, params)
    headers = auth(ACME_ADMIN) if scenario.as_user else {}
    bodies: list[str | None] = [None] if scenario.body is None else [scenario.body.replace("{n}", f"t{i}") for i in (1, 2)]
    if scenario.bodies is not None:
        bodies = [*scenario.bodies()[:2]]
    etag = None
    if scenario.chain_etag_from is not None:
        etag = (await client.get(scenario.chain_etag_from, headers=headers)).headers["etag"]
    for body in bodies:  # a write scenario's requests must not collide with each other
        if body is not None:
            headers["Content-Type"] = "application/json"
        if etag is not None:  # a chained scenario names the revision the previous answer made
            headers["If-Match"] = etag
        response = await client.request(scenario.method, scenario.path, headers=headers, content=body)
        assert 200 <= response.status_code < 300, response.text
        etag = response.headers.get("etag") if scenario.chain_etag_from is not None else None
    timing = ROUND_TRIPS.search(response.headers.get("server-timing", ""))
    if scenario.target != "health":
        assert timing is not None and int(timing.group(1)) >= 1
    if scenario.name == "progress-record":  # each request a new completion, not a repeat
        assert response.json()["created"] is True
        recorded = "select count(*)::int as n from public.learning_completions where target_type = 'block'"
        assert sql(recorded) == [{"n": 2}]
    if scenario.name == "tags-create":
        names = sql("select name from public.user_tags where community_id = %s and name like 'bench %%'", (ACME,))
        assert sorted(r["name"] for r in names) == ["bench t1", "bench t2"]


async def test_bench_worker_part_applies_every_completion_it_enqueues(sql: Sql) -> None:
    for statement, params in learning.statements():
        sql(statement, params)

    result = await learning.measure_worker(30)

    facts = sql("select count(*)::int as n from app.learning_facts where kind = 'page'")
    left = sql("select count(*)::int as n from pgmq.q_events")
    assert (result.events, facts, left) == (30, [{"n": 30}], [{"n": 0}])
    assert result.delivered >= 30 and result.batches >= 1  # and the awards the completions earned
