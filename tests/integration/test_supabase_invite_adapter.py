"""The Supabase Auth adapter of the identity provider port, against Supabase Auth's documented admin API.

`POST {SUPABASE_URL}/auth/v1/invite` with `apikey` and `Authorization: Bearer <secret key>`, body
`{email, data}`, `redirect_to` as a query parameter; the answer is the user object. An address that is
already registered is a 422 `email_exists`, after which the adapter finds the user through
`GET /auth/v1/admin/users`. Mocked with respx, so no Supabase project is needed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from shared.devstack.stack import LOCAL_SECRET_KEY
from shared.identity.provider import SupabaseIdentityProvider, provider_for
from shared.platform.errors import UnavailableError
from tests.factories import ACME, ACME_ADMIN, SUPABASE_URL, auth

Sql = Any
INVITE_URL = f"{SUPABASE_URL}/auth/v1/invite"
USERS_URL = f"{SUPABASE_URL}/auth/v1/admin/users"
INVITATIONS = f"/invitations/communities/{ACME}/invitations"


def user_object(user_id: str, email: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A user as Supabase Auth returns it."""
    return {
        "id": user_id,
        "aud": "authenticated",
        "role": "authenticated",
        "email": email,
        "phone": "",
        "invited_at": "2026-11-28T10:00:00Z",
        "confirmation_sent_at": "2026-11-28T10:00:00Z",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": metadata or {},
        "identities": [],
        "created_at": "2026-11-28T10:00:00Z",
        "updated_at": "2026-11-28T10:00:00Z",
        "is_anonymous": False,
    }


@pytest.fixture
def supabase_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Invitations go through the Supabase adapter for this test."""
    monkeypatch.setenv("IDENTITY_PROVIDER", "supabase")
    yield


@pytest.fixture
def provider() -> SupabaseIdentityProvider:
    return SupabaseIdentityProvider(SUPABASE_URL, LOCAL_SECRET_KEY)


async def test_invite_posts_to_the_admin_api_with_the_secret_key_and_returns_the_new_user(
    provider: SupabaseIdentityProvider,
) -> None:
    new_id = str(uuid.uuid4())
    with respx.mock(assert_all_called=True) as router:
        route = router.post(INVITE_URL).mock(
            return_value=httpx.Response(
                200, json=user_object(new_id, "nia@example.com", {"first_name": "Nia"})
            )
        )
        invited = await provider.invite(
            "nia@example.com", data={"first_name": "Nia"}, redirect_to="http://localhost:3000/welcome"
        )

    assert invited.user_id == uuid.UUID(new_id) and invited.is_new
    request = route.calls.last.request
    assert request.headers["apikey"] == LOCAL_SECRET_KEY
    assert request.headers["authorization"] == f"Bearer {LOCAL_SECRET_KEY}"
    assert request.url.params["redirect_to"] == "http://localhost:3000/welcome"
    sent = json.loads(request.content)
    assert sent == {"email": "nia@example.com", "data": {"first_name": "Nia"}}
    assert not any("password" in key for key in sent)


async def test_already_registered_address_is_found_not_invited_again(
    provider: SupabaseIdentityProvider,
) -> None:
    existing = str(uuid.uuid4())
    with respx.mock(assert_all_called=True) as router:
        router.post(INVITE_URL).mock(
            return_value=httpx.Response(
                422,
                json={
                    "code": "email_exists",
                    "message": "A user with this email address has already been registered",
                },
                headers={"X-Supabase-Api-Version": "2024-01-01"},
            )
        )
        users = router.get(USERS_URL).mock(
            return_value=httpx.Response(
                200,
                json={
                    "aud": "authenticated",
                    "users": [
                        user_object(str(uuid.uuid4()), "other@example.com"),
                        user_object(existing, "Old@Example.com"),
                    ],
                },
            )
        )
        invited = await provider.invite("old@example.com", data={}, redirect_to=None)

    assert invited.user_id == uuid.UUID(existing) and not invited.is_new
    assert users.calls.last.request.headers["authorization"] == f"Bearer {LOCAL_SECRET_KEY}"


async def test_provider_error_is_unavailable_without_the_provider_text(
    provider: SupabaseIdentityProvider,
) -> None:
    with respx.mock() as router:
        router.post(INVITE_URL).mock(
            return_value=httpx.Response(500, json={"msg": "smtp relay 10.0.0.7 refused"})
        )
        with pytest.raises(UnavailableError) as raised:
            await provider.invite("nia@example.com", data={}, redirect_to=None)
    assert "smtp" not in raised.value.detail


async def test_provider_for_picks_the_supabase_adapter_when_configured(supabase_env: None) -> None:
    assert isinstance(provider_for(object()), SupabaseIdentityProvider)  # type: ignore[arg-type]


async def test_invitation_through_supabase_creates_membership_for_the_invited_user(
    supabase_env: None, client: httpx.AsyncClient, sql: Sql
) -> None:
    new_id = str(uuid.uuid4())

    def supabase_creates_the_user(request: httpx.Request) -> httpx.Response:
        # Supabase Auth writes auth.users of the same database before it answers; its trigger makes the profile.
        email = json.loads(request.content)["email"]
        sql("insert into auth.users (id, email, invited_at) values (%s, %s, now())", (new_id, email))
        return httpx.Response(200, json=user_object(new_id, email))

    with respx.mock(assert_all_called=True) as router:
        router.post(INVITE_URL).mock(side_effect=supabase_creates_the_user)
        response = await client.post(INVITATIONS, json={"email": "nia@example.com"}, headers=auth(ACME_ADMIN))

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "sent" and response.json()["user_id"] == new_id
    assert sql("select source from memberships where user_id = %s", (new_id,)) == [{"source": "invitation"}]


async def test_provider_outage_is_a_503_problem_with_request_id_and_no_provider_text(
    supabase_env: None, client: httpx.AsyncClient, sql: Sql
) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.post(INVITE_URL).mock(
            return_value=httpx.Response(503, json={"msg": "upstream gotrue pod gotrue-7d9f crashed"})
        )
        response = await client.post(
            INVITATIONS,
            json={"email": "nia@example.com"},
            headers={**auth(ACME_ADMIN), "x-request-id": "req-outage-1"},
        )

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unavailable" and body["request_id"] == "req-outage-1"
    assert "gotrue" not in response.text
    assert sql("select count(*) as n from invitations")[0]["n"] == 0
    assert sql("select count(*) as n from auth.users where email = 'nia@example.com'")[0]["n"] == 0
