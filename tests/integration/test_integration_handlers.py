"""Integration event handlers: webhooks posted through the real handlers, then the worker's batch, then the tables."""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

import shared.integrations.handlers  # noqa: F401  (subscribes the handlers, as the worker does)
from shared.platform.config import reset_settings
from shared.platform.db import as_service, as_user
from shared.platform.errors import ForbiddenError
from shared.platform.events import run_batch
from shared.platform.webhooks import sign_standard_webhook, sign_stripe_payload
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, GLOBEX_ADMIN, MANAGER

EVENTS = Path(__file__).parents[1] / "events"
VIDEO_SECRET = "whsec_" + base64.b64encode(b"video-provider-test-key-32-bytes").decode()
STRIPE_SECRET = "whsec_test_aigym_stripe_endpoint_secret"
CREATED = 1_764_320_000


def sample(name: str) -> dict[str, Any]:
    """A sample payload from tests/events/."""
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both providers' secrets, as a deployment configures them."""
    monkeypatch.setenv("VIDEO_WEBHOOK_SECRET", VIDEO_SECRET)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
    reset_settings()


async def post_transcript(client: httpx.AsyncClient, **data: Any) -> None:
    """Deliver a signed transcript callback (a fresh webhook id each time)."""
    payload = sample("video_transcript_ready.json")
    payload["data"].update(data)
    body = json.dumps(payload).encode()
    msg_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard_webhook(body, msg_id, timestamp, VIDEO_SECRET),
    }
    response = await client.post("/webhooks/video/transcript-ready", content=body, headers=headers)
    assert response.status_code == 202, response.text


def subscription_event(
    *,
    kind: str = "updated",
    created: int = CREATED,
    community: str = ACME,
    subscription_id: str = "sub_1QaigymAcme0001",
    status: str = "active",
    seats: int = 25,
    lookup_key: str | None = "team_monthly",
) -> dict[str, Any]:
    """A Stripe subscription event, from the sample, with the given fields."""
    payload = sample(
        "stripe_subscription_deleted.json" if kind == "deleted" else "stripe_subscription_updated.json"
    )
    payload["id"] = f"evt_{uuid.uuid4().hex}"
    payload["type"] = f"customer.subscription.{kind}"
    payload["created"] = created
    subscription = payload["data"]["object"]
    subscription.update(id=subscription_id, status=status, metadata={"community_id": community})
    item = subscription["items"]["data"][0]
    item["quantity"] = seats
    item["price"]["lookup_key"] = lookup_key
    return payload


