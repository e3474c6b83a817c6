"""`scripts/bench-catalogue`: does the learner's catalogue cost the same with 10,000 and 1,000,000 items?

One database (this checkout's cluster, a database of its own, recreated) is filled in two steps with
platform content of every type, 90 % published. A learner of Acme (lena) is granted the same few hundred
items in both steps — to Acme as a whole, to a tag she holds, to her alone — and Globex is granted a
tenth of everything, so the grants table grows with the items and almost nothing is visible to her.
After each step (`vacuum analyze`), the real `catalogue` handler is called in-process as lena, one
request at a time: the newest page of her catalogue, and a full-text search for a word that one item in
eight contains. Reported: median and p95 of the request and of its database time (Server-Timing), and
the ratio large / small of the medians. Target: ≤ 1.2.

    scripts/bench-catalogue [--small 10000] [--large 1000000] [--requests 300]

Writes bench-results/catalogue-<UTC>.json. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DESCRIPTION = "The learner's catalogue and a search with 10,000 and with 1,000,000 content items."
DATABASE = "aigym_bench_catalogue"
ACME = "c0000000-0000-4000-8000-000000000001"
GLOBEX = "c0000000-0000-4000-8000-000000000002"
LENA = "a0000000-0000-4000-8000-000000000012"
LENA_EMAIL = "lena@acme.example.com"
BENCH_TAG = "d0000000-0000-4000-8000-00000000be01"
SEARCH_WORD = "spreadsheets"
WARMUP = 10
"""Requests discarded after each switch of database (new pool connections, cold caches)."""
RESULTS = Path(__file__).resolve().parents[3] / "bench-results"

# Items g of a step: types, topics and labels cycle; one in ten is a draft. Globex is granted every tenth
# item of the step as it is added. `g` numbers items across both steps.
ITEMS_SQL = f"""
with added as (
  insert into public.content_items (type, title, description, tags, status, payload)
  select (array['ai_agent', 'video', 'document', 'prompt', 'automation', 'image', 'pdf'])[1 + g %% 7],
         'Lesson ' || g || ': AI for ' || topic,
         'How teams use AI for ' || topic || ' at work, part ' || (1 + g %% 13),
         array[(array['beginner', 'advanced', 'data', 'writing'])[1 + g %% 4]],
         case when g %% 10 = 0 then 'draft' else 'published' end,
         jsonb_build_object('prompt_text', 'Practise ' || topic || ' with a worked example number ' || g)
    from generate_series(%(first)s::int, %(last)s::int) g,
         lateral (select (array['prompting', 'spreadsheets', 'meetings', 'sales', 'python', 'writing',
                                'strategy', 'policy'])[1 + g %% 8] as topic) t
  returning id, title
)
insert into public.content_grants (item_id, community_id)
select id, '{GLOBEX}' from added where (substring(title from '^Lesson ([0-9]+):'))::int %% 10 = 5
"""  # noqa: S608 - constants only
# Lena's few hundred: every 50th item to Acme, every 50th (shifted) to her tag, every 100th to her alone.
LENA_TAG_SQL = f"""
insert into public.user_tags (id, community_id, name) values ('{BENCH_TAG}', '{ACME}', 'bench');
insert into public.user_tag_assignments (tag_id, user_id, community_id) values ('{BENCH_TAG}', '{LENA}', '{ACME}')
"""  # noqa: S608 - constants only
LENA_GRANTS_SQL = f"""
insert into public.content_grants (item_id, community_id, tag_id, user_id)
select id, '{ACME}', case when n %% 50 = 2 then '{BENCH_TAG}'::uuid end, case when n %% 100 = 3 then '{LENA}'::uuid end
  from (select i.id, (substring(i.title from '^Lesson ([0-9]+):'))::int as n
          from public.content_items i where i.title like 'Lesson %%') numbered
 where n %% 50 in (1, 2) or n %% 100 = 3
