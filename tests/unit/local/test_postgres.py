"""Tests for the throwaway local Postgres harness (starts real servers: about a second per test).

Every server lives in a fresh folder under a fresh ``AIGYM_PGDATA_ROOT`` (mode 0755, so the
unprivileged ``aigym_pg`` user can reach it when the tests run as root) and is stopped by a
fixture finalizer, even when the test fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from scripts.local.postgres import (
    PG_SYSTEM_USER,
    LocalPostgres,
    PostgresStartError,
    PostgresUnavailableError,
    default_data_dir,
    find_postgres_bin,
)


def _postmaster_pid(pg: LocalPostgres) -> int:
    return int((pg.data_dir / "postmaster.pid").read_text().splitlines()[0])


@pytest.fixture
def pgdata_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, world-traversable AIGYM_PGDATA_ROOT, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="aigym-pgtest-"))
    root.chmod(0o755)
    monkeypatch.setenv("AIGYM_PGDATA_ROOT", str(root))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def make_pg(pgdata_root: Path) -> Iterator[list[LocalPostgres]]:
    """Register LocalPostgres objects here; every one is stopped at teardown."""
    created: list[LocalPostgres] = []
    try:
        yield created
    finally:
        errors: list[BaseException] = []
        for pg in reversed(created):
            try:
                pg.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture
def pg(make_pg: list[LocalPostgres]) -> LocalPostgres:
    """A started server in ``default_data_dir("unit")``."""
    server = LocalPostgres(default_data_dir("unit"))
    make_pg.append(server)
    server.start()
    return server


def test_default_data_dir_honours_env(pgdata_root: Path) -> None:
    assert default_data_dir("dev") == pgdata_root / "aigym-postgres-dev"


def test_default_data_dir_falls_back_to_tempdir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIGYM_PGDATA_ROOT", raising=False)
    assert default_data_dir("dev") == Path(tempfile.gettempdir()) / "aigym-postgres-dev"


def test_default_data_dir_rejects_path_tricks() -> None:
    with pytest.raises(ValueError, match="invalid purpose"):
        default_data_dir("../etc")


def test_find_postgres_bin_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_postgres_bin()
    assert all((real / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))

    monkeypatch.setenv("AIGYM_PG_BIN", str(real))
    assert find_postgres_bin() == real

    monkeypatch.setenv("AIGYM_PG_BIN", str(tmp_path))
    with pytest.raises(PostgresUnavailableError, match="AIGYM_PG_BIN"):
        find_postgres_bin()


def test_database_names_are_validated_before_any_sql(tmp_path: Path) -> None:
    pg = LocalPostgres(tmp_path / "never-started")
    for bad in ("Upper", "semi;colon", 'quo"te', "1starts_with_digit", "x" * 64, ""):
        with pytest.raises(ValueError, match="invalid database name"):
            pg.create_database(bad)
        with pytest.raises(ValueError, match="invalid database name"):
            pg.drop_database(bad)
    with pytest.raises(ValueError, match="invalid database name"):
        pg.create_database("fine", template="Bad-Template")
    with pytest.raises(ValueError, match="refusing to drop"):
        pg.drop_database("postgres")
    assert not (tmp_path / "never-started").exists()


def test_start_serves_connections(pg: LocalPostgres) -> None:
    dsn = pg.dsn()
    assert pg.port is not None
    assert dsn == f"postgresql://postgres@127.0.0.1:{pg.port}/postgres"
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select version(), current_user, current_setting('fsync'), current_setting('synchronous_commit'),"
            " current_setting('full_page_writes'), current_setting('max_connections'),"
            " current_setting('shared_buffers'), current_setting('shared_preload_libraries'),"
            " pg_encoding_to_char(encoding), datcollate"
            " from pg_database where datname = current_database()"
        ).fetchone()
    assert row is not None
    version, user, fsync, sync_commit, fpw, max_conn, shared_buffers, preload, encoding, collate = row
    assert version.startswith("PostgreSQL ")
    assert user == "postgres"
    assert (fsync, sync_commit, fpw) == ("off", "off", "off")
    assert (max_conn, shared_buffers, preload) == ("200", "128MB", "")
    assert (encoding, collate) == ("UTF8", "C")
    assert (pg.data_dir / "server.log").is_file()
    if os.geteuid() == 0:  # Postgres must have been run as the unprivileged account
        owner = pg.data_dir.stat().st_uid
        import pwd

        assert pwd.getpwuid(owner).pw_name == PG_SYSTEM_USER


def test_unix_socket_lives_in_data_dir(pg: LocalPostgres) -> None:
    socket_path = pg.data_dir / f".s.PGSQL.{pg.port}"
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    with psycopg.connect(host=str(pg.data_dir), port=pg.port, user="postgres", dbname="postgres") as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_create_database_from_template_and_drop(pg: LocalPostgres) -> None:
    template_dsn = pg.create_database("tmpl_source")
    assert template_dsn == pg.dsn("tmpl_source")
    with psycopg.connect(template_dsn, autocommit=True) as conn:
        conn.execute("create table seeded (id int primary key)")
        conn.execute("insert into seeded values (1), (2)")

    copy_dsn = pg.create_database("copy_1", template="tmpl_source")
    with psycopg.connect(copy_dsn) as conn:
        assert conn.execute("select count(*) from seeded").fetchone() == (2,)

    # An open session on the database does not stop WITH (FORCE); dropping twice is fine.
    with psycopg.connect(copy_dsn, autocommit=True) as busy:
        busy.execute("select 1")
        pg.drop_database("copy_1")
    pg.drop_database("copy_1")
    with psycopg.connect(pg.dsn()) as conn:
        names = {name for (name,) in conn.execute("select datname from pg_database").fetchall()}
    assert "copy_1" not in names
    assert "tmpl_source" in names


def test_start_reuses_a_running_server(pg: LocalPostgres, make_pg: list[LocalPostgres]) -> None:
    pid = _postmaster_pid(pg)
    again = LocalPostgres(pg.data_dir)
    make_pg.append(again)
    assert again.start() == pg.dsn()
    assert pg.start() == pg.dsn()
    assert _postmaster_pid(pg) == pid
    # A handle that never called start() can still find the running server's port.
    assert LocalPostgres(pg.data_dir).dsn("other") == pg.dsn("other")


def test_stop_is_idempotent_and_restart_keeps_data(pg: LocalPostgres) -> None:
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("create table survivor (note text)")
        conn.execute("insert into survivor values ('still here')")

    pg.stop()
    assert not pg.is_running()
    assert not (pg.data_dir / "postmaster.pid").exists()
    pg.stop()  # second stop is a no-op

    dsn = pg.start()
    assert pg.is_running()
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select note from survivor").fetchone() == ("still here",)


def test_context_manager_starts_and_stops(make_pg: list[LocalPostgres]) -> None:
    server = LocalPostgres(default_data_dir("ctx"))
    make_pg.append(server)
    with server as entered:
        assert entered is server
        with psycopg.connect(server.dsn()) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    assert not server.is_running()


def test_start_failure_reports_the_server_log(make_pg: list[LocalPostgres]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy_port = blocker.getsockname()[1]
        server = LocalPostgres(default_data_dir("busy"), port=busy_port)
        make_pg.append(server)
        with pytest.raises(PostgresStartError) as excinfo:
            server.start()
    message = str(excinfo.value)
    assert "server.log" in message
    assert "Address already in use" in message
    assert not server.is_running()
