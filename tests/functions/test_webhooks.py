"""`webhooks` (video transcripts, Stripe billing) through the real handler, against the real database."""

from __future__ import annotations

import base64
import copy
import io
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.platform import logging as log
from shared.platform.config import reset_settings
from shared.platform.webhooks import sign_standard_webhook, sign_stripe_payload
from tests.factories import ACME, ACME_LENA, auth
from tests.helpers import assert_problem

EVENTS = Path(__file__).parents[1] / "events"
VIDEO_KEY = base64.b64encode(b"video-provider-test-key-32-bytes").decode()
VIDEO_SECRET = f"whsec_{VIDEO_KEY}"
STRIPE_SECRET = "whsec_test_aigym_stripe_endpoint_secret"


def sample(name: str) -> dict[str, Any]:
    """A sample payload from tests/events/."""
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both providers' secrets, as a deployment configures them."""
    monkeypatch.setenv("VIDEO_WEBHOOK_SECRET", VIDEO_SECRET)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
    reset_settings()


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Everything the platform logs during the test."""
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    return buffer


async def post_video(
    client: httpx.AsyncClient,
    payload: Any,
    *,
    msg_id: str = "msg_video_0001",
    age_s: int = 0,
    tamper: bool = False,
) -> httpx.Response:
    """POST a Standard-Webhooks-signed transcript callback."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time()) - age_s
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard_webhook(body, msg_id, timestamp, VIDEO_SECRET),
    }
    if tamper:
        body = body.replace(b"prompt engineering", b"prompt injection!!")
    return await client.post("/webhooks/video/transcript-ready", content=body, headers=headers)


async def post_stripe(
    client: httpx.AsyncClient, payload: Any, *, age_s: int = 0, secret: str = STRIPE_SECRET
) -> httpx.Response:
    """POST a Stripe-signed event."""
    body = json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "stripe-signature": sign_stripe_payload(body, int(time.time()) - age_s, secret),
    }
    return await client.post("/webhooks/billing/stripe", content=body, headers=headers)


def queued(sql: Any) -> list[dict[str, Any]]:
    """The events waiting in the queue, oldest first."""
    return [row["message"] for row in sql("select message from pgmq.q_events order by msg_id")]


def recorded(sql: Any) -> list[dict[str, Any]]:
    """The provider event ids recorded as seen."""
    rows: list[dict[str, Any]] = sql(
        "select provider, event_id from app.webhook_events order by received_at, event_id"
    )
    return rows


# --- video: transcript ready ------------------------------------------------------------------------


