"""`scripts/bench [options]`: build the targets, start the local stack, measure, print and save."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from scripts.local.bench import fixtures, learning
from scripts.local.bench.cold_start import measure_starts, prepare
from scripts.local.bench.instructions import available as instructions_available
from scripts.local.bench.instructions import count_starts
from scripts.local.bench.report import Report, Sample, render
from scripts.local.bench.servers import BenchError
from scripts.local.bench.targets import BENCH_COMMUNITY, HELLO, build_targets, user_tokens
from scripts.local.bench.throughput import LoadSettings, Scenario, measure_load

ROOT = Path(__file__).resolve().parents[3]
RESULTS_DIR = ROOT / "bench-results"
DATABASE = "aigym_bench"
"""The bench's own database on this checkout's cluster, recreated every run: serve's data stays untouched,
and the write scenario's tags start from the seed each time."""
SCENARIOS = (
    Scenario(HELLO, HELLO, "GET", "/"),
    Scenario("health", "health", "GET", "/health/live"),
    Scenario("me", "me", "GET", "/me", as_user=True),
    Scenario("members-list", "members", "GET", f"/members?community_id={BENCH_COMMUNITY}", as_user=True),
    Scenario(
        "tags-create",
        "tags",
        "POST",
        "/tags",
        as_user=True,
        body=f'{{"community_id": "{BENCH_COMMUNITY}", "name": "bench {{n}}"}}',
    ),
    Scenario(
        "wod-read", "wods", "GET", f"/wods/{fixtures.BENCH_WOD}", as_user=True, setup=fixtures.wod_statements
    ),
    Scenario(
        "wod-save-page",
        "wods",
        "PUT",
        f"/wods/{fixtures.BENCH_WOD}/pages/{fixtures.page_id(9)}",
        as_user=True,
        body=fixtures.save_page_body(),
        chain_etag_from=f"/wods/{fixtures.BENCH_WOD}",
        setup=fixtures.wod_statements,
    ),
    Scenario(
        "progress-record",
        "progress",
        "POST",
        "/progress/completions",
        as_user=True,
        bodies=learning.record_bodies,
        setup=learning.record_statements,
    ),
    Scenario(
        "progress-repeat",
        "progress",
        "POST",
        "/progress/completions",
        as_user=True,
        body=learning.repeat_body(),
        setup=learning.statements,
    ),
    Scenario(
        "progress-wod", "progress", "GET", f"/progress/items/{learning.LEARN_WOD}", as_user=True,
        setup=learning.statements,
    ),
    Scenario(
        "progress-program", "progress", "GET", f"/progress/programs/{learning.LEARN_PROGRAM}", as_user=True,
        setup=learning.statements,
    ),
)
"""What runs under load: the baseline, liveness, the caller, a read-heavy and a write admin route, a WOD
of 20 pages of 10 blocks read by its editor and one of its pages saved, and a learner's completions (each a
block not completed before; for comparison, one completion repeated) and progress through a WOD and a
program."""
WORKER_SCENARIO = "worker-completions"
"""Not a request: the worker applying `--worker-events` completion events (learning.measure_worker)."""


def server_description() -> dict[str, str]:
    """What `functions-framework --asgi` serves with here (see functions_framework/_http/__init__.py)."""
    has = {m: importlib.util.find_spec(m) is not None for m in ("gunicorn", "uvicorn_worker", "uvloop", "httptools")}
    return {
        "functions_framework": importlib.metadata.version("functions-framework"),
        "runner": "gunicorn + uvicorn_worker.UvicornWorker (1 worker)"
        if has["gunicorn"] and has["uvicorn_worker"]
        else "uvicorn.run",
        "loop": "uvloop" if has["uvloop"] else "asyncio",
        "http": "httptools" if has["httptools"] else "h11",
    }


def _new_report(args: argparse.Namespace, started: datetime) -> Report:
    return Report(
        started=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine={
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        },
        server=server_description(),
        settings={
            "runs": args.runs,
            "duration_s": args.duration,
            "concurrency": args.concurrency,
            "loadgen": f"wrk -t{args.threads}" if args.loadgen == "wrk" else "python-asyncio (1 process)",
        },
    )


