"""Schedules: declarations, the generated pg_cron SQL, and the local scheduler inside `serve`."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from scripts.local import schedules_cli
from scripts.local.functions import load
from scripts.local.scheduler import (
    Message,
    Receive,
    ScheduledApp,
    Scheduler,
    Scope,
    Send,
    next_fire,
    with_scheduler,
)
from scripts.local.stack import LOCAL_SECRET_KEY
from shared.platform import events, migrate
from shared.platform import logging as log
from shared.platform.db import Tx, as_service
from shared.platform.events import Event
from shared.platform.http import Function
from shared.platform.routing import resolve
from shared.platform.schedules import (
    VAULT_KEY_SECRET,
    VAULT_URL_SECRET,
    Schedule,
    cron_problem,
    render_pg_cron_sql,
)

DECLARED = schedules_cli.declared()
WORKER = Schedule("worker-drain", "* * * * *", "worker", "/run")
NIGHTLY = Schedule("maintenance-nightly", "30 3 * * *", "maintenance", "/run")


# --- declarations and the committed SQL ---------------------------------------------------------------


def test_committed_schedules_sql_matches_the_code() -> None:
    assert schedules_cli.SCHEDULES_SQL.read_text() == schedules_cli.render(), "run scripts/schedules"


def test_worker_drain_and_nightly_maintenance_are_declared() -> None:
    assert {WORKER, NIGHTLY} <= set(DECLARED)


@pytest.mark.parametrize("schedule", DECLARED, ids=lambda s: s.name)
def test_every_cron_expression_is_valid(schedule: Schedule) -> None:
    assert croniter.is_valid(schedule.cron)
    assert len(schedule.cron.split()) == 5, "pg_cron takes five fields (no seconds)"


@pytest.mark.parametrize(
    "cron", ["* * * * *", "30 3 * * *", "*/5 0-6,22-23 1 */2 1-5", "0 0 1-31/2 12 0,7", "59 23 31 12 6"]
)
def test_cron_expressions_pg_cron_takes_are_accepted_as_croniter_accepts_them(cron: str) -> None:
    assert cron_problem(cron) is None
    assert croniter.is_valid(cron)
    Schedule("ok", cron, "worker", "/run")


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("* * * *", "needs five fields"),
        ("0 * * * * *", "needs five fields"),
        ("60 * * * *", "'60' must stay within 0-59"),
        ("0 24 * * *", "'24' must stay within 0-23"),
        ("0 0 0 * *", "'0' must stay within 1-31"),
        ("0 0 * 13 *", "'13' must stay within 1-12"),
        ("0 0 * * 8", "'8' must stay within 0-7"),
        ("30-10 * * * *", "'30-10' must stay within 0-59, low to high"),
        ("*/0 * * * *", "'*/0' is not a cron field"),
        ("1,,2 * * * *", "'1,,2' is not a cron field"),
        ("@daily", "needs five fields"),
    ],
)
def test_a_malformed_cron_expression_is_refused_when_declared(cron: str, problem: str) -> None:
    assert problem in (cron_problem(cron) or "")
    with pytest.raises(ValueError, match=f"schedule nightly: {re.escape(problem)}"):
        Function("maintenance").schedule("nightly", cron, "/run")


@pytest.mark.parametrize("schedule", DECLARED, ids=lambda s: s.name)
def test_every_schedule_calls_a_service_route_of_its_own_function(schedule: Schedule) -> None:
    fn = load(schedule.function).fn
    assert schedule in fn.schedules
    route, params = resolve(fn.routes, schedule.method, schedule.path)
    assert route.auth == "service"
    assert params == {}


def test_schedule_names_must_be_unique(monkeypatch: pytest.MonkeyPatch) -> None:
    class Fake:
        class fn:
            schedules = [WORKER, WORKER]

    monkeypatch.setattr(schedules_cli, "discover", lambda: {"worker": None})
    monkeypatch.setattr(schedules_cli, "load", lambda name: Fake)
    with pytest.raises(ValueError, match="worker-drain"):
        schedules_cli.declared()


def test_file_says_how_to_apply_it_and_is_not_a_migration() -> None:
    text = schedules_cli.SCHEDULES_SQL.read_text()
    header = text.split("do $do$")[0]
    assert 'psql "$SUPABASE_DB_URL" -f supabase/schedules.sql' in header
    assert f"'{VAULT_URL_SECRET}'" in header and f"'{VAULT_KEY_SECRET}'" in header
    assert all(line.startswith("--") for line in header.strip().splitlines())
    assert schedules_cli.SCHEDULES_SQL.resolve() not in {m.path.resolve() for m in migrate.discover()}
    assert not list(migrate.ROOT.joinpath("bootstrap").glob("*schedules*"))


def test_rendered_sql_creates_one_job_per_schedule_calling_its_url_with_vault_secrets() -> None:
    sql = render_pg_cron_sql([WORKER, NIGHTLY])
    jobs = re.findall(r"perform cron\.schedule\('([^']*)', '([^']*)', '(.*)'\);", sql)
    assert [(name, cron) for name, cron, _ in jobs] == [
        ("aigym-maintenance-nightly", "30 3 * * *"),
        ("aigym-worker-drain", "* * * * *"),
    ]
    for (_, _, command), path in zip(
        jobs, ["/functions/v1/maintenance/run", "/functions/v1/worker/run"], strict=True
    ):
        command = command.replace("''", "'")
        assert command.startswith("select net.http_post(")
        assert f"where name = '{VAULT_URL_SECRET}') || '{path}'" in command
        assert (
            f"'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = '{VAULT_KEY_SECRET}')"  # noqa: S608
            in command
        )
        assert "body := '{}'::jsonb" in command
    assert "cron.unschedule(jobname) from cron.job where jobname like 'aigym-%'" in sql
    assert "raise notice 'pg_cron or pg_net missing" in sql
    assert LOCAL_SECRET_KEY not in sql


def test_rendering_escapes_quotes_and_refuses_methods_other_than_post() -> None:
    sql = render_pg_cron_sql([Schedule("it's", "0 * * * *", "worker", "/run")])
    assert "cron.schedule('aigym-it''s', '0 * * * *'," in sql
    with pytest.raises(ValueError, match="only POST"):
        render_pg_cron_sql([Schedule("reader", "0 * * * *", "worker", "/dead-letters", "GET")])


def test_schedules_sql_is_a_no_op_with_a_notice_on_plain_postgres(db: str) -> None:
    import psycopg

    notices: list[str] = []
    with psycopg.connect(db, autocommit=True) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute(schedules_cli.SCHEDULES_SQL.read_text())
        has_cron = conn.execute("select to_regnamespace('cron') is not null").fetchone()
    assert notices == ["pg_cron or pg_net missing: schedules not installed"]
    assert has_cron == (False,)


FAKE_SUPABASE_SQL = """
create schema vault;
create table vault.decrypted_secrets (name text primary key, decrypted_secret text not null);
insert into vault.decrypted_secrets values ('aigym_functions_url', 'https://ref.supabase.co'),
                                           ('aigym_secret_key', 'sb_secret_vaulted');
