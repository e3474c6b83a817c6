"""The local stack: embedded Postgres (or DATABASE_URL), migrations, seed, and the environment functions read.

Each checkout has a stack of its own: its Postgres cluster lives in a folder named after the checkout's
path (so two clones never share a database, and a stopped serve takes only its own down), and a running
serve describes itself in `<checkout>/.local/serve.json` (port, issuer, JWT secret) so `scripts/token`
and `scripts/webhook` talk to that serve and sign what it accepts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.local.postgres import LocalPostgres, default_data_dir
from shared.platform import migrate
from shared.platform.config import LOCAL_JWT_SECRET

DEFAULT_PORT = 54321
LOCAL_SECRET_KEY = "sb_secret_local_development_only"  # noqa: S105 - documented local-only key
LOCAL_SECRETS_KEY = "bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1rZXktMzItYnk="
LOCAL_ORIGINS = "http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173,http://127.0.0.1:5173"
# Webhook signing secrets of the local stack (documented in the README; never used elsewhere).
LOCAL_AUTH_HOOK_SECRET = "v1,whsec_bG9jYWwtYXV0aC1ob29rLXNlY3JldC1kZXYtb25seQ=="  # noqa: S105
LOCAL_STRIPE_SECRET = "whsec_local_stripe_endpoint_secret_dev_only"  # noqa: S105
LOCAL_VIDEO_SECRET = "whsec_bG9jYWwtdmlkZW8td2ViaG9vay1zZWNyZXQtZGV2"  # noqa: S105
LOCAL_STORAGE_SIGNING_KEY = "local-storage-signing-key-dev-only-0123456789"
WEBHOOK_SECRET_ENVS = ("SUPABASE_AUTH_HOOK_SECRET", "STRIPE_WEBHOOK_SECRET", "VIDEO_WEBHOOK_SECRET")
DATABASE = "aigym"
CHECKOUT = Path(__file__).resolve().parents[2]
STATE_FILE = CHECKOUT / ".local" / "serve.json"
DEMO_CONTENT = CHECKOUT / "supabase" / "demo_content.sql"
"""The demo catalogue: the local stack's, not the tests' (they arrange their own content)."""


@dataclass(frozen=True, slots=True)
class Stack:
    """A running local database and the settings that point at it."""

    database_url: str
    supabase_url: str
    server: LocalPostgres | None


def local_env(database_url: str, supabase_url: str) -> dict[str, str]:
    """The environment of a function on the local stack; anything already set in the environment wins."""
    defaults = {
        "DATABASE_URL": database_url,
        "SUPABASE_URL": supabase_url,
        "SUPABASE_JWT_SECRET": LOCAL_JWT_SECRET,
        "SUPABASE_JWKS_URL": "off",
        "SUPABASE_SECRET_KEY": LOCAL_SECRET_KEY,
        "CORS_ALLOWED_ORIGINS": LOCAL_ORIGINS,
        "AIGYM_ENV": "local",
        "AIGYM_SECRETS_KEY": LOCAL_SECRETS_KEY,
        "IDENTITY_PROVIDER": "local",
        "SUPABASE_AUTH_HOOK_SECRET": LOCAL_AUTH_HOOK_SECRET,
        "STRIPE_WEBHOOK_SECRET": LOCAL_STRIPE_SECRET,
        "VIDEO_WEBHOOK_SECRET": LOCAL_VIDEO_SECRET,
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_DIR": str(CHECKOUT / ".local" / "storage"),
        "STORAGE_SIGNING_KEY": LOCAL_STORAGE_SIGNING_KEY,
    }
    return {key: os.environ.get(key) or value for key, value in defaults.items()}


def checkout_data_dir(checkout: Path = CHECKOUT) -> Path:
    """This checkout's own cluster folder (under the temp folder, which the Postgres user can reach)."""
    digest = hashlib.sha256(str(checkout).encode()).hexdigest()[:12]
    return default_data_dir(f"serve-{digest}")


@contextmanager
def running_stack(
    port: int,
    *,
    seed: bool = True,
    reset: bool = False,
    database: str = DATABASE,
    fresh: bool = False,
    environ: MutableMapping[str, str] = os.environ,
) -> Iterator[Stack]:
    """Start (or reuse) this checkout's database, migrate and seed it, export the settings; stop what we started.

    `reset` throws the checkout's cluster away first, so the stack starts from a clean database; `fresh`
    recreates only `database` (the bench's own, say), leaving serve's data alone.
    """
    server: LocalPostgres | None = None
    started_here = False
    database_url = environ.get("DATABASE_URL", "")
    if not database_url:
        server = LocalPostgres(checkout_data_dir())
        if reset:
            server.stop()
            shutil.rmtree(checkout_data_dir(), ignore_errors=True)
        started_here = not server.is_running()  # a server another command started keeps running
        server.start()
        database_url = _ensure(server, database, fresh=fresh)
    try:
        migrate.apply(database_url, seed=seed)
        if seed:
            seed_demo_content(database_url)
        supabase_url = f"http://127.0.0.1:{port}"
        environ.update(local_env(database_url, supabase_url))
        from shared.platform.config import reset_settings

        reset_settings()
        yield Stack(database_url, supabase_url, server)
    finally:
        if server is not None and started_here:
            server.stop()


def seed_demo_content(dsn: str) -> None:
    """Add the demo catalogue (items of every type, an agent per community, grants); idempotent."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        conn.execute(DEMO_CONTENT.read_text().encode())


async def drain_queued_events() -> int:
    """Deliver what is queued (the demo learners' events among it) as the worker does; events delivered."""
    from scripts.local.functions import load
    from shared.platform import worker
    from shared.platform.config import get_settings

    load("worker")  # its import subscribes every context's handlers, as the deployed worker's does
    report = await worker.drain(get_settings())
    return report.archived


def drain_at_start() -> None:
    """Drain the queue once before serving, so the demo learners' streaks and badges show at once."""
    import asyncio

    from shared.platform.db import close_pool

    async def drain() -> None:
        try:
            await drain_queued_events()
        finally:
            await close_pool()  # the pool belongs to this loop; serve opens its own

    asyncio.run(drain())


def _ensure(server: LocalPostgres, database: str, *, fresh: bool) -> str:
    import psycopg

    if fresh:
        server.drop_database(database)
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
    return server.dsn(database) if exists else server.create_database(database)


def write_state(stack: Stack, port: int, jwt_secret: str, path: Path = STATE_FILE) -> None:
    """Describe the running serve for `scripts/token` and `scripts/webhook` (readable by this user only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "pid": os.getpid(),
        "port": port,
        "url": stack.supabase_url,
        "issuer": f"{stack.supabase_url}/auth/v1",
        "database_url": stack.database_url,
        "jwt_secret": jwt_secret,
        "webhook_secrets": {name: os.environ.get(name, "") for name in WEBHOOK_SECRET_ENVS},
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(state, indent=2))


def read_state(path: Path = STATE_FILE) -> dict[str, Any] | None:
    """The running serve's description, or None when this checkout serves nothing right now."""
    try:
        state: dict[str, Any] = json.loads(path.read_text())
        os.kill(int(state["pid"]), 0)  # still running?
    except (OSError, ValueError, KeyError):
        return None
    return state


def clear_state(path: Path = STATE_FILE) -> None:
    """Forget the description when serve stops (only if it is ours)."""
    state = read_state(path)
    if state is None or state["pid"] == os.getpid():
        path.unlink(missing_ok=True)
