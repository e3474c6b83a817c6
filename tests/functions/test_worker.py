"""`worker` through the real handler: delivery, redelivery, dead letters and their retry, auth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scripts.local.stack import LOCAL_SECRET_KEY
from shared.platform import events
from shared.platform.config import reset_settings
from shared.platform.db import Tx, as_service
from shared.platform.events import Event
from tests.factories import ACME_LENA, auth
from tests.helpers import open_transactions

SERVICE = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}
EFFECTS_SQL = """
create table public.test_effects (event_id uuid not null, handler text not null, at timestamptz default now());
grant all on public.test_effects to service_role;
"""


@pytest.fixture
def registry() -> Iterator[events.Registry]:
    """The worker's registry; handlers a test subscribes are gone after it."""
    saved = {name: list(handlers) for name, handlers in events.registry.handlers.items()}
    yield events.registry
    events.registry.handlers.clear()
    events.registry.handlers.update(saved)


@pytest.fixture
def effects(db: str, sql: Any) -> Any:
    """A table handlers write their effect into; returns a reader of its rows."""
    sql(EFFECTS_SQL)
    return lambda: sql("select event_id::text, handler from public.test_effects order by at")


async def drain(client: httpx.AsyncClient) -> dict[str, int]:
    """Run the worker once as the schedule does; its report."""
    response = await client.post("/worker/run", headers=SERVICE, json={})
    assert response.status_code == 200, response.text
    report: dict[str, int] = response.json()
    return report


async def enqueue(event: Event) -> int:
    """Enqueue `event` in a committed service transaction; its message id."""
    async with as_service() as tx:
        await events.enqueue(tx, event)
    async with as_service() as tx:
        msg_id = await tx.fetch_val(
            "select msg_id from pgmq.q_events where message ->> 'id' = %s", (str(event.id),)
        )
    return int(msg_id)


def queue(sql: Any, name: str = "q_events") -> list[dict[str, Any]]:
    """The messages of one pgmq table, oldest first."""
    found: list[dict[str, Any]] = sql(f"select msg_id, read_ct, message from pgmq.{name} order by msg_id")  # noqa: S608
    return found


def counts(report: dict[str, int]) -> tuple[int, int, int, int]:
    return report["read"], report["archived"], report["retried"], report["dead"]


async def test_event_enqueued_in_a_rolled_back_transaction_never_reaches_a_handler(
    client: httpx.AsyncClient, db: str, sql: Any, registry: events.Registry
) -> None:
    seen: list[str] = []

    @registry.subscribe("test.rolled_back")
    async def record(tx: Tx, event: Event) -> None:
        seen.append(event.payload["which"])

    with pytest.raises(RuntimeError, match="change refused"):
        async with as_service() as tx:
            await events.enqueue(tx, Event(name="test.rolled_back", payload={"which": "rolled back"}))
            raise RuntimeError("change refused")
    await enqueue(Event(name="test.rolled_back", payload={"which": "committed"}))

    report = await drain(client)
    assert counts(report) == (1, 1, 0, 0)
    assert seen == ["committed"], "only the committed transaction's event may be delivered"
    assert queue(sql) == []
    assert len(queue(sql, "a_events")) == 1


async def test_failing_handler_leaves_event_for_redelivery_and_a_later_run_applies_it_once(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry, effects: Any
) -> None:
    calls: list[int] = []

    @registry.subscribe("test.flaky", name="tests.write_effect")
    async def write_effect(tx: Tx, event: Event) -> None:
        calls.append(1)
        await tx.execute(
            "insert into public.test_effects (event_id, handler) values (%s, 'write')", (event.id,)
        )
        if len(calls) == 1:
            raise RuntimeError("flaky the first time")

    event = Event(name="test.flaky")
    msg_id = await enqueue(event)

    assert counts(await drain(client)) == (1, 0, 1, 0)
    assert effects() == [], "the failed attempt's write must roll back"
    assert [(m["msg_id"], m["read_ct"]) for m in queue(sql)] == [(msg_id, 1)]
    failure = sql("select msg_id, event_name, last_error, failures from app.event_failures")
    assert failure == [
        {
            "msg_id": msg_id,
            "event_name": "test.flaky",
            "last_error": "tests.write_effect: RuntimeError: flaky the first time",
            "failures": 1,
        }
    ]
    assert counts(await drain(client)) == (0, 0, 0, 0), "invisible until its visibility timeout"

    sql("select pgmq.set_vt('events', %s::bigint, 0)", (msg_id,))
    assert counts(await drain(client)) == (1, 1, 0, 0)
    assert effects() == [{"event_id": str(event.id), "handler": "write"}]
    assert queue(sql) == []
    assert [m["msg_id"] for m in queue(sql, "a_events")] == [msg_id]
    assert sql("select count(*) as n from app.event_failures") == [{"n": 0}]

    # The same event delivered again (at-least-once) is not applied again.
    await enqueue(event)
    assert counts(await drain(client)) == (1, 1, 0, 0)
    assert len(calls) == 2
    assert len(effects()) == 1


