"""Benchmark every function against a bare functions-framework hello-world measured in the same run.

For the hello-world and for each function's bundle (built into a temporary folder, exactly as deployed):
  import time    the function's main.py imported in a fresh interpreter (median of --runs);
  cold start     wall time from spawning `functions-framework --target handler --asgi --source
                 <bundle>/main.py` to the first 200 (polled every 5 ms; median of --runs, after one
                 discarded start that fills the page cache and the bytecode cache);
  import cost    one more start under PYTHONPROFILEIMPORTTIME, summed by top-level package (self time),
                 so what a function adds over the hello-world can be named;
and for the hello-world, health/live and GET /me, warm throughput and p50/p99 latency under concurrent
load (wrk when installed, else a keep-alive asyncio load generator in its own process), each target in its
own functions-framework process. `me` runs against the local stack (embedded Postgres, migrated and
seeded) with a local token for a seeded user; its first 200 is an authenticated GET /me.

    scripts/bench [--runs 5] [--duration 3] [--concurrency 32] [--functions health,me] [--loadgen wrk]

Prints ratios and a table; writes bench-results/bench-<UTC timestamp>.json. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "bench-results"
HELLO = "hello"
HELLO_SOURCE = 'async def handler(request):\n    return "ok"\n'
BENCH_USER_EMAIL = ("a0000000-0000-4000-8000-000000000011", "admin@acme.example.com")
"""The seeded user whose token GET /me (and any other user route) is called with."""
FALLBACK_USER_EMAIL = ("a0000000-0000-4000-8000-000000000001", "super@aigym.example.com")
"""Tried second, for user routes only staff may read."""
LOAD_TARGETS = (HELLO, "health", "me")
PROBE_PATHS = {"health": "/live", "me": "/"}
"""The route whose first 200 ends a cold start (relative to the function); others: a parameterless GET."""
COLD_START_TARGET = 1.5
THROUGHPUT_TARGET = 0.30
POLL_INTERVAL_S = 0.005
START_TIMEOUT_S = 30.0
HEADERS_ENV = "AIGYM_BENCH_HEADERS"
UP_PATH = "/__bench_up__"
"""Answered by every target without a token or the database (a 404 from a function, "ok" from hello)."""

_IMPORT_PROBE = """
import importlib.util, json, os, sys, time
source, root, preload = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
folder = os.path.dirname(source)
if preload:  # what the functions-framework process holds when it loads the module
    import functions_framework, functions_framework._cli, functions_framework.aio
if root:
    sys.path.insert(0, root)
sys.path.append(folder)  # as functions-framework does
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("main", source, submodule_search_locations=[folder])
module = importlib.util.module_from_spec(spec)
sys.modules["main"] = module
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
sys.stdout.write(json.dumps({"ms": elapsed * 1000, "modules": len(sys.modules)}))
"""
GC_ENV = "AIGYM_BENCH_GC"
_GC_LINE = "aigym-bench-gc "
_SITECUSTOMIZE = f"""
import gc, os, sys, time
_mode = os.environ.get("{GC_ENV}", "")
if _mode == "off":
    gc.disable()
elif _mode == "time":
    _gc = {{"started": 0.0, "total": 0.0}}

    def _aigym_bench_gc(phase, info):
        if phase == "start":
            _gc["started"] = time.perf_counter()
            return
        _gc["total"] += time.perf_counter() - _gc["started"]
        sys.stderr.write("{_GC_LINE}%d %.3f\\n" % (os.getpid(), _gc["total"] * 1000))

    gc.callbacks.append(_aigym_bench_gc)