create schema net;
create table net.calls (url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds int);
create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}',
  headers jsonb default '{"Content-Type": "application/json"}', timeout_milliseconds int default 5000)
returns bigint language sql as $$
  insert into net.calls values (url, body, params, headers, timeout_milliseconds) returning 1::bigint
$$;
"""


def test_each_job_command_posts_to_its_function_url_with_the_vaulted_key(sql: Any) -> None:
    """Run each generated command against stand-ins of pg_net and Vault with pg_net's signature."""
    sql(FAKE_SUPABASE_SQL)
    lines = [
        line.strip()
        for line in schedules_cli.SCHEDULES_SQL.read_text().splitlines()
        if "cron.schedule(" in line
    ]
    assert len(lines) == len(DECLARED)
    for line, schedule in zip(lines, sorted(DECLARED, key=lambda s: s.name), strict=True):
        args = line.removeprefix("perform cron.schedule(").removesuffix(");")
        # The job's name, cron and command, as pg_cron receives them.
        [job] = sql(f"select * from (values ({args})) as job(name, cron, command)")  # noqa: S608
        assert (job["name"], job["cron"]) == (schedule.job_name, schedule.cron)
        sql("truncate net.calls")
        sql(job["command"])
        assert sql("select * from net.calls") == [
            {
                "url": "https://ref.supabase.co" + schedule.url_path,
                "body": {},
                "params": {},
                "headers": {"Content-Type": "application/json", "Authorization": "Bearer sb_secret_vaulted"},
                "timeout_milliseconds": 55000,
            }
        ]


