"""`scripts/bench-analytics`: the rollup over 100,000 and 1,000,000 facts of 10,000 users, and a dashboard read.

One database (this checkout's cluster, a database of its own, recreated) gets 10,000 learners, half in
Acme and half in Globex, and facts spread over the last 30 days (UTC): six in ten completion stamps, two
quiz attempts, two AI calls. The rollup rebuilds all 31 days (today included) with the job's own code,
first over `--small` facts, then again after the database has grown to `--large`. Reported: each
duration and the ratio large / small (target: at most 12x for 10x the facts). Then the `analytics`
dashboard of Acme's last 30 days is read in-process as its admin, one request at a time, against a
hello-world ASGI app served through the same client: medians and p95.

    scripts/bench-analytics [--small 100000] [--large 1000000] [--users 10000] [--requests 200]

Writes bench-results/analytics-<UTC>.json. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.local.bench.catalogue import ACME, GLOBEX, RESULTS

DESCRIPTION = "The analytics rollup over 100,000 and 1,000,000 facts of 10,000 users, and a dashboard read."
DATABASE = "aigym_bench_analytics"
ACME_ADMIN = "a0000000-0000-4000-8000-000000000011"
ACME_ADMIN_EMAIL = "admin@acme.example.com"
BATCH = 100_000
WARMUP = 10

USERS_SQL = f"""
insert into auth.users (id, email)
select ('b1000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, 'bench' || u || '@example.com'
  from generate_series(1, %(users)s::int) u;
insert into public.memberships (community_id, user_id, role, joined_at)
select case when u %% 2 = 0 then '{ACME}'::uuid else '{GLOBEX}'::uuid end,
       ('b1000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, 'member', now() - interval '60 days'
  from generate_series(1, %(users)s::int) u;
insert into public.content_items (id, community_id, type, title, status, payload)
select ('e1000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       case when i %% 2 = 0 then '{ACME}'::uuid else '{GLOBEX}'::uuid end, 'prompt', 'Bench item ' || i,
       'published', '{{"prompt_text": "bench"}}'::jsonb
  from generate_series(1, 200) i
"""  # noqa: S608 - constants only

# Fact g: its user, that user's community, a moment in the last 30 days (a learner's facts spread over all
# of them: learner-days grow with the facts), and its kind (g % 10).
_FACTS = """
  from generate_series(%(first)s::int, %(last)s::int) g,
       lateral (select 1 + g %% %(users)s as u) pick,
       lateral (select ('b1000000-0000-4000-8000-' || lpad(to_hex(pick.u), 12, '0'))::uuid as user_id,
                       case when pick.u %% 2 = 0 then '{acme}'::uuid else '{globex}'::uuid end as community_id,
                       ('e1000000-0000-4000-8000-' || lpad(to_hex(1 + 2 * (g %% 100) + pick.u %% 2), 12, '0'))::uuid
                         as item_id,
                       now() - make_interval(days => (g / %(users)s + g) %% 30, secs => (g::bigint * 7919) %% 86400) as at) f
"""
FACTS_SQL = (
    """
insert into public.learning_completions (user_id, community_id, target_type, target_id, item_id, time_spent_s,
                                         completed_at)
select f.user_id, f.community_id, 'wod', gen_random_uuid(), f.item_id, 30 + g %% 600, f.at"""
    + _FACTS
    + """ where g %% 10 < 6;
insert into public.learning_quiz_attempts (user_id, community_id, item_id, block_id, number, status, started_at,
                                           submitted_at, score, passed)
select f.user_id, f.community_id, f.item_id, gen_random_uuid(), 1, 'submitted', f.at, f.at, g %% 101, g %% 101 >= 70"""
    + _FACTS
    + """ where g %% 10 in (6, 7);
insert into public.ai_usage (community_id, user_id, feature, provider, model, input_tokens, output_tokens, cost_usd,
                             created_at)
select f.community_id, f.user_id, 'chat', 'offline', 'offline-echo', 100 + g %% 50, 200, 0.0004, f.at"""
    + _FACTS
    + """ where g %% 10 in (8, 9)"""
).replace("{acme}", ACME).replace("{globex}", GLOBEX)


def main(argv: Sequence[str] | None = None) -> None:
    """Fill, roll up at both sizes, read the dashboard against hello-world; print and save."""
    args = _parser().parse_args(argv)
    from scripts.local.stack import DEFAULT_PORT, running_stack
    from shared.platform import logging as platform_log

    os.environ["RATE_LIMIT_ADMIN"] = "1000000000/60"  # the bench measures the route, not refusals
    platform_log.stream = open(os.devnull, "w")  # noqa: SIM115 - the request log still runs, unseen
    report: dict[str, Any] = {"users": args.users, "rollups": {}}
    with running_stack(DEFAULT_PORT, database=DATABASE, fresh=True) as stack:
        _sql(stack.database_url, USERS_SQL, {"users": args.users})
        filled = 0
        for label, size in (("small", args.small), ("large", args.large)):
            started = time.monotonic()
            _fill(stack.database_url, filled + 1, size, args.users)
            filled = size
            seconds, counted = asyncio.run(_rollup())
            report["rollups"][label] = {"facts": size, "seconds": round(seconds, 2), "counted": counted}
            print(
                f"{size:,} facts: filled in {time.monotonic() - started - seconds:.0f} s, rollup {seconds:.2f} s"
                f" (counted {counted['facts']:,} facts; {counted['user_rows']:,} learner-days)"
            )
        report["ratio"] = round(report["rollups"]["large"]["seconds"] / report["rollups"]["small"]["seconds"], 2)
        print(f"rollup ratio {args.large:,} / {args.small:,} facts: {report['ratio']:.2f}x (target <= 12)")
        report["reads"] = asyncio.run(_reads(stack.supabase_url, args.requests))
    for name, timing in report["reads"].items():
        print(f"{name:<10} median {timing['median_ms']:7.2f} ms  p95 {timing['p95_ms']:7.2f} ms")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"analytics-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"written: {path}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/bench-analytics", description=DESCRIPTION)
    parser.add_argument("--small", type=int, default=100_000, help="facts in the first rollup")
    parser.add_argument("--large", type=int, default=1_000_000, help="facts in the second rollup")
    parser.add_argument("--users", type=int, default=10_000, help="learners, half in Acme, half in Globex")
    parser.add_argument("--requests", type=int, default=200, help="timed dashboard and hello-world reads")
    return parser


def _sql(dsn: str, statements: str, params: dict[str, Any]) -> None:
    """Run each statement of `statements` (separated by `;` at a line end) with `params`."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements.split(";\n"):
            conn.execute(statement, params)


def _fill(dsn: str, first: int, last: int, users: int) -> None:
    """Add facts `first`..`last`, in batches, then analyse the tables."""
    for start in range(first, last + 1, BATCH):
        _sql(dsn, FACTS_SQL, {"first": start, "last": min(start + BATCH - 1, last), "users": users})
    _sql(dsn, "vacuum analyze public.learning_completions, public.learning_quiz_attempts, public.ai_usage", {})


COUNTED_SQL = """
select coalesce(sum(completions + quiz_attempts + ai_messages), 0)::bigint as facts, count(*) as rows,
       (select count(*) from public.analytics_user_daily) as user_rows
  from public.analytics_daily
"""


async def _rollup() -> tuple[float, dict[str, int]]:
    """Seconds to rebuild the last 31 days (today included), from empty rollups; what they counted."""
    from shared.analytics import rollups
    from shared.analytics.schemas import today
    from shared.platform.db import as_service, close_pool

    async with as_service() as tx:
        await tx.execute("truncate public.analytics_daily, public.analytics_user_daily, public.analytics_content_daily")
    started = time.monotonic()
    await rollups.rebuild(today() - timedelta(days=30), today())
    seconds = time.monotonic() - started
    async with as_service() as tx:
        counted = await tx.fetch_one(COUNTED_SQL)
    await close_pool()
    return seconds, {k: int(v) for k, v in (counted or {}).items()}


async def _reads(supabase_url: str, requests: int) -> dict[str, dict[str, float]]:
    """The dashboard of Acme's last 30 days as its admin, and hello-world, through the same in-process client."""
    import httpx

    from scripts.local.functions import LocalGateway
    from scripts.local.tokens import local_token
    from shared.platform.db import close_pool

    token = local_token(ACME_ADMIN, ACME_ADMIN_EMAIL, issuer=f"{supabase_url}/auth/v1")
    headers = {"Authorization": f"Bearer {token}"}
    gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app=LocalGateway()), base_url="http://bench/functions/v1")
    hello = httpx.AsyncClient(transport=httpx.ASGITransport(app=_hello), base_url="http://bench")
    async with gateway, hello:
        reads = {
            "hello": lambda: hello.get("/"),
            "dashboard": lambda: gateway.get("/analytics", params={"community_id": ACME}, headers=headers),
            "learners": lambda: gateway.get("/analytics/learners", params={"community_id": ACME}, headers=headers),
        }
        timings = {name: await _time(call, requests) for name, call in reads.items()}
    await close_pool()
    return timings


async def _time(call: Callable[[], Awaitable[Any]], n: int) -> dict[str, float]:
    for _ in range(WARMUP):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = await call()
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code} {response.text}")
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(statistics.quantiles(samples, n=20)[-1], 3),
    }


async def _hello(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """Hello-world as a bare ASGI app: what any request through the client costs."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


if __name__ == "__main__":
    main()
