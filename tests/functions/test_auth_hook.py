"""`auth-hook` (Supabase custom access token hook) through the real handler, against the real database."""

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
from shared.platform import responses
from shared.platform.config import reset_settings
from shared.platform.webhooks import sign_standard_webhook
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, SUPER
from tests.helpers import assert_problem

HOOK_KEY = base64.b64encode(b"auth-hook-test-key-32-bytes-long").decode()
HOOK_SECRET = f"v1,whsec_{HOOK_KEY}"  # the form the Supabase dashboard shows
REQUIRED = ("iss", "aud", "exp", "iat", "sub", "role", "aal", "session_id", "email", "phone", "is_anonymous")
SAMPLE = json.loads((Path(__file__).parents[1] / "events" / "auth_hook_payload.json").read_text())


@pytest.fixture
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The hook's secret, configured as Supabase shows it."""
    monkeypatch.setenv("SUPABASE_AUTH_HOOK_SECRET", HOOK_SECRET)
    reset_settings()
    return HOOK_SECRET


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Everything the platform logs during the test."""
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    return buffer


def payload_for(user_id: str, **claim_overrides: Any) -> dict[str, Any]:
    """The sample hook payload, for another user."""
    payload: dict[str, Any] = copy.deepcopy(SAMPLE)
    payload["user_id"] = user_id
    payload["claims"]["sub"] = user_id
    payload["claims"].update(claim_overrides)
    return payload


def signed(
    body: bytes, secret: str = HOOK_SECRET, *, age_s: int = 0, msg_id: str | None = None
) -> dict[str, str]:
    """Standard Webhooks headers, as Supabase Auth sends them."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) - age_s
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard_webhook(body, msg_id, timestamp, secret),
    }


async def call_hook(client: httpx.AsyncClient, payload: Any, **sign: Any) -> httpx.Response:
    """POST a signed payload to the hook."""
    body = json.dumps(payload).encode()
    return await client.post("/auth-hook", content=body, headers=signed(body, **sign))


async def test_admin_gets_membership_claim_and_keeps_every_other_claim(
    client: httpx.AsyncClient, db: str, hook_secret: str
) -> None:
    payload = payload_for(ACME_ADMIN)
    response = await call_hook(client, payload)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    claims = response.json()["claims"]
    assert claims["aigym"] == {
        "staff_role": None,
        "memberships": [{"community_id": ACME, "role": "admin"}],
        "truncated": False,
    }
    assert {k: v for k, v in claims.items() if k != "aigym"} == payload["claims"]
    assert list(claims)[: len(payload["claims"])] == list(payload["claims"])


async def test_super_admin_gets_staff_role_and_no_memberships(
    client: httpx.AsyncClient, db: str, hook_secret: str
) -> None:
    response = await call_hook(client, payload_for(SUPER, email="super@aigym.example.com"))
    assert response.status_code == 200, response.text
    assert response.json()["claims"]["aigym"] == {
        "staff_role": "super_admin",
        "memberships": [],
        "truncated": False,
    }


async def test_required_claims_are_returned_unchanged_in_value_and_type(
    client: httpx.AsyncClient, db: str, hook_secret: str
) -> None:
    payload = payload_for(ACME_LENA, phone="+4915100000000", is_anonymous=False, aal="aal2")
    claims = (await call_hook(client, payload)).json()["claims"]
    for name in REQUIRED:
        assert name in claims, name
        assert claims[name] == payload["claims"][name], name
        assert type(claims[name]) is type(payload["claims"][name]), name
    assert claims["app_metadata"] == payload["claims"]["app_metadata"]  # the claim is not put here


async def test_an_aigym_claim_sent_in_is_replaced_not_trusted(
    client: httpx.AsyncClient, db: str, hook_secret: str
) -> None:
    payload = payload_for(
        ACME_LENA, aigym={"staff_role": "super_admin", "memberships": [], "truncated": False}
    )
    claims = (await call_hook(client, payload)).json()["claims"]
    assert claims["aigym"] == {
        "staff_role": None,
        "memberships": [{"community_id": ACME, "role": "member"}],
        "truncated": False,
    }