"""
_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")
_WRK_DURATION = re.compile(r"^([\d.]+)(us|ms|s|m)$")
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)", re.M)
_SERVER_TIMING_DB = re.compile(r'db;dur=([\d.]+);desc="(\d+) round trips"')


class BenchError(RuntimeError):
    """A target could not be measured (did not start, never answered 200, load tool failed)."""


@dataclass(slots=True)
class Target:
    """One thing to measure: the hello-world or a function's bundle, and the request that proves it is up."""

    name: str
    source: Path
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expect_200: bool = True
    """False for a function with no request this benchmark can make succeed: any answer ends its start."""
    candidates: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """Requests to try, in order, for the first one that answers 200 (chosen once, before measuring)."""
    origin: Path | None = None
    """The repository's functions/<name>/main.py the bundle was built from."""


@dataclass(slots=True)
class Sample:
    """The runs of one measurement and their median (milliseconds)."""

    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_ms": round(self.median, 2),
            "min_ms": round(min(self.runs), 2),
            "max_ms": round(max(self.runs), 2),
            "runs_ms": [round(r, 2) for r in self.runs],
        }


@dataclass(slots=True)
class LoadResult:
    """Warm throughput and latency of one target under concurrent load."""

    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    server_timing: str | None = None
    db_round_trips: int | None = None
    db_ms: float | None = None
    server_cpu_us_per_request: float | None = None
    """CPU time of the server's processes during the run, divided by the requests served."""


# --- processes -----------------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_env(base: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The environment of a served function: the stack's settings, and no repository on PYTHONPATH."""
    env = {
        k: v for k, v in base.items() if k not in {"PYTHONPATH", "PYTHONSTARTUP", "PYTHONPROFILEIMPORTTIME"}
    }
    env.update(extra)
    return env


def _server_argv(target: Target, port: int) -> list[str]:
    return [
        str(BIN / "functions-framework"),
        "--target",
        "handler",
        "--asgi",
        "--source",
        str(target.source),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and its gunicorn worker: they share the process group started for it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGINT)  # gunicorn: quick shutdown
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _raw_request(target: Target, port: int) -> bytes:
    lines = [f"GET {target.path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in target.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status_once(port: int, request: bytes, timeout_s: float) -> int | None:
    """The status code of one request over a fresh connection, or None while nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(request)
            head = b""
            while b"\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


@dataclass(frozen=True, slots=True)
class Started:
    """A server that answered: its port, process group, and the milliseconds it took."""

    port: int
    pgid: int
    log_path: Path
    """Where the server's stdout and stderr went."""
    first_200_ms: float
    """Spawn to the first 200 on the target's path: the cold start."""
    up_ms: float | None = None
    """Spawn to the first answer of any status on UP_PATH (when asked for): the server is listening."""


def _wait_for(
    port: int,
    request: bytes,
    accept: Callable[[int | None], bool],
    process: subprocess.Popen[bytes],
    deadline: float,
) -> int | None:
    """Send `request` every POLL_INTERVAL_S until its status is accepted; the status, or None on timeout."""
    while True:
        status = _status_once(port, request, timeout_s=START_TIMEOUT_S)
        if accept(status):
            return status
        if process.poll() is not None or time.perf_counter() > deadline:
            return None
        time.sleep(POLL_INTERVAL_S)


@contextlib.contextmanager
def served(
    target: Target,
    env: Mapping[str, str],
    log_dir: Path,
    *,
    split: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Started]:
    """Start the target's server and yield it once it answered 200; stop it afterwards.

    With `split`, first wait for any answer on UP_PATH (a 404 that needs neither token nor database), so
    the cold start divides into "server listening" and "first real request".
    """
    port = free_port()
    log_path = log_dir / f"{target.name}-{port}.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            _server_argv(target, port),
            cwd=target.source.parent,
            env=child_env(env, **(extra_env or {})),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = started + START_TIMEOUT_S
            up_ms = None
            if split:
                up = Target(target.name, target.source, UP_PATH)
                if (
                    _wait_for(port, _raw_request(up, port), lambda s: s is not None, process, deadline)
                    is None
                ):
                    raise BenchError(f"{target.name}: never answered.\n{_tail(log_path)}")
                up_ms = (time.perf_counter() - started) * 1000
            accept: Callable[[int | None], bool] = (
                (lambda s: s == 200) if target.expect_200 else (lambda s: s is not None)
            )
            status = _wait_for(port, _raw_request(target, port), accept, process, deadline)
            if status is None or not accept(status):
                raise BenchError(f"{target.name}: no 200 on {target.path}.\n{_tail(log_path)}")
            yield Started(port, process.pid, log_path, (time.perf_counter() - started) * 1000, up_ms)
        finally:
            _stop(process)


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:]