"""  # noqa: S608 - constants only


@dataclass(frozen=True, slots=True)
class Timing:
    """Milliseconds of one scenario at one size: the request and its database share."""

    median_ms: float
    p95_ms: float
    db_median_ms: float
    items: int


@dataclass(frozen=True, slots=True)
class Scenario:
    """One request the bench repeats."""

    name: str
    params: dict[str, str]


SCENARIOS = (
    Scenario("catalogue", {"community_id": ACME, "limit": "20"}),
    Scenario("search", {"q": SEARCH_WORD, "limit": "20"}),
)


def main(argv: Sequence[str] | None = None) -> None:
    """Fill the small database, copy it and grow the copy, measure both in alternating rounds; report."""
    args = _parser().parse_args(argv)
    from scripts.local.stack import DEFAULT_PORT, running_stack
    from shared.platform import logging as platform_log

    os.environ["RATE_LIMIT_GENERAL"] = "1000000000/60"  # the bench measures the route, not refusals
    platform_log.stream = open(os.devnull, "w")  # noqa: SIM115 - the request log still runs, unseen
    sizes = {"small": args.small, "large": args.large}
    with running_stack(DEFAULT_PORT, database=DATABASE, fresh=True) as stack:
        started = time.monotonic()
        small = stack.database_url
        _fill(small, 1, args.small, grant_lena=True)
        large = _copy(small, f"{DATABASE}_large")  # the same first items and grants, then more
        _fill(large, args.small + 1, args.large, grant_lena=False)
        databases = {"small": small, "large": large}
        print(f"filled {args.small:,} and {args.large:,} items in {time.monotonic() - started:.0f} s")
        samples = asyncio.run(_measure(stack.supabase_url, databases, args.requests, args.rounds))
    results = {label: {name: _timing(s) for name, s in by_name.items()} for label, by_name in samples.items()}
    for label, timings in results.items():
        print(f"{label}: {sizes[label]:,} items")
        for name, timing in timings.items():
            print(
                f"  {name:<10} median {timing.median_ms:7.2f} ms  p95 {timing.p95_ms:7.2f} ms"
                f"  db {timing.db_median_ms:6.2f} ms  ({timing.items} items on the page)"
            )
    report = _report(sizes, results, args.requests)
    for name, ratio in report["ratios"].items():
        print(f"ratio {args.large:,} / {args.small:,} items, {name}: {ratio:.2f}x (target <= 1.2)")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"catalogue-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"written: {path}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/bench-catalogue", description=DESCRIPTION)
    parser.add_argument("--small", type=int, default=10_000, help="items in the small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="items in the large database")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per scenario and size")
    parser.add_argument("--rounds", type=int, default=10, help="alternations between the two databases")
    return parser


def _copy(dsn: str, name: str) -> str:
    """(Re)create database `name` as a copy of `dsn`'s; its DSN."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    source = str(conninfo_to_dict(dsn)["dbname"])
    admin = make_conninfo(dsn, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(source))
        )
    return make_conninfo(dsn, dbname=name)


def _fill(dsn: str, first: int, last: int, *, grant_lena: bool) -> None:
    """Add items `first`..`last` (in batches) and Globex's grants of them; lena's grants when asked."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for start in range(first, last + 1, 100_000):
            conn.execute(ITEMS_SQL, {"first": start, "last": min(start + 99_999, last)})
        if grant_lena:
            conn.execute(LENA_TAG_SQL)
            conn.execute(LENA_GRANTS_SQL, {})
        conn.execute(
            "vacuum analyze public.content_items, public.content_grants, public.user_tag_assignments"
        )


Samples = dict[str, dict[str, list[tuple[float, float, int]]]]
"""size label → scenario → (request ms, database ms, items on the page) per timed request."""


async def _measure(supabase_url: str, databases: dict[str, str], requests: int, rounds: int) -> Samples:
    """Alternate between the databases `rounds` times, so load from elsewhere falls on both alike."""
    import httpx

    from scripts.local.functions import LocalGateway
    from scripts.local.tokens import local_token
    from shared.platform.config import reset_settings
    from shared.platform.db import close_pool

    token = local_token(LENA, LENA_EMAIL, issuer=f"{supabase_url}/auth/v1")
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=LocalGateway())
    samples: Samples = {label: {s.name: [] for s in SCENARIOS} for label in databases}
    per_round = max(1, requests // rounds)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench/functions/v1") as client:
        for _ in range(rounds):
            for label, dsn in databases.items():
                await close_pool()
                os.environ["DATABASE_URL"] = dsn
                reset_settings()
                for scenario in SCENARIOS:
                    await _run(client, scenario, headers, WARMUP)
                    samples[label][scenario.name] += await _run(client, scenario, headers, per_round)
    await close_pool()
    return samples


async def _run(
    client: Any, scenario: Scenario, headers: dict[str, str], n: int
) -> list[tuple[float, float, int]]:
    timed = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get("/catalogue", params=scenario.params, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{scenario.name}: {response.status_code} {response.text}")
        timed.append(
            (elapsed, _db_ms(response.headers.get("server-timing", "")), len(response.json()["items"]))
        )
    return timed


def _timing(samples: list[tuple[float, float, int]]) -> Timing:
    totals = [s[0] for s in samples]
    return Timing(
        round(statistics.median(totals), 3),
        round(statistics.quantiles(totals, n=20)[-1], 3),
        round(statistics.median(s[1] for s in samples), 3),
        samples[-1][2],
    )


def _db_ms(server_timing: str) -> float:
    found = re.search(r"db;dur=([0-9.]+)", server_timing)
    return float(found.group(1)) if found else 0.0


def _report(sizes: dict[str, int], results: dict[str, dict[str, Timing]], requests: int) -> dict[str, Any]:
    ratios = {}
    for scenario in SCENARIOS:
        small, large = results["small"][scenario.name], results["large"][scenario.name]
        ratios[scenario.name] = round(large.median_ms / small.median_ms, 3)
        ratios[f"{scenario.name} (database)"] = round(large.db_median_ms / small.db_median_ms, 3)
    return {
        "sizes": sizes,
        "requests": requests,
        "results": {
            label: {name: asdict(t) for name, t in timings.items()} for label, timings in results.items()
        },
        "ratios": ratios,
    }


if __name__ == "__main__":
    main()
