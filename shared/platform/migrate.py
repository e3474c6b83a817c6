"""Apply `supabase/bootstrap/` and `supabase/migrations/` to a Postgres database, safely rerunnable.

Applied migrations are recorded in `supabase_migrations.schema_migrations`, the table the Supabase CLI
uses, so the CLI and this runner agree on what a database has. Each migration runs in its own
transaction together with its record; an advisory lock keeps two runners from racing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2] / "supabase"
_LOCK_KEY = 7_212_031_415  # arbitrary, fixed: "aigym migrations"

_LEDGER_SQL = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text primary key,
  statements text[],
  name text
);
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: `<version>_<name>.sql`."""

    version: str
    name: str
    path: Path


def discover(directory: Path = ROOT / "migrations") -> list[Migration]:
    """Every migration file, in version order."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise ValueError(f"migration file name must start with a numeric version: {path.name}")
        found.append(Migration(version, name, path))
    return found


def apply(dsn: str, *, root: Path = ROOT, seed: bool = False) -> list[str]:
    """Bootstrap, then apply pending migrations in order (and the seed when asked); return applied versions."""
    import psycopg

    applied: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            for path in sorted((root / "bootstrap").glob("*.sql")):
                _run_file(conn, path)
            _ensure_pgmq(conn)
            conn.execute(_LEDGER_SQL)
            done = {
                row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")
            }
            for migration in discover(root / "migrations"):
                if migration.version in done:
                    continue
                sql = migration.path.read_text()
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute(
                        "insert into supabase_migrations.schema_migrations (version, name, statements)"
                        " values (%s, %s, %s)",
                        (migration.version, migration.name, [sql]),
                    )
                applied.append(migration.version)
            if seed and (root / "seed.sql").exists():
                with conn.transaction():
                    _run_file(conn, root / "seed.sql")
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def _ensure_pgmq(conn: Any) -> None:
    """Give plain Postgres the pgmq schema: the extension when the server has it, else the package's SQL."""
    if conn.execute("select to_regnamespace('pgmq') is not null").fetchone()[0]:
        return
    if conn.execute("select exists (select 1 from pg_available_extensions where name = 'pgmq')").fetchone()[
        0
    ]:
        conn.execute("create extension if not exists pgmq")
        return
    from importlib.resources import files

    # Supabase ships pgmq as an extension; locally its SQL comes from the `pgmq` PyPI package.
    with conn.transaction():
        conn.execute(files("pgmq").joinpath("sql", "pgmq.sql").read_text(encoding="utf-8"))


def _run_file(conn: Any, path: Path) -> None:
    conn.execute(path.read_text())
