"""`scripts/bench-ai-chat`: what `ai-chat` adds to a provider's time to first token, and how many streams it holds.

The server is `ai-chat` behind the local gateway, in a uvicorn process of its own (uvloop and httptools
when installed, as functions-framework serves), whose offline provider streams at a fixed pace: it waits
`--pace-ms` before each word, so its own time to first token is the pace. The demo agent "Prompt Coach"
(supabase/demo_content.sql) is asked by lena of Acme; every request starts a new conversation, so each
does the same work (a conversation is created, both messages stored, usage settled).

1. Time to first token, one request at a time (`--requests`): from sending the request to the first
   byte of the first `delta` event, minus the pace. Also reported: the time to the `start` event (the
   turn begun and committed: the response is open), and the time to the end of the stream.
2. Throughput: `--concurrency` streams held open at once for `--duration` seconds each level; completed
   streams per second, delta events per second, and the added time to first token under that load.

The client is raw asyncio connections in this process (httpx would measure itself); the server's and
Postgres's CPU per turn and per stream are read from /proc. Writes bench-results/ai-chat-<UTC>.json.
Not a test.

    scripts/bench-ai-chat [--pace-ms 50] [--requests 200] [--concurrency 1,16,64,256] [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from scripts.local.bench.catalogue import LENA, LENA_EMAIL, RESULTS

DATABASE = "aigym_bench_ai"
AGENT = "e0000000-0000-4000-8000-0000000c0001"
WARMUP = 20


def main(argv: Sequence[str] | None = None) -> None:
    """Start the stack and an ai-chat server with a paced offline provider; measure; print and save."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        _serve(args.port, args.pace_ms / 1000)
        return
    from scripts.local.bench.cpu import postmaster_pid
    from scripts.local.bench.servers import free_port
    from scripts.local.stack import DEFAULT_PORT, running_stack
    from scripts.local.tokens import local_token

    with running_stack(DEFAULT_PORT, database=DATABASE, fresh=True) as stack:
        _unlimited_quota(stack.database_url)
        port = free_port()
        env = {**os.environ, "RATE_LIMIT_AI": "1000000000/60", "RATE_LIMIT_GENERAL": "1000000000/60"}
        command = [sys.executable, "-m", "scripts.local.bench.ai_chat", "serve", "--port", str(port),
                   "--pace-ms", str(args.pace_ms)]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            token = local_token(LENA, LENA_EMAIL, issuer=f"{stack.supabase_url}/auth/v1")
            pids = (server.pid, postmaster_pid(stack.database_url))
            report = asyncio.run(_measure(("127.0.0.1", port), token, args, pids))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(_render(report))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"ai-chat-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"written: {path}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/bench-ai-chat", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="measure", choices=["measure", "serve"])
    parser.add_argument("--pace-ms", type=float, default=50.0, help="the offline provider's wait before each word")
    parser.add_argument("--requests", type=int, default=200, help="timed requests, one at a time")
    parser.add_argument("--concurrency", default="1,16,64,256", help="streams held open at once, per level")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per concurrency level")
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return parser