async def test_second_handler_failing_once_is_retried_without_reapplying_the_first(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry, effects: Any
) -> None:
    calls = {"first": 0, "second": 0}

    @registry.subscribe("test.two_handlers", name="tests.first")
    async def first(tx: Tx, event: Event) -> None:
        calls["first"] += 1
        await tx.execute(
            "insert into public.test_effects (event_id, handler) values (%s, 'first')", (event.id,)
        )

    @registry.subscribe("test.two_handlers", name="tests.second")
    async def second(tx: Tx, event: Event) -> None:
        calls["second"] += 1
        if calls["second"] == 1:
            raise ConnectionError("provider down")
        await tx.execute(
            "insert into public.test_effects (event_id, handler) values (%s, 'second')", (event.id,)
        )

    event = Event(name="test.two_handlers")
    msg_id = await enqueue(event)
    assert counts(await drain(client)) == (1, 0, 1, 0)
    assert sql("select handler from app.applied_events") == [{"handler": "tests.first"}]
    assert [e["handler"] for e in effects()] == ["first"]

    sql("select pgmq.set_vt('events', %s::bigint, 0)", (msg_id,))
    assert counts(await drain(client)) == (1, 1, 0, 0)
    assert calls == {"first": 1, "second": 2}, "the first handler must not run again"
    assert [e["handler"] for e in effects()] == ["first", "second"]
    applied = sql("select event_id::text, handler from app.applied_events order by handler")
    assert applied == [
        {"event_id": str(event.id), "handler": "tests.first"},
        {"event_id": str(event.id), "handler": "tests.second"},
    ]


