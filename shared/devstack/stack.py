"""The local stack: embedded Postgres (or DATABASE_URL), migrations, seed, and the environment functions read."""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass

from shared.devstack.postgres import LocalPostgres, default_data_dir
from shared.platform import migrate
from shared.platform.config import LOCAL_JWT_SECRET

DEFAULT_PORT = 54321
LOCAL_SECRET_KEY = "sb_secret_local_development_only"  # noqa: S105 - documented local-only key
LOCAL_SECRETS_KEY = "bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1rZXktMzItYnk="
LOCAL_ORIGINS = "http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173,http://127.0.0.1:5173"
DATABASE = "aigym"


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
    }
    return {key: os.environ.get(key) or value for key, value in defaults.items()}


@contextmanager
def running_stack(
    port: int, *, seed: bool = True, environ: MutableMapping[str, str] = os.environ
) -> Iterator[Stack]:
    """Start (or reuse) the database, migrate and seed it, export the settings; stop what we started."""
    server: LocalPostgres | None = None
    started_here = False
    database_url = environ.get("DATABASE_URL", "")
    if not database_url:
        server = LocalPostgres(default_data_dir("serve"))
        started_here = not server.is_running()  # a server another command started keeps running
        server.start()
        database_url = _ensure(server)
    try:
        migrate.apply(database_url, seed=seed)
        supabase_url = f"http://127.0.0.1:{port}"
        environ.update(local_env(database_url, supabase_url))
        from shared.platform.config import reset_settings

        reset_settings()
        yield Stack(database_url, supabase_url, server)
    finally:
        if server is not None and started_here:
            server.stop()


def _ensure(server: LocalPostgres) -> str:
    import psycopg

    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone()
    return server.dsn(DATABASE) if exists else server.create_database(DATABASE)