def group_cpu_s(pgid: int) -> float | None:
    """CPU seconds (user + system) used so far by the processes of group `pgid`; None off Linux."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 12 and int(fields[2]) == pgid:  # pgrp; utime and stime follow at 11 and 12
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


# --- measurements ----------------------------------------------------------------------------------------


def import_ms(target: Target, env: Mapping[str, str], *, in_server: bool) -> float:
    """Milliseconds to import a function's main.py in a fresh interpreter.

    in_server=False: the repository's functions/<name>/main.py on its own (its whole dependency tree);
    in_server=True: the bundle's main.py after functions_framework and functions_framework.aio, as in a
    real start, so only what the function adds is timed.
    """
    source = target.source if in_server or target.origin is None else target.origin
    root = "" if in_server or target.origin is None else str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, str(source), root, "1" if in_server else "0"],
        cwd=source.parent,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"{target.name}: import failed\n{result.stderr[-2000:]}")
    return float(json.loads(result.stdout)["ms"])


def group_of(module: str) -> str:
    """The package an imported module is charged to: its top-level name, 'stdlib', or 'main'."""
    top = module.split(".", 1)[0]
    if top in sys.stdlib_module_names or top.startswith("_sysconfigdata") or top in {"site", "sitecustomize"}:
        return "stdlib"
    return top.lstrip("_") or top


def parse_importtime(text: str) -> dict[str, float]:
    """Self time (ms) per package from `-X importtime` output; the modules are counted once each."""
    groups: dict[str, float] = {}
    for line in text.splitlines():
        match = _IMPORTTIME.match(line)
        if match is None:
            continue
        module = match.group(4)
        groups[group_of(module)] = groups.get(group_of(module), 0.0) + int(match.group(1)) / 1000
    return groups


def write_hooks(folder: Path) -> Path:
    """A sitecustomize for the instrumented starts only: AIGYM_BENCH_GC=off disables the garbage collector
    (so import times are not charged with collections), =time reports the time spent collecting."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return folder


def import_profile(target: Target, env: Mapping[str, str], log_dir: Path, hooks: Path) -> dict[str, float]:
    """Import self time per package of one real start (server, worker, first request), in ms, GC off."""
    extra = {"PYTHONPROFILEIMPORTTIME": "1", "PYTHONPATH": str(hooks), GC_ENV: "off"}
    with served(target, env, log_dir, extra_env=extra) as server:
        pass
    return parse_importtime(server.log_path.read_text(errors="replace"))


def parse_gc_ms(text: str) -> float:
    """Garbage collection on the critical path of a start: the largest running total any process reported
    (a forked worker inherits the server's total, so its figure covers both)."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(_GC_LINE):
            _, pid, total = line.split()[:3]
            totals[pid] = float(total)
    return max(totals.values(), default=0.0)


def median_groups(profiles: list[dict[str, float]]) -> dict[str, float]:
    """The median of each package's import time over several profiled starts (absent counts as 0)."""
    names = {g for profile in profiles for g in profile}
    return {g: statistics.median(p.get(g, 0.0) for p in profiles) for g in names}


