"""Invitations through the real handlers and the worker (local identity provider), against the real database.

An invitation is pending until its invitee accepts it: nobody becomes a member, and no admin learns
whether an address has an account, before that.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from scripts.local.tokens import local_token
from shared.platform.db import as_user
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    ISSUER,
    MANAGER,
    SPECIALIST,
    auth,
    claims,
)
from tests.helpers import assert_problem, count, drain_events, make_tag

Sql = Any
INVITATIONS = "/invitations"
OF_ACME = {"community_id": ACME}
VOLATILE = {"id", "email", "created_at", "updated_at"}
"""What may differ between two invitations' answers: their ids, addresses and times."""


def keys_of(value: Any) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


async def invite(client: httpx.AsyncClient, user: str = ACME_ADMIN, **body: Any) -> httpx.Response:
    return await client.post(INVITATIONS, json={**OF_ACME, **body}, headers=auth(user))


async def accept(client: httpx.AsyncClient, invitation_id: str, headers: dict[str, str]) -> httpx.Response:
    return await client.post(f"/invitations/{invitation_id}/accept", headers=headers)


def memberships(sql: Sql, user_id: str, community: str = ACME) -> list[dict[str, Any]]:
    return sql(
        "select role, source, invited_by::text from memberships where user_id = %s and community_id = %s",
        (user_id, community),
    )


def audit_actions(sql: Sql, target_id: str) -> list[str]:
    return [
        a["action"]
        for a in sql("select action from audit_log where target_id = %s order by id", (target_id,))
    ]