async def test_valid_transcript_callback_is_accepted_recorded_and_enqueued(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    response = await post_video(client, sample("video_transcript_ready.json"))
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted"}
    assert recorded(sql) == [{"provider": "video", "event_id": "msg_video_0001"}]
    [event] = queued(sql)
    assert event["name"] == "video.transcript_ready"
    assert event["payload"] == {
        "webhook_id": "msg_video_0001",
        "platform": "youtube",
        "video_id": "dQw4w9WgXcQ",
        "language": "en",
        "transcript": sample("video_transcript_ready.json")["data"]["transcript"],
    }
    assert sql("select count(*) as n from app.video_transcripts") == [{"n": 0}]  # stored by the worker


async def test_repeated_webhook_id_is_acknowledged_as_duplicate_and_enqueued_once(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    assert (await post_video(client, sample("video_transcript_ready.json"))).status_code == 202
    again = await post_video(client, sample("video_transcript_ready.json"))
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert len(queued(sql)) == 1
    assert len(recorded(sql)) == 1


async def test_tampered_transcript_body_is_refused_and_nothing_recorded(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None, log_lines: io.StringIO
) -> None:
    response = await post_video(client, sample("video_transcript_ready.json"), tamper=True)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert queued(sql) == []
    assert recorded(sql) == []
    assert VIDEO_KEY not in response.text + log_lines.getvalue()


async def test_transcript_callback_six_minutes_old_is_refused(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    response = await post_video(client, sample("video_transcript_ready.json"), age_s=6 * 60)
    assert response.status_code == 401
    assert "timestamp_out_of_tolerance" in response.json()["detail"]
    assert queued(sql) == []
    assert recorded(sql) == []


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        pytest.param({"platform": "dailymotion"}, "body.data.platform", id="unknown-platform"),
        pytest.param({"video_id": ""}, "body.data.video_id", id="empty-video-id"),
        pytest.param({"language": "english please"}, "body.data.language", id="bad-language"),
        pytest.param({"transcript": None}, "body.data.transcript", id="no-transcript"),
    ],
)
async def test_invalid_transcript_callback_is_a_422_and_not_recorded(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None, change: dict[str, Any], loc: str
) -> None:
    payload = sample("video_transcript_ready.json")
    payload["data"].update(change)
    response = await post_video(client, payload)
    assert response.status_code == 422, response.text
    assert loc in {e["loc"] for e in response.json()["errors"]}
    # Not recorded: a corrected redelivery with the same id is still processed.
    assert queued(sql) == []
    assert recorded(sql) == []


async def test_transcript_callback_of_another_type_is_a_422(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    payload = {**sample("video_transcript_ready.json"), "type": "video.deleted"}
    response = await post_video(client, payload)
    assert response.status_code == 422
    assert queued(sql) == []


async def test_video_webhook_without_configured_secret_is_a_503_not_configured_problem(
    client: httpx.AsyncClient, db: str, sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIDEO_WEBHOOK_SECRET", raising=False)
    reset_settings()
    response = await post_video(client, sample("video_transcript_ready.json"))
    assert_problem(response, 503, "not_configured")
    assert queued(sql) == []


async def test_a_missing_webhook_secret_fails_only_the_route_that_needs_it(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIDEO_WEBHOOK_SECRET")
    reset_settings()
    assert_problem(await post_video(client, sample("video_transcript_ready.json")), 503, "not_configured")
    stripe = await post_stripe(client, sample("stripe_subscription_updated.json"))
    assert stripe.status_code == 200, stripe.text
    me = await client.get("/me", headers=auth(ACME_LENA))
    assert me.status_code == 200, me.text
    assert [row["name"] for row in queued(sql)] == ["billing.subscription_changed"]


# --- Stripe -----------------------------------------------------------------------------------------


async def test_valid_subscription_updated_is_acknowledged_and_enqueued(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    response = await post_stripe(client, sample("stripe_subscription_updated.json"))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted"}
    assert recorded(sql) == [{"provider": "stripe", "event_id": "evt_1QaigymUpdated0001"}]
    [event] = queued(sql)
    assert event["name"] == "billing.subscription_changed"
    assert event["payload"] == {
        "community_id": ACME,
        "provider": "stripe",
        "provider_event_id": "evt_1QaigymUpdated0001",
        "provider_event_type": "customer.subscription.updated",
        "provider_event_created": 1764320000,
        "customer_id": "cus_QaigymAcme01",
        "subscription_id": "sub_1QaigymAcme0001",
        "plan": "team_monthly",
        "seats": 25,
        "status": "active",
        "current_period_end": 1766912000,
    }


async def test_plan_falls_back_to_price_id_and_period_to_the_subscription(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    payload = sample("stripe_subscription_updated.json")
    subscription = payload["data"]["object"]
    subscription["items"]["data"][0]["price"]["lookup_key"] = None
    del subscription["items"]["data"][0]["current_period_end"]
    subscription["current_period_end"] = 1767000000  # API versions before 2025-03-31
    subscription["customer"] = {"id": "cus_expanded", "object": "customer"}
    assert (await post_stripe(client, payload)).status_code == 200
    [event] = queued(sql)
    assert event["payload"]["plan"] == "price_1QaigymTeamMonthly"
    assert event["payload"]["current_period_end"] == 1767000000
    assert event["payload"]["customer_id"] == "cus_expanded"


async def test_subscription_deleted_is_enqueued_as_canceled(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    payload = sample("stripe_subscription_deleted.json")
    payload["data"]["object"]["status"] = "active"  # whatever it says, a deleted subscription has ended
    assert (await post_stripe(client, payload)).status_code == 200
    assert queued(sql)[0]["payload"]["status"] == "canceled"


async def test_duplicate_stripe_event_id_is_processed_once(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    first = await post_stripe(client, sample("stripe_subscription_updated.json"))
    second = await post_stripe(client, sample("stripe_subscription_updated.json"))
    assert first.status_code == second.status_code == 200
    assert second.json() == {"status": "duplicate"}
    assert len(queued(sql)) == 1
    assert len(recorded(sql)) == 1


async def test_stripe_event_with_bad_signature_is_refused_and_nothing_written(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None, log_lines: io.StringIO
) -> None:
    response = await post_stripe(client, sample("stripe_subscription_updated.json"), secret="whsec_wrong")
    assert response.status_code == 401
    assert "no_matching_signature" in response.json()["detail"]
    assert queued(sql) == []
    assert recorded(sql) == []
    assert STRIPE_SECRET not in response.text + log_lines.getvalue()


async def test_stripe_event_without_signature_header_is_refused(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    response = await client.post("/webhooks/billing/stripe", json=sample("stripe_subscription_updated.json"))
    assert response.status_code == 401
    assert recorded(sql) == []


async def test_stripe_event_with_expired_timestamp_is_refused(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    response = await post_stripe(client, sample("stripe_subscription_updated.json"), age_s=6 * 60)
    assert response.status_code == 401
    assert "timestamp_out_of_tolerance" in response.json()["detail"]
    assert queued(sql) == []
    assert recorded(sql) == []


async def test_unknown_stripe_event_type_is_acknowledged_and_nothing_enqueued(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    response = await post_stripe(client, sample("stripe_invoice_paid.json"))
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert queued(sql) == []
    assert recorded(sql) == [{"provider": "stripe", "event_id": "evt_1QaigymInvoice0001"}]


@pytest.mark.parametrize(
    "metadata",
    [pytest.param({}, id="no-community-id"), pytest.param({"community_id": "acme"}, id="not-a-uuid")],
)
async def test_subscription_without_community_metadata_is_acknowledged_and_not_enqueued(
    client: httpx.AsyncClient,
    db: str,
    sql: Any,
    secrets: None,
    log_lines: io.StringIO,
    metadata: dict[str, str],
) -> None:
    payload = sample("stripe_subscription_updated.json")
    payload["data"]["object"]["metadata"] = metadata
    response = await post_stripe(client, payload)
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert queued(sql) == []
    assert "without a community_id" in log_lines.getvalue()


async def test_malformed_subscription_event_is_a_422_and_not_recorded(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    payload = sample("stripe_subscription_updated.json")
    del payload["data"]["object"]["status"]
    payload["data"]["object"]["items"]["data"] = []
    response = await post_stripe(client, payload)
    assert response.status_code == 422
    locs = {e["loc"] for e in response.json()["errors"]}
    assert {"body.data.object.status", "body.data.object.items.data"} <= locs
    assert queued(sql) == []
    assert recorded(sql) == []


async def test_stripe_webhook_routes_are_not_rate_limited(
    client: httpx.AsyncClient, db: str, sql: Any, secrets: None
) -> None:
    payload = sample("stripe_invoice_paid.json")
    response = await post_stripe(client, {**payload, "id": f"evt_{uuid.uuid4().hex}"})
    assert response.status_code == 200
    assert "ratelimit-limit" not in response.headers
    assert sql("select count(*) as n from app.rate_limits") == [{"n": 0}]