def _duration_ms(text: str) -> float:
    match = _WRK_DURATION.match(text.strip())
    if match is None:
        raise BenchError(f"cannot read wrk duration {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> LoadResult:
    """Read wrk --latency output."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
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


def run_load(
    url: str, headers: Mapping[str, str], duration_s: float, concurrency: int, tool: str, threads: int
) -> LoadResult:
    """Drive `url` with `concurrency` keep-alive connections for `duration_s` from a separate process."""
    if tool == "wrk":
        argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration_s))}s", "--latency"]
        for name, value in headers.items():
            argv += ["-H", f"{name}: {value}"]
        result = subprocess.run(
            [*argv, url], capture_output=True, text=True, timeout=duration_s + 60, check=False
        )
        if result.returncode != 0:
            raise BenchError(f"wrk failed:\n{result.stderr}")
        return parse_wrk(result.stdout)
    env = {**os.environ, "PYTHONPATH": str(ROOT), HEADERS_ENV: json.dumps(dict(headers))}
    argv = [sys.executable, "-m", "scripts.local.bench", "loadgen", url]
    argv += ["--duration", str(duration_s), "--concurrency", str(concurrency)]
    result = subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=duration_s + 60, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"load generator failed:\n{result.stderr[-2000:]}")
    return LoadResult(**json.loads(result.stdout))


def read_server_timing(url: str, headers: Mapping[str, str]) -> tuple[str | None, int | None, float | None]:
    """The Server-Timing header of one request, and the database round trips and time it names."""
    import httpx

    response = httpx.get(url, headers=dict(headers), timeout=10)
    value = response.headers.get("server-timing")
    match = _SERVER_TIMING_DB.search(value or "")
    if match is None:
        return value, None, None
    return value, int(match.group(2)), float(match.group(1))


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response (Content-Length or chunked body); its status and whether it closes."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    length = _CONTENT_LENGTH.search(lower)
    if length is not None:
        await reader.readexactly(int(length.group(1)))
    elif b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, b"connection: close" in lower


async def _python_load(
    url: str, headers: Mapping[str, str], duration_s: float, concurrency: int
) -> LoadResult:
    """Keep-alive HTTP/1.1 over asyncio streams, one connection per worker. (An httpx.AsyncClient tops out
    near 500 req/s on one core, so it would measure itself rather than the server.)"""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [
        f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {host}:{port}",
    ]
    request = ("\r\n".join(lines + [f"{k}: {v}" for k, v in headers.items()]) + "\r\n\r\n").encode()
    latencies: list[float] = []
    counts = {"non_2xx": 0, "errors": 0}
    deadline = time.perf_counter() + duration_s

    async def worker() -> None:
        writer: asyncio.StreamWriter | None = None
        while time.perf_counter() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                started = time.perf_counter()
                writer.write(request)
                status, closes = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                counts["errors"] += 1
                writer = None
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if not 200 <= status < 400:
                counts["non_2xx"] += 1
            if closes:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return LoadResult(
        tool="python-asyncio",
        requests=len(latencies),
        seconds=round(seconds, 3),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=round(ordered[int(0.50 * (len(ordered) - 1))], 3),
        p99_ms=round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        non_2xx=counts["non_2xx"],
        errors=counts["errors"],
    )


def loadgen_main(argv: list[str]) -> int:
    """`bench loadgen URL`: the Python load generator, run in its own process; prints JSON."""
    parser = argparse.ArgumentParser(prog="bench loadgen")
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    headers: dict[str, str] = json.loads(os.environ.get(HEADERS_ENV, "{}"))
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    result = asyncio.run(_python_load(args.url, headers, args.duration, args.concurrency))
    sys.stdout.write(json.dumps(asdict(result)))
    return 0


# --- targets ---------------------------------------------------------------------------------------------


def probe_candidates(name: str, user_tokens: list[str], secret_key: str) -> list[tuple[str, dict[str, str]]]:
    """Requests that may show function `name` serving: its parameterless GET routes, public ones first."""
    from scripts.local.functions import load

    module = load(name)
    fn = getattr(module, "fn", None) or getattr(module.handler, "__self__", None)
    routes = [r for r in getattr(fn, "routes", []) if r.method == "GET" and "{" not in r.template]
    order = {"public": 0, "service": 1, "user": 2}
    routes.sort(key=lambda r: (r.template != PROBE_PATHS.get(name), order.get(r.auth, 3)))
    candidates: list[tuple[str, dict[str, str]]] = []
    for route in routes:
        path = f"/{name}" + ("" if route.template == "/" else route.template)
        if route.auth == "public":
            candidates.append((path, {}))
        elif route.auth == "service":
            candidates.append((path, {"Authorization": f"Bearer {secret_key}"}))
        elif route.auth == "user":
            candidates += [(path, {"Authorization": f"Bearer {token}"}) for token in user_tokens]
    return candidates


def choose_probe(target: Target, env: Mapping[str, str], log_dir: Path) -> None:
    """Settle on the target's first candidate request that answers 200, or on "any answer" when none does."""
    if not target.candidates:
        return
    waiting = Target(target.name, target.source, UP_PATH, expect_200=False)
    with served(waiting, env, log_dir) as server:
        for path, headers in target.candidates:
            request = _raw_request(Target(target.name, target.source, path, headers), server.port)
            if _status_once(server.port, request, timeout_s=START_TIMEOUT_S) == 200:
                target.path, target.headers = path, headers
                return
    target.path, target.headers, target.expect_200 = f"/{target.name}{UP_PATH}", {}, False


def build_targets(names: list[str], work: Path, env: Mapping[str, str]) -> list[Target]:
    """The hello-world and one bundle per function, in `work` (probes are chosen later, see choose_probe)."""
    from scripts.local.bundle import build
    from scripts.local.functions import FUNCTIONS_DIR
    from scripts.local.tokens import local_token

    hello_dir = work / HELLO
    hello_dir.mkdir()
    (hello_dir / "main.py").write_text(HELLO_SOURCE)
    targets = [Target(HELLO, hello_dir / "main.py", "/")]
    issuer = env.get("SUPABASE_JWT_ISSUER") or f"{env['SUPABASE_URL'].rstrip('/')}/auth/v1"
    tokens = [
        local_token(user, email, issuer=issuer, secret=env["SUPABASE_JWT_SECRET"], ttl_s=3600)
        for user, email in (BENCH_USER_EMAIL, FALLBACK_USER_EMAIL)
    ]
    for name in names:
        bundle = build(name, work / name)
        candidates = probe_candidates(name, tokens, env.get("SUPABASE_SECRET_KEY", ""))
        path, headers = candidates[0] if candidates else (f"/{name}{UP_PATH}", {})
        targets.append(
            Target(
                name,
                bundle / "main.py",
                path,
                headers,
                bool(candidates),
                candidates,
                FUNCTIONS_DIR / name / "main.py",
            )
        )
    return targets


def server_description() -> dict[str, str]:
    """What `functions-framework --asgi` serves with here (see functions_framework/_http/__init__.py)."""
    has = {
        m: importlib.util.find_spec(m) is not None
        for m in ("gunicorn", "uvicorn_worker", "uvloop", "httptools")
    }
    runner = (
        "gunicorn + uvicorn_worker.UvicornWorker (1 worker)"
        if has["gunicorn"] and has["uvicorn_worker"]
        else "uvicorn.run"
    )
    return {
        "functions_framework": importlib.metadata.version("functions-framework"),
        "runner": runner,
        "loop": "uvloop" if has["uvloop"] else "asyncio",
        "http": "httptools" if has["httptools"] else "h11",
    }


# --- the run ---------------------------------------------------------------------------------------------


def _as_dict(samples: Mapping[str, Sample], name: str) -> dict[str, Any] | None:
    return samples[name].as_dict() if name in samples else None


@dataclass(slots=True)
class Report:
    """Everything one run measured."""

    started: str
    machine: dict[str, Any]
    server: dict[str, str]
    settings: dict[str, Any]
    imports: dict[str, Sample] = field(default_factory=dict)
    imports_in_server: dict[str, Sample] = field(default_factory=dict)
    cold: dict[str, Sample] = field(default_factory=dict)
    up: dict[str, Sample] = field(default_factory=dict)
    first_request: dict[str, Sample] = field(default_factory=dict)
    gc: dict[str, Sample] = field(default_factory=dict)
    import_groups: dict[str, dict[str, float]] = field(default_factory=dict)
    load: dict[str, LoadResult] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)

    def ratios(self) -> dict[str, Any]:
        hello_cold = self.cold[HELLO].median
        ratios: dict[str, Any] = {
            "cold_start_vs_hello": {
                n: round(s.median / hello_cold, 2) for n, s in self.cold.items() if n != HELLO
            },
            "cold_start_target": COLD_START_TARGET,
        }
        hello_load = self.load.get(HELLO)
        if hello_load is not None and hello_load.rps > 0:
            ratios["throughput_vs_hello"] = {
                n: round(r.rps / hello_load.rps, 3) for n, r in self.load.items() if n != HELLO
            }
            ratios["throughput_target"] = THROUGHPUT_TARGET
        me = self.load.get("me")
        if me is not None:
            ratios["me_db_round_trips"] = me.db_round_trips
        return ratios

    def added_imports(self, name: str, top: int = 8) -> list[tuple[str, float]]:
        """The packages whose import self time `name` adds over the hello-world, largest first."""
        base = self.import_groups.get(HELLO, {})
        added = [(g, ms - base.get(g, 0.0)) for g, ms in self.import_groups.get(name, {}).items()]
        return sorted((a for a in added if a[1] >= 1.0), key=lambda a: -a[1])[:top]

    def to_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "machine": self.machine,
            "server": self.server,
            "settings": self.settings,
            "ratios": self.ratios(),
            "targets": {
                name: {
                    "path": self.paths.get(name),
                    "import_alone": _as_dict(self.imports, name),
                    "import_in_server": _as_dict(self.imports_in_server, name),
                    "cold_start": _as_dict(self.cold, name),
                    "listening": _as_dict(self.up, name),
                    "first_request": _as_dict(self.first_request, name),
                    "gc_during_start": _as_dict(self.gc, name),
                    "import_self_ms_by_package": {
                        g: round(ms, 2)
                        for g, ms in sorted(self.import_groups.get(name, {}).items(), key=lambda i: -i[1])
                    },
                    "added_over_hello_ms": {g: round(ms, 2) for g, ms in self.added_imports(name, top=100)},
                    "load": asdict(self.load[name]) if name in self.load else None,
                }
                for name in self.cold
            },
        }


