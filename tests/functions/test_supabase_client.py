"""The functions as the real `supabase` Python client sees them (`client.functions.invoke`).

Only the transport is swapped: the client's own httpx client is handed an ASGI transport to the local
gateway, so every request goes through supabase-py's header handling and error parsing unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from supabase_functions.errors import FunctionsHttpError

from supabase import AsyncClient, AsyncClientOptions, acreate_client
from tests.factories import ACME, ACME_ADMIN, MANAGER, SUPER, token_for
from tests.helpers import Sql

PUBLISHABLE_KEY = "sb_publishable_local_development_only"


@pytest.fixture
async def supabase(gateway: Any, db: str) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=gateway, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport) as http:
        options = AsyncClientOptions(httpx_client=http)
        yield await acreate_client("http://testserver", PUBLISHABLE_KEY, options=options)


async def test_invoke_with_a_token_returns_the_json_body(supabase: AsyncClient) -> None:
    supabase.functions.set_auth(token_for(ACME_ADMIN))
    me = await supabase.functions.invoke("me", {"method": "GET", "responseType": "json"})
    assert me["id"] == ACME_ADMIN
    assert me["memberships"][0]["community_id"] == ACME


async def test_invoke_without_a_user_token_shows_our_message_not_a_generic_one(supabase: AsyncClient) -> None:
    # Without a session the client sends its API key as the bearer: not a user's token.
    with pytest.raises(FunctionsHttpError) as raised:
        await supabase.functions.invoke("me", {"method": "GET"})
    assert raised.value.status == 401
    assert raised.value.message == "The token is malformed."


async def test_validation_error_message_reaches_the_client(supabase: AsyncClient, sql: Sql) -> None:
    supabase.functions.set_auth(token_for(ACME_ADMIN))
    with pytest.raises(FunctionsHttpError) as raised:
        await supabase.functions.invoke("me", {"method": "PATCH", "body": {"timezone": "Mars/Olympus"}})
    assert raised.value.status == 422
    assert raised.value.message == "The request has invalid fields."
    assert sql("select timezone from profiles where id = %s", (ACME_ADMIN,)) == [{"timezone": "UTC"}]


async def test_unknown_function_is_a_problem_the_client_can_read(supabase: AsyncClient) -> None:
    with pytest.raises(FunctionsHttpError) as raised:
        await supabase.functions.invoke("no-such-function", {"method": "GET"})
    assert raised.value.status == 404
    assert raised.value.message == "No such route."


async def test_csv_upload_through_invoke(supabase: AsyncClient, sql: Sql) -> None:
    supabase.functions.set_auth(token_for(ACME_ADMIN))
    csv = "firstName,lastName,email,tags\nAda,Lovelace,ada@example.com,\n"
    job = await supabase.functions.invoke(
        f"imports?community_id={ACME}",
        {"body": csv, "headers": {"content-type": "text/csv"}, "responseType": "json"},
    )
    assert job["total"] == 1
    assert sql("select count(*) as n from import_jobs where id = %s", (job["id"],)) == [{"n": 1}]


async def test_a_204_comes_back_as_an_empty_body(supabase: AsyncClient, sql: Sql) -> None:
    supabase.functions.set_auth(token_for(SUPER))
    body = await supabase.functions.invoke(f"staff/{MANAGER}", {"method": "DELETE"})
    assert body == b""
    assert sql("select count(*) as n from platform_staff where user_id = %s", (MANAGER,)) == [{"n": 0}]
