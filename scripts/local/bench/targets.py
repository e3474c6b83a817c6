"""What the bench serves: the hello-world and one bundle per function, each with a request that proves it up."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scripts.local.bench.servers import START_TIMEOUT_S, UP_PATH, Target, raw_request, served, status_once

HELLO = "hello"
HELLO_SOURCE = 'async def handler(request):\n    return "ok"\n'
FLOOR = "floor"
FLOOR_SOURCE = '''"""The least a database function can be with the libraries the design names, and nothing of ours.

One deferred pydantic model, and on the first request psycopg's pool opened as `shared.platform.db`
opens it, one query, the model's JSON: the cold start below which no database function can go.
"""

import os

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    model_config = ConfigDict(defer_build=True)
    ok: bool


pool = None


async def handler(request):
    global pool
    if pool is None:
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=4, open=False)
        await pool.open(wait=False)
    async with pool.connection() as conn:
        row = await (await conn.execute("select true")).fetchone()
    return Answer(ok=row[0]).model_dump_json()
'''
"""A baseline beside the hello-world: the library floor of every database function's cold start."""
BENCH_USER = ("a0000000-0000-4000-8000-000000000011", "admin@acme.example.com")
"""The seeded user whose token GET /me (and any other user route) is called with: Acme's admin."""
FALLBACK_USER = ("a0000000-0000-4000-8000-000000000001", "super@aigym.example.com")
"""Tried second, for user routes only staff may read."""
BENCH_COMMUNITY = "c0000000-0000-4000-8000-000000000001"
"""Acme, the community BENCH_USER administers."""
PROBE_PATHS = {"health": "/live", "me": "/"}
"""The route whose first 200 ends a cold start (relative to the function); others: a parameterless GET."""


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
            request = raw_request(Target(target.name, target.source, path, headers), server.port)
            if status_once(server.port, request, timeout_s=START_TIMEOUT_S) == 200:
                target.path, target.headers = path, headers
                return
    target.path, target.headers, target.expect_200 = f"/{target.name}{UP_PATH}", {}, False


def user_tokens(env: Mapping[str, str]) -> list[str]:
    """Tokens of BENCH_USER and FALLBACK_USER, signed for the stack `env` describes."""
    from scripts.local.tokens import local_token

    issuer = env.get("SUPABASE_JWT_ISSUER") or f"{env['SUPABASE_URL'].rstrip('/')}/auth/v1"
    return [
        local_token(user, email, issuer=issuer, secret=env["SUPABASE_JWT_SECRET"], ttl_s=3600)
        for user, email in (BENCH_USER, FALLBACK_USER)
    ]


def build_targets(names: list[str], work: Path, env: Mapping[str, str]) -> list[Target]:
    """The hello-world and one bundle per function, in `work` (probes are chosen later, see choose_probe)."""
    from scripts.local.bundle import build
    from scripts.local.functions import FUNCTIONS_DIR

    hello_dir = work / HELLO
    hello_dir.mkdir()
    (hello_dir / "main.py").write_text(HELLO_SOURCE)
    floor_dir = work / FLOOR
    floor_dir.mkdir()
    (floor_dir / "main.py").write_text(FLOOR_SOURCE)
    targets = [Target(HELLO, hello_dir / "main.py", "/"), Target(FLOOR, floor_dir / "main.py", "/")]
    tokens = user_tokens(env)
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
                expect_200=bool(candidates),
                candidates=candidates,
                origin=FUNCTIONS_DIR / name / "main.py",
            )
        )
    return targets