# --- the local scheduler ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("* * * * *", datetime(2026, 1, 5, 12, 0, 30, tzinfo=UTC), datetime(2026, 1, 5, 12, 1, tzinfo=UTC)),
        ("* * * * *", datetime(2026, 1, 5, 12, 1, tzinfo=UTC), datetime(2026, 1, 5, 12, 2, tzinfo=UTC)),
        ("30 3 * * *", datetime(2026, 1, 5, 3, 29, 59, tzinfo=UTC), datetime(2026, 1, 5, 3, 30, tzinfo=UTC)),
        ("30 3 * * *", datetime(2026, 1, 5, 3, 30, tzinfo=UTC), datetime(2026, 1, 6, 3, 30, tzinfo=UTC)),
        ("30 3 * * *", datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, 3, 30, tzinfo=UTC)),
        # A local time is read as the UTC instant it is: 04:00 in Berlin in January is 03:00 UTC.
        (
            "30 3 * * *",
            datetime(2026, 1, 5, 4, 0, tzinfo=ZoneInfo("Europe/Berlin")),
            datetime(2026, 1, 5, 3, 30, tzinfo=UTC),
        ),
    ],
)
def test_next_fire_is_the_first_utc_time_strictly_after(
    cron: str, after: datetime, expected: datetime
) -> None:
    fire = next_fire(cron, after)
    assert fire == expected
    assert fire.utcoffset() == timedelta(0)


class RecordingApp:
    """A stand-in ASGI app that records each request and answers 200, or waits for `release` first."""

    def __init__(self, blocking: bool = False) -> None:
        self.requests: list[tuple[str, str, str]] = []
        self.release = asyncio.Event()
        self.blocking = blocking
        self.cancelled = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        self.requests.append((scope["method"], scope["path"], headers.get(b"authorization", b"").decode()))
        if self.blocking:
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


class FakeClock:
    """A clock that only moves when the scheduler sleeps; it ends the loop once past `until`."""

    def __init__(self, start: datetime, until: datetime) -> None:
        self.now, self.until = start, until
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)
        if self.now > self.until:
            raise asyncio.CancelledError


Logged = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> Logged:
    """A reader of the JSON lines logged so far in the test."""
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


async def test_loop_fires_each_due_schedule_once_per_due_time_and_nothing_early() -> None:
    app = RecordingApp()
    clock = FakeClock(
        datetime(2026, 1, 5, 11, 59, 59, 500000, tzinfo=UTC),
        until=datetime(2026, 1, 5, 12, 3, 0, 500000, tzinfo=UTC),
    )
    scheduler = Scheduler(app, [WORKER, NIGHTLY], secret_key="sb_secret_test", now=clock, sleep=clock.sleep)
    with pytest.raises(asyncio.CancelledError):
        await scheduler.run()
    await scheduler.stop()
    assert app.requests == [("POST", "/functions/v1/worker/run", "Bearer sb_secret_test")] * 4
    assert max(clock.sleeps) <= 30.0, "the clock is re-read at least every 30 s"


async def test_a_schedule_still_running_is_not_started_again(logged: Logged) -> None:
    app = RecordingApp(blocking=True)
    scheduler = Scheduler(app, [WORKER], secret_key="k")
    first = scheduler.launch(WORKER)
    await asyncio.sleep(0.01)
    assert first is not None
    assert scheduler.launch(WORKER) is None
    app.release.set()
    assert await first == 200
    assert scheduler.launch(WORKER) is not None, "once finished it may run again"
    await scheduler.stop()
    assert len(app.requests) == 2
    assert scheduler.running == {}
    skipped = [line for line in logged() if line["message"].startswith("schedule run skipped")]
    assert [(line["severity"], line["schedule"]) for line in skipped] == [("WARNING", "worker-drain")]


async def test_stop_ends_the_loop_and_cancels_runs_that_outlast_the_grace_period() -> None:
    app = RecordingApp(blocking=True)
    scheduler = Scheduler(app, [WORKER], secret_key="k")
    scheduler.start()
    scheduler.launch(WORKER)
    await asyncio.sleep(0.01)
    loop_task = scheduler._loop_task
    assert loop_task is not None and not loop_task.done()
    await scheduler.stop(grace_s=0.05)
    assert loop_task.cancelled()
    assert scheduler._loop_task is None
    assert scheduler.running == {}
    assert app.cancelled == 1