async def test_poison_event_is_dead_lettered_after_max_reads_and_retry_puts_it_back(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_MAX_READS", "3")
    monkeypatch.setenv("WORKER_VISIBILITY_SECONDS", "0")
    reset_settings()
    attempts: list[int] = []
    healed = False

    @registry.subscribe("test.poison", name="tests.poisoned")
    async def poisoned(tx: Tx, event: Event) -> None:
        attempts.append(1)
        if not healed:
            raise ValueError(f"bad attempt {len(attempts)}")

    event = Event(name="test.poison", payload={"n": 1})
    msg_id = await enqueue(event)
    assert counts(await drain(client)) == (1, 0, 1, 0)
    assert counts(await drain(client)) == (1, 0, 1, 0)
    assert counts(await drain(client)) == (1, 0, 0, 1)
    assert len(attempts) == 3

    assert queue(sql) == [], "a dead event must leave the events queue"
    assert queue(sql, "a_events") == []
    assert sql("select count(*) as n from app.event_failures") == [{"n": 0}]
    [dead] = queue(sql, "q_events_dead")
    assert dead["message"]["event"]["id"] == str(event.id)
    assert dead["message"]["error"] == "tests.poisoned: ValueError: bad attempt 3"
    assert dead["message"]["msg_id"] == msg_id
    assert counts(await drain(client)) == (0, 0, 0, 0)

    listed = await client.get("/worker/dead-letters", headers=SERVICE)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert listed.json()["next_cursor"] is None
    assert item["msg_id"] == dead["msg_id"]
    assert item["event_name"] == "test.poison"
    assert item["event_id"] == str(event.id)
    assert item["original_msg_id"] == msg_id
    assert item["error"] == "tests.poisoned: ValueError: bad attempt 3"
    assert item["event"]["payload"] == {"n": 1}

    retried = await client.post(f"/worker/dead-letters/{dead['msg_id']}/retry", headers=SERVICE)
    assert retried.status_code == 200, retried.text
    assert retried.json()["event_id"] == str(event.id)
    assert queue(sql, "q_events_dead") == []
    [back] = queue(sql)
    assert back["msg_id"] == retried.json()["msg_id"] != msg_id
    assert back["read_ct"] == 0
    assert back["message"]["id"] == str(event.id)

    again = await client.post(f"/worker/dead-letters/{dead['msg_id']}/retry", headers=SERVICE)
    assert again.status_code == 404
    assert len(queue(sql)) == 1, "a second retry must not enqueue the event twice"

    healed = True
    assert counts(await drain(client)) == (1, 1, 0, 0)
    assert len(attempts) == 4


async def test_handler_outside_a_transaction_runs_with_none_open_and_is_applied_once(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry
) -> None:
    seen_open: list[int] = []

    @registry.subscribe_outside_transaction("test.outside", name="tests.outside")
    async def call_provider(event: Event) -> None:
        # What a provider call would see: no transaction of this database open anywhere but the probe's.
        seen_open.append(open_transactions(sql))

    event = Event(name="test.outside")
    await enqueue(event)
    assert counts(await drain(client)) == (1, 1, 0, 0)
    await enqueue(event)  # delivered again (at least once): not applied again
    assert counts(await drain(client)) == (1, 1, 0, 0)

    assert seen_open == [0]
    applied = sql("select event_id::text, handler from app.applied_events")
    assert applied == [{"event_id": str(event.id), "handler": "tests.outside"}]


async def test_dead_lettered_event_runs_the_hooks_of_handlers_that_had_not_applied_it(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_MAX_READS", "2")
    monkeypatch.setenv("WORKER_VISIBILITY_SECONDS", "0")
    reset_settings()
    told: list[tuple[str, str, str]] = []

    async def on_dead(tx: Tx, event: Event, error: str) -> None:
        told.append((event.payload["job"], error, await tx.fetch_val("select current_user")))

    async def applied_once(tx: Tx, event: Event, error: str) -> None:
        told.append(("must not run", error, ""))

    @registry.subscribe("test.doomed", name="tests.fine", on_dead=applied_once)
    async def fine(tx: Tx, event: Event) -> None:
        pass

    @registry.subscribe("test.doomed", name="tests.doomed", on_dead=on_dead)
    async def doomed(tx: Tx, event: Event) -> None:
        raise RuntimeError("cannot")

    await enqueue(Event(name="test.doomed", payload={"job": "j1"}))
    assert counts(await drain(client)) == (1, 0, 1, 0)
    assert told == [], "a retried event is not dead yet"
    assert counts(await drain(client)) == (1, 0, 0, 1)

    assert told == [("j1", "tests.doomed: RuntimeError: cannot", "service_role")]
    assert len(queue(sql, "q_events_dead")) == 1


async def test_failing_dead_letter_hook_still_buries_the_event(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_MAX_READS", "1")
    reset_settings()

    async def broken_hook(tx: Tx, event: Event, error: str) -> None:
        raise RuntimeError("hook broke")

    @registry.subscribe("test.doomed_twice", name="tests.doomed_twice", on_dead=broken_hook)
    async def doomed(tx: Tx, event: Event) -> None:
        raise RuntimeError("cannot")

    await enqueue(Event(name="test.doomed_twice"))
    assert counts(await drain(client)) == (1, 0, 0, 1)
    assert queue(sql) == []
    assert len(queue(sql, "q_events_dead")) == 1


async def test_malformed_message_goes_straight_to_dead_letters_and_cannot_be_retried(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry
) -> None:
    seen: list[Event] = []

    @registry.subscribe("test.never")
    async def never(tx: Tx, event: Event) -> None:
        seen.append(event)

    sql("select pgmq.send('events', %s::jsonb)", (json.dumps({"hello": "world"}),))
    sql("select pgmq.send('events', %s::jsonb)", (json.dumps({"name": "Not An Event Name"}),))
    report = await drain(client)
    assert counts(report) == (2, 0, 0, 2)
    assert seen == []
    assert queue(sql) == []
    dead = queue(sql, "q_events_dead")
    assert [d["message"]["event"] for d in dead] == [{"hello": "world"}, {"name": "Not An Event Name"}]
    assert all(d["message"]["error"].startswith("malformed event:") for d in dead)

    refused = await client.post(f"/worker/dead-letters/{dead[0]['msg_id']}/retry", headers=SERVICE)
    assert refused.status_code == 409
    assert refused.json()["code"] == "conflict"
    assert len(queue(sql, "q_events_dead")) == 2, "a refused retry must keep the dead letter"
    assert queue(sql) == []


async def test_worker_runs_batches_until_the_queue_is_drained(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_BATCH_SIZE", "2")
    reset_settings()
    delivered: list[int] = []

    @registry.subscribe("test.batch")
    async def record(tx: Tx, event: Event) -> None:
        delivered.append(event.payload["n"])

    for n in range(5):
        await enqueue(Event(name="test.batch", payload={"n": n}))
    report = await drain(client)
    # 2 + 2 + 1 events, then an empty read ends the run.
    assert report == {"batches": 4, "read": 5, "archived": 5, "retried": 0, "dead": 0}
    assert sorted(delivered) == [0, 1, 2, 3, 4]
    assert queue(sql) == []


async def test_one_run_drains_follow_up_events_that_handlers_enqueue(
    client: httpx.AsyncClient, sql: Any, registry: events.Registry
) -> None:
    delivered: list[int] = []

    @registry.subscribe("test.chain")
    async def step(tx: Tx, event: Event) -> None:
        n = event.payload["n"]
        delivered.append(n)
        if n < 3:
            await events.enqueue(tx, Event(name="test.chain", payload={"n": n + 1}))

    await enqueue(Event(name="test.chain", payload={"n": 0}))
    report = await drain(client)
    assert delivered == [0, 1, 2, 3]
    assert report["archived"] == 4
    assert queue(sql) == []


async def test_event_without_handlers_is_archived(client: httpx.AsyncClient, sql: Any) -> None:
    msg_id = await enqueue(Event(name="test.nobody_listens"))
    assert counts(await drain(client)) == (1, 1, 0, 0)
    assert [m["msg_id"] for m in queue(sql, "a_events")] == [msg_id]


async def test_dead_letters_are_listed_newest_first_in_pages(client: httpx.AsyncClient, sql: Any) -> None:
    for n in range(3):
        body = {"event": {"name": f"test.dead_{n}"}, "error": f"error {n}", "msg_id": 100 + n}
        sql("select pgmq.send('events_dead', %s::jsonb)", (json.dumps(body),))
    first = await client.get("/worker/dead-letters", params={"limit": 2}, headers=SERVICE)
    assert first.status_code == 200, first.text
    assert [i["event_name"] for i in first.json()["items"]] == ["test.dead_2", "test.dead_1"]
    cursor = first.json()["next_cursor"]
    assert cursor
    second = await client.get("/worker/dead-letters", params={"limit": 2, "cursor": cursor}, headers=SERVICE)
    assert [i["event_name"] for i in second.json()["items"]] == ["test.dead_0"]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    "query", [{"limit": "101"}, {"limit": "0"}, {"cursor": "not-a-cursor"}, {"cursor": "WyJ4Il0"}]
)
async def test_dead_letters_refuse_bad_limit_and_cursor(
    client: httpx.AsyncClient, db: str, query: dict[str, str]
) -> None:
    response = await client.get("/worker/dead-letters", params=query, headers=SERVICE)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"


@pytest.mark.parametrize(
    "msg_id", ["999999", "9" * 25, "9" * 5000], ids=["unknown", "beyond-bigint", "5000-digits"]
)
async def test_retry_of_unknown_dead_letter_is_404(
    client: httpx.AsyncClient, db: str, sql: Any, msg_id: str
) -> None:
    dead = sql("select pgmq.send('events_dead', %s::jsonb) as id", (json.dumps({"event": {}}),))[0]["id"]
    response = await client.post(f"/worker/dead-letters/{msg_id}/retry", headers=SERVICE)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert [m["msg_id"] for m in queue(sql, "q_events_dead")] == [dead]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/worker/run"), ("GET", "/worker/dead-letters"), ("POST", "/worker/dead-letters/1/retry")],
)
@pytest.mark.parametrize(
    "credentials",
    [auth(ACME_LENA), {"Authorization": "Bearer sb_secret_wrong"}, {"apikey": "sb_secret_wrong"}, {}],
    ids=["user-token", "wrong-key", "wrong-apikey", "none"],
)
async def test_worker_routes_refuse_anyone_without_the_secret_key(
    client: httpx.AsyncClient, sql: Any, method: str, path: str, credentials: dict[str, str]
) -> None:
    msg_id = await enqueue(Event(name="test.untouched"))
    dead = sql("select pgmq.send('events_dead', %s::jsonb) as id", (json.dumps({"event": {}}),))[0]["id"]
    response = await client.request(method, path.replace("/1/", f"/{dead}/"), headers=credentials)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert [(m["msg_id"], m["read_ct"]) for m in queue(sql)] == [(msg_id, 0)], "nothing may be read"
    assert len(queue(sql, "q_events_dead")) == 1


async def test_invalid_worker_setting_is_a_503_not_configured_that_reads_nothing(
    client: httpx.AsyncClient, sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await enqueue(Event(name="test.untouched"))
    monkeypatch.setenv("WORKER_BATCH_SIZE", "lots")
    reset_settings()
    response = await client.post("/worker/run", headers=SERVICE)
    assert response.status_code == 503
    assert response.json()["code"] == "not_configured"
    assert "WORKER_BATCH_SIZE" not in response.text
    assert [m["read_ct"] for m in queue(sql)] == [0]


def test_every_handler_module_of_the_worker_subscribes_handlers(gateway: Any) -> None:
    from scripts.local.functions import load

    worker = load("worker")
    subscribed = {s.function.__module__ for subs in events.registry.handlers.values() for s in subs}
    assert set(worker.HANDLER_MODULES) <= subscribed
