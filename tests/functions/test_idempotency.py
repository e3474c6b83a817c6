"""`Idempotency-Key` on a creating POST, through a real handler against the real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from shared.platform.idempotency import claim_for
from tests.factories import ACME_LENA, ACME_LIAM, auth
from tests.functions import sample_events_fn as sample

KEY = "order-7f3a:create.1"
THINGS_PATH = "/functions/v1/sample-events/things"


@pytest.fixture(autouse=True)
def calm_behaviour() -> Iterator[None]:
    """Every test starts with a route that neither waits nor fails."""
    sample.behaviour = sample.Behaviour()
    yield
    sample.behaviour = sample.Behaviour()


@pytest.fixture
async def things(db: str, sql: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the sample function, with its table created in this test's database."""
    sql(sample.THINGS_TABLE_SQL)
    transport = httpx.ASGITransport(app=sample.app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver/functions/v1/sample-events"
    ) as http:
        yield http


def headers(user: str = ACME_LENA, key: str | None = KEY) -> dict[str, str]:
    return {**auth(user), **({"Idempotency-Key": key} if key is not None else {})}


def rows(sql: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sql(
        "select id::text, owner::text, name from public.sample_things order by created_at, id"
    )
    return found


def queued(sql: Any) -> int:
    return int(sql("select count(*) as n from pgmq.q_events")[0]["n"])


async def test_replay_with_same_key_and_body_returns_stored_response_and_creates_nothing(
    things: httpx.AsyncClient, sql: Any
) -> None:
    first = await things.post("/things", headers=headers(), json={"name": "kettlebell"})
    assert first.status_code == 201, first.text
    again = await things.post("/things", headers=headers(), json={"name": "kettlebell"})
    assert again.status_code == 201
    assert again.content == first.content
    assert (
        again.headers["location"]
        == first.headers["location"]
        == f"/functions/v1/sample-events/things/{first.json()['id']}"
    )
    assert again.headers["content-type"] == "application/json"
    assert rows(sql) == [{"id": first.json()["id"], "owner": ACME_LENA, "name": "kettlebell"}]
    assert sample.behaviour.calls == 1, "the route must not run for a replay"
    assert queued(sql) == 1, "a replay must not enqueue the event again"
    assert sql("select state, response_status from app.idempotency_keys") == [
        {"state": "done", "response_status": 201}
    ]


async def test_same_key_with_different_body_is_refused_with_422(things: httpx.AsyncClient, sql: Any) -> None:
    first = await things.post("/things", headers=headers(), json={"name": "kettlebell"})
    assert first.status_code == 201
    other = await things.post("/things", headers=headers(), json={"name": "barbell"})
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert [r["name"] for r in rows(sql)] == ["kettlebell"]
    assert sample.behaviour.calls == 1


async def test_failed_request_frees_key_so_a_retry_with_same_key_succeeds(
    things: httpx.AsyncClient, sql: Any
) -> None:
    sample.behaviour.fail_next = 1
    failed = await things.post("/things", headers=headers(), json={"name": "rower"})
    assert failed.status_code == 409
    assert failed.json()["code"] == "conflict"
    assert rows(sql) == [], "the failed request's insert must roll back"
    assert queued(sql) == 0, "the failed request's event must roll back with it"
    assert sql("select key from app.idempotency_keys") == [], "the failed request must free its key"

    retry = await things.post("/things", headers=headers(), json={"name": "rower"})
    assert retry.status_code == 201, retry.text
    assert [r["id"] for r in rows(sql)] == [retry.json()["id"]]
    assert queued(sql) == 1


async def test_concurrent_identical_posts_create_exactly_one_row(things: httpx.AsyncClient, sql: Any) -> None:
    sample.behaviour.delay_s = 0.3
    responses = await asyncio.gather(
        *(things.post("/things", headers=headers(), json={"name": "sled"}) for _ in range(5))
    )
    created = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code == 409]
    assert len(created) + len(refused) == 5, [r.status_code for r in responses]
    assert created, "one of them must have created the row"
    assert {r.content for r in created} == {created[0].content}, "a replay must carry the same body"
    assert {r.json()["code"] for r in refused} <= {"idempotent_request_in_progress"}
    assert [r["id"] for r in rows(sql)] == [created[0].json()["id"]]
    assert sample.behaviour.calls == 1
    assert queued(sql) == 1
    # The refused duplicates left the winner's key alone: a later retry replays, it does not create.
    later = await things.post("/things", headers=headers(), json={"name": "sled"})
    assert later.status_code == 201
    assert later.content == created[0].content
    assert len(rows(sql)) == 1


