"""`notifications` and the handlers that write them: a reply notifies the post's author through the worker
(never the replier themself), an achievement notifies its learner, posting counts as an active day; the
recipient lists theirs newest first and marks them read; nobody reaches anyone else's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shared.platform.db import as_user
from shared.platform.errors import ForbiddenError
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, ACME_LIAM, GLOBEX_GINA, auth, claims
from tests.gamification_helpers import completed, send
from tests.helpers import Sql, assert_problem, count, drain_events

NOTIFICATIONS = "/notifications"


async def _deliver() -> None:
    import shared.gamification.handlers
    import shared.notifications.handlers  # noqa: F401  (subscribe them, as the worker does)

    await drain_events()


async def _thread_with_replies(client: httpx.AsyncClient) -> dict[str, Any]:
    """Lena posts; Liam replies twice, the admin once, Lena to herself once."""
    created = await client.post(
        "/forum/posts", headers=auth(ACME_LENA), json={"community_id": ACME, "title": "Hello", "body": "First"}
    )
    post = created.json()
    for user in (ACME_LIAM, ACME_LIAM, ACME_ADMIN, ACME_LENA):
        response = await client.post(f"/forum/posts/{post['id']}/replies", headers=auth(user), json={"body": "Hi"})
        assert response.status_code == 201, response.text
    await _deliver()
    return dict(post)


async def test_a_reply_notifies_the_posts_author_and_not_the_replier(client: httpx.AsyncClient, sql: Sql) -> None:
    post = await _thread_with_replies(client)
    mine = await client.get(NOTIFICATIONS, headers=auth(ACME_LENA))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["unread_count"] == 3 and len(body["items"]) == 3
    newest = body["items"][0]
    assert newest["kind"] == "forum.replied" and newest["subject"] == "Ada Admin replied to your post “Hello”"
    assert newest["link"].startswith(f"/forum/posts/{post['id']}#reply-") and newest["read_at"] is None
    assert (await client.get(NOTIFICATIONS, headers=auth(ACME_LIAM))).json()["items"] == []
    # Redelivering the events writes nothing twice.
    sql("select pgmq.send('events', message) from pgmq.a_events where message->>'name' = 'forum.replied'")
    await _deliver()
    assert count(sql, "select count(*) as n from notifications") == 3


async def test_posting_counts_as_an_active_day(client: httpx.AsyncClient, sql: Sql) -> None:
    await _thread_with_replies(client)
    assert sql("select user_id::text, current_days from learning_streaks order by user_id") == [
        {"user_id": ACME_ADMIN, "current_days": 1},
        {"user_id": ACME_LENA, "current_days": 1},
        {"user_id": ACME_LIAM, "current_days": 1},
    ]


async def test_recipients_page_and_mark_read_their_own_only(client: httpx.AsyncClient, sql: Sql) -> None:
    await _thread_with_replies(client)
    first = (await client.get(NOTIFICATIONS, params={"limit": 2}, headers=auth(ACME_LENA))).json()
    rest = await client.get(NOTIFICATIONS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(ACME_LENA))
    ids = [n["id"] for n in first["items"]] + [n["id"] for n in rest.json()["items"]]
    assert len(set(ids)) == 3 and rest.json()["next_cursor"] is None

    assert_problem(await client.post(f"{NOTIFICATIONS}/{ids[0]}/read", headers=auth(ACME_LIAM)), 404, "not_found")
    read = await client.post(f"{NOTIFICATIONS}/{ids[0]}/read", headers=auth(ACME_LENA))
    assert read.status_code == 200 and read.json()["read_at"]
    unread = (await client.get(NOTIFICATIONS, params={"unread": "true"}, headers=auth(ACME_LENA))).json()
    assert unread["unread_count"] == 2 and ids[0] not in [n["id"] for n in unread["items"]]
    assert (await client.post(f"{NOTIFICATIONS}/read-all", headers=auth(ACME_LIAM))).json() == {"marked": 0}
    assert (await client.post(f"{NOTIFICATIONS}/read-all", headers=auth(ACME_LENA))).json() == {"marked": 2}
    assert_problem(await client.post(f"{NOTIFICATIONS}/{uuid.uuid4()}/read", headers=auth(ACME_LENA)), 404, "not_found")


async def test_a_postgrest_caller_reads_and_marks_only_their_own(client: httpx.AsyncClient, sql: Sql) -> None:
    await _thread_with_replies(client)
    async with as_user(claims(ACME_LIAM)) as tx:
        assert await tx.fetch_all("select id from public.notifications") == []
        assert await tx.execute("update public.notifications set read_at = now()") == 0
    for statement in (
        "update public.notifications set subject = 'forged'",
        "insert into public.notifications (user_id, kind, subject) values (auth.uid(), 'x.y', 'forged')",
        "delete from public.notifications",
    ):
        with pytest.raises(ForbiddenError):
            async with as_user(claims(ACME_LENA)) as tx:
                await tx.execute(statement)
    assert count(sql, "select count(*) as n from notifications where read_at is null and subject <> 'forged'") == 3


async def test_an_achievement_notifies_its_learner(client: httpx.AsyncClient, sql: Sql) -> None:
    await send(completed(ACME_LIAM, datetime.now(UTC)))
    await _deliver()
    [earned] = (await client.get(NOTIFICATIONS, headers=auth(ACME_LIAM))).json()["items"]
    assert (earned["kind"], earned["subject"]) == ("achievement.awarded", "You earned “First Steps” (bronze, 10 points)")


async def test_an_invitation_notifies_an_existing_account_only(client: httpx.AsyncClient, sql: Sql) -> None:
    for email in ("GINA@globex.example.com", "nobody-yet@example.com"):
        sent = await client.post("/invitations", headers=auth(ACME_ADMIN), json={"community_id": ACME, "email": email})
        assert sent.status_code == 201, sent.text
    await _deliver()
    [invited] = (await client.get(NOTIFICATIONS, headers=auth(GLOBEX_GINA))).json()["items"]
    assert (invited["kind"], invited["subject"]) == ("invitation.received", "You are invited to join Acme Corp")
    assert invited["community_id"] == ACME and invited["link"] == "/invitations"
    assert count(sql, "select count(*) as n from notifications") == 1