def _measure(names: list[str], args: argparse.Namespace, report: Report, work: Path) -> None:
    from scripts.local.bench.cpu import postmaster_pid
    from scripts.local.stack import DEFAULT_PORT, running_stack

    logs = work / "logs"
    logs.mkdir()
    with running_stack(DEFAULT_PORT, database=DATABASE, fresh=True) as stack:
        # Generous limits: the benchmark measures the rate-limit upsert, not refusals.
        env = {**os.environ, "RATE_LIMIT_GENERAL": "1000000000/60", "RATE_LIMIT_ADMIN": "1000000000/60"}
        targets = build_targets(names, work, env)
        prepare(targets, env, logs)
        report.paths = {t.name: t.path if t.expect_200 else f"{t.path} (any answer)" for t in targets}
        for name, runs in measure_starts(targets, env, args.runs, work, logs).items():
            report.imports[name] = Sample(runs.imports)
            report.imports_in_server[name] = Sample(runs.imports_in_server)
            report.cold[name] = Sample(runs.cold)
            report.up[name] = Sample(runs.up)
            report.first_request[name] = Sample(runs.first_request)
            report.gc[name] = Sample(runs.gc)
            report.import_groups[name] = runs.import_groups()
        if args.instructions:
            report.instructions = count_starts(targets, env)
        if args.no_load:
            return
        settings = LoadSettings(args.duration, args.concurrency, args.loadgen, args.threads)
        scenarios = [s for s in SCENARIOS if not args.scenarios or s.name in args.scenarios]
        _set_up(scenarios, stack.database_url)
        report.load = measure_load(
            scenarios,
            targets,
            env,
            settings,
            logs,
            user_token=user_tokens(env)[0],
            postmaster=postmaster_pid(stack.database_url),
        )
        if "worker" in names and (not args.scenarios or WORKER_SCENARIO in args.scenarios):
            report.worker = _measure_worker(args.worker_events)


def _measure_worker(events_count: int) -> learning.WorkerResult:
    """The worker's throughput, in a loop of its own (its pool closed after)."""
    import asyncio

    from shared.platform.db import close_pool

    async def run() -> learning.WorkerResult:
        try:
            return await learning.measure_worker(events_count)
        finally:
            await close_pool()

    return asyncio.run(run())


def _set_up(scenarios: list[Scenario], database_url: str) -> None:
    """Write what the scenarios need beyond the seed (each setup once)."""
    import psycopg

    setups = list(dict.fromkeys(s.setup for s in scenarios if s.setup is not None))
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        for setup in setups:
            for statement, params in setup():
                conn.execute(statement.encode(), params)


def run(args: argparse.Namespace) -> int:
    """Measure the named functions (default: all) and the hello-world; print and save the report."""
    from scripts.local.functions import discover

    names = list(discover())
    if args.functions:
        wanted = [n.strip() for n in args.functions.split(",") if n.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            print(f"bench: unknown functions: {', '.join(unknown)}", file=sys.stderr)
            return 2
        names = wanted
    if args.instructions and not instructions_available():
        print("bench: --instructions needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    if args.loadgen == "auto":
        args.loadgen = "wrk" if shutil.which("wrk") else "python"
    elif args.loadgen == "wrk" and not shutil.which("wrk"):
        print("bench: wrk is not installed (apt-get install wrk), use --loadgen python", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    report = _new_report(args, started)
    with tempfile.TemporaryDirectory(prefix="aigym-bench-") as tmp:
        _measure(names, args, report, Path(tmp))
    report.machine["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(render(report))
    out = report.save(RESULTS_DIR, started.strftime("%Y%m%dT%H%M%SZ"))
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the bench."""
    parser = argparse.ArgumentParser(
        prog="bench", description="Every function against a functions-framework hello-world, in one run."
    )
    parser.add_argument("--runs", type=int, default=5, help="starts and imports per target (median)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of load per scenario")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent connections under load")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--functions", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--scenarios",
        type=lambda text: [s.strip() for s in text.split(",") if s.strip()],
        default=[],
        help="load scenarios (default: all whose function is measured: "
        f"{', '.join([*(s.name for s in SCENARIOS), WORKER_SCENARIO])})",
    )
    parser.add_argument(
        "--worker-events", type=int, default=2000, help=f"completion events the {WORKER_SCENARIO} part applies"
    )
    parser.add_argument("--no-load", action="store_true", help="skip the throughput part")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each start's instructions under callgrind (deterministic; ~20 s a target; needs valgrind)",
    )
    args = parser.parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