async def test_inviting_records_a_pending_invitation_and_nothing_else(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sales = make_tag(sql, ACME, "Sales")
    users_before = count(sql, "select count(*) as n from auth.users")

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
    assert (body["email"], body["status"], body["role"], body["source"]) == (
        "new.person@example.com",
        "sent",
        "member",
        "invitation",
    )
    assert (body["delivery"], body["delivery_error"], body["delivered_at"], body["user_id"]) == (
        "pending",
        None,
        None,
        None,
    )
    assert (body["first_name"], body["last_name"], body["tag_ids"], body["invited_by"]) == (
        "Nia",
        "New",
        [sales],
        ACME_ADMIN,
    )
    assert not {k for k in keys_of(body) if "password" in k.lower()}
    assert count(sql, "select count(*) as n from auth.users") == users_before, (
        "no provider call in the request"
    )
    assert count(sql, "select count(*) as n from memberships where community_id = %s", (ACME,)) == 3
    audit = sql("select action, actor_id::text from audit_log where target_id = %s", (body["id"],))
    assert audit == [{"action": "invitation.created", "actor_id": ACME_ADMIN}]
    queued = sql("select message from pgmq.q_events")
    assert [(m["message"]["name"], m["message"]["payload"]) for m in queued] == [
        ("invitations.delivery_requested", {"invitation_ids": [body["id"]]})
    ]


async def test_existing_and_unknown_addresses_get_identical_answers(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    existing = await invite(client, email="gina@globex.example.com", role="admin", first_name="G")
    unknown = await invite(client, email="nobody-yet@example.com", role="admin", first_name="G")

    assert existing.status_code == unknown.status_code == 201
    assert set(existing.headers) == set(unknown.headers)
    assert existing.headers["content-type"] == unknown.headers["content-type"]
    same = {k: v for k, v in existing.json().items() if k not in VOLATILE}
    assert same == {k: v for k, v in unknown.json().items() if k not in VOLATILE}
    assert same["user_id"] is None and same["status"] == "sent" and same["delivery"] == "pending"
    assert len(existing.content) - len(existing.json()["email"]) == len(unknown.content) - len(
        unknown.json()["email"]
    )
    assert memberships(sql, GLOBEX_GINA) == []


async def test_the_worker_creates_the_provider_user_for_a_new_address_and_nobody_joins(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="nia@example.com", first_name="Nia", last_name="New")).json()

    await drain_events()

    (user,) = sql(
        "select id::text, email, encrypted_password, invited_at from auth.users where email = 'nia@example.com'"
    )
    assert user["invited_at"] is not None and user["encrypted_password"] is None
    assert sql("select first_name, last_name from profiles where id = %s", (user["id"],)) == [
        {"first_name": "Nia", "last_name": "New"}
    ]
    (row,) = sql(
        "select status, delivery, delivery_error, user_id::text from invitations where id = %s", (sent["id"],)
    )
    assert row == {"status": "sent", "delivery": "sent", "delivery_error": None, "user_id": user["id"]}
    assert memberships(sql, user["id"]) == []


async def test_an_existing_account_gets_no_new_auth_user_and_no_membership_before_accepting(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    users_before = count(sql, "select count(*) as n from auth.users")
    sent = (await invite(client, email="GINA@globex.example.com", role="admin")).json()

    await drain_events()

    assert count(sql, "select count(*) as n from auth.users") == users_before
    (row,) = sql("select status, delivery, user_id::text from invitations where id = %s", (sent["id"],))
    assert row == {"status": "sent", "delivery": "sent", "user_id": GLOBEX_GINA}
    assert memberships(sql, GLOBEX_GINA) == []
    members = await client.get("/members", params=OF_ACME, headers=auth(ACME_ADMIN))
    assert GLOBEX_GINA not in {m["user_id"] for m in members.json()["items"]}
    # The inviting admin cannot read the invitee's profile, over HTTP or as PostgREST would ask.
    change = await client.patch(
        f"/members/{ACME}/{GLOBEX_GINA}",
        json={"role": "member"},
        headers=auth(ACME_ADMIN),
    )
    assert_problem(change, 404, "not_found")
    async with as_user(claims(ACME_ADMIN)) as tx:
        assert await tx.fetch_all("select id from public.profiles where id = %s", (GLOBEX_GINA,)) == []


async def test_invitee_sees_the_pending_invitation_and_accepting_makes_them_a_member_with_its_tags(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sales = make_tag(sql, ACME, "Sales")
    sent = (await invite(client, email="gina@globex.example.com", tag_ids=[sales])).json()
    await drain_events()

    mine = await client.get("/invitations/mine", headers=auth(GLOBEX_GINA))
    assert mine.status_code == 200, mine.text
    [item] = mine.json()["items"]
    assert item == {
        "id": sent["id"],
        "community_id": ACME,
        "community_name": "Acme Corp",
        "role": "member",
        "status": "sent",
        "invited_at": item["invited_at"],
    }
    assert mine.json()["next_cursor"] is None

    response = await accept(client, sent["id"], auth(GLOBEX_GINA))

    assert response.status_code == 200, response.text
    assert response.json() == {**item, "status": "accepted"}
    assert memberships(sql, GLOBEX_GINA) == [
        {"role": "member", "source": "invitation", "invited_by": ACME_ADMIN}
    ]
    assert sql("select tag_id::text from user_tag_assignments where user_id = %s", (GLOBEX_GINA,)) == [
        {"tag_id": sales}
    ]
    assert sql("select status from invitations where id = %s", (sent["id"],)) == [{"status": "accepted"}]
    audit = sql(
        "select action, actor_id::text, target_type, target_id from audit_log"
        " where community_id = %s and action <> 'invitation.created' order by id",
        (ACME,),
    )
    assert audit == [
        {
            "action": "invitation.accepted",
            "actor_id": GLOBEX_GINA,
            "target_type": "invitation",
            "target_id": sent["id"],
        },
        {
            "action": "member.joined_via_invitation",
            "actor_id": GLOBEX_GINA,
            "target_type": "membership",
            "target_id": GLOBEX_GINA,
        },
    ]
    joined = sql("select message->'payload' as p from pgmq.q_events where message->>'name' = 'member.joined'")
    assert [j["p"] for j in joined] == [
        {"community_id": ACME, "user_id": GLOBEX_GINA, "source": "invitation", "invitation_id": sent["id"]}
    ]
    assert (await client.get("/invitations/mine", headers=auth(GLOBEX_GINA))).json()["items"] == []
    async with as_user(claims(ACME_ADMIN)) as tx:
        assert len(await tx.fetch_all("select id from public.profiles where id = %s", (GLOBEX_GINA,))) == 1


async def test_accepting_twice_answers_the_same_and_joins_once(client: httpx.AsyncClient, sql: Sql) -> None:
    sent = (await invite(client, email="gina@globex.example.com")).json()

    first = await accept(client, sent["id"], auth(GLOBEX_GINA))
    again = await accept(client, sent["id"], auth(GLOBEX_GINA))

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(memberships(sql, GLOBEX_GINA)) == 1
    assert audit_actions(sql, sent["id"]) == ["invitation.created", "invitation.accepted"]
    assert count(sql, "select count(*) as n from pgmq.q_events where message->>'name' = 'member.joined'") == 1


async def test_accepting_many_times_at_once_joins_once_and_answers_the_same(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="gina@globex.example.com", role="admin")).json()

    responses = await asyncio.gather(*(accept(client, sent["id"], auth(GLOBEX_GINA)) for _ in range(6)))

    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert memberships(sql, GLOBEX_GINA) == [
        {"role": "admin", "source": "invitation", "invited_by": ACME_ADMIN}
    ]
    assert count(sql, "select count(*) as n from pgmq.q_events where message->>'name' = 'member.joined'") == 1


async def test_accepting_while_the_admin_revokes_has_one_documented_outcome(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="gina@globex.example.com")).json()

    accepted, revoked = await asyncio.gather(
        accept(client, sent["id"], auth(GLOBEX_GINA)),
        client.post(f"/invitations/{sent['id']}/revoke", headers=auth(ACME_ADMIN)),
    )

    (status,) = sql("select status from invitations where id = %s", (sent["id"],))
    if status["status"] == "accepted":
        assert accepted.status_code == 200
        assert_problem(revoked, 409, "invitation_accepted")
        assert len(memberships(sql, GLOBEX_GINA)) == 1
    else:
        assert revoked.status_code == 200 and status["status"] == "revoked"
        assert_problem(accepted, 409, "invitation_revoked")
        assert memberships(sql, GLOBEX_GINA) == []


async def test_a_new_user_accepts_the_invitation_sent_to_their_address(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="Nia@Example.com")).json()
    await drain_events()
    (nia,) = sql("select id::text from auth.users where email = 'nia@example.com'")
    headers = {"Authorization": f"Bearer {local_token(nia['id'], 'nia@example.com', issuer=ISSUER)}"}

    [item] = (await client.get("/invitations/mine", headers=headers)).json()["items"]
    response = await accept(client, item["id"], headers)

    assert item["id"] == sent["id"]
    assert response.status_code == 200, response.text
    assert memberships(sql, nia["id"]) == [
        {"role": "member", "source": "invitation", "invited_by": ACME_ADMIN}
    ]