def measure(
    targets: list[Target], env: Mapping[str, str], report: Report, args: argparse.Namespace, work: Path
) -> None:
    """Import times and starts (round-robin over targets, so drift hits all alike), then load."""
    logs = work / "logs"
    logs.mkdir()
    for target in targets:
        choose_probe(target, env, logs)
        report.paths[target.name] = target.path if target.expect_200 else f"{target.path} (any answer)"
        with served(target, env, logs):  # discarded: page cache, bytecode cache, first-connection costs
            pass
    imports: dict[str, list[float]] = {t.name: [] for t in targets}
    imports_in_server: dict[str, list[float]] = {t.name: [] for t in targets}
    colds: dict[str, list[float]] = {t.name: [] for t in targets}
    ups: dict[str, list[float]] = {t.name: [] for t in targets}
    firsts: dict[str, list[float]] = {t.name: [] for t in targets}
    gcs: dict[str, list[float]] = {t.name: [] for t in targets}
    hooks = write_hooks(work / "hooks")
    profiles: dict[str, list[dict[str, float]]] = {t.name: [] for t in targets}
    for _ in range(args.runs):
        for target in targets:
            imports[target.name].append(import_ms(target, env, in_server=False))
            imports_in_server[target.name].append(import_ms(target, env, in_server=True))
            with served(target, env, logs) as server:
                colds[target.name].append(server.first_200_ms)
            timed_gc = {"PYTHONPATH": str(hooks), GC_ENV: "time"}
            with served(target, env, logs, split=True, extra_env=timed_gc) as server:
                ups[target.name].append(server.up_ms or 0.0)
                firsts[target.name].append(server.first_200_ms - (server.up_ms or 0.0))
            gcs[target.name].append(parse_gc_ms(server.log_path.read_text(errors="replace")))
            profiles[target.name].append(import_profile(target, env, logs, hooks))
    for target in targets:
        report.imports[target.name] = Sample(imports[target.name])
        report.imports_in_server[target.name] = Sample(imports_in_server[target.name])
        report.cold[target.name] = Sample(colds[target.name])
        report.up[target.name] = Sample(ups[target.name])
        report.first_request[target.name] = Sample(firsts[target.name])
        report.gc[target.name] = Sample(gcs[target.name])
        report.import_groups[target.name] = median_groups(profiles[target.name])
    if args.no_load:
        return
    for target in targets:
        if target.name not in LOAD_TARGETS:
            continue
        with served(target, env, logs) as server:
            url = f"http://127.0.0.1:{server.port}{target.path}"
            run_load(url, target.headers, 1.0, args.concurrency, args.loadgen, args.threads)  # warm-up
            cpu_before = group_cpu_s(server.pgid)
            result = run_load(
                url, target.headers, args.duration, args.concurrency, args.loadgen, args.threads
            )
            cpu_after = group_cpu_s(server.pgid)
            result.server_timing, result.db_round_trips, result.db_ms = read_server_timing(
                url, target.headers
            )
        if cpu_before is not None and cpu_after is not None and result.requests:
            result.server_cpu_us_per_request = round((cpu_after - cpu_before) / result.requests * 1e6, 1)
        report.load[target.name] = result


