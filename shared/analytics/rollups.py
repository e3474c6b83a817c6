"""The rollup job: rebuild days of the rollups from the durable facts, each day in a transaction of its own.

A run rebuilds every day from the job's cursor (the first day not yet rolled up for good) to today, and
the LATE_DAYS days before today whatever the cursor says, so a fact committed after its day was rolled up
is counted by the next run. Each finished day before today moves the cursor in the transaction that
rebuilt it: a run that stops resumes at the first day it did not finish. Today is rebuilt on every run
but never passes the cursor. Rebuilding a day deletes it and inserts it again, so re-running changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from shared.analytics import rollup_sql
from shared.analytics.schemas import RollupRun, today
from shared.platform.db import Tx, as_service

LATE_DAYS = 2


def days_between(first: date, last: date) -> Iterator[date]:
    """Every day from `first` to `last`, both included."""
    for n in range((last - first).days + 1):
        yield first + timedelta(days=n)


async def rebuild_day(tx: Tx, day: date) -> None:
    """Delete the day's rollups and insert them again from the facts."""
    await tx.execute(rollup_sql.DELETE_DAY_SQL, {"day": day})
    await tx.execute(rollup_sql.INSERT_DAY_SQL, {"day": day})


async def rebuild(first: date, last: date) -> RollupRun:
    """Rebuild the days from `first` to `last` (a re-run asked for by hand); the cursor stays where it is."""
    done = []
    for day in days_between(first, last):
        async with as_service() as tx:
            await rebuild_day(tx, day)
        done.append(day)
    return RollupRun(days=done, next_day=await _cursor())


async def run(now: date | None = None) -> RollupRun:
    """Rebuild from the cursor (and the last LATE_DAYS days) to today, moving the cursor day by day."""
    current = now or today()
    start = await _cursor() or await _first_day() or current
    done = []
    for day in days_between(min(start, current - timedelta(days=LATE_DAYS)), current):
        async with as_service() as tx:
            await tx.execute(rollup_sql.START_CURSOR_SQL, {"start": day})
            await tx.fetch_val(rollup_sql.LOCK_CURSOR_SQL)
            await rebuild_day(tx, day)
            if day < current:
                await tx.execute(rollup_sql.ADVANCE_CURSOR_SQL, {"next_day": day + timedelta(days=1)})
        done.append(day)
    return RollupRun(days=done, next_day=await _cursor())


async def _cursor() -> date | None:
    async with as_service() as tx:
        value = await tx.fetch_val(rollup_sql.CURSOR_SQL)
    return value if isinstance(value, date) else None


async def _first_day() -> date | None:
    async with as_service() as tx:
        value = await tx.fetch_val(rollup_sql.FIRST_DAY_SQL)
    return value.date() if value is not None else None