@pytest.mark.parametrize("user", [ACME_LENA, ACME_ADMIN, GLOBEX_ADMIN, MANAGER])
async def test_nobody_but_the_invitee_can_accept_or_decline(
    client: httpx.AsyncClient, sql: Sql, user: str
) -> None:
    sent = (await invite(client, email="gina@globex.example.com")).json()

    for action in ("accept", "decline"):
        response = await client.post(f"/invitations/{sent['id']}/{action}", headers=auth(user))
        assert_problem(response, 404, "not_found")
    assert (await client.get("/invitations/mine", headers=auth(user))).json()["items"] == []
    assert memberships(sql, GLOBEX_GINA) == []
    assert sql("select status from invitations where id = %s", (sent["id"],)) == [{"status": "sent"}]


async def test_accepting_an_unknown_invitation_is_not_found(client: httpx.AsyncClient, db: str) -> None:
    assert_problem(await accept(client, str(uuid.uuid4()), auth(GLOBEX_GINA)), 404, "not_found")


async def test_a_revoked_invitation_cannot_be_accepted(client: httpx.AsyncClient, sql: Sql) -> None:
    sent = (await invite(client, email="gina@globex.example.com")).json()
    revoked = await client.post(f"/invitations/{sent['id']}/revoke", headers=auth(ACME_ADMIN))
    assert revoked.status_code == 200, revoked.text

    assert_problem(await accept(client, sent["id"], auth(GLOBEX_GINA)), 409, "invitation_revoked")
    assert memberships(sql, GLOBEX_GINA) == []
    assert (await client.get("/invitations/mine", headers=auth(GLOBEX_GINA))).json()["items"] == []


