"""Test harness: one real Postgres per session, a freshly cloned, migrated and seeded database per test.

The template database is migrated and seeded once; each test that asks for `db` gets its own copy
(CREATE DATABASE … TEMPLATE, ~80 ms), so tests are isolated and may write freely.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from scripts.local.stack import LOCAL_SECRET_KEY, local_env
from shared.platform import migrate
from shared.platform.config import reset_settings
from tests import factories
from tests.helpers import Sql, owner_sql

TEMPLATE = "aigym_test_template"
EXTERNAL_DSN = os.environ.get("AIGYM_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
"""A server to test against instead of the embedded one; it must allow CREATE DATABASE."""
_counter = itertools.count()


class AdminServer:
    """Create and drop databases on the test server (embedded, or the one DATABASE_URL names)."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(statement)

    def dsn(self, name: str) -> str:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(self.admin_dsn)
        params["dbname"] = name
        return make_conninfo(**params)

    def recreate(self, name: str, template: str | None = None) -> str:
        self.drop(name)
        self._admin(f'create database "{name}"' + (f' template "{template}"' if template else ""))
        return self.dsn(name)

    def drop(self, name: str) -> None:
        self._admin(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[AdminServer]:
    """The Postgres server for this session: DATABASE_URL's when set, else an embedded one."""
    if EXTERNAL_DSN:
        yield AdminServer(EXTERNAL_DSN)
        return
    from scripts.local.postgres import LocalPostgres, default_data_dir

    data_dir = default_data_dir(f"tests-{os.getpid()}")
    server = LocalPostgres(data_dir)
    server.start()
    try:
        yield AdminServer(server.dsn())
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)  # a throwaway cluster: ~55 MB per run otherwise


@pytest.fixture(scope="session")
def template_db(pg_server: AdminServer) -> Iterator[str]:
    """A migrated and seeded database that every test database is cloned from."""
    dsn = pg_server.recreate(TEMPLATE)
    migrate.apply(dsn, seed=True)
    yield dsn
    pg_server.drop(TEMPLATE)


@pytest.fixture(scope="session", autouse=True)
def local_environment() -> Iterator[None]:
    """The environment functions read, as on the local stack (tests override single settings)."""
    saved = dict(os.environ)
    os.environ.update(local_env("postgresql://unset/unset", factories.SUPABASE_URL))
    os.environ["SUPABASE_SECRET_KEY"] = LOCAL_SECRET_KEY
    reset_settings()
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()


@pytest.fixture(autouse=True)
def settings_read_again_after_each_test() -> Iterator[None]:
    """Settings are read once per instance: a test that changed the environment leaves none of it cached."""
    yield
    reset_settings()


@asynccontextmanager
async def fresh_database(pg_server: AdminServer) -> AsyncIterator[str]:
    """A fresh copy of the seeded template, wired in as DATABASE_URL while the block runs."""
    from shared.platform import activity
    from shared.platform.db import close_pool

    activity.memo.clear()  # "marked active recently" referred to another test's database
    name = f"aigym_test_{os.getpid()}_{next(_counter)}"
    dsn = pg_server.recreate(name, template=TEMPLATE)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = dsn
    reset_settings()
    try:
        yield dsn
    finally:
        await close_pool()
        if previous is not None:
            os.environ["DATABASE_URL"] = previous
        reset_settings()
        pg_server.drop(name)


@pytest.fixture
async def db(pg_server: AdminServer, template_db: str) -> AsyncIterator[str]:
    """A fresh copy of the seeded database, wired in as DATABASE_URL for this test."""
    async with fresh_database(pg_server) as dsn:
        yield dsn


@pytest.fixture
def new_database(pg_server: AdminServer, template_db: str) -> Callable[[], AbstractAsyncContextManager[str]]:
    """Open more fresh databases within one test, one after the other (`async with new_database() as dsn`)."""
    return lambda: fresh_database(pg_server)


@pytest.fixture(scope="session")
def gateway() -> Any:
    """Every function behind one ASGI app, exactly as `serve` mounts them."""
    from scripts.local.functions import LocalGateway

    return LocalGateway()


@pytest.fixture
async def client(gateway: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls the real handlers in-process."""
    transport = httpx.ASGITransport(app=gateway, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver/functions/v1") as http:
        yield http


@pytest.fixture
def sql(db: str) -> Sql:
    """Run SQL as the database owner, to arrange state and to check it afterwards (bypasses RLS)."""
    return owner_sql(db)