async def test_a_tick_calls_the_scheduled_function_in_process_as_a_service_caller(
    gateway: Any, sql: Any, logged: Logged
) -> None:
    seen: list[Event] = []

    @events.registry.subscribe("test.scheduled_delivery")
    async def record(tx: Tx, event: Event) -> None:
        seen.append(event)

    try:
        async with as_service() as tx:
            await events.enqueue(tx, Event(name="test.scheduled_delivery"))
        sql(
            "insert into app.idempotency_keys (owner, key, request_hash, state, locked_until, expires_at)"
            " values ('user:x', 'k', 'h', 'done', now(), now() - interval '1 minute')"
        )
        scheduler = Scheduler(gateway, [WORKER, NIGHTLY], secret_key=LOCAL_SECRET_KEY)

        assert await scheduler.fire(WORKER) == 200
        assert [e.name for e in seen] == ["test.scheduled_delivery"]
        assert sql("select count(*) as n from app.idempotency_keys") == [{"n": 1}], (
            "the worker purges nothing"
        )

        assert await scheduler.fire(NIGHTLY) == 200
        assert sql("select count(*) as n from app.idempotency_keys") == [{"n": 0}]
        assert len(seen) == 1
    finally:
        events.registry.handlers.pop("test.scheduled_delivery", None)
    assert [line["status"] for line in logged() if line["message"] == "schedule run"] == [200, 200]


async def test_each_run_is_logged_as_one_json_line_without_the_key(
    gateway: Any, db: str, logged: Logged
) -> None:
    good = Scheduler(gateway, [WORKER], secret_key=LOCAL_SECRET_KEY)
    bad = Scheduler(gateway, [WORKER], secret_key="sb_secret_wrong")
    assert await good.fire(WORKER) == 200
    assert await bad.fire(WORKER) == 401
    lines = logged()
    runs = [line for line in lines if line["message"] == "schedule run"]
    assert [(r["severity"], r["schedule"], r["status"]) for r in runs] == [
        ("INFO", "worker-drain", 200),
        ("ERROR", "worker-drain", 401),
    ]
    assert all(r["target"] == "POST /functions/v1/worker/run" and r["duration_ms"] >= 0 for r in runs)
    # The run's line and the function's access line share the request id.
    access = [line for line in lines if line["message"] == "request"]
    assert [a["request_id"] for a in access] == [r["request_id"] for r in runs]
    assert all(r["request_id"].startswith("cron-worker-drain-") for r in runs)
    assert LOCAL_SECRET_KEY not in json.dumps(lines)
    assert "sb_secret_wrong" not in json.dumps(lines)


async def test_lifespan_starts_the_scheduler_and_stops_it_before_the_app_shuts_down() -> None:
    scheduler = Scheduler(RecordingApp(), [WORKER], secret_key="k")
    running_at_shutdown: list[bool] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                running_at_shutdown.append(scheduler._loop_task is not None)
                await send({"type": "lifespan.shutdown.complete"})
                return

    inbox: asyncio.Queue[Message] = asyncio.Queue()
    sent: list[str] = []

    async def send(message: Message) -> None:
        sent.append(message["type"])

    app = ScheduledApp(inner, scheduler)
    serving = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    await asyncio.sleep(0.01)
    assert sent == ["lifespan.startup.complete"]
    loop_task = scheduler._loop_task
    assert loop_task is not None and not loop_task.done()
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(serving, 2)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert running_at_shutdown == [False]
    assert loop_task.cancelled()


async def test_http_requests_pass_straight_through_to_the_app() -> None:
    import httpx

    inner = RecordingApp()
    app = ScheduledApp(inner, Scheduler(inner, [], secret_key="k"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/functions/v1/health/live")).status_code == 200
    assert inner.requests == [("GET", "/functions/v1/health/live", "")]


def test_serve_runs_the_declared_schedules_unless_switched_off() -> None:
    inner = RecordingApp()
    app = with_scheduler(inner, ["health", "worker", "maintenance"], environ={"SUPABASE_SECRET_KEY": "sk"})
    assert isinstance(app, ScheduledApp)
    assert app.scheduler.schedules == [NIGHTLY, WORKER]
    assert app.scheduler.secret_key == "sk"
    assert with_scheduler(inner, ["worker"], environ={"AIGYM_LOCAL_SCHEDULER": "off"}) is inner
