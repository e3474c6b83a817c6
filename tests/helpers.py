"""Assertions and types the tests share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.factories import ACME

Sql = Callable[..., list[dict[str, Any]]]
"""The `sql` fixture: run a statement as the database owner, get rows as dicts."""


def owner_sql(dsn: str) -> Sql:
    """Run statements as the database owner of `dsn` (bypasses RLS), each on its own, committed."""
    import psycopg
    from psycopg.rows import dict_row

    def run(statement: str, params: Any = None) -> list[dict[str, Any]]:
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    return run


def open_transactions(sql: Sql) -> int:
    """How many client sessions of this database (but the probe's own) have a transaction open.

    Only client backends count: an autovacuum or autoanalyze worker also shows an open transaction in
    pg_stat_activity, and it runs whenever Postgres decides to, which once made a test flaky in CI.
    """
    rows = sql(
        "select count(*) as n from pg_stat_activity where datname = current_database()"
        " and pid <> pg_backend_pid() and backend_type = 'client backend' and xact_start is not null"
    )
    return int(rows[0]["n"])


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with this status and code, naming the request id it was served under."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"].startswith("urn:aigym:problem:")
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["error"] == body["detail"]  # the member supabase-py / supabase-js show as the message
    return body


def count(sql: Sql, statement: str, params: Any = None) -> int:
    """The `n` column of a `select count(*) as n …`."""
    return int(sql(statement, params)[0]["n"])


def make_tag(sql: Sql, community: str, name: str, color: str = "#112233") -> str:
    """Create a user tag in `community` directly in the database; its id."""
    rows = sql(
        "insert into user_tags (community_id, name, color) values (%s, %s, %s) returning id::text",
        (community, name, color),
    )
    return str(rows[0]["id"])


def assign(sql: Sql, tag_id: str, user_id: str, community: str = ACME) -> None:
    """Give a member a tag directly in the database."""
    sql(
        "insert into user_tag_assignments (tag_id, user_id, community_id) values (%s, %s, %s)",
        (tag_id, user_id, community),
    )


async def drain_events() -> None:
    """Run the worker loop until the queue is empty (failed deliveries come back at once)."""
    import shared.identity.onboarding.handlers  # noqa: F401  (subscribes them, as the worker does)
    from shared.platform.events import run_batch

    for _ in range(200):
        if (await run_batch(batch_size=20, visibility_s=0)).read == 0:
            return
    raise AssertionError("the queue did not drain")


def send_again(sql: Sql, event_name: str) -> int:
    """Enqueue each archived event of this name once more, as a new event (a duplicate delivery); how many."""
    rows = sql(
        "select pgmq.send('events', message || jsonb_build_object('id', gen_random_uuid())) as id"
        " from pgmq.a_events where message->>'name' = %s",
        (event_name,),
    )
    return len(rows)
