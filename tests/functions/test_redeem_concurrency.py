"""Signup redemption under concurrency, through the real handlers, and the invitations a redemption accepts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from shared.platform.config import reset_settings
from tests.factories import ACME, ACME_ADMIN, GLOBEX, GLOBEX_ADMIN, auth
from tests.functions.test_signup_links import create_link, link_row, make_user, queued_events, redeem
from tests.helpers import Sql, count, make_tag


@pytest.fixture
def roomy_join_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Room in the `join` class for one user's burst of requests (its default is 10 a minute)."""
    monkeypatch.setenv("RATE_LIMIT_JOIN", "1000/60")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def memberships(sql: Sql, user: str) -> list[dict[str, object]]:
    return sql("select community_id::text, role, source from memberships where user_id = %s", (user,))


@pytest.mark.usefixtures("roomy_join_limit")
async def test_one_user_redeeming_two_links_twenty_times_at_once_joins_once(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    first, second = await create_link(client, max_uses=5), await create_link(client)
    newcomer = make_user(sql, "both-links@example.com")
    tokens = [first["token"], second["token"]] * 10

    responses = await asyncio.gather(*(redeem(client, newcomer, token) for token in tokens))

    assert Counter(r.status_code for r in responses) == {201: 1, 200: 19}, [r.text for r in responses]
    bodies = Counter(r.json()["outcome"] for r in responses)
    assert bodies == {"joined": 1, "already_member": 19}
    assert all(r.json()["community_id"] == ACME for r in responses)
    assert memberships(sql, newcomer) == [{"community_id": ACME, "role": "member", "source": "signup_link"}]
    # Only the link whose redemption created the membership counts a use.
    (winner,) = [tokens[i] for i, r in enumerate(responses) if r.status_code == 201]
    used = {link["token"]: link_row(sql, link["id"])["use_count"] for link in (first, second)}
    assert used == {winner: 1, ({first["token"], second["token"]} - {winner}).pop(): 0}
    assert len(queued_events(sql, "member.joined")) == 1
    assert count(sql, "select count(*) as n from audit_log where action = 'member.joined_via_link'") == 1


@pytest.mark.usefixtures("roomy_join_limit")
async def test_one_user_redeeming_the_same_link_twenty_times_at_once_uses_it_once(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    link = await create_link(client, max_uses=2)
    newcomer = make_user(sql, "same-link@example.com")

    responses = await asyncio.gather(*(redeem(client, newcomer, link["token"]) for _ in range(20)))

    assert sorted(r.status_code for r in responses) == [200] * 19 + [201], [r.text for r in responses]
    assert Counter(r.json()["outcome"] for r in responses) == {"joined": 1, "already_member": 19}
    assert link_row(sql, link["id"])["use_count"] == 1
    assert len(memberships(sql, newcomer)) == 1
    assert len(queued_events(sql, "member.joined")) == 1


@pytest.mark.usefixtures("roomy_join_limit")
async def test_many_users_racing_over_two_limited_links_fill_them_exactly(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    links = [await create_link(client, max_uses=3), await create_link(client, max_uses=3)]
    users = [make_user(sql, f"racer{i}@example.com") for i in range(8)]
    calls = [(user, link["token"]) for user in users for link in links]

    responses = await asyncio.gather(*(redeem(client, user, token) for user, token in calls))

    # Each user ends with at most one membership; six uses in all, so six of the eight get in.
    refused = [r.json() for r in responses if r.status_code >= 400]
    assert {(p["status"], p["code"]) for p in refused} <= {(409, "signup_link_exhausted")}, refused
    assert Counter(r.status_code for r in responses)[201] == 6
    joined = count(sql, "select count(*) as n from memberships where source = 'signup_link'")
    assert joined == 6
    assert [link_row(sql, link["id"])["use_count"] for link in links] == [3, 3]
    assert all(len(memberships(sql, user)) <= 1 for user in users)


# --- invitations accepted by redeeming -----------------------------------------------------------------


def invite(sql: Sql, community: str, email: str, *, user_id: str | None = None, status: str = "sent") -> str:
    rows = sql(
        "insert into invitations (community_id, email, user_id, status) values (%s, %s, %s, %s) returning id::text",
        (community, email, user_id, status),
    )
    return str(rows[0]["id"])


def statuses(sql: Sql) -> dict[str, str]:
    return {r["id"]: r["status"] for r in sql("select id::text, status from invitations")}


async def test_redeeming_accepts_the_callers_pending_invitations_to_that_community_only(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    newcomer = make_user(sql, "invited@example.com")
    link = await create_link(client)
    by_email = invite(sql, ACME, "Invited@Example.COM")
    by_id = invite(sql, ACME, "old-address@example.com", user_id=newcomer)
    revoked = invite(sql, ACME, "invited@example.com", status="revoked")
    other_community = invite(sql, GLOBEX, "invited@example.com")
    stranger = invite(sql, ACME, "stranger@example.com")

    response = await redeem(client, newcomer, link["token"])

    assert response.status_code == 201, response.text
    assert statuses(sql) == {
        by_email: "accepted",
        by_id: "accepted",
        revoked: "revoked",
        other_community: "sent",
        stranger: "sent",
    }
    accepted_by = sql("select user_id::text from invitations where id = %s", (by_email,))
    assert accepted_by == [{"user_id": newcomer}]


async def test_an_invitation_naming_another_account_is_not_accepted_by_address_alone(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    newcomer = make_user(sql, "invited@example.com")
    someone_else = make_user(sql, "someone@example.com")
    link = await create_link(client)
    for_another_account = invite(sql, ACME, "invited@example.com", user_id=someone_else)

    assert (await redeem(client, newcomer, link["token"])).status_code == 201

    assert statuses(sql) == {for_another_account: "sent"}


async def test_an_invited_admin_joining_through_a_member_link_is_made_admin_with_the_invited_tags(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    newcomer = make_user(sql, "boss@example.com")
    tag = make_tag(sql, ACME, "Leads")
    link = await create_link(client)
    invitation = sql(
        "insert into invitations (community_id, email, role, tag_ids) values (%s, 'boss@example.com', 'admin', %s)"
        " returning id::text",
        (ACME, [tag]),
    )[0]["id"]

    assert (await redeem(client, newcomer, link["token"])).status_code == 201

    assert statuses(sql) == {invitation: "accepted"}
    assert sql("select role from memberships where community_id = %s and user_id = %s", (ACME, newcomer)) == [
        {"role": "admin"}
    ]
    held = sql("select tag_id::text from user_tag_assignments where user_id = %s", (newcomer,))
    assert held == [{"tag_id": tag}]


async def test_a_member_redeeming_again_accepts_a_pending_invitation_and_a_refused_link_accepts_none(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    newcomer = make_user(sql, "again@example.com")
    link = await create_link(client)
    assert (await redeem(client, newcomer, link["token"])).status_code == 201
    pending = invite(sql, ACME, "again@example.com")
    globex_link = (
        await client.post(
            "/signup-links", json={"community_id": GLOBEX, "max_uses": 1}, headers=auth(GLOBEX_ADMIN)
        )
    ).json()
    sql("update signup_links set use_count = 1 where id = %s", (globex_link["id"],))
    globex_pending = invite(sql, GLOBEX, "again@example.com")

    again = await redeem(client, newcomer, link["token"])
    exhausted = await redeem(client, newcomer, globex_link["token"])

    assert again.status_code == 200 and again.json()["outcome"] == "already_member"
    assert exhausted.status_code == 409 and exhausted.json()["code"] == "signup_link_exhausted"
    assert statuses(sql) == {pending: "accepted", globex_pending: "sent"}
    assert link_row(sql, link["id"])["use_count"] == 1


async def test_admin_who_exhausted_bulk_imports_can_still_join_with_a_link(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_BULK", "2/3600")
    reset_settings()
    try:
        globex_link = (
            await client.post("/signup-links", json={"community_id": GLOBEX}, headers=auth(GLOBEX_ADMIN))
        ).json()
        upload = {"csv": "firstName,lastName,email,tags\nA,B,not-an-email,\n"}
        imports = f"/imports?community_id={ACME}"
        statuses_ = [
            (await client.post(imports, json=upload, headers=auth(ACME_ADMIN))).status_code for _ in range(3)
        ]

        joined = await redeem(client, ACME_ADMIN, globex_link["token"])
    finally:
        monkeypatch.undo()
        reset_settings()

    assert statuses_ == [202, 202, 429]
    assert joined.status_code == 201, joined.text
    assert joined.headers["ratelimit-policy"] == '10;w=60;name="join"'
    hits = sql(
        "select limit_class, hits from app.rate_limits where key = %s order by 1", (f"user:{ACME_ADMIN}",)
    )
    assert hits == [{"limit_class": "bulk", "hits": 3}, {"limit_class": "join", "hits": 1}]
    assert (
        count(
            sql,
            "select count(*) as n from memberships where user_id = %s and community_id = %s",
            (ACME_ADMIN, GLOBEX),
        )
        == 1
    )


def test_a_route_naming_an_unknown_rate_limit_class_is_refused_at_declaration() -> None:
    from shared.platform.http import Function

    with pytest.raises(ValueError, match="unknown rate limit class"):
        Function("x").post("/", rate_limit="joins")