def _serve(port: int, pace_s: float) -> None:
    """The gateway with `ai-chat`, its offline provider paced (the `serve` subcommand)."""
    import uvicorn

    from scripts.local.functions import LocalGateway
    from shared.ai import fallback
    from shared.ai.providers.offline import OfflineProvider
    from shared.platform import logging as platform_log

    paced = {"offline": OfflineProvider(pace_s)}
    fallback.default_providers = lambda: paced  # type: ignore[assignment]
    platform_log.stream = open(os.devnull, "w")  # noqa: SIM115 - the request log still runs, unseen
    uvicorn.run(LocalGateway(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _unlimited_quota(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("update public.community_ai_settings set monthly_token_quota = 1000000000000")


async def _measure(base: tuple[str, int], token: str, args: argparse.Namespace, pids: tuple[int, int | None]) -> dict[str, Any]:
    pace_ms = args.pace_ms
    request = _request(base[0], token)
    await _until_up(base)
    for _ in range(WARMUP):
        await _one(base, request)
    cpu_before = _cpu(pids)
    sequential = [await _one(base, request) for _ in range(args.requests)]
    cpu_per_turn = [round((after - before) * 1000 / args.requests, 2) for before, after in zip(cpu_before, _cpu(pids), strict=True)]
    levels = [int(n) for n in args.concurrency.split(",") if n.strip()]
    load = {str(n): await _load(base, request, n, args.duration, pace_ms, pids) for n in levels}
    return {
        "pace_ms": pace_ms,
        "requests": args.requests,
        "one_at_a_time": {
            "added_to_first_token_ms": _summary([s["delta"] - pace_ms for s in sequential]),
            "to_start_event_ms": _summary([s["start"] for s in sequential]),
            "to_first_delta_ms": _summary([s["delta"] for s in sequential]),
            "whole_stream_ms": _summary([s["end"] for s in sequential]),
            "deltas_per_stream": sequential[0]["deltas"],
            "server_cpu_ms_per_turn": cpu_per_turn[0],
            "postgres_cpu_ms_per_turn": cpu_per_turn[1],
        },
        "load": load,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def _request(host: str, token: str) -> bytes:
    body = json.dumps({"agent_id": AGENT, "content": "How do I write a good prompt for a weekly report?"}).encode()
    head = (
        f"POST /functions/v1/ai-chat HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def _until_up(base: tuple[str, int]) -> None:
    for _ in range(400):
        try:
            _, writer = await asyncio.open_connection(*base)
            writer.close()
            return
        except OSError:  # not listening yet
            await asyncio.sleep(0.05)
    raise RuntimeError("the ai-chat server did not start")


async def _one(base: tuple[str, int], request: bytes, *, refusals_allowed: bool = False) -> dict[str, float]:
    """One streamed turn over a raw connection (an httpx client would measure itself): ms to the start
    event, the first delta and the end; the number of deltas."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(*base)
    writer.write(request)
    marks: dict[str, float] = {}
    seen = bytearray()
    while chunk := await reader.read(65536):
        seen += chunk
        if "delta" not in marks:
            now = (time.perf_counter() - started) * 1000
            if "start" not in marks and b"event: start" in seen:
                marks["start"] = now
            if b"event: delta" in seen:
                marks["delta"] = now
    marks["end"] = (time.perf_counter() - started) * 1000
    writer.close()
    if not seen.startswith(b"HTTP/1.1 200") or b"event: done" not in seen:
        if not refusals_allowed:
            raise RuntimeError(f"ai-chat did not answer a whole stream: {bytes(seen[:300])!r}")
        return {"refused": 1.0, "status": float(seen[9:12] or 0)}
    marks["deltas"] = seen.count(b"event: delta")
    return marks


async def _load(
    base: tuple[str, int], request: bytes, streams: int, duration_s: float, pace_ms: float, pids: tuple[int, int | None]
) -> dict[str, Any]:
    """`streams` clients each opening one stream after another for `duration_s`; CPU per stream."""
    deadline = time.perf_counter() + duration_s
    done: list[dict[str, float]] = []

    async def worker() -> None:
        while time.perf_counter() < deadline:
            done.append(await _one(base, request, refusals_allowed=True))

    cpu_before = _cpu(pids)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(streams)))
    elapsed = time.perf_counter() - started
    refused = [d for d in done if "refused" in d]
    done = [d for d in done if "refused" not in d]
    cpu_after = _cpu(pids)
    return {
        "streams_per_s": round(len(done) / elapsed, 1),
        "deltas_per_s": round(sum(d["deltas"] for d in done) / elapsed, 1),
        "added_to_first_token_ms": _summary([d["delta"] - pace_ms for d in done]),
        "completed": len(done),
        "refused": len(refused),
        "refused_statuses": sorted({int(d["status"]) for d in refused}),
        "server_cpu_ms_per_stream": round((cpu_after[0] - cpu_before[0]) * 1000 / max(1, len(done)), 2),
        "postgres_cpu_ms_per_stream": round((cpu_after[1] - cpu_before[1]) * 1000 / max(1, len(done)), 2),
    }


def _cpu(pids: tuple[int, int | None]) -> tuple[float, float]:
    """CPU seconds used so far by the server's process group and by the Postgres cluster."""
    from scripts.local.bench.cpu import cluster_cpu_s, group_cpu_s

    server, postmaster = pids
    return group_cpu_s(server) or 0.0, (cluster_cpu_s(postmaster) or 0.0) if postmaster else 0.0


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "min": round(ordered[0], 2),
    }


def _render(report: dict[str, Any]) -> str:
    one = report["one_at_a_time"]
    lines = [
        f"pace {report['pace_ms']} ms per word, {one['deltas_per_stream']} deltas per answer",
        f"one at a time ({report['requests']} requests):",
        f"  added to first token  median {one['added_to_first_token_ms']['median']:7.2f} ms"
        f"  p95 {one['added_to_first_token_ms']['p95']:7.2f} ms  (target <= 5 ms)",
        f"  to start event        median {one['to_start_event_ms']['median']:7.2f} ms"
        f"  p95 {one['to_start_event_ms']['p95']:7.2f} ms",
        f"  whole stream          median {one['whole_stream_ms']['median']:7.2f} ms",
        f"  CPU per turn: server {one['server_cpu_ms_per_turn']} ms, Postgres {one['postgres_cpu_ms_per_turn']} ms"
        " (begin, stream and store; less noisy than the times on a busy machine)",
        "concurrent streams:",
    ]
    for level, figures in report["load"].items():
        added = figures["added_to_first_token_ms"]
        lines.append(
            f"  {level:>4} open: {figures['streams_per_s']:7.1f} streams/s  {figures['deltas_per_s']:8.1f} deltas/s"
            f"  added to first token median {added['median']:7.2f} ms  p95 {added['p95']:7.2f} ms"
            f"  refused {figures['refused']} {figures['refused_statuses']}"
            f"  CPU per stream: server {figures['server_cpu_ms_per_stream']} ms,"
            f" Postgres {figures['postgres_cpu_ms_per_stream']} ms"
        )
    lines.append(f"load average after: {report['loadavg']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
