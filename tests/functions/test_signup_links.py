"""Signup links and redemption through the real handlers, against the real database."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, GLOBEX_ADMIN, MANAGER, SPECIALIST, auth
from tests.helpers import assert_problem, make_tag

Sql = Any
LINKS = "/signup-links"
OF_ACME = {"community_id": ACME}


def make_user(sql: Sql, email: str) -> str:
    """A new auth user (and, by trigger, profile) who belongs to no community."""
    return str(sql("insert into auth.users (email) values (%s) returning id", (email,))[0]["id"])


def link_row(sql: Sql, link_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = sql("select * from signup_links where id = %s", (link_id,))
    return found[0]


def queued_events(sql: Sql, name: str) -> list[dict[str, Any]]:
    rows = sql("select message from pgmq.q_events where message->>'name' = %s order by msg_id", (name,))
    return [row["message"] for row in rows]


async def create_link(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(LINKS, json={**OF_ACME, **body}, headers=auth(ACME_ADMIN))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def redeem(client: httpx.AsyncClient, user: str, token: str) -> httpx.Response:
    return await client.post("/community-signup/redeem", json={"token": token}, headers=auth(user))


# --- creating and listing -----------------------------------------------------------------------------


async def test_admin_creates_link_whose_token_is_returned_once_and_stored_only_as_hash(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await create_link(client, label="Spring cohort", expires_in_days=14, max_uses=50)

    token = created["token"]
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    assert created["status"] == "active" and created["use_count"] == 0 and created["max_uses"] == 50
    assert created["join_url"] == f"http://localhost:3000/join#token={token}"
    row = link_row(sql, created["id"])
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token not in json.dumps(sql("select * from signup_links"), default=str)
    audit = sql("select action, after, request_id from audit_log where target_id = %s", (created["id"],))
    assert [a["action"] for a in audit] == ["signup_link.created"]
    assert token not in json.dumps(audit, default=str)

    listed = await client.get(LINKS, params=OF_ACME, headers=auth(ACME_ADMIN))
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["id"] == created["id"] and item["label"] == "Spring cohort"
    assert "token" not in item and token not in listed.text


async def test_replay_with_the_same_idempotency_key_returns_the_link_without_its_token(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    headers = {**auth(ACME_ADMIN), "Idempotency-Key": "link-1"}
    first = await client.post(LINKS, json={**OF_ACME, "expires_in_days": 7}, headers=headers)
    again = await client.post(LINKS, json={**OF_ACME, "expires_in_days": 7}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["token"] and again.json()["token"] is None and again.json()["join_url"] is None
    assert sql("select count(*) as n from signup_links")[0]["n"] == 1
    stored = sql("select response_body from app.idempotency_keys")[0]["response_body"]
    assert first.json()["token"].encode() not in bytes(stored)


async def test_link_carries_only_tags_of_its_own_community(client: httpx.AsyncClient, sql: Sql) -> None:
    own = make_tag(sql, ACME, "Sales")
    foreign = make_tag(sql, GLOBEX, "Ops")

    response = await client.post(LINKS, json={**OF_ACME, "tag_ids": [own, foreign]}, headers=auth(ACME_ADMIN))

    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [
        {"loc": "body.tag_ids.1", "message": "Not a tag of this community.", "type": "unknown_tag"}
    ]
    assert sql("select count(*) as n from signup_links")[0]["n"] == 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"expires_at": "2020-01-01T00:00:00Z"}, "body.expires_at"),
        ({"expires_at": (datetime.now(UTC) + timedelta(days=400)).isoformat()}, "body.expires_at"),
        ({"expires_in_days": 0}, "body.expires_in_days"),
        ({"expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(), "expires_in_days": 3}, "body"),
        ({"max_uses": 0}, "body.max_uses"),
    ],
    ids=["past", "beyond-a-year", "zero-days", "both-expiries", "zero-uses"],
)
async def test_link_expiry_and_limits_are_validated(
    client: httpx.AsyncClient, db: str, body: dict[str, Any], loc: str
) -> None:
    response = await client.post(LINKS, json={**OF_ACME, **body}, headers=auth(ACME_ADMIN))
    problem = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [loc]


async def test_list_pages_newest_first_and_filters_by_status(client: httpx.AsyncClient, sql: Sql) -> None:
    ids = [(await create_link(client, label=f"L{i}"))["id"] for i in range(3)]
    await client.post(f"/signup-links/{ids[0]}/revoke", headers=auth(ACME_ADMIN))

    first = (await client.get(LINKS, params={**OF_ACME, "limit": 2}, headers=auth(ACME_ADMIN))).json()
    second = (
        await client.get(
            LINKS, params={**OF_ACME, "limit": 2, "cursor": first["next_cursor"]}, headers=auth(ACME_ADMIN)
        )
    ).json()
    revoked = (
        await client.get(LINKS, params={**OF_ACME, "status": "revoked"}, headers=auth(ACME_ADMIN))
    ).json()

    assert [i["id"] for i in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert [(i["id"], i["status"]) for i in revoked["items"]] == [(ids[0], "revoked")]


async def test_revoking_twice_keeps_the_first_revocation_and_audits_it_once(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    link = await create_link(client)
    first = await client.post(f"/signup-links/{link['id']}/revoke", headers=auth(ACME_ADMIN))
    second = await client.post(f"/signup-links/{link['id']}/revoke", headers=auth(ACME_ADMIN))

    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["status"] == "revoked" and second.json()["revoked_at"] == first.json()["revoked_at"]
    actions = sql("select action from audit_log where target_id = %s order by id", (link["id"],))
    assert [a["action"] for a in actions] == ["signup_link.created", "signup_link.revoked"]


async def test_revoking_a_link_of_another_community_is_not_found(client: httpx.AsyncClient, sql: Sql) -> None:
    link = await create_link(client)
    response = await client.post(f"/signup-links/{link['id']}/revoke", headers=auth(GLOBEX_ADMIN))
    assert_problem(response, 404, "not_found")
    assert link_row(sql, link["id"])["revoked_at"] is None


# --- who may ------------------------------------------------------------------------------------------


async def test_learner_cannot_create_or_list_links(client: httpx.AsyncClient, sql: Sql) -> None:
    assert_problem(await client.post(LINKS, json=OF_ACME, headers=auth(ACME_LENA)), 403, "forbidden")
    assert_problem(await client.get(LINKS, params=OF_ACME, headers=auth(ACME_LENA)), 403, "forbidden")
    assert sql("select count(*) as n from signup_links")[0]["n"] == 0


async def test_admin_of_another_community_cannot_create_list_or_revoke(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    link = await create_link(client)
    # Acme is a community they cannot see, and its link is missing to them.
    assert_problem(await client.post(LINKS, json=OF_ACME, headers=auth(GLOBEX_ADMIN)), 404, "not_found")
    assert_problem(await client.get(LINKS, params=OF_ACME, headers=auth(GLOBEX_ADMIN)), 404, "not_found")
    revoke = await client.post(f"/signup-links/{link['id']}/revoke", headers=auth(GLOBEX_ADMIN))
    assert_problem(revoke, 404, "not_found")
    assert sql("select count(*) as n from signup_links")[0]["n"] == 1


async def test_specialist_admin_elsewhere_sees_a_link_but_may_not_revoke_it(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    # Admin of Globex, so the roles-only guard admits them; a reader of Acme's links, not a writer.
    sql(
        "insert into memberships (community_id, user_id, role) values (%s, %s, 'admin')", (GLOBEX, SPECIALIST)
    )
    link = await create_link(client)
    revoke = await client.post(f"/signup-links/{link['id']}/revoke", headers=auth(SPECIALIST))
    assert_problem(revoke, 403, "forbidden")
    assert link_row(sql, link["id"])["revoked_at"] is None


async def test_specialist_reads_but_cannot_create_and_manager_creates(
    client: httpx.AsyncClient, db: str
) -> None:
    assert (await client.get(LINKS, params=OF_ACME, headers=auth(SPECIALIST))).status_code == 200
    assert_problem(await client.post(LINKS, json=OF_ACME, headers=auth(SPECIALIST)), 403, "forbidden")
    assert (await client.post(LINKS, json=OF_ACME, headers=auth(MANAGER))).status_code == 201


async def test_staff_creating_a_link_for_an_unknown_community_is_not_found(
    client: httpx.AsyncClient, db: str
) -> None:
    unknown = {"community_id": "c0000000-0000-4000-8000-0000000000ff"}
    response = await client.post(LINKS, json=unknown, headers=auth(MANAGER))
    assert_problem(response, 404, "not_found")


# --- redeeming ----------------------------------------------------------------------------------------


async def test_redeeming_creates_membership_with_tags_counts_one_use_and_announces_it(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sales, ops = make_tag(sql, ACME, "Sales"), make_tag(sql, ACME, "Ops")
    link = await create_link(client, tag_ids=[sales, ops], max_uses=3)
    newcomer = make_user(sql, "newcomer@example.com")

    response = await redeem(client, newcomer, link["token"])

    assert response.status_code == 201, response.text
    assert response.json() == {"outcome": "joined", "community_id": ACME}
    membership = sql("select role, source from memberships where user_id = %s", (newcomer,))
    assert membership == [{"role": "member", "source": "signup_link"}]
    tags = sql("select tag_id::text from user_tag_assignments where user_id = %s", (newcomer,))
    assert {t["tag_id"] for t in tags} == {sales, ops}
    assert link_row(sql, link["id"])["use_count"] == 1
    audit = sql(
        "select actor_id::text, community_id::text from audit_log where action = 'member.joined_via_link'"
    )
    assert audit == [{"actor_id": newcomer, "community_id": ACME}]
    (event,) = queued_events(sql, "member.joined")
    assert event["payload"] == {
        "community_id": ACME,
        "user_id": newcomer,
        "source": "signup_link",
        "link_id": link["id"],
    }


async def test_second_redemption_by_the_same_user_is_harmless_and_uses_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    link = await create_link(client, max_uses=2)
    newcomer = make_user(sql, "twice@example.com")
    await redeem(client, newcomer, link["token"])

    again = await redeem(client, newcomer, link["token"])

    assert again.status_code == 200, again.text
    assert again.json() == {"outcome": "already_member", "community_id": ACME}
    assert link_row(sql, link["id"])["use_count"] == 1
    assert sql("select count(*) as n from memberships where user_id = %s", (newcomer,))[0]["n"] == 1
    assert len(queued_events(sql, "member.joined")) == 1


async def test_existing_member_redeeming_is_harmless(client: httpx.AsyncClient, sql: Sql) -> None:
    link = await create_link(client)
    response = await redeem(client, ACME_LENA, link["token"])
    assert response.status_code == 200
    assert response.json()["outcome"] == "already_member"
    assert link_row(sql, link["id"])["use_count"] == 0


@pytest.mark.parametrize(
    ("arrange", "status", "code"),
    [
        ("update signup_links set expires_at = now() - interval '1 minute'", 410, "signup_link_expired"),
        ("update signup_links set revoked_at = now()", 410, "signup_link_revoked"),
        ("update signup_links set max_uses = 1, use_count = 1", 409, "signup_link_exhausted"),
        ("update communities set status = 'archived' where id = '" + ACME + "'", 409, "community_archived"),  # noqa: S608
    ],
    ids=["expired", "revoked", "exhausted", "archived"],
)
async def test_unusable_link_is_refused_with_its_code_and_admits_nobody(
    client: httpx.AsyncClient, sql: Sql, arrange: str, status: int, code: str
) -> None:
    link = await create_link(client)
    sql(arrange)
    newcomer = make_user(sql, "late@example.com")

    assert_problem(await redeem(client, newcomer, link["token"]), status, code)
    assert sql("select count(*) as n from memberships where user_id = %s", (newcomer,))[0]["n"] == 0
    assert queued_events(sql, "member.joined") == []


async def test_unknown_token_is_not_found(client: httpx.AsyncClient, sql: Sql) -> None:
    newcomer = make_user(sql, "guess@example.com")
    response = await redeem(client, newcomer, "A" * 43)
    assert_problem(response, 404, "signup_link_unknown")


async def test_redeeming_needs_a_signed_in_user(client: httpx.AsyncClient, db: str) -> None:
    response = await client.post("/community-signup/redeem", json={"token": "A" * 43})
    assert_problem(response, 401, "unauthenticated")


async def test_twenty_concurrent_redemptions_of_a_five_use_link_admit_exactly_five(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    link = await create_link(client, max_uses=5)
    users = [make_user(sql, f"rush{i}@example.com") for i in range(20)]

    responses = await asyncio.gather(*(redeem(client, user, link["token"]) for user in users))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 15, [r.text for r in responses if r.status_code not in (201, 409)]
    assert all(r.json()["code"] == "signup_link_exhausted" for r in responses if r.status_code == 409)
    joined = sql(
        "select count(*) as n from memberships where community_id = %s and source = 'signup_link'", (ACME,)
    )
    assert joined[0]["n"] == 5
    assert link_row(sql, link["id"])["use_count"] == 5