async def test_an_invitation_to_an_archived_community_cannot_be_accepted(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="gina@globex.example.com")).json()
    sql("update communities set status = 'archived' where id = %s", (ACME,))

    assert_problem(await accept(client, sent["id"], auth(GLOBEX_GINA)), 409, "community_archived")
    assert memberships(sql, GLOBEX_GINA) == []
    assert (await client.get("/invitations/mine", headers=auth(GLOBEX_GINA))).json()["items"] == []


async def test_an_admin_invitation_makes_an_admin_only_on_acceptance(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="gina@globex.example.com", role="admin")).json()
    await drain_events()

    assert memberships(sql, GLOBEX_GINA) == []
    before = await client.get("/members", params=OF_ACME, headers=auth(GLOBEX_GINA))
    assert_problem(before, 403, "forbidden")

    assert (await accept(client, sent["id"], auth(GLOBEX_GINA))).json()["role"] == "admin"

    assert memberships(sql, GLOBEX_GINA) == [
        {"role": "admin", "source": "invitation", "invited_by": ACME_ADMIN}
    ]
    after = await client.get("/members", params=OF_ACME, headers=auth(GLOBEX_GINA))
    assert after.status_code == 200, after.text


async def test_declining_closes_the_invitation_without_a_membership(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="gina@globex.example.com")).json()

    declined = await client.post(f"/invitations/{sent['id']}/decline", headers=auth(GLOBEX_GINA))
    again = await client.post(f"/invitations/{sent['id']}/decline", headers=auth(GLOBEX_GINA))

    assert declined.status_code == again.status_code == 200, declined.text
    assert declined.json()["status"] == again.json()["status"] == "declined"
    assert_problem(await accept(client, sent["id"], auth(GLOBEX_GINA)), 409, "invitation_declined")
    assert memberships(sql, GLOBEX_GINA) == []
    listed = await client.get(INVITATIONS, params={**OF_ACME, "status": "declined"}, headers=auth(ACME_ADMIN))
    assert [i["id"] for i in listed.json()["items"]] == [sent["id"]]
    revoked = await client.post(f"/invitations/{sent['id']}/revoke", headers=auth(ACME_ADMIN))
    assert revoked.json()["status"] == "declined"
    assert audit_actions(sql, sent["id"]) == ["invitation.created", "invitation.declined"]


async def test_an_accepted_invitation_cannot_be_declined(client: httpx.AsyncClient, sql: Sql) -> None:
    sent = (await invite(client, email="gina@globex.example.com")).json()
    await accept(client, sent["id"], auth(GLOBEX_GINA))

    response = await client.post(f"/invitations/{sent['id']}/decline", headers=auth(GLOBEX_GINA))

    assert_problem(response, 409, "invitation_accepted")
    assert len(memberships(sql, GLOBEX_GINA)) == 1


async def test_another_communitys_admin_revoking_by_id_finds_no_such_invitation(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="kept@example.com")).json()

    response = await client.post(f"/invitations/{sent['id']}/revoke", headers=auth(GLOBEX_ADMIN))
    missing = await client.post(f"/invitations/{uuid.uuid4()}/revoke", headers=auth(GLOBEX_ADMIN))

    assert (
        assert_problem(response, 404, "not_found")["detail"]
        == assert_problem(missing, 404, "not_found")["detail"]
    )
    assert sql("select status from invitations where id = %s", (sent["id"],)) == [{"status": "sent"}]
    assert audit_actions(sql, sent["id"]) == ["invitation.created"]


async def test_my_invitations_page_newest_first(client: httpx.AsyncClient, sql: Sql) -> None:
    first = (await invite(client, email="gina@globex.example.com")).json()["id"]
    sql("delete from memberships where community_id = %s and user_id = %s", (GLOBEX, GLOBEX_GINA))
    to_globex = {"community_id": GLOBEX, "email": "gina@globex.example.com"}
    second = (await client.post(INVITATIONS, json=to_globex, headers=auth(GLOBEX_ADMIN))).json()

    page = (await client.get("/invitations/mine", params={"limit": 1}, headers=auth(GLOBEX_GINA))).json()
    rest = (
        await client.get(
            "/invitations/mine", params={"limit": 1, "cursor": page["next_cursor"]}, headers=auth(GLOBEX_GINA)
        )
    ).json()

    assert [i["id"] for i in page["items"] + rest["items"]] == [second["id"], first]
    assert rest["next_cursor"] is None