def _fmt_ratio(value: float | None, target: float, *, at_most: bool) -> str:
    if value is None:
        return "n/a"
    ok = value <= target if at_most else value >= target
    return (
        f"{value:.2f}x {'ok' if ok else 'MISSED'}" if at_most else f"{value:.0%} {'ok' if ok else 'MISSED'}"
    )


def render(report: Report) -> str:
    """The human-readable summary: ratios first, then the figures behind them."""
    ratios = report.ratios()
    server = report.server
    w = max(len(n) for n in report.cold) + 1
    lines = [
        f"AI GYM bench {report.started} - {report.machine['cpus']} CPUs, Python {report.machine['python']}, "
        f"load average {report.machine['loadavg_before']} before, {report.machine.get('loadavg_after')} after",
        f"server: functions-framework {server['functions_framework']} --asgi -> {server['runner']}, "
        f"{server['loop']} + {server['http']}",
        f"load: {report.settings['loadgen']}, {report.settings['concurrency']} connections, "
        f"{report.settings['duration_s']} s per target, loopback; medians of {report.settings['runs']} runs",
        "",
        f"cold start vs hello-world (target <= {COLD_START_TARGET}x):",
    ]
    for name, ratio in ratios["cold_start_vs_hello"].items():
        probe = (
            ""
            if not report.paths.get(name, "").endswith("(any answer)")
            else "  (no 200 to ask for: any answer)"
        )
        lines.append(f"  {name:<{w}} {_fmt_ratio(ratio, COLD_START_TARGET, at_most=True)}{probe}")
    if "throughput_vs_hello" in ratios:
        lines.append(f"warm throughput vs hello-world (target for me >= {THROUGHPUT_TARGET:.0%}):")
        for name, ratio in ratios["throughput_vs_hello"].items():
            lines.append(f"  {name:<{w}} {_fmt_ratio(ratio, THROUGHPUT_TARGET, at_most=False)}")
    me = report.load.get("me")
    if me is not None:
        lines.append(
            f"me: {me.db_round_trips} database round trips per request (Server-Timing: {me.server_timing})"
        )
    lines += [
        "",
        f"{'target':<{w}} {'import':>7} {'in ff':>6} {'cold start':>11} {'(min-max)':>10} {'listening':>10} {'1st req':>8}"
        f" {'gc':>5} {'req/s':>7} {'p50':>6} {'p99':>6} {'cpu/req':>8} {'non-2xx':>7}",
        f"{'':<{w}} {'ms':>7} {'ms':>6} {'ms':>11} {'':>10} {'ms':>10} {'ms':>8} {'ms':>5} {'':>7} {'ms':>6} {'ms':>6}"
        f" {'us':>8}",
    ]
    for name, cold in report.cold.items():
        load = report.load.get(name)
        cpu = load.server_cpu_us_per_request if load else None
        load_cols = (
            f"{load.rps:>7.0f} {load.p50_ms:>6.2f} {load.p99_ms:>6.2f} {cpu if cpu is not None else '':>8}"
            f" {load.non_2xx + load.errors:>7}"
            if load
            else ""
        )
        spread = f"{min(cold.runs):.0f}-{max(cold.runs):.0f}"
        up, first, gc = report.up.get(name), report.first_request.get(name), report.gc.get(name)
        lines.append(
            f"{name:<{w}} {report.imports[name].median:>7.1f} {report.imports_in_server[name].median:>6.1f}"
            f" {cold.median:>11.1f} {spread:>10}"
            f" {up.median if up else 0:>10.1f} {first.median if first else 0:>8.1f}"
            f" {gc.median if gc else 0:>5.0f} {load_cols}".rstrip()
        )
    lines += [
        "",
        "import self time added over the hello-world, by package (server + worker + first request,"
        " GC off; median of the profiled starts):",
    ]
    hello_total = sum(report.import_groups.get(HELLO, {}).values())
    lines.append(f"  {HELLO:<{w}} {hello_total:.0f} ms of imports in all")
    for name in report.cold:
        if name == HELLO:
            continue
        added = report.added_imports(name)
        total = sum(ms for _, ms in report.added_imports(name, top=100))
        text = ", ".join(f"{g} {ms:.0f}" for g, ms in added) or "nothing measurable"
        lines.append(f"  {name:<{w}} +{total:.0f} ms: {text}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Build the targets, start the local stack, measure, print and save."""
    from scripts.local.functions import discover
    from scripts.local.stack import DEFAULT_PORT, running_stack

    names = list(discover())
    if args.functions:
        wanted = [n.strip() for n in args.functions.split(",") if n.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            print(f"bench: unknown functions: {', '.join(unknown)}", file=sys.stderr)
            return 2
        names = wanted
    if args.loadgen == "auto":
        args.loadgen = "wrk" if shutil.which("wrk") else "python"
    elif args.loadgen == "wrk" and not shutil.which("wrk"):
        print("bench: wrk is not installed (apt-get install wrk), use --loadgen python", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    report = Report(
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
    with tempfile.TemporaryDirectory(prefix="aigym-bench-") as tmp, running_stack(DEFAULT_PORT) as _stack:
        work = Path(tmp)
        # Generous limits: the benchmark measures the rate-limit upsert, not refusals.
        env = {**os.environ, "RATE_LIMIT_GENERAL": "1000000000/60", "RATE_LIMIT_ADMIN": "1000000000/60"}
        targets = build_targets(names, work, env)
        measure(targets, env, report, args, work)
    report.machine["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(render(report))
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`bench [options]`, or `bench loadgen URL` (the Python load generator, used internally)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["loadgen"]:
        return loadgen_main(argv[1:])
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="starts and imports per target (median)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of load per target")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent connections under load")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--functions", default="", help="comma-separated names (default: all)")
    parser.add_argument("--no-load", action="store_true", help="skip the throughput part")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
