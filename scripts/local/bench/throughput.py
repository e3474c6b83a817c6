"""Warm throughput: each load scenario against its own server, with the CPU it costs per request.

A scenario is one request driven by `--concurrency` keep-alive connections for `--duration` seconds after
a one-second warm-up: wrk when installed (a generated Lua script sends bodies), else loadgen.py in its own
process. A scenario may instead name a list of bodies, sent one per request in turn (each a different write,
e.g. a completion not recorded before); the measured run goes on where the warm-up stopped, and one body is
kept for the timing request. Around the measured load the bench reads the CPU time of the server's process group and of the
Postgres cluster (cpu.py), and divides each by the requests served; one more request reads the route's
database round trips from its Server-Timing header. A write scenario's body holds `{n}`, replaced by a
value no other request of the run uses (the tags it creates must have distinct names). A scenario that
writes one item names the revision it changes: it sends the ETag of the previous answer as If-Match, on
one connection (`chain_etag_from`: where to read the first ETag), so every write is a real one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from scripts.local.bench import cpu
from scripts.local.bench.servers import BenchError, Target, served

ROOT = Path(__file__).resolve().parents[3]
_WRK_DURATION = re.compile(r"^([\d.]+)(us|ms|s|m)$")
_SERVER_TIMING_DB = re.compile(r'db;dur=([\d.]+);desc="(\d+) round trips?"')
_WRK_SCRIPT = """\
wrk.method = {method}
local template = {template}
local prefix = {prefix}
local threads = 0
local counter = 0
local etag = {etag}
local bodies = {bodies}
local thread_count = {thread_count}

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function request()
  if etag ~= nil then
    wrk.headers["If-Match"] = etag
  end
  if bodies ~= nil then
    counter = counter + 1
    return wrk.format(nil, nil, nil, bodies[((counter - 1) * thread_count + (tid or 1) - 1) % #bodies + 1])
  end
  if template == nil then
    return wrk.format()
  end
  counter = counter + 1
  local body = template:gsub("{{n}}", prefix .. (tid or 0) .. "-" .. counter)
  return wrk.format(nil, nil, nil, body)
end
{chain}"""
_WRK_CHAIN = """
function response(status, headers, body)
  etag = headers["etag"] or headers["ETag"] or etag
end
"""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One request to drive under load: which target serves it, and whether it is sent as the bench user."""

    name: str
    target: str
    method: str
    path: str
    as_user: bool = False
    body: str | None = None
    """JSON text; `{n}` becomes a value unique within the run."""
    chain_etag_from: str | None = None
    """A path whose ETag the first request sends as If-Match; each later one sends the previous answer's
    (the scenario then runs on one connection)."""
    setup: Callable[[], Sequence[tuple[str, tuple[object, ...]]]] | None = None
    """Statements (as the database owner) that write what the scenario needs beyond the seed."""
    bodies: Callable[[], Sequence[str]] | None = None
    """JSON texts sent one per request in turn instead of `body` (each request a different write)."""


@dataclass(slots=True)
class LoadResult:
    """Warm throughput and latency of one scenario, and what each request cost."""

    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    method: str = "GET"
    path: str = "/"
    server_timing: str | None = None
    db_round_trips: int | None = None
    db_ms: float | None = None
    server_cpu_us_per_request: float | None = None
    """CPU time of the server's processes during the run, divided by the requests served."""
    postgres_cpu_us_per_request: float | None = None
    """CPU time of the Postgres cluster's processes during the run, divided by the requests served."""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoadSettings:
    """How hard and how long every scenario is driven, and by what."""

    duration_s: float
    concurrency: int
    tool: str
    """"wrk" or "python" (loadgen.py)."""
    threads: int
    """wrk's threads."""


@dataclass(frozen=True, slots=True)
class Load:
    """One scenario's requests as sent: where, with which headers and body, and the settings."""

    url: str
    method: str
    headers: Mapping[str, str]
    body: str | None
    settings: LoadSettings
    chain_etag: bool = False
    """Send the previous answer's ETag as If-Match (the first request: the one in `headers`)."""
    bodies: Sequence[str] = ()
    """Sent one per request in turn, instead of `body`."""


def _duration_ms(text: str) -> float:
    match = _WRK_DURATION.match(text.strip())
    if match is None:
        raise BenchError(f"cannot read wrk duration {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> LoadResult:
    """Read wrk --latency output."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    done = re.search(r"^\s+(\d+) requests in ([\d.]+)(ms|s|m),", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not (done and rps and "50" in percentiles and "99" in percentiles):
        raise BenchError(f"cannot read wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return LoadResult(
        tool="wrk",
        requests=int(done.group(1)),
        seconds=_duration_ms(done.group(2) + done.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=_duration_ms(percentiles["50"]),
        p99_ms=_duration_ms(percentiles["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    )


def _lua_string(text: str) -> str:
    level = "=" * (max((len(m) for m in re.findall(r"\](=*)\]", text)), default=-1) + 1)
    return f"[{level}[{text}]{level}]"


def wrk_script(
    method: str,
    body: str | None,
    prefix: str,
    etag: str | None = None,
    bodies: Sequence[str] = (),
    threads: int = 1,
) -> str:
    """The Lua script that makes wrk send `method` with `body`, `{n}` replaced per request; with `etag`,
    each request sends the previous answer's ETag as If-Match (the first one `etag`); with `bodies`, each
    request the next of them (over `threads` threads, none sent twice before all were sent)."""
    template = "nil" if body is None else _lua_string(body)
    return _WRK_SCRIPT.format(
        method=_lua_string(method),
        template=template,
        prefix=_lua_string(prefix),
        etag="nil" if etag is None else _lua_string(etag),
        bodies="{" + ",\n".join(map(_lua_string, bodies)) + "}" if bodies else "nil",
        thread_count=threads,
        chain="" if etag is None else _WRK_CHAIN,
    )


def _run_wrk(load: Load) -> LoadResult:
    settings = load.settings
    argv = ["wrk", f"-t{settings.threads}", f"-c{settings.concurrency}", f"-d{max(1, round(settings.duration_s))}s"]
    argv.append("--latency")
    etag = load.headers.get("If-Match") if load.chain_etag else None
    for name, value in load.headers.items():
        if etag is None or name != "If-Match":
            argv += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="aigym-bench-") as script:
        script.write(wrk_script(load.method, load.body, f"{uuid.uuid4().hex[:8]}-", etag, load.bodies, settings.threads))
        script.flush()
        result = subprocess.run(
            [*argv, "-s", script.name, load.url],
            capture_output=True,
            text=True,
            timeout=settings.duration_s + 60,
            check=False,
        )
    if result.returncode != 0:
        raise BenchError(f"wrk failed:\n{result.stderr}")
    return parse_wrk(result.stdout)


def _run_loadgen(load: Load) -> LoadResult:
    spec = {
        "method": load.method,
        "headers": dict(load.headers),
        "body": load.body,
        "chain_etag": load.chain_etag,
        "bodies": list(load.bodies),
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "scripts.local.bench.loadgen", load.url]
    argv += ["--duration", str(load.settings.duration_s), "--concurrency", str(load.settings.concurrency)]
    result = subprocess.run(
        argv,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=env,
        timeout=load.settings.duration_s + 60,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"load generator failed:\n{result.stderr[-2000:]}")
    return LoadResult(**json.loads(result.stdout))


def run_load(load: Load) -> LoadResult:
    """Drive the load from a separate process (wrk or loadgen.py) and read what it measured."""
    result = _run_wrk(load) if load.settings.tool == "wrk" else _run_loadgen(load)
    parts = urlsplit(load.url)
    result.method, result.path = load.method, parts.path + (f"?{parts.query}" if parts.query else "")
    return result


def current_etag(url: str, headers: Mapping[str, str]) -> str:
    """The ETag a GET of `url` answers with (what a chained scenario's first If-Match names)."""
    import httpx

    response = httpx.get(url, headers={k: v for k, v in headers.items() if k != "Content-Type"}, timeout=10)
    etag: str | None = response.headers.get("etag")
    if response.status_code != 200 or etag is None:
        raise BenchError(f"GET {url} answered {response.status_code} without an ETag")
    return etag


def _chained(load: Load, etag_url: str | None) -> Load:
    """The load with the item's current ETag as its first If-Match, when it chains ETags."""
    if etag_url is None:
        return load
    return replace(load, headers={**load.headers, "If-Match": current_etag(etag_url, load.headers)})


def read_server_timing(load: Load) -> tuple[str | None, int | None, float | None]:
    """The Server-Timing header of one more request, and the database round trips and time it names."""
    import httpx

    body = None if load.body is None else load.body.replace("{n}", f"timing-{uuid.uuid4().hex[:8]}")
    response = httpx.request(load.method, load.url, headers=dict(load.headers), content=body, timeout=10)
    value = response.headers.get("server-timing")
    match = _SERVER_TIMING_DB.search(value or "")
    if match is None:
        return value, None, None
    return value, int(match.group(2)), float(match.group(1))


def per_request_us(before: float | None, after: float | None, requests: int) -> float | None:
    """CPU microseconds per request between two readings, or None when either is missing."""
    if before is None or after is None or not requests:
        return None
    return round((after - before) / requests * 1e6, 1)


def measure_load(
    scenarios: list[Scenario],
    targets: list[Target],
    env: Mapping[str, str],
    settings: LoadSettings,
    log_dir: Path,
    *,
    user_token: str,
    postmaster: int | None,
) -> dict[str, LoadResult]:
    """Each scenario whose target is among `targets`, on a server of its own: its load and CPU per request."""
    by_name = {t.name: t for t in targets}
    results: dict[str, LoadResult] = {}
    for scenario in scenarios:
        target = by_name.get(scenario.target)
        if target is None:
            continue
        headers = {"Authorization": f"Bearer {user_token}"} if scenario.as_user else {}
        if scenario.body is not None or scenario.bodies is not None:
            headers["Content-Type"] = "application/json"
        chained = scenario.chain_etag_from is not None
        # One writer of one item: each request names the revision the previous one made.
        own = replace(settings, concurrency=1, threads=1) if chained else settings
        bodies = list(scenario.bodies()) if scenario.bodies is not None else []
        timing_body = bodies.pop() if bodies else scenario.body  # a body no load request sends
        with served(target, env, log_dir) as server:
            base = f"http://127.0.0.1:{server.port}"
            url = base + scenario.path
            etag_url = base + scenario.chain_etag_from if scenario.chain_etag_from is not None else None
            load = Load(url, scenario.method, headers, scenario.body, own, chain_etag=chained, bodies=bodies)
            warm_up = replace(load, settings=replace(own, duration_s=1.0))
            warm = run_load(_chained(warm_up, etag_url))  # warm-up: pool, caches, plans
            load = _chained(_after(load, warm.requests + own.concurrency), etag_url)
            server_before, pg_before = cpu.group_cpu_s(server.pgid), _cluster(postmaster)
            result = run_load(load)
            server_after, pg_after = cpu.group_cpu_s(server.pgid), _cluster(postmaster)
            timing = replace(load, body=timing_body, bodies=())
            result.server_timing, result.db_round_trips, result.db_ms = read_server_timing(_chained(timing, etag_url))
        result.server_cpu_us_per_request = per_request_us(server_before, server_after, result.requests)
        if scenario.target != "hello":
            result.postgres_cpu_us_per_request = per_request_us(pg_before, pg_after, result.requests)
        if chained:
            result.notes.append("one connection: each request sends the previous answer's ETag as If-Match")
        if bodies:
            result.notes.append(_bodies_note(len(load.bodies), result.requests))
        if result.non_2xx or result.errors:
            result.notes.append(f"{result.non_2xx} non-2xx answers and {result.errors} socket errors")
        results[scenario.name] = result
    return results


def _after(load: Load, sent: int) -> Load:
    """The load with the bodies the warm-up may have sent (at most `sent`) left out."""
    if not load.bodies:
        return load
    if sent >= len(load.bodies):
        raise BenchError(f"the warm-up used the scenario's {len(load.bodies)} bodies: it needs more")
    return replace(load, bodies=load.bodies[sent:])


def _bodies_note(available: int, requests: int) -> str:
    """What a scenario of distinct bodies sent: each once, or some again once all were sent."""
    if requests <= available:
        return f"each request a different body ({requests} of {available})"
    return f"{requests - available} requests repeated a body: only {available} were left after the warm-up"


def _cluster(postmaster: int | None) -> float | None:
    return None if postmaster is None else cpu.cluster_cpu_s(postmaster)
