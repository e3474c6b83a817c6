"""Invitations through the real handler and the local identity provider, against the real database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    SPECIALIST,
    auth,
)
from tests.helpers import assert_problem, count, make_tag

Sql = Any
INVITATIONS = f"/invitations/communities/{ACME}/invitations"


def keys_of(value: Any) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


async def invite(client: httpx.AsyncClient, user: str = ACME_ADMIN, **body: Any) -> httpx.Response:
    return await client.post(INVITATIONS, json=body, headers=auth(user))


async def test_inviting_a_new_address_creates_auth_user_profile_and_membership_without_a_password(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sales = make_tag(sql, ACME, "Sales")

    response = await invite(
        client,
        email="  New.Person@Example.com ",
        role="member",
        tag_ids=[sales],
        first_name="Nia",
        last_name="New",
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "new.person@example.com" and body["status"] == "sent" and body["role"] == "member"
    assert not {k for k in keys_of(body) if "password" in k.lower()}
    user_id = body["user_id"]
    (user,) = sql("select email, encrypted_password, invited_at from auth.users where id = %s", (user_id,))
    assert user["email"] == "new.person@example.com" and user["invited_at"] is not None
    assert user["encrypted_password"] is None
    profile = sql("select first_name, last_name from profiles where id = %s", (user_id,))
    assert profile == [{"first_name": "Nia", "last_name": "New"}]
    membership = sql("select role, source, invited_by::text from memberships where user_id = %s", (user_id,))
    assert membership == [{"role": "member", "source": "invitation", "invited_by": ACME_ADMIN}]
    tags = sql("select tag_id::text from user_tag_assignments where user_id = %s", (user_id,))
    assert tags == [{"tag_id": sales}]
    audit = sql("select action, actor_id::text from audit_log where target_id = %s", (body["id"],))
    assert audit == [{"action": "invitation.created", "actor_id": ACME_ADMIN}]
    events = sql("select message->'payload' as p from pgmq.q_events where message->>'name' = 'member.joined'")
    assert [e["p"]["user_id"] for e in events] == [user_id]


async def test_inviting_an_existing_account_adds_it_without_a_new_auth_user(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    users_before = count(sql, "select count(*) as n from auth.users")

    response = await invite(client, email="GINA@globex.example.com", role="admin")

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "accepted" and response.json()["user_id"] == GLOBEX_GINA
    assert count(sql, "select count(*) as n from auth.users") == users_before
    membership = sql(
        "select role, source from memberships where user_id = %s and community_id = %s", (GLOBEX_GINA, ACME)
    )
    assert membership == [{"role": "admin", "source": "invitation"}]


async def test_inviting_a_member_is_a_conflict(client: httpx.AsyncClient, sql: Sql) -> None:
    assert_problem(await invite(client, email="lena@acme.example.com"), 409, "already_member")
    assert count(sql, "select count(*) as n from invitations") == 0


async def test_inviting_the_same_new_address_twice_is_a_conflict(client: httpx.AsyncClient, sql: Sql) -> None:
    assert (await invite(client, email="twice@example.com")).status_code == 201
    assert_problem(await invite(client, email="Twice@Example.com"), 409, "already_member")
    assert count(sql, "select count(*) as n from auth.users where email = 'twice@example.com'") == 1
    assert count(sql, "select count(*) as n from invitations") == 1


async def test_tags_of_another_community_are_refused_and_nobody_is_invited(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    foreign = make_tag(sql, GLOBEX, "Ops")

    response = await invite(client, email="tagged@example.com", tag_ids=[foreign])

    body = assert_problem(response, 422, "validation_failed")
    assert [e["type"] for e in body["errors"]] == ["unknown_tag"]
    assert count(sql, "select count(*) as n from auth.users where email = 'tagged@example.com'") == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("redirect_to", "https://evil.example.com/welcome"),
        ("redirect_to", "javascript:alert(1)"),
        ("role", "owner"),
        ("password", "hunter2"),
    ],
)
async def test_invalid_invitation_fields_are_refused(
    client: httpx.AsyncClient, sql: Sql, field: str, value: str
) -> None:
    body = {"email": "someone@example.com", field: value}
    problem = assert_problem(await invite(client, **body), 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [f"body.{field}"]
    assert count(sql, "select count(*) as n from invitations") == 0


async def test_redirect_to_an_allowed_origin_is_accepted(client: httpx.AsyncClient, db: str) -> None:
    response = await invite(
        client, email="redirected@example.com", redirect_to="http://localhost:3000/welcome"
    )
    assert response.status_code == 201, response.text


async def test_revoking_a_sent_invitation_removes_the_membership_it_created(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="changed-mind@example.com", tag_ids=[make_tag(sql, ACME, "T")])).json()

    response = await client.post(f"{INVITATIONS}/{sent['id']}/revoke", headers=auth(ACME_ADMIN))
    again = await client.post(f"{INVITATIONS}/{sent['id']}/revoke", headers=auth(ACME_ADMIN))

    assert response.status_code == again.status_code == 200, response.text
    assert response.json()["status"] == again.json()["status"] == "revoked"
    assert count(sql, "select count(*) as n from memberships where user_id = %s", (sent["user_id"],)) == 0
    assert (
        count(sql, "select count(*) as n from user_tag_assignments where user_id = %s", (sent["user_id"],))
        == 0
    )
    actions = sql("select action from audit_log where target_id = %s order by id", (sent["id"],))
    assert [a["action"] for a in actions] == ["invitation.created", "invitation.revoked"]


async def test_revoking_an_accepted_invitation_is_a_conflict_and_keeps_the_member(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    accepted = (await invite(client, email="gina@globex.example.com")).json()

    response = await client.post(f"{INVITATIONS}/{accepted['id']}/revoke", headers=auth(ACME_ADMIN))

    assert_problem(response, 409, "invitation_accepted")
    assert (
        count(
            sql,
            "select count(*) as n from memberships where user_id = %s and community_id = %s",
            (GLOBEX_GINA, ACME),
        )
        == 1
    )


async def test_list_pages_newest_first_and_filters_by_status(client: httpx.AsyncClient, db: str) -> None:
    sent = [(await invite(client, email=f"p{i}@example.com")).json()["id"] for i in range(3)]
    accepted = (await invite(client, email="gina@globex.example.com")).json()["id"]

    first = (await client.get(INVITATIONS, params={"limit": 3}, headers=auth(ACME_ADMIN))).json()
    rest = (
        await client.get(
            INVITATIONS, params={"limit": 3, "cursor": first["next_cursor"]}, headers=auth(ACME_ADMIN)
        )
    ).json()
    only_accepted = (
        await client.get(INVITATIONS, params={"status": "accepted"}, headers=auth(SPECIALIST))
    ).json()

    assert [i["id"] for i in first["items"] + rest["items"]] == [accepted, *sent[::-1]]
    assert rest["next_cursor"] is None
    assert [i["id"] for i in only_accepted["items"]] == [accepted]


async def test_learner_and_other_community_admin_cannot_invite_or_list(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    for user in (ACME_LENA, GLOBEX_ADMIN):
        assert_problem(await invite(client, user, email="x@example.com"), 403, "forbidden")
        assert_problem(await client.get(INVITATIONS, headers=auth(user)), 403, "forbidden")
    assert_problem(await invite(client, SPECIALIST, email="x@example.com"), 403, "forbidden")
    assert count(sql, "select count(*) as n from auth.users where email = 'x@example.com'") == 0
