"""Write supabase/schedules.sql: the pg_cron jobs of every schedule the functions declare.

scripts/schedules           write the file
scripts/schedules --check   exit 1 when the committed file is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.local.functions import discover, load
from shared.platform.schedules import Schedule, render_pg_cron_sql

SCHEDULES_SQL = Path(__file__).resolve().parents[2] / "supabase" / "schedules.sql"

HEADER = """\
-- supabase/schedules.sql: the schedules declared in code (fn.schedule(...)) as pg_cron + pg_net jobs.
--
-- Not a migration: plain Postgres has no pg_cron, so neither our migration runner nor `supabase db push`
-- applies this file. Apply it to a Supabase project once the two Vault secrets below exist (and again
-- whenever it changes; it replaces every aigym- job, so rerunning it is safe):
--
--   psql "$SUPABASE_DB_URL" -f supabase/schedules.sql
--
"""


def declared() -> list[Schedule]:
    """Every schedule of every function in functions/, checked for duplicate names."""
    schedules = [schedule for name in discover() for schedule in load(name).fn.schedules]
    names = [s.name for s in schedules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"schedule names must be unique; repeated: {', '.join(duplicates)}")
    return schedules


def render() -> str:
    """The text of supabase/schedules.sql."""
    return HEADER + render_pg_cron_sql(declared())


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, verify) supabase/schedules.sql."""
    parser = argparse.ArgumentParser(prog="schedules", description="Write supabase/schedules.sql.")
    parser.add_argument("--check", action="store_true", help="fail when the committed file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = SCHEDULES_SQL.read_text() if SCHEDULES_SQL.exists() else ""
        if current != text:
            print(f"{SCHEDULES_SQL} is out of date; run scripts/schedules", file=sys.stderr)
            return 1
        return 0
    SCHEDULES_SQL.write_text(text)
    print(f"wrote {SCHEDULES_SQL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