async def post_stripe(client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    """Deliver a signed Stripe event."""
    body = json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "stripe-signature": sign_stripe_payload(body, int(time.time()), STRIPE_SECRET),
    }
    response = await client.post("/webhooks/billing/stripe", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted"}


async def drain() -> None:
    """Run the worker's batch until the queue is empty; every event must be archived."""
    report = await run_batch()
    assert report.retried == report.dead == 0, report
    assert report.read == report.archived


def subscription_row(sql: Any, community: str = ACME) -> dict[str, Any] | None:
    """The stored subscription of a community."""
    rows = sql(
        "select provider, customer_id, subscription_id, plan, seats, status,"
        " extract(epoch from current_period_end)::bigint as period_end,"
        " extract(epoch from provider_event_created)::bigint as event_created"
        " from community_subscriptions where community_id = %s",
        (community,),
    )
    return rows[0] if rows else None


# --- transcripts ------------------------------------------------------------------------------------


async def test_transcript_callback_is_stored_by_the_worker(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_transcript(client)
    assert sql("select count(*) as n from app.video_transcripts") == [{"n": 0}]
    await drain()
    rows = sql(
        "select platform, provider_video_id, language, transcript, received_at from app.video_transcripts"
    )
    assert len(rows) == 1
    assert rows[0]["platform"] == "youtube"
    assert rows[0]["provider_video_id"] == "dQw4w9WgXcQ"
    assert rows[0]["language"] == "en"
    assert rows[0]["transcript"].startswith("Welcome to the prompt engineering warm-up.")
    assert sql("select count(*) as n from pgmq.q_events") == [{"n": 0}]


async def test_a_newer_transcript_replaces_the_stored_one(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_transcript(client, transcript="first take")
    await post_transcript(client, transcript="second take", language="de")
    await post_transcript(client, video_id="76979871", platform="vimeo", transcript="another video")
    await drain()
    rows = sql(
        "select platform, provider_video_id, language, transcript from app.video_transcripts order by platform"
    )
    assert rows == [
        {
            "platform": "vimeo",
            "provider_video_id": "76979871",
            "language": "en",
            "transcript": "another video",
        },
        {
            "platform": "youtube",
            "provider_video_id": "dQw4w9WgXcQ",
            "language": "de",
            "transcript": "second take",
        },
    ]


async def test_no_api_role_reads_transcripts(db: str) -> None:
    async with as_service() as tx:
        await tx.execute("insert into app.video_transcripts values ('youtube', 'x1', 'en', 'text', now())")
    with pytest.raises(ForbiddenError):
        async with as_user({"sub": MANAGER, "role": "authenticated"}) as tx:
            await tx.fetch_all("select * from app.video_transcripts")


# --- subscriptions ----------------------------------------------------------------------------------


async def test_subscription_events_upsert_the_community_row(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_stripe(
        client, subscription_event(kind="created", created=CREATED - 100, status="trialing", seats=10)
    )
    await drain()
    assert subscription_row(sql) == {
        "provider": "stripe",
        "customer_id": "cus_QaigymAcme01",
        "subscription_id": "sub_1QaigymAcme0001",
        "plan": "team_monthly",
        "seats": 10,
        "status": "trialing",
        "period_end": 1766912000,
        "event_created": CREATED - 100,
    }
    await post_stripe(client, subscription_event(created=CREATED, seats=25, lookup_key=None))
    await drain()
    row = subscription_row(sql)
    assert row is not None
    assert (row["status"], row["seats"], row["plan"], row["event_created"]) == (
        "active",
        25,
        "price_1QaigymTeamMonthly",
        CREATED,
    )
    assert sql("select count(*) as n from community_subscriptions") == [{"n": 1}]


async def test_older_event_arriving_after_a_newer_one_changes_nothing(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_stripe(client, subscription_event(created=CREATED, status="active", seats=25))
    await drain()
    before = subscription_row(sql)
    await post_stripe(client, subscription_event(created=CREATED - 60, status="past_due", seats=3))
    await drain()
    assert subscription_row(sql) == before


async def test_older_event_in_the_same_batch_changes_nothing(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_stripe(client, subscription_event(created=CREATED, status="active", seats=25))
    await post_stripe(client, subscription_event(created=CREATED - 60, status="incomplete", seats=1))
    await drain()
    row = subscription_row(sql)
    assert row is not None
    assert (row["status"], row["seats"]) == ("active", 25)


async def test_deleted_subscription_is_stored_as_canceled(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_stripe(client, subscription_event(created=CREATED))
    await post_stripe(client, subscription_event(kind="deleted", created=CREATED + 10, status="active"))
    await drain()
    row = subscription_row(sql)
    assert row is not None
    assert row["status"] == "canceled"
    assert row["event_created"] == CREATED + 10


async def test_late_deletion_of_a_replaced_subscription_does_not_cancel_the_new_one(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_stripe(client, subscription_event(subscription_id="sub_new", created=CREATED + 100, seats=40))
    await drain()
    await post_stripe(
        client, subscription_event(kind="deleted", subscription_id="sub_old", created=CREATED + 200)
    )
    await drain()
    row = subscription_row(sql)
    assert row is not None
    assert (row["subscription_id"], row["status"], row["seats"]) == ("sub_new", "active", 40)


async def test_subscription_for_an_unknown_community_is_archived_without_a_row(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_stripe(client, subscription_event(community=str(uuid.uuid4())))
    await drain()
    assert sql("select count(*) as n from community_subscriptions") == [{"n": 0}]
    assert sql("select count(*) as n from pgmq.q_events_dead") == [{"n": 0}]


# --- row level security on community_subscriptions --------------------------------------------------


async def _visible_communities(user_id: str) -> set[str]:
    async with as_user({"sub": user_id, "role": "authenticated"}) as tx:
        rows = await tx.fetch_all("select community_id::text as id from public.community_subscriptions")
    return {row["id"] for row in rows}


async def test_subscription_rows_are_visible_to_own_admin_and_staff_only(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_stripe(client, subscription_event(community=ACME, subscription_id="sub_acme"))
    await post_stripe(client, subscription_event(community=GLOBEX, subscription_id="sub_globex"))
    await drain()
    assert await _visible_communities(ACME_ADMIN) == {ACME}
    assert await _visible_communities(GLOBEX_ADMIN) == {GLOBEX}
    assert await _visible_communities(ACME_LENA) == set()
    assert await _visible_communities(MANAGER) == {ACME, GLOBEX}


async def test_admin_of_an_archived_community_no_longer_reads_its_subscription(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_stripe(client, subscription_event(community=ACME))
    await drain()
    sql("update communities set status = 'archived' where id = %s", (ACME,))
    assert await _visible_communities(ACME_ADMIN) == set()


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("update public.community_subscriptions set seats = 9999", id="update"),
        pytest.param("delete from public.community_subscriptions", id="delete"),
        pytest.param(
            "insert into public.community_subscriptions (community_id, customer_id, subscription_id, plan, seats,"  # noqa: S608
            " status, provider_event_id, provider_event_created)"
            f" values ('{GLOBEX}', 'cus_x', 'sub_x', 'free', 1, 'active', 'evt_x', now())",
            id="insert",
        ),
    ],
)
async def test_no_api_user_writes_subscriptions_not_even_the_community_admin(
    client: httpx.AsyncClient, db: str, sql: Any, statement: str
) -> None:
    await post_stripe(client, subscription_event(community=ACME))
    await drain()
    before = sql("select * from community_subscriptions")
    for user in (ACME_ADMIN, MANAGER):
        with pytest.raises(ForbiddenError):
            async with as_user({"sub": user, "role": "authenticated"}) as tx:
                await tx.execute(statement)
    assert sql("select * from community_subscriptions") == before


# --- transcripts attached to video items --------------------------------------------------------------


def video_item(sql: Any, video_id: str = "dQw4w9WgXcQ", **payload: Any) -> str:
    """A published platform video item naming a YouTube video."""
    body = {
        "url": f"https://youtu.be/{video_id}",
        "platform": "youtube",
        "platform_video_id": video_id,
        **payload,
    }
    rows = sql(
        "insert into content_items (type, title, status, payload) values ('video', 'Warm-up', 'published', %s)"
        " returning id::text",
        (json.dumps(body),),
    )
    return str(rows[0]["id"])


def item_state(sql: Any, item: str) -> dict[str, Any]:
    rows = sql(
        "select payload ->> 'transcript' as transcript, revision,"
        " search @@ websearch_to_tsquery('english', 'warm-up engineering') as found"
        " from content_items where id = %s",
        (item,),
    )
    return rows[0]


async def test_a_transcript_that_arrives_later_is_attached_to_the_video_items_naming_it(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    item = video_item(sql)
    other_video = video_item(sql, "aaaaaaaaaaa")
    sql(
        "insert into content_items (type, title, payload) values ('video', 'Vimeo', %s)",
        (
            json.dumps(
                {"url": "https://vimeo.com/1", "platform": "vimeo", "platform_video_id": "dQw4w9WgXcQ"}
            ),
        ),
    )

    await post_transcript(client)
    await drain()

    attached = item_state(sql, item)
    assert attached["transcript"].startswith("Welcome to the prompt engineering warm-up.")
    assert attached["revision"] == 2 and attached["found"]  # a new ETag, and search reads the transcript
    assert item_state(sql, other_video)["transcript"] is None
    assert sql("select count(*) as n from content_items where payload ? 'transcript'") == [{"n": 1}]


async def test_a_video_item_created_after_its_transcript_arrived_carries_it(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    await post_transcript(client)
    await drain()

    item = video_item(sql)
    own = video_item(sql, transcript="Our own words")

    assert item_state(sql, item)["transcript"].startswith("Welcome to the prompt engineering warm-up.")
    assert item_state(sql, item)["revision"] == 1
    assert item_state(sql, own)["transcript"] == "Our own words"  # an author's transcript is kept


async def test_a_newer_transcript_replaces_the_attached_one(
    client: httpx.AsyncClient, db: str, sql: Any
) -> None:
    item = video_item(sql)
    await post_transcript(client)
    await drain()

    await post_transcript(client, transcript="Second take of the warm-up.")
    await drain()

    assert item_state(sql, item)["transcript"] == "Second take of the warm-up."
