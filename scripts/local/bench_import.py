"""Measure a bulk import end to end: upload a generated CSV, then run the worker until the job completes.

    scripts/bench_import [--rows 10000] [--keep]

Runs in a throwaway database (`aigym_bench_import`) on the embedded Postgres, or on the server that
DATABASE_URL names (it must allow CREATE DATABASE), migrated and seeded, with the local identity
provider. Both halves go through the real functions in-process over ASGI: the upload is `POST
/imports?community_id=<acme>` (text/csv) as the seeded Acme admin; the worker half is `POST
/worker/run` with the secret key, repeated until the job reports `completed`, i.e. every row's
invitation was delivered. Every row is a new address with two tags, the most expensive case (invitation
row and its audit entry in the chunk; then, outside the chunk, a provider invite and its recorded outcome).
Prints the timings and writes bench-results/bench-import-<UTC timestamp>.json. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "bench-results"
DATABASE = "aigym_bench_import"
ACME = "c0000000-0000-4000-8000-000000000001"
ACME_ADMIN = "a0000000-0000-4000-8000-000000000011"
ACME_ADMIN_EMAIL = "admin@acme.example.com"
SUPABASE_URL = "http://127.0.0.1:54321"
MAX_WORKER_RUNS = 1000


@dataclass(slots=True)
class ImportBench:
    """What one run measured (seconds)."""

    rows: int
    csv_bytes: int
    upload_s: float = 0.0
    worker_s: float = 0.0
    total_s: float = 0.0
    worker_runs: int = 0
    slowest_run_s: float = 0.0
    status: str = ""
    succeeded: int = 0
    failed: int = 0
    invitations_sent: int = 0
    run_times_s: list[float] = field(default_factory=list)


def generate_csv(rows: int) -> bytes:
    """A file of `rows` new people, each with two tags."""
    lines = ["firstName,lastName,email,tags"]
    lines += [f"First{i},Last{i},bench.user{i:06d}@example.com,Sales;Ops" for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def _prepare_database() -> tuple[str, Any]:
    """Create, migrate and seed the bench database; return its DSN and the server we started (or None)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from scripts.local.postgres import LocalPostgres, default_data_dir
    from shared.platform import migrate

    server = None
    admin_dsn = os.environ.get("DATABASE_URL", "")
    if not admin_dsn:
        server = LocalPostgres(default_data_dir("bench-import"))
        admin_dsn = server.start()
    dsn = make_conninfo(admin_dsn, dbname=DATABASE)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
    migrate.apply(dsn, seed=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "insert into public.user_tags (community_id, name) values (%s, 'Sales'), (%s, 'Ops')",
            (ACME, ACME),
        )
    return dsn, server


def _drop_database(dsn: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(make_conninfo(dsn, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DATABASE)))


def _count_sent(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select count(*) from public.invitations where community_id = %s and delivery = 'sent'", (ACME,)
        ).fetchone()
    return int(row[0]) if row else 0


async def _run(rows: int, dsn: str) -> ImportBench:
    import httpx

    from scripts.local.functions import LocalGateway
    from scripts.local.stack import LOCAL_SECRET_KEY
    from scripts.local.tokens import local_token
    from shared.platform.db import close_pool

    data = generate_csv(rows)
    result = ImportBench(rows=rows, csv_bytes=len(data))
    token = local_token(ACME_ADMIN, ACME_ADMIN_EMAIL, issuer=f"{SUPABASE_URL}/auth/v1")
    user = {"Authorization": f"Bearer {token}"}
    service = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}
    transport = httpx.ASGITransport(app=LocalGateway(["imports", "worker"]))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench/functions/v1", timeout=120.0
        ) as client:
            started = time.perf_counter()
            response = await client.post(
                "/imports",
                content=data,
                params={"community_id": ACME, "filename": "bench.csv"},
                headers={**user, "content-type": "text/csv"},
            )
            result.upload_s = time.perf_counter() - started
            if response.status_code != 202:
                raise SystemExit(f"upload failed: {response.status_code} {response.text}")
            job_url = f"/imports/{response.json()['id']}"
            worker_started = time.perf_counter()
            job: dict[str, Any] = response.json()
            while job["status"] != "completed" and result.worker_runs < MAX_WORKER_RUNS:
                run_started = time.perf_counter()
                run = await client.post("/worker/run", headers=service)
                if run.status_code != 200:
                    raise SystemExit(f"worker run failed: {run.status_code} {run.text}")
                result.run_times_s.append(round(time.perf_counter() - run_started, 4))
                result.worker_runs += 1
                job = (await client.get(job_url, headers=user)).json()
            result.worker_s = time.perf_counter() - worker_started
            result.total_s = time.perf_counter() - started
    finally:
        await close_pool()
    result.status, result.succeeded, result.failed = job["status"], job["succeeded"], job["failed"]
    result.slowest_run_s = max(result.run_times_s, default=0.0)
    result.invitations_sent = _count_sent(dsn)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the import benchmark and print its timings."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the generated CSV (default 10000)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args(argv)

    from scripts.local.stack import local_env
    from shared.platform.config import reset_settings

    dsn, server = _prepare_database()
    try:
        os.environ.update(local_env(dsn, SUPABASE_URL))
        os.environ["DATABASE_URL"] = dsn
        os.environ["IDENTITY_PROVIDER"] = "local"
        reset_settings()
        result = asyncio.run(_run(args.rows, dsn))
    finally:
        if not args.keep:
            _drop_database(dsn)
        if server is not None:
            server.stop()

    print(f"bulk import of {result.rows} rows ({result.csv_bytes / 1024:.0f} KiB of CSV)")
    print(f"  upload (parse, validate, store job + rows, 202)  {result.upload_s:8.2f} s")
    print(f"  worker ({result.worker_runs} runs of POST /worker/run)          {result.worker_s:8.2f} s")
    print(f"  slowest worker run                               {result.slowest_run_s:8.2f} s")
    print(f"  end to end                                       {result.total_s:8.2f} s")
    print(
        f"  job {result.status}: {result.succeeded} succeeded, {result.failed} failed; "
        f"{result.invitations_sent} invitations sent"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"bench-import-{stamp}.json"
    record = {
        "when": stamp,
        "python": platform.python_version(),
        "machine": platform.machine(),
        **asdict(result),
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    return 0 if result.status == "completed" and result.succeeded == result.rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
