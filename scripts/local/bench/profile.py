"""`scripts/profile <function> [path]`: where one warm request's CPU goes, by package, in this process.

Calls the function's handler directly (no HTTP server, no load generator) against the local stack,
warm (after 300 requests), N times under cProfile with a CPU-time clock, and prints each package's
share of the handler's own CPU. With `--framework`, the request goes through functions-framework's
ASGI app instead (its middleware, routing and the response's `send`, as served; `hello` is the
bench's hello-world), which is what the bench's server CPU per request adds up. The groups are: psycopg, psycopg_pool, starlette, pydantic, the platform's modules
(`shared.platform.db`, `…logging`…), the standard library, builtins. The per-request CPU printed
first is measured again without the profiler, whose overhead inflates every share but the ranking.
Not a test; the figures are for `docs/benchmarks.md` ("the profile of one request").
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import os
import pstats
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from scripts.local.bench.targets import HELLO, HELLO_SOURCE

REPO = Path(__file__).resolve().parents[3]
WARM_UP = 300


def package_of(filename: str) -> str:
    """The group a profiled function's file belongs to: a site package, a platform module, stdlib, builtins."""
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    path = Path(filename)
    if path.is_relative_to(REPO):
        parts = path.relative_to(REPO).with_suffix("").parts
        return ".".join(parts[:3]) if parts[0] == "shared" else ".".join(parts[:2])
    return "stdlib"


def shares(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Each group's share of the total own time, largest first."""
    own: Counter[str] = Counter()
    for (filename, _, _), entry in stats.stats.items():  # type: ignore[attr-defined]
        own[package_of(filename)] += entry[2]
    total = sum(own.values()) or 1.0
    return [(name, seconds / total) for name, seconds in own.most_common()]


def _load(function: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"profiled_{function}", REPO / "functions" / function / "main.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit(f"profile: no function {function}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scope(function: str, path: str, token: str) -> dict[str, Any]:
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"127.0.0.1")]
    return {
        "type": "http",
        "method": "GET",
        "path": f"/{function}{path}" if function != HELLO else path,
        "raw_path": b"",
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }


def _caller(module: ModuleType, function: str, path: str, token: str) -> Callable[[], Awaitable[None]]:
    from starlette.requests import Request

    scope = _scope(function, path, token)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def call() -> None:
        response = await module.fn.handle(Request(dict(scope), receive))
        if response.status_code != 200:
            raise SystemExit(f"profile: {function}{path} answered {response.status_code}: {response.body!r}")

    return call


def _framework_caller(function: str, path: str, token: str) -> Callable[[], Awaitable[None]]:
    """A request through functions-framework's ASGI app, as `--asgi` serves the function."""
    import tempfile

    from functions_framework import aio

    if function == HELLO:
        folder = Path(tempfile.mkdtemp(prefix="aigym-profile-"))
        (folder / "main.py").write_text(HELLO_SOURCE)
        source = folder / "main.py"
    else:
        source = REPO / "functions" / function / "main.py"
    app = aio.create_asgi_app(target="handler", source=str(source))  # type: ignore[no-untyped-call]
    scope = _scope(function, path, token)
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def call() -> None:
        await app(dict(scope), receive, send)
        status = statuses.pop()
        if status != 200:
            raise SystemExit(f"profile: {function}{path} answered {status}")

    return call


async def _measure(call: Callable[[], Awaitable[None]], requests: int) -> tuple[float, pstats.Stats]:
    for _ in range(WARM_UP):
        await call()
    started = time.process_time()
    for _ in range(requests):
        await call()
    plain_us = (time.process_time() - started) / requests * 1e6
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(requests):
        await call()
    profiler.disable()
    return plain_us, pstats.Stats(profiler)


def main(argv: list[str] | None = None) -> int:
    """Profile `function` at `path` and print the shares."""
    parser = argparse.ArgumentParser(prog="profile", description=__doc__.splitlines()[0])
    parser.add_argument("function")
    parser.add_argument("path", nargs="?", default="/")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--framework", action="store_true", help="through functions-framework's ASGI app")
    args = parser.parse_args(argv)
    from scripts.local.bench.targets import user_tokens
    from scripts.local.stack import DEFAULT_PORT, running_stack

    with running_stack(DEFAULT_PORT, database="aigym_profile") as _:
        os.environ.update(RATE_LIMIT_GENERAL="1000000000/60", RATE_LIMIT_ADMIN="1000000000/60")
        from shared.platform import logging as log
        from shared.platform.config import reset_settings

        reset_settings()
        log.stream = open(os.devnull, "w")  # noqa: SIM115 - the access log, written as deployed, then dropped
        token = user_tokens(dict(os.environ))[0]
        if args.framework or args.function == HELLO:
            call = _framework_caller(args.function, args.path, token)
        else:
            call = _caller(_load(args.function), args.function, args.path, token)
        import uvloop

        plain_us, stats = uvloop.run(_measure(call, args.requests))
    how = " through functions-framework" if args.framework or args.function == HELLO else ""
    print(f"{args.function} {args.path}{how}: {plain_us:.0f} µs of this process's CPU per request (unprofiled)")
    for name, share in shares(stats):
        if share >= 0.005:
            print(f"  {share:6.1%}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