async def test_keys_are_scoped_per_user(things: httpx.AsyncClient, sql: Any) -> None:
    lena = await things.post("/things", headers=headers(ACME_LENA), json={"name": "rope"})
    liam = await things.post("/things", headers=headers(ACME_LIAM), json={"name": "rope"})
    assert lena.status_code == liam.status_code == 201
    assert lena.json()["id"] != liam.json()["id"]
    assert {(r["owner"], r["id"]) for r in rows(sql)} == {
        (ACME_LENA, lena.json()["id"]),
        (ACME_LIAM, liam.json()["id"]),
    }
    assert sample.behaviour.calls == 2


async def test_expired_key_is_claimable_again(things: httpx.AsyncClient, sql: Any) -> None:
    first = await things.post("/things", headers=headers(), json={"name": "box"})
    assert first.status_code == 201
    sql("update app.idempotency_keys set expires_at = now() - interval '1 second'")
    # Even with another body: an expired key is no longer bound to its first request.
    second = await things.post("/things", headers=headers(), json={"name": "bench"})
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]
    assert [r["name"] for r in rows(sql)] == ["box", "bench"]
    assert sql("select count(*) as n from app.idempotency_keys where expires_at > now()") == [{"n": 1}]


async def test_running_key_whose_lock_lapsed_is_taken_over(things: httpx.AsyncClient, sql: Any) -> None:
    sql(
        "insert into app.idempotency_keys (owner, key, request_hash, state, locked_until, expires_at)"
        " values (%s, %s, 'whatever', 'running', now() - interval '1 second', now() + interval '1 day')",
        (f"user:{ACME_LENA}", KEY),
    )
    response = await things.post("/things", headers=headers(), json={"name": "mat"})
    assert response.status_code == 201, response.text
    assert len(rows(sql)) == 1


@pytest.mark.parametrize(
    ("same_request", "status", "code"),
    [(True, 409, "idempotent_request_in_progress"), (False, 422, "idempotency_key_reused")],
)
async def test_key_held_by_a_running_request_is_refused_and_left_to_its_holder(
    things: httpx.AsyncClient, sql: Any, same_request: bool, status: int, code: str
) -> None:
    body = b'{"name":"mat"}'
    held = claim_for({"idempotency-key": KEY}, f"user:{ACME_LENA}", "POST", THINGS_PATH, body)
    assert held is not None
    sql(
        "insert into app.idempotency_keys (owner, key, request_hash, state, locked_until, expires_at)"
        " values (%s, %s, %s, 'running', now() + interval '1 minute', now() + interval '1 day')",
        (held.owner, held.key, held.request_hash if same_request else "another request"),
    )
    response = await things.post(
        "/things", headers={**headers(), "Content-Type": "application/json"}, content=body
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert rows(sql) == []
    assert sample.behaviour.calls == 0
    # The refused request must not free the key the running request holds.
    assert sql("select state from app.idempotency_keys") == [{"state": "running"}]


async def test_without_key_every_post_creates_a_row(things: httpx.AsyncClient, sql: Any) -> None:
    first = await things.post("/things", headers=headers(key=None), json={"name": "ring"})
    second = await things.post("/things", headers=headers(key=None), json={"name": "ring"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert len(rows(sql)) == 2
    assert sql("select count(*) as n from app.idempotency_keys") == [{"n": 0}]


@pytest.mark.parametrize(
    "key", ["has spaces", "x" * 256, "", "slash/key"], ids=["spaces", "too-long", "empty", "slash"]
)
async def test_malformed_key_is_refused_with_400_before_anything_happens(
    things: httpx.AsyncClient, sql: Any, key: str
) -> None:
    response = await things.post("/things", headers=headers(key=key), json={"name": "ring"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bad_request"
    assert rows(sql) == []
    assert sample.behaviour.calls == 0
    assert sql("select count(*) as n from app.idempotency_keys") == [{"n": 0}]
