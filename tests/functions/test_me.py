"""`me` through the real handler, against the real database."""

from __future__ import annotations

import httpx

from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX_GINA, SUPER, auth


async def test_learner_reads_own_profile_and_memberships(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get("/me", headers=auth(ACME_LENA))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == ACME_LENA
    assert body["email"] == "lena@acme.example.com"
    assert body["staff_role"] is None
    assert body["roles"] == ["member"]
    assert [m["community_id"] for m in body["memberships"]] == [ACME]
    assert response.headers["api-version"] == "v1"


async def test_super_admin_has_definite_roles(client: httpx.AsyncClient, db: str) -> None:
    body = (await client.get("/me", headers=auth(SUPER))).json()
    assert body["staff_role"] == "super_admin"
    assert body["roles"] == ["super_admin"]
    assert body["memberships"] == []


async def test_user_without_profile_gets_empty_role_set(client: httpx.AsyncClient, db: str) -> None:
    stranger = "b0000000-0000-4000-8000-00000000dead"
    response = await client.get("/me", headers=auth(stranger))
    assert response.status_code == 200
    assert response.json()["roles"] == []
    assert response.json()["memberships"] == []


async def test_me_needs_one_round_trip(client: httpx.AsyncClient, db: str) -> None:
    # Issue 9: the rate-limit hit (committed on its own), BEGIN, app.open_request and COMMIT leave together.
    response = await client.get("/me", headers=auth(ACME_ADMIN))
    timing = response.headers["server-timing"]
    assert '"1 round trip"' in timing, timing


async def test_patch_updates_only_own_profile(client: httpx.AsyncClient, db: str, sql) -> None:  # type: ignore[no-untyped-def]
    response = await client.patch(
        "/me", headers=auth(ACME_LENA), json={"first_name": "Lenora", "timezone": "Europe/Berlin"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["first_name"] == "Lenora"
    rows = sql("select id::text, first_name, timezone from profiles where first_name = 'Lenora'")
    assert rows == [{"id": ACME_LENA, "first_name": "Lenora", "timezone": "Europe/Berlin"}]


async def test_patch_refuses_bad_timezone_and_unknown_fields(client: httpx.AsyncClient, db: str, sql) -> None:  # type: ignore[no-untyped-def]
    response = await client.patch(
        "/me",
        headers=auth(GLOBEX_GINA),
        json={"timezone": "Mars/Olympus", "status": "active", "last_name": None},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {e["loc"] for e in body["errors"]} == {"body.timezone", "body.status", "body.last_name"}
    assert sql("select timezone from profiles where id = %s", (GLOBEX_GINA,)) == [{"timezone": "UTC"}]
