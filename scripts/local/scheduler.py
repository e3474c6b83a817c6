"""The local stand-in for pg_cron: run every declared schedule inside `serve`.

For each schedule the next fire time comes from croniter (UTC). When it is due, the scheduler calls
the function in-process through the gateway's ASGI app, as a service caller with the project's secret
key, exactly as the pg_net job on Supabase calls its URL. Like pg_cron it never overlaps two runs of
one schedule, and it does not catch up on runs missed while the machine slept. Each run is logged as
one JSON line. `with_scheduler(gateway, names)` wraps the gateway so the scheduler starts with the
app's lifespan and stops cleanly on shutdown, before the gateway closes its database pool.

Set `AIGYM_LOCAL_SCHEDULER=off` to serve without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from shared.platform import logging as log
from shared.platform.schedules import Schedule

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_SLEEP_S = 30.0
"""Re-read the clock at least this often, so a changed or suspended clock is noticed."""
RUN_TIMEOUT_S = 120.0
"""A run is abandoned after this long (the worker stops starting batches after 45 s)."""
STOP_GRACE_S = 5.0
"""On shutdown, runs still going get this long to finish before they are cancelled."""


def next_fire(cron: str, after: datetime) -> datetime:
    """The first time strictly after `after` at which `cron` (read in UTC) fires."""
    from croniter import croniter

    fire: datetime = croniter(cron, after.astimezone(UTC)).get_next(datetime)
    return fire.astimezone(UTC)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def declared_schedules(names: Iterable[str]) -> list[Schedule]:
    """Every schedule the named functions declare."""
    from scripts.local.functions import load

    return [schedule for name in names for schedule in load(name).fn.schedules]


class Scheduler:
    """Fires schedules on time by calling `app` in-process with the secret key as bearer."""

    def __init__(
        self,
        app: ASGIApp,
        schedules: Iterable[Schedule],
        *,
        secret_key: str,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.app = app
        self.schedules = sorted(schedules, key=lambda s: s.name)
        self.secret_key = secret_key
        self.now = now
        self.sleep = sleep
        self.running: dict[str, asyncio.Task[int | None]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    async def fire(self, schedule: Schedule) -> int | None:
        """Call the schedule's function once; its HTTP status, or None when the call itself failed."""
        import httpx

        started = log.monotonic_ms()
        request_id = f"cron-{schedule.name}-{uuid.uuid4().hex[:12]}"
        fields: dict[str, Any] = {
            "schedule": schedule.name,
            "target": f"{schedule.method} {schedule.url_path}",
            "request_id": request_id,
        }
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 0))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://scheduler", timeout=RUN_TIMEOUT_S
            ) as http:
                response = await http.request(
                    schedule.method,
                    schedule.url_path,
                    headers={
                        "Authorization": f"Bearer {self.secret_key}",
                        "x-request-id": request_id,
                    },
                    json={},
                )
        except Exception as exc:
            duration = round(log.monotonic_ms() - started, 2)
            log.error("schedule run failed", **fields, error=type(exc).__name__, duration_ms=duration)
            return None
        duration = round(log.monotonic_ms() - started, 2)
        severity = "INFO" if response.status_code < 400 else "ERROR"
        log.log(severity, "schedule run", **fields, status=response.status_code, duration_ms=duration)
        return response.status_code

    def launch(self, schedule: Schedule) -> asyncio.Task[int | None] | None:
        """Start a run of `schedule` in the background, unless its previous run is still going."""
        if schedule.name in self.running:
            log.warning("schedule run skipped: the previous run is still going", schedule=schedule.name)
            return None
        task = asyncio.create_task(self.fire(schedule), name=f"schedule:{schedule.name}")
        self.running[schedule.name] = task
        task.add_done_callback(lambda _: self.running.pop(schedule.name, None))
        return task

    async def run(self) -> None:
        """Fire every schedule whenever it is due, until cancelled."""
        if not self.schedules:
            return
        start = self.now()
        due = {s.name: next_fire(s.cron, start) for s in self.schedules}
        while True:
            now = self.now()
            for schedule in self.schedules:
                if due[schedule.name] <= now:
                    self.launch(schedule)
                    due[schedule.name] = next_fire(schedule.cron, now)  # runs missed while asleep are skipped
            wait = (min(due.values()) - self.now()).total_seconds()
            await self.sleep(min(max(wait, 0.0), MAX_SLEEP_S))

    def start(self) -> None:
        """Start the loop as a task of the running event loop."""
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self.run(), name="scheduler")
            names = ", ".join(f"{s.name} ({s.cron})" for s in self.schedules) or "none"
            log.info("scheduler started", schedules=names)

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop the loop, give runs still going `grace_s` to finish, then cancel them."""
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        running = list(self.running.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_s)
            for run in pending:
                run.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if task is not None:
            log.info("scheduler stopped")


class ScheduledApp:
    """An ASGI app that serves `app` and runs `scheduler` from lifespan startup to shutdown."""

    def __init__(self, app: ASGIApp, scheduler: Scheduler) -> None:
        self.app = app
        self.scheduler = scheduler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def lifespan_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.scheduler.stop()  # before the app closes what the runs use
            return message

        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                self.scheduler.start()
            await send(message)

        await self.app(scope, lifespan_receive, lifespan_send)


def with_scheduler(
    app: ASGIApp, names: Iterable[str], environ: MutableMapping[str, str] = os.environ
) -> ASGIApp:
    """`app` with the named functions' schedules running alongside it (unless AIGYM_LOCAL_SCHEDULER=off)."""
    if environ.get("AIGYM_LOCAL_SCHEDULER", "on").lower() == "off":
        return app
    key = environ.get("SUPABASE_SECRET_KEY", "")
    return ScheduledApp(app, Scheduler(app, declared_schedules(names), secret_key=key))
