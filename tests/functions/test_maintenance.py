"""`maintenance` through the real handler: each purge deletes only what is expired or old enough."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.local.stack import LOCAL_SECRET_KEY
from shared.platform import maintenance
from shared.platform.config import get_settings, reset_settings
from shared.platform.storage import storage_for
from tests.ai_rows import conversation
from tests.factories import ACME, ACME_LENA, auth

SERVICE = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}
EVERY_PURGE = {p.name for p in maintenance.PURGES}


def arrange(sql: Any) -> None:
    """One row that must go and one that must stay, per purged table (the names say which)."""
    for key, expires in (("old", "- interval '1 minute'"), ("fresh", "+ interval '23 hours'")):
        sql(
            "insert into app.idempotency_keys (owner, key, request_hash, state, locked_until, expires_at)"  # noqa: S608
            f" values ('user:x', %s, 'h', 'done', now(), now() {expires})",
            (key,),
        )
    for key, age in (("old", "25 hours"), ("fresh", "23 hours")):
        sql(
            "insert into app.rate_limits (key, limit_class, window_start, hits)"
            " values (%s, 'general', now() - %s::interval, 1)",
            (key, age),
        )
    for key, age in (("old", "31 days"), ("fresh", "29 days")):
        msg_id = sql("select pgmq.send('events_dead', %s::jsonb) as id", (json.dumps({"key": key}),))[0]["id"]
        sql(
            "update pgmq.q_events_dead set enqueued_at = now() - %s::interval where msg_id = %s",
            (age, msg_id),
        )
        msg_id = sql("select pgmq.send('events', %s::jsonb) as id", (json.dumps({"key": key}),))[0]["id"]
        sql("select pgmq.archive('events', %s::bigint)", (msg_id,))
        sql("update pgmq.a_events set archived_at = now() - %s::interval where msg_id = %s", (age, msg_id))
        sql(
            "insert into app.applied_events (event_id, handler, applied_at)"
            " values (gen_random_uuid(), %s, now() - %s::interval)",
            (key, age),
        )
    for key, age in (("old", "91 days"), ("fresh", "89 days")):
        sql(
            "insert into app.webhook_events (provider, event_id, received_at) values ('stripe', %s, now() - %s::interval)",
            (key, age),
        )
    sql("update public.community_ai_settings set conversation_retention_days = 30 where community_id = %s", (ACME,))
    for key, age in (("old", "30 days 1 minute"), ("fresh", "29 days 23 hours")):
        conversation(sql, ACME_LENA, ACME, None, title=key, messages=1, age=age)
    for key, age in (("old", "91 days"), ("fresh", "89 days")):
        sql(
            "insert into public.notifications (user_id, community_id, kind, subject, created_at, read_at)"
            " values (%s, %s, 'forum.replied', %s, now() - interval '1 year', now() - %s::interval)",
            (ACME_LENA, ACME, key, age),
        )
    # Unread, however old: kept for its reader.
    sql("insert into public.notifications (user_id, community_id, kind, subject, created_at)"
        " values (%s, %s, 'forum.replied', 'unread', now() - interval '2 years')", (ACME_LENA, ACME))


def left(keys: list[str]) -> dict[str, list[str]]:
    """The same rows left in every purged table."""
    return {name: list(keys) for name in EVERY_PURGE}


def remaining(sql: Any) -> dict[str, list[str]]:
    """What is left in each purged table, by the key `arrange` gave it."""
    return {
        "idempotency_keys": [r["k"] for r in sql("select key as k from app.idempotency_keys order by 1")],
        "rate_limits": [r["k"] for r in sql("select key as k from app.rate_limits order by 1")],
        "dead_letters": [
            r["k"] for r in sql("select message->>'key' as k from pgmq.q_events_dead order by 1")
        ],
        "archived_events": [r["k"] for r in sql("select message->>'key' as k from pgmq.a_events order by 1")],
        "applied_events": [r["k"] for r in sql("select handler as k from app.applied_events order by 1")],
        "webhook_events": [r["k"] for r in sql("select event_id as k from app.webhook_events order by 1")],
        "ai_conversations": [r["k"] for r in sql("select title as k from public.ai_conversations order by 1")],
        "notifications": [
            r["k"] for r in sql("select subject as k from public.notifications where read_at is not null order by 1")
        ],
    }


async def run(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/maintenance/run", headers=SERVICE, json={})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_nightly_run_purges_only_expired_and_old_rows(client: httpx.AsyncClient, sql: Any) -> None:
    arrange(sql)
    report = await run(client)
    assert report == {"purged": {**dict.fromkeys(EVERY_PURGE, 1), "dead_uploads": 0}, "failed": []}
    assert remaining(sql) == left(["fresh"])
    assert sql("select subject from public.notifications where read_at is null") == [{"subject": "unread"}]

    again = await run(client)
    assert again == {"purged": {**dict.fromkeys(EVERY_PURGE, 0), "dead_uploads": 0}, "failed": []}
    assert remaining(sql) == left(["fresh"])


async def test_dead_letter_retention_follows_its_setting_and_applied_events_outlive_it(
    client: httpx.AsyncClient, sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEAD_LETTER_RETENTION_DAYS", "60")
    reset_settings()
    for key, age in (("old", "61 days"), ("fresh", "45 days")):
        msg_id = sql("select pgmq.send('events_dead', %s::jsonb) as id", (json.dumps({"key": key}),))[0]["id"]
        sql(
            "update pgmq.q_events_dead set enqueued_at = now() - %s::interval where msg_id = %s",
            (age, msg_id),
        )
        sql(
            "insert into app.applied_events (event_id, handler, applied_at)"
            " values (gen_random_uuid(), %s, now() - %s::interval)",
            (key, age),
        )
    report = await run(client)
    assert report["purged"]["dead_letters"] == report["purged"]["applied_events"] == 1
    after = remaining(sql)
    # A dead letter retried after 45 days must still find its handlers' applied records.
    assert after["dead_letters"] == after["applied_events"] == ["fresh"]


@pytest.mark.parametrize("value", ["0", "-3", "a week"])
async def test_invalid_retention_setting_is_a_503_not_configured_that_deletes_nothing(
    client: httpx.AsyncClient, sql: Any, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    arrange(sql)
    monkeypatch.setenv("DEAD_LETTER_RETENTION_DAYS", value)
    reset_settings()
    response = await client.post("/maintenance/run", headers=SERVICE)
    assert response.status_code == 503
    assert response.json()["code"] == "not_configured"
    assert remaining(sql) == left(["fresh", "old"])


@pytest.mark.parametrize(
    "credentials",
    [auth(ACME_LENA), {"Authorization": "Bearer sb_secret_wrong"}, {}],
    ids=["user", "wrong", "none"],
)
async def test_maintenance_refuses_anyone_without_the_secret_key(
    client: httpx.AsyncClient, sql: Any, credentials: dict[str, str]
) -> None:
    arrange(sql)
    response = await client.post("/maintenance/run", headers=credentials)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert remaining(sql) == left(["fresh", "old"])


async def test_a_failing_purge_is_reported_and_the_others_still_run(db: str, sql: Any) -> None:
    arrange(sql)
    broken = maintenance.Purge("broken", "app.no_such_table", "true")
    purges = (broken, *maintenance.PURGES)
    report = await maintenance.run_all(purges, maintenance.retention_params(30))
    assert report.failed == ["broken"]
    assert report.purged == dict.fromkeys(EVERY_PURGE, 1)
    assert remaining(sql) == left(["fresh"])


def test_applied_events_are_kept_at_least_thirty_days_and_as_long_as_dead_letters() -> None:
    assert maintenance.retention_params(30) == {"dead_days": 30, "applied_days": 30}
    assert maintenance.retention_params(7) == {"dead_days": 7, "applied_days": 30}
    assert maintenance.retention_params(60) == {"dead_days": 60, "applied_days": 60}


async def test_dead_uploads_go_with_their_stored_files_and_live_ones_stay(
    client: httpx.AsyncClient, sql: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "local")
    monkeypatch.setenv("STORAGE_LOCAL_DIR", str(tmp_path))
    reset_settings()
    storage_for.cache_clear()
    storage: Any = storage_for(get_settings().storage)
    uploads = {}
    for name, status, expired in (
        ("expired", "pending", "2 hours"),
        ("in grace", "pending", "10 minutes"),
        ("live", "pending", "-1 hour"),
        ("old rejection", "rejected", "8 days"),
        ("new rejection", "rejected", "1 day"),
        ("confirmed long ago", "confirmed", "30 days"),
    ):
        (row,) = sql(
            "insert into uploads (community_id, declared_mime, declared_size, status, created_at, expires_at,"
            " confirmed_at, byte_size, detected_mime, rejection_code)"
            " select %(c)s, 'image/png', 10, %(s)s, e - interval '10 minutes', e,"
            "   case when %(s)s = 'confirmed' then e end, case when %(s)s = 'confirmed' then 10 end,"
            "   case when %(s)s = 'confirmed' then 'image/png' end, case when %(s)s = 'rejected' then 'too_big' end"
            " from (select now() - %(e)s::interval as e) t returning id::text, object_key",
            {"c": ACME, "s": status, "e": expired},
        )
        storage.store(row["object_key"], b"x")
        uploads[name] = row

    report = await run(client)
    storage_for.cache_clear()

    assert report["purged"]["dead_uploads"] == 2 and report["failed"] == []
    kept = {r["id"] for r in sql("select id::text from uploads")}
    assert kept == {uploads[n]["id"] for n in ("in grace", "live", "new rejection", "confirmed long ago")}
    stored = {n for n, row in uploads.items() if storage.path_of(row["object_key"]).exists()}
    assert stored == {"in grace", "live", "new rejection", "confirmed long ago"}