async def test_inviting_a_member_is_a_conflict(client: httpx.AsyncClient, sql: Sql) -> None:
    assert_problem(await invite(client, email="LENA@acme.example.com"), 409, "already_member")
    assert count(sql, "select count(*) as n from invitations") == 0


async def test_inviting_an_address_with_a_pending_invitation_is_a_conflict(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    first = (await invite(client, email="twice@example.com")).json()
    assert_problem(await invite(client, email="Twice@Example.com"), 409, "invitation_pending")
    assert count(sql, "select count(*) as n from invitations") == 1

    await client.post(f"/invitations/{first['id']}/revoke", headers=auth(ACME_ADMIN))
    assert (await invite(client, email="twice@example.com")).status_code == 201


async def test_the_same_invitation_sent_at_once_is_created_once(client: httpx.AsyncClient, sql: Sql) -> None:
    responses = await asyncio.gather(*(invite(client, email="racer@example.com") for _ in range(6)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409, 409]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "invitation_pending")
    assert count(sql, "select count(*) as n from invitations") == 1


async def test_tags_of_another_community_are_refused_and_nobody_is_invited(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    foreign = make_tag(sql, GLOBEX, "Ops")

    response = await invite(client, email="tagged@example.com", tag_ids=[foreign])

    body = assert_problem(response, 422, "validation_failed")
    assert [e["type"] for e in body["errors"]] == ["unknown_tag"]
    assert count(sql, "select count(*) as n from invitations") == 0


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


async def test_redirect_to_an_allowed_origin_is_kept_for_the_delivery(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    response = await invite(
        client, email="redirected@example.com", redirect_to="http://localhost:3000/welcome"
    )
    assert response.status_code == 201, response.text
    stored = sql("select redirect_to from invitations where id = %s", (response.json()["id"],))
    assert stored == [{"redirect_to": "http://localhost:3000/welcome"}]


async def test_revoking_a_pending_invitation_closes_it_and_nothing_is_delivered(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="changed-mind@example.com", tag_ids=[make_tag(sql, ACME, "T")])).json()

    response = await client.post(f"/invitations/{sent['id']}/revoke", headers=auth(ACME_ADMIN))
    again = await client.post(f"/invitations/{sent['id']}/revoke", headers=auth(ACME_ADMIN))
    await drain_events()

    assert response.status_code == again.status_code == 200, response.text
    assert response.json()["status"] == again.json()["status"] == "revoked"
    assert audit_actions(sql, sent["id"]) == ["invitation.created", "invitation.revoked"]
    assert count(sql, "select count(*) as n from auth.users where email = 'changed-mind@example.com'") == 0
    assert sql("select delivery, delivery_error from invitations where id = %s", (sent["id"],)) == [
        {"delivery": "failed", "delivery_error": "invitation_closed"}
    ]


async def test_revoking_an_accepted_invitation_is_a_conflict_and_keeps_the_member(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    sent = (await invite(client, email="gina@globex.example.com")).json()
    await accept(client, sent["id"], auth(GLOBEX_GINA))

    response = await client.post(f"/invitations/{sent['id']}/revoke", headers=auth(ACME_ADMIN))

    assert_problem(response, 409, "invitation_accepted")
    assert len(memberships(sql, GLOBEX_GINA)) == 1


async def test_list_pages_newest_first_and_filters_by_status(client: httpx.AsyncClient, db: str) -> None:
    sent = [(await invite(client, email=f"p{i}@example.com")).json()["id"] for i in range(3)]
    accepted = (await invite(client, email="gina@globex.example.com")).json()["id"]
    await accept(client, accepted, auth(GLOBEX_GINA))

    first = (await client.get(INVITATIONS, params={**OF_ACME, "limit": 3}, headers=auth(ACME_ADMIN))).json()
    rest = (
        await client.get(
            INVITATIONS,
            params={**OF_ACME, "limit": 3, "cursor": first["next_cursor"]},
            headers=auth(ACME_ADMIN),
        )
    ).json()
    only_accepted = (
        await client.get(INVITATIONS, params={**OF_ACME, "status": "accepted"}, headers=auth(SPECIALIST))
    ).json()

    assert [i["id"] for i in first["items"] + rest["items"]] == [accepted, *sent[::-1]]
    assert rest["next_cursor"] is None
    assert [i["id"] for i in only_accepted["items"]] == [accepted]


async def test_learner_and_other_community_admin_cannot_invite_or_list(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    refusals = {ACME_LENA: (403, "forbidden"), GLOBEX_ADMIN: (404, "not_found")}
    for user, (status, code) in refusals.items():
        assert_problem(await invite(client, user, email="x@example.com"), status, code)
        assert_problem(await client.get(INVITATIONS, params=OF_ACME, headers=auth(user)), status, code)
    assert_problem(await invite(client, SPECIALIST, email="x@example.com"), 403, "forbidden")
    assert count(sql, "select count(*) as n from invitations") == 0


async def failed_invitation(client: httpx.AsyncClient, sql: Sql, email: str) -> str:
    """A pending invitation whose delivery failed before the worker sent it (the provider was down)."""
    sent = (await invite(client, email=email)).json()
    sql(
        "update invitations set delivery = 'failed', delivery_error = 'provider_unavailable', delivered_at = now()"
        " where id = %s",
        (sent["id"],),
    )
    await drain_events()  # the first request finds nothing pending
    return str(sent["id"])


async def test_a_failed_delivery_is_sent_again_on_request(client: httpx.AsyncClient, sql: Sql) -> None:
    invitation = await failed_invitation(client, sql, "retry@example.com")
    assert count(sql, "select count(*) as n from auth.users where email = 'retry@example.com'") == 0

    response = await client.post(f"{INVITATIONS}/{invitation}/resend", headers=auth(ACME_ADMIN))
    assert response.status_code == 200, response.text
    assert (response.json()["delivery"], response.json()["delivery_error"]) == ("pending", None)
    await drain_events()

    (row,) = sql("select status, delivery, delivery_error from invitations where id = %s", (invitation,))
    assert row == {"status": "sent", "delivery": "sent", "delivery_error": None}
    assert count(sql, "select count(*) as n from auth.users where email = 'retry@example.com'") == 1
    assert "invitation.resent" in audit_actions(sql, invitation)


async def test_only_a_failed_pending_delivery_is_sent_again(client: httpx.AsyncClient, sql: Sql) -> None:
    delivered = (await invite(client, email="fine@example.com")).json()["id"]
    await drain_events()
    revoked = await failed_invitation(client, sql, "gone@example.com")
    await client.post(f"{INVITATIONS}/{revoked}/revoke", headers=auth(ACME_ADMIN))

    again = await client.post(f"{INVITATIONS}/{delivered}/resend", headers=auth(ACME_ADMIN))
    closed = await client.post(f"{INVITATIONS}/{revoked}/resend", headers=auth(ACME_ADMIN))

    assert_problem(again, 409, "delivery_not_failed")
    assert_problem(closed, 409, "invitation_closed")
    rows = sql(
        "select delivery from invitations where id in (%s, %s) order by email", (delivered, revoked)
    )
    assert [r["delivery"] for r in rows] == ["sent", "failed"]
    assert "invitation.resent" not in audit_actions(sql, delivered) + audit_actions(sql, revoked)


async def test_only_the_communitys_writers_send_again(client: httpx.AsyncClient, sql: Sql) -> None:
    invitation = await failed_invitation(client, sql, "theirs@example.com")

    other_admin = await client.post(f"{INVITATIONS}/{invitation}/resend", headers=auth(GLOBEX_ADMIN))
    learner = await client.post(f"{INVITATIONS}/{invitation}/resend", headers=auth(ACME_LENA))
    specialist = await client.post(f"{INVITATIONS}/{invitation}/resend", headers=auth(SPECIALIST))

    assert_problem(other_admin, 404, "not_found")
    assert_problem(learner, 403, "forbidden")
    assert_problem(specialist, 403, "forbidden")
    (row,) = sql("select delivery from invitations where id = %s", (invitation,))
    assert row == {"delivery": "failed"}
