"""The Supabase Auth adapter of the identity provider port, against Supabase Auth's documented admin API.

`POST {SUPABASE_URL}/auth/v1/invite` with `apikey` and `Authorization: Bearer <secret key>`, body
`{email, data}`, `redirect_to` as a query parameter; the answer is the user object. An address that is
already registered is a 422 `email_exists`: nothing is sent, and the invitation waits in the app. The
worker calls it, outside any transaction, never the invite request. Mocked with respx, so no Supabase
project is needed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from scripts.local.stack import LOCAL_SECRET_KEY
from shared.identity import provider as provider_module
from shared.identity.onboarding import imports, worker_repository
from shared.identity.provider import (
    AccountExistsError,
    LocalIdentityProvider,
    ProviderBusyError,
    SupabaseIdentityProvider,
    identity_provider,
)
from shared.platform.config import reset_settings
from shared.platform.errors import UnavailableError
from tests.factories import ACME, ACME_ADMIN, GLOBEX_GINA, SUPABASE_URL, auth
from tests.helpers import drain_events, open_transactions, send_again

Sql = Any
INVITE_URL = f"{SUPABASE_URL}/auth/v1/invite"
USERS_URL = f"{SUPABASE_URL}/auth/v1/admin/users"
INVITATIONS = "/invitations"
CSV = {"content-type": "text/csv"}
EMAIL_EXISTS = httpx.Response(
    422,
    json={"code": "email_exists", "message": "A user with this email address has already been registered"},
    headers={"X-Supabase-Api-Version": "2024-01-01"},
)


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
    reset_settings()
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

    assert invited == uuid.UUID(new_id)
    request = route.calls.last.request
    assert request.headers["apikey"] == LOCAL_SECRET_KEY
    assert request.headers["authorization"] == f"Bearer {LOCAL_SECRET_KEY}"
    assert request.url.params["redirect_to"] == "http://localhost:3000/welcome"
    sent = json.loads(request.content)
    assert sent == {"email": "nia@example.com", "data": {"first_name": "Nia"}}
    assert not any("password" in key for key in sent)


async def test_already_registered_address_is_refused_without_listing_users(
    provider: SupabaseIdentityProvider,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.post(INVITE_URL).mock(return_value=EMAIL_EXISTS)
        users = router.get(USERS_URL).mock(return_value=httpx.Response(200, json={"users": []}))
        with pytest.raises(AccountExistsError):
            await provider.invite("old@example.com", data={}, redirect_to=None)
    assert not users.called


RATE_LIMITED = httpx.Response(
    429, json={"code": "over_email_send_rate_limit", "message": "email rate limit exceeded"}
)


async def test_a_rate_limited_invite_is_busy_not_failed(provider: SupabaseIdentityProvider) -> None:
    with respx.mock() as router:
        router.post(INVITE_URL).mock(return_value=RATE_LIMITED)
        with pytest.raises(ProviderBusyError):
            await provider.invite("nia@example.com", data={}, redirect_to=None)


async def test_a_rate_limited_delivery_is_sent_again_later_not_recorded_as_failed(
    supabase_env: None, client: httpx.AsyncClient, sql: Sql
) -> None:
    new_id = str(uuid.uuid4())
    with respx.mock(assert_all_called=True) as router:
        route = router.post(INVITE_URL).mock(
            side_effect=[RATE_LIMITED, httpx.Response(200, json=user_object(new_id, "nia@example.com"))]
        )
        await client.post(
            INVITATIONS, json={"community_id": ACME, "email": "nia@example.com"}, headers=auth(ACME_ADMIN)
        )
        await drain_events()  # the event comes back at once here (no visibility timeout) and is retried

    assert route.call_count == 2
    (row,) = sql("select delivery, delivery_error, delivery_claimed_at from invitations")
    assert row == {"delivery": "sent", "delivery_error": None, "delivery_claimed_at": None}


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


async def test_one_client_is_created_per_instance_and_only_when_first_used(
    supabase_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import supabase

    real_create = supabase.acreate_client
    created: list[str] = []

    async def counting_create(url: str, key: str, *args: Any, **kwargs: Any) -> Any:
        created.append(url)
        return await real_create(url, key, *args, **kwargs)

    monkeypatch.setattr(supabase, "acreate_client", counting_create)
    monkeypatch.setattr(provider_module, "_providers", {})  # whatever earlier tests made on this loop
    adapter = identity_provider()
    assert isinstance(adapter, SupabaseIdentityProvider) and identity_provider() is adapter
    assert created == [], "no client before the first invitation"
    with respx.mock() as router:
        router.post(INVITE_URL).mock(
            side_effect=lambda request: httpx.Response(
                200, json=user_object(str(uuid.uuid4()), json.loads(request.content)["email"])
            )
        )
        for n in range(3):
            await identity_provider().invite(f"n{n}@example.com", data={}, redirect_to=None)
    assert created == [SUPABASE_URL]


def creating_the_user(sql: Sql, seen: list[str], job_id: list[str] | None = None) -> Any:
    """A respx side effect: Supabase Auth writes auth.users of the same database (its trigger makes the
    profile) and answers; it first checks that no transaction is open and no job row is locked."""

    def respond(request: httpx.Request) -> httpx.Response:
        assert open_transactions(sql) == 0, "the provider must be called outside any transaction"
        for job in job_id or []:
            assert sql("select id::text from import_jobs where id = %s for update nowait", (job,)) == [
                {"id": job}
            ]
        email = json.loads(request.content)["email"]
        seen.append(email)
        new_id = str(uuid.uuid4())
        sql("insert into auth.users (id, email, invited_at) values (%s, %s, now())", (new_id, email))
        return httpx.Response(200, json=user_object(new_id, email))

    return respond


async def test_invitation_is_delivered_by_the_worker_not_the_request(
    supabase_env: None, client: httpx.AsyncClient, sql: Sql
) -> None:
    seen: list[str] = []
    with respx.mock(assert_all_called=False) as router:
        route = router.post(INVITE_URL).mock(side_effect=creating_the_user(sql, seen))
        response = await client.post(
            INVITATIONS,
            json={"community_id": ACME, "email": "nia@example.com", "first_name": "Nia"},
            headers=auth(ACME_ADMIN),
        )
        assert response.status_code == 201, response.text
        assert not route.called, "the invite request never calls the provider"

        await drain_events()
        await drain_events()

    assert seen == ["nia@example.com"]
    assert json.loads(route.calls.last.request.content)["data"] == {
        "first_name": "Nia",
        "last_name": "",
        "invited_to": ACME,
    }
    (user,) = sql("select id::text from auth.users where email = 'nia@example.com'")
    (row,) = sql("select delivery, user_id::text, status from invitations")
    assert row == {"delivery": "sent", "user_id": user["id"], "status": "sent"}
    assert sql("select count(*) as n from memberships where user_id = %s", (user["id"],)) == [{"n": 0}]


async def test_an_existing_account_is_never_sent_to_the_provider(
    supabase_env: None, client: httpx.AsyncClient, sql: Sql
) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.post(INVITE_URL).mock(return_value=EMAIL_EXISTS)
        response = await client.post(
            INVITATIONS,
            json={"community_id": ACME, "email": "gina@globex.example.com"},
            headers=auth(ACME_ADMIN),
        )
        await drain_events()

    assert response.status_code == 201, response.text
    assert not route.called
    assert sql("select delivery, user_id::text from invitations") == [
        {"delivery": "sent", "user_id": GLOBEX_GINA}
    ]


async def test_an_account_the_provider_knows_but_we_do_not_is_told_in_the_app(
    supabase_env: None, client: httpx.AsyncClient, sql: Sql
) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.post(INVITE_URL).mock(return_value=EMAIL_EXISTS)
        await client.post(
            INVITATIONS,
            json={"community_id": ACME, "email": "elsewhere@example.com"},
            headers=auth(ACME_ADMIN),
        )
        await drain_events()

    assert sql("select delivery, delivery_error, user_id from invitations") == [
        {"delivery": "sent", "delivery_error": None, "user_id": None}
    ]


async def test_provider_outage_is_recorded_as_a_failed_delivery_and_not_sent_again(
    supabase_env: None, client: httpx.AsyncClient, sql: Sql
) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(INVITE_URL).mock(
            return_value=httpx.Response(503, json={"msg": "upstream gotrue pod gotrue-7d9f crashed"})
        )
        response = await client.post(
            INVITATIONS, json={"community_id": ACME, "email": "nia@example.com"}, headers=auth(ACME_ADMIN)
        )
        await drain_events()
        assert send_again(sql, "invitations.delivery_requested") == 1
        await drain_events()

    assert response.status_code == 201, response.text
    assert route.call_count == 1
    (row,) = sql("select delivery, delivery_error, status from invitations")
    assert row == {"delivery": "failed", "delivery_error": "provider_unavailable", "status": "sent"}
    listed = await client.get(INVITATIONS, params={"community_id": ACME}, headers=auth(ACME_ADMIN))
    assert listed.json()["items"][0]["delivery_error"] == "provider_unavailable"
    assert "gotrue" not in listed.text
    assert sql("select count(*) as n from auth.users where email = 'nia@example.com'")[0]["n"] == 0


async def test_import_deliveries_run_outside_transactions_once_per_address_even_when_a_chunk_is_retried(
    supabase_env: None, client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    real_settle = worker_repository.settle_rows
    settles = {"n": 0}

    async def flaky_settle(*args: Any, **kwargs: Any) -> None:
        settles["n"] += 1
        await real_settle(*args, **kwargs)
        if settles["n"] == 1:  # the first chunk dies after inserting its invitations: it is redone
            raise RuntimeError("worker died mid-chunk")

    monkeypatch.setattr(worker_repository, "settle_rows", flaky_settle)
    text = "firstName,lastName,email,tags\n" + "".join(f"P,{i},p{i}@example.com,\n" for i in range(5))
    seen: list[str] = []
    job_ids: list[str] = []
    with respx.mock(assert_all_called=True) as router:
        router.post(INVITE_URL).mock(side_effect=creating_the_user(sql, seen, job_ids))
        accepted = await client.post(
            f"/imports?community_id={ACME}", content=text.encode(), headers={**auth(ACME_ADMIN), **CSV}
        )
        job_ids.append(accepted.json()["id"])
        await drain_events()

    assert sorted(seen) == [f"p{i}@example.com" for i in range(5)]
    assert settles["n"] == 4
    done = sql("select status, processed, succeeded from import_jobs")
    assert done == [{"status": "completed", "processed": 5, "succeeded": 5}]
    assert sql("select count(*) as n from invitations where delivery = 'sent' and user_id is not null") == [
        {"n": 5}
    ]


async def test_identity_provider_is_the_local_adapter_when_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDENTITY_PROVIDER", "local")
    reset_settings()
    assert isinstance(identity_provider(), LocalIdentityProvider)