async def test_memberships_are_bounded_to_fifty_admins_first_and_flagged_truncated(
    client: httpx.AsyncClient, db: str, sql: Any, hook_secret: str
) -> None:
    sql(
        "insert into communities (id, name, slug) select gen_random_uuid(), 'Bulk ' || i, 'bulk-' || i"
        " from generate_series(1, 60) i"
    )
    sql(
        "insert into memberships (community_id, user_id, role) select id, %s, 'member' from communities"
        " where slug like 'bulk-%%'",
        (ACME_ADMIN,),
    )
    response = await call_hook(client, payload_for(ACME_ADMIN))
    assert response.status_code == 200, response.text
    aigym = response.json()["claims"]["aigym"]
    assert aigym["truncated"] is True
    assert len(aigym["memberships"]) == 50
    assert aigym["memberships"][0] == {"community_id": ACME, "role": "admin"}
    assert len(response.content) < 8 * 1024


async def test_archived_community_memberships_are_left_out(
    client: httpx.AsyncClient, db: str, sql: Any, hook_secret: str
) -> None:
    sql("update communities set status = 'archived' where id = %s", (ACME,))
    aigym = (await call_hook(client, payload_for(ACME_ADMIN))).json()["claims"]["aigym"]
    assert aigym == {"staff_role": None, "memberships": [], "truncated": False}


async def test_unknown_user_keeps_claims_and_gets_empty_role_set(
    client: httpx.AsyncClient, db: str, hook_secret: str
) -> None:
    stranger = str(uuid.uuid4())
    payload = payload_for(stranger, email="stranger@example.com")
    response = await call_hook(client, payload)
    assert response.status_code == 200, response.text
    claims = response.json()["claims"]
    assert claims.pop("aigym") == {"staff_role": None, "memberships": [], "truncated": False}
    assert claims == payload["claims"]


async def test_hook_answers_with_one_query_after_opening_the_transaction(
    client: httpx.AsyncClient, db: str, hook_secret: str
) -> None:
    response = await call_hook(client, payload_for(ACME_ADMIN))
    # open (begin + role set-up), the roles query, commit
    assert '"3 round trips"' in response.headers["server-timing"], response.headers["server-timing"]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"claims": SAMPLE["claims"]}, id="no-user-id"),
        pytest.param({"user_id": "not-a-uuid", "claims": SAMPLE["claims"]}, id="bad-user-id"),
        pytest.param({"user_id": ACME_ADMIN}, id="no-claims"),
        pytest.param({"user_id": ACME_ADMIN, "claims": ["sub"]}, id="claims-not-an-object"),
        pytest.param([SAMPLE], id="not-an-object"),
        pytest.param({**SAMPLE, "user_id": ACME_LENA}, id="sub-is-another-user"),
    ],
)
async def test_malformed_payload_is_a_400_problem(
    client: httpx.AsyncClient, db: str, hook_secret: str, payload: Any
) -> None:
    response = await call_hook(client, payload)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "bad_request"


async def test_body_that_is_not_json_is_a_400_problem(
    client: httpx.AsyncClient, db: str, hook_secret: str
) -> None:
    body = b"{not json"
    response = await client.post("/auth-hook", content=body, headers=signed(body))
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def _assert_no_secret(response: httpx.Response, log_lines: io.StringIO) -> None:
    for text in (response.text, log_lines.getvalue()):
        assert HOOK_KEY not in text
        assert HOOK_KEY[:16] not in text
        assert "whsec_" not in text


async def test_unsigned_request_is_refused_without_leaking_the_secret(
    client: httpx.AsyncClient, db: str, hook_secret: str, log_lines: io.StringIO
) -> None:
    response = await client.post("/auth-hook", json=payload_for(ACME_ADMIN))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert "missing_headers" in response.json()["detail"]
    _assert_no_secret(response, log_lines)


