"""Events on pgmq against the real database: the outbox, visibility, concurrency and burial rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from shared.platform import events
from shared.platform.db import RuleViolationError, Tx, as_service, as_user
from shared.platform.errors import ForbiddenError
from shared.platform.events import Event, Registry
from tests.factories import ACME_LENA


def recorder(name: str) -> tuple[Registry, list[Event]]:
    """A private registry with one handler that records what it receives."""
    registry, seen = Registry(), []

    @registry.subscribe(name)
    async def record(tx: Tx, event: Event) -> None:
        seen.append(event)

    return registry, seen


async def test_event_is_invisible_to_the_worker_until_its_transaction_commits(db: str) -> None:
    registry, seen = recorder("test.outbox")
    async with as_service() as tx:
        await events.enqueue(tx, Event(name="test.outbox"))
        during = await events.run_batch(handlers=registry)
    after = await events.run_batch(handlers=registry)
    assert during.read == 0, "another connection must not see an uncommitted event"
    assert (after.read, after.archived) == (1, 1)
    assert [e.name for e in seen] == ["test.outbox"]


async def test_a_users_transaction_enqueues_through_the_platform_at_commit(db: str, sql: Any) -> None:
    claims = {"sub": ACME_LENA, "role": "authenticated", "aud": "authenticated"}
    async with as_user(claims) as tx:
        await events.enqueue(tx, Event(name="member.joined", payload={"user_id": ACME_LENA}))
        assert await tx.fetch_val("select current_user") == "authenticated"
        assert sql("select count(*) as n from pgmq.q_events") == [{"n": 0}], "sent with the COMMIT"
    rows = sql("select message from pgmq.q_events")
    assert [r["message"]["payload"] for r in rows] == [{"user_id": ACME_LENA}]


async def test_a_signed_in_user_cannot_send_events_themselves(db: str, sql: Any) -> None:
    claims = {"sub": ACME_LENA, "role": "authenticated", "aud": "authenticated"}
    forged = Event(
        name="billing.subscription_changed", payload={"community_id": "c0000000-0000-4000-8000-000000000002"}
    )
    for statement in ("select app.enqueue_event(%s::jsonb)", "select pgmq.send('events', %s::jsonb)"):
        with pytest.raises(ForbiddenError):
            async with as_user(claims) as tx:
                await tx.execute(statement, (forged.model_dump_json(),))
    assert sql("select count(*) as n from pgmq.q_events") == [{"n": 0}]


async def test_an_event_is_not_sent_when_its_transaction_fails_at_commit(db: str, sql: Any) -> None:
    claims = {"sub": ACME_LENA, "role": "authenticated", "aud": "authenticated"}
    with pytest.raises(RuleViolationError):
        async with as_user(claims) as tx:
            await events.enqueue(tx, Event(name="test.doomed"))
            await tx.execute("update public.profiles set first_name = 'Doomed' where id = %s", (ACME_LENA,))
            # A platform statement queued after it fails in the COMMIT round trip: nothing commits.
            tx.as_platform_at_commit("do $$ begin raise exception 'doomed: the commit fails'; end $$")
    assert sql("select count(*) as n from pgmq.q_events") == [{"n": 0}]
    assert sql("select first_name from profiles where id = %s", (ACME_LENA,)) != [{"first_name": "Doomed"}]
    async with as_user(claims) as tx:  # the pooled connection is clean again
        assert await tx.fetch_val("select current_user") == "authenticated"


async def test_concurrent_workers_never_deliver_one_message_twice(db: str) -> None:
    registry, seen = recorder("test.concurrent")
    async with as_service() as tx:
        for n in range(12):
            await events.enqueue(tx, Event(name="test.concurrent", payload={"n": n}))
    reports = await asyncio.gather(*(events.run_batch(batch_size=4, handlers=registry) for _ in range(3)))
    assert sum(r.read for r in reports) == sum(r.archived for r in reports) == 12
    assert sorted(e.payload["n"] for e in seen) == list(range(12))


async def test_failed_event_stays_invisible_for_its_visibility_timeout(db: str, sql: Any) -> None:
    registry = Registry()

    @registry.subscribe("test.fails")
    async def fail(tx: Tx, event: Event) -> None:
        raise RuntimeError("no")

    async with as_service() as tx:
        await events.enqueue(tx, Event(name="test.fails"))
    first = await events.run_batch(visibility_s=30, handlers=registry)
    second = await events.run_batch(visibility_s=30, handlers=registry)
    assert (first.read, first.retried) == (1, 1)
    assert second.read == 0
    [row] = sql("select vt > now() + interval '20 seconds' as hidden, read_ct from pgmq.q_events")
    assert row == {"hidden": True, "read_ct": 1}


async def test_message_read_too_often_is_buried_without_calling_handlers(db: str, sql: Any) -> None:
    registry, seen = recorder("test.crashed_worker")
    async with as_service() as tx:
        await events.enqueue(tx, Event(name="test.crashed_worker"))
    [(msg_id,)] = [(r["msg_id"],) for r in sql("select msg_id from pgmq.q_events")]
    # Workers that crashed mid-delivery left the message read five times without recording an error.
    sql("update pgmq.q_events set read_ct = 5 where msg_id = %s", (msg_id,))
    report = await events.run_batch(max_reads=5, handlers=registry)
    assert (report.read, report.dead) == (1, 1)
    assert seen == []
    [dead] = sql("select message from pgmq.q_events_dead")
    assert dead["message"]["error"] == "exceeded max reads"
    assert dead["message"]["msg_id"] == msg_id
    assert sql("select count(*) as n from pgmq.q_events") == [{"n": 0}]


async def test_retry_of_a_dead_letter_keeps_the_event_id(db: str, sql: Any) -> None:
    event = Event(name="test.revived", payload={"a": 1})
    dead_id = sql(
        "select pgmq.send('events_dead', jsonb_build_object('event', %s::jsonb, 'error', 'x')) as id",
        (event.model_dump_json(),),
    )[0]["id"]
    async with as_service() as tx:
        moved = await events.retry_dead_letter(tx, dead_id)
    assert moved is not None
    assert moved[1] == event
    [row] = sql("select msg_id, message from pgmq.q_events")
    assert row["msg_id"] == moved[0]
    assert row["message"]["id"] == str(event.id)
    assert sql("select count(*) as n from pgmq.q_events_dead") == [{"n": 0}]


@pytest.mark.parametrize(
    "name", ["joined", "Member.Joined", "member.", "member joined", "x" * 50 + "." + "y" * 50]
)
def test_event_names_must_be_dotted_lowercase(name: str) -> None:
    with pytest.raises(ValidationError):
        Event(name=name)