async def test_tampered_payload_is_refused_without_leaking_the_secret(
    client: httpx.AsyncClient, db: str, hook_secret: str, log_lines: io.StringIO
) -> None:
    body = json.dumps(payload_for(ACME_LENA)).encode()
    headers = signed(body)
    tampered = body.replace(ACME_LENA.encode(), SUPER.encode())
    response = await client.post("/auth-hook", content=tampered, headers=headers)
    assert response.status_code == 401
    assert "no_matching_signature" in response.json()["detail"]
    assert "claims" not in response.json()
    _assert_no_secret(response, log_lines)
    assert '"reason":"no_matching_signature"' in log_lines.getvalue()


async def test_request_signed_with_another_secret_is_refused(
    client: httpx.AsyncClient, db: str, hook_secret: str
) -> None:
    other = "v1,whsec_" + base64.b64encode(b"some-other-key-of-thirty-two-byt").decode()
    response = await call_hook(client, payload_for(ACME_ADMIN), secret=other)
    assert response.status_code == 401


async def test_replayed_request_with_old_timestamp_is_refused(
    client: httpx.AsyncClient, db: str, hook_secret: str, log_lines: io.StringIO
) -> None:
    response = await call_hook(client, payload_for(ACME_ADMIN), age_s=6 * 60)
    assert response.status_code == 401
    assert "timestamp_out_of_tolerance" in response.json()["detail"]
    _assert_no_secret(response, log_lines)


async def test_the_same_webhook_id_is_not_deduplicated(
    client: httpx.AsyncClient, db: str, sql: Any, hook_secret: str
) -> None:
    first = await call_hook(client, payload_for(ACME_ADMIN), msg_id="msg_same")
    second = await call_hook(client, payload_for(ACME_ADMIN), msg_id="msg_same")
    assert first.status_code == second.status_code == 200
    assert "aigym" in second.json()["claims"]
    assert sql("select count(*) as n from app.webhook_events") == [{"n": 0}]


async def test_rotated_secrets_both_verify(
    client: httpx.AsyncClient, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = "v1,whsec_" + base64.b64encode(b"the-previous-hook-key-32-bytes!!").decode()
    monkeypatch.setenv("SUPABASE_AUTH_HOOK_SECRET", f"{old}|{HOOK_SECRET}")
    reset_settings()
    assert (await call_hook(client, payload_for(ACME_ADMIN), secret=old)).status_code == 200
    assert (await call_hook(client, payload_for(ACME_ADMIN), secret=HOOK_SECRET)).status_code == 200


async def test_missing_secret_is_a_503_not_configured_problem_logged_once(
    client: httpx.AsyncClient, db: str, monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO
) -> None:
    monkeypatch.setattr(responses, "_reported_config_errors", set())
    monkeypatch.delenv("SUPABASE_AUTH_HOOK_SECRET", raising=False)
    reset_settings()
    first = await call_hook(client, payload_for(ACME_ADMIN))
    second = await call_hook(client, payload_for(ACME_ADMIN))
    for response in (first, second):
        assert_problem(response, 503, "not_configured")
        assert response.headers["retry-after"] == "60"
        assert "SUPABASE_AUTH_HOOK_SECRET" not in response.text
    assert log_lines.getvalue().count("SUPABASE_AUTH_HOOK_SECRET is not set") == 1


async def test_malformed_secret_is_a_503_not_configured_problem_not_a_401(
    client: httpx.AsyncClient, db: str, monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO
) -> None:
    monkeypatch.setenv("SUPABASE_AUTH_HOOK_SECRET", "v1,not-a-whsec-secret")
    reset_settings()
    response = await call_hook(client, payload_for(ACME_ADMIN))
    assert_problem(response, 503, "not_configured")
    assert "not-a-whsec-secret" not in response.text + log_lines.getvalue()
