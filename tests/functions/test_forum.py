"""`forum` through the real handlers against the real database: posts, threaded replies, the forum switch,
another community's members, hidden posts, locked threads, reactions, reports, edits, moderation, the
posting rate limit, and the same rules for a caller speaking SQL as PostgREST does."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from shared.platform.db import as_user
from shared.platform.errors import ConflictError, ForbiddenError
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    ACME_LIAM,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    MANAGER,
    SPECIALIST,
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem, count, make_tag
from tests.learning_helpers import events

POSTS = "/forum/posts"


async def post(client: httpx.AsyncClient, user: str = ACME_LENA, **fields: Any) -> dict[str, Any]:
    """A new post by `user` in Acme (or `community_id`); its view."""
    body = {"community_id": ACME, "title": "Prompt tips", "body": "Use **examples**.", **fields}
    response = await client.post(POSTS, headers=auth(user), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def reply(client: httpx.AsyncClient, post_id: str, user: str = ACME_LIAM, **fields: Any) -> dict[str, Any]:
    response = await client.post(f"{POSTS}/{post_id}/replies", headers=auth(user), json={"body": "Thanks!", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def moderate(client: httpx.AsyncClient, path: str, action: str, user: str = ACME_ADMIN) -> httpx.Response:
    return await client.post(f"/forum/{path}/moderation", headers=auth(user), json={"action": action})


# --- posts and replies --------------------------------------------------------------------------------


async def test_member_posts_and_members_reply_in_threads(client: httpx.AsyncClient, sql: Sql) -> None:
    tag = make_tag(sql, ACME, "Prompting")
    created = await post(client, tag_ids=[tag], body="Line\r\none\x07")
    assert created["author_id"] == ACME_LENA and created["author_name"] == "Lena Learner"
    assert created["body"] == "Line\none" and created["tags"] == [{"id": tag, "name": "Prompting", "color": "#112233"}]
    first = await reply(client, created["id"])
    nested = await reply(client, created["id"], user=ACME_ADMIN, parent_id=first["id"], body="Agreed")

    thread = await client.get(f"{POSTS}/{created['id']}", headers=auth(ACME_LIAM))
    assert thread.status_code == 200, thread.text
    body = thread.json()
    assert body["post"]["reply_count"] == 2
    assert [(r["id"], r["parent_id"]) for r in body["replies"]] == [(first["id"], None), (nested["id"], first["id"])]
    listed = (await client.get(POSTS, params={"community_id": ACME}, headers=auth(ACME_ADMIN))).json()
    assert [p["id"] for p in listed["items"]] == [created["id"]]


async def test_lists_newest_or_most_active_with_keyset_pages_and_search(client: httpx.AsyncClient, db: str) -> None:
    older = await post(client, title="Older", body="about retrieval augmented generation")
    newer = await post(client, user=ACME_LIAM, title="Newer", body="about agents")
    await reply(client, older["id"], user=ACME_ADMIN)

    newest = (await client.get(POSTS, params={"community_id": ACME, "limit": 1}, headers=auth(ACME_LENA))).json()
    assert [p["id"] for p in newest["items"]] == [newer["id"]] and newest["next_cursor"]
    rest = await client.get(
        POSTS, params={"community_id": ACME, "limit": 1, "cursor": newest["next_cursor"]}, headers=auth(ACME_LENA)
    )
    assert [p["id"] for p in rest.json()["items"]] == [older["id"]] and rest.json()["next_cursor"] is None
    active = (await client.get(POSTS, params={"community_id": ACME, "sort": "active"}, headers=auth(ACME_LENA))).json()
    assert [p["id"] for p in active["items"]] == [older["id"], newer["id"]]
    found = (await client.get(POSTS, params={"community_id": ACME, "q": "retrieval"}, headers=auth(ACME_LENA))).json()
    assert [p["id"] for p in found["items"]] == [older["id"]]
    bad = await client.get(POSTS, params={"community_id": ACME, "cursor": "nope"}, headers=auth(ACME_LENA))
    assert_problem(bad, 422, "validation_failed")


async def test_another_communitys_member_sees_and_reaches_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    answer = await reply(client, created["id"])
    for user in (GLOBEX_GINA, GLOBEX_ADMIN):
        assert_problem(await client.get(POSTS, params={"community_id": ACME}, headers=auth(user)), 404, "not_found")
        assert_problem(await client.get(f"{POSTS}/{created['id']}", headers=auth(user)), 404, "not_found")
        reached = await client.post(f"{POSTS}/{created['id']}/replies", headers=auth(user), json={"body": "hi"})
        assert_problem(reached, 404, "not_found")
        gone = await client.post(f"/forum/replies/{answer['id']}/reactions", headers=auth(user), json={"kind": "like"})
        assert_problem(gone, 404, "not_found")
    other = await client.post(POSTS, headers=auth(GLOBEX_GINA), json={"community_id": ACME, "title": "x", "body": "y"})
    assert_problem(other, 404, "not_found")
    assert_problem(await moderate(client, f"posts/{created['id']}", "hide", GLOBEX_ADMIN), 404, "not_found")
    assert count(sql, "select count(*) as n from forum_replies") == 1
    assert count(sql, "select count(*) as n from forum_reactions") == 0


async def test_a_postgrest_caller_meets_the_same_rules(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    async with as_user(claims(GLOBEX_GINA)) as tx:
        assert await tx.fetch_all("select id from public.forum_posts") == []
    with pytest.raises(ConflictError, match="No such post"):
        async with as_user(claims(GLOBEX_GINA)) as tx:
            await tx.fetch_val("select app.forum_create_reply(%s, null, 'sneaky')", (created["id"],))
    with pytest.raises(ConflictError, match="no forum open"):
        async with as_user(claims(GLOBEX_GINA)) as tx:
            await tx.fetch_val("select app.forum_create_post(%s, 't', 'b', '{}', null)", (ACME,))
    for statement in (
        "insert into public.forum_posts (community_id, author_id, title, body) values (%s, auth.uid(), 't', 'b')",
        "update public.forum_posts set is_pinned = true where community_id = %s",
        "delete from public.forum_posts where community_id = %s",
    ):
        with pytest.raises(ForbiddenError):
            async with as_user(claims(ACME_LENA)) as tx:
                await tx.execute(statement, (ACME,))
    assert sql("select is_pinned, reply_count from forum_posts") == [{"is_pinned": False, "reply_count": 0}]


async def test_content_reference_and_tags_must_be_the_members_to_name(client: httpx.AsyncClient, sql: Sql) -> None:
    [item] = sql(
        "insert into content_items (community_id, type, title, payload, status)"
        " values (%s, 'prompt', 'secret', '{\"text\": \"x\"}', 'published') returning id::text",
        (GLOBEX,),
    )
    unseen = await client.post(
        POSTS, headers=auth(ACME_LENA), json={"community_id": ACME, "title": "t", "body": "b", "content_item_id": item["id"]}
    )
    assert_problem(unseen, 409, "unknown_content_item")
    foreign_tag = make_tag(sql, GLOBEX, "Globex only")
    tagged = await client.post(
        POSTS, headers=auth(ACME_LENA), json={"community_id": ACME, "title": "t", "body": "b", "tag_ids": [foreign_tag]}
    )
    assert_problem(tagged, 409, "unknown_tag")
    blank = await client.post(POSTS, headers=auth(ACME_LENA), json={"community_id": ACME, "title": "t", "body": "\x07"})
    assert_problem(blank, 422, "validation_failed")
    assert count(sql, "select count(*) as n from forum_posts") == 0


# --- the switch ---------------------------------------------------------------------------------------


async def test_a_switched_off_forum_is_invisible_to_members_and_its_content_stays(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await post(client)
    off = await client.patch(f"/communities/{ACME}", headers=auth(ACME_ADMIN), json={"forum_enabled": False})
    assert off.status_code == 200, off.text

    for user in (ACME_LENA, ACME_ADMIN):
        assert_problem(await client.get(POSTS, params={"community_id": ACME}, headers=auth(user)), 404, "not_found")
        assert_problem(await client.get(f"{POSTS}/{created['id']}", headers=auth(user)), 404, "not_found")
    assert_problem(
        await client.post(POSTS, headers=auth(ACME_LENA), json={"community_id": ACME, "title": "t", "body": "b"}),
        404,
        "not_found",
    )
    async with as_user(claims(ACME_LENA)) as tx:
        assert await tx.fetch_all("select id from public.forum_posts") == []
    staff = await client.get(f"{POSTS}/{created['id']}", headers=auth(SPECIALIST))
    assert staff.status_code == 200  # the content stays
    assert count(sql, "select count(*) as n from forum_posts") == 1

    await client.patch(f"/communities/{ACME}", headers=auth(ACME_ADMIN), json={"forum_enabled": True})
    assert (await client.get(f"{POSTS}/{created['id']}", headers=auth(ACME_LENA))).status_code == 200


# --- moderation ---------------------------------------------------------------------------------------


async def test_a_hidden_post_is_gone_for_members_and_kept_for_admins_and_staff(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    created = await post(client)
    hidden = await moderate(client, f"posts/{created['id']}", "hide")
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["is_hidden"] is True and hidden.json()["changed"] is True

    for user in (ACME_LENA, ACME_LIAM):  # the author too
        assert_problem(await client.get(f"{POSTS}/{created['id']}", headers=auth(user)), 404, "not_found")
        listed = (await client.get(POSTS, params={"community_id": ACME}, headers=auth(user))).json()
        assert listed["items"] == []
    assert_problem(
        await client.post(f"{POSTS}/{created['id']}/replies", headers=auth(ACME_LIAM), json={"body": "x"}),
        404,
        "not_found",
    )
    for user in (ACME_ADMIN, SPECIALIST):
        seen = await client.get(f"{POSTS}/{created['id']}", headers=auth(user))
        assert seen.status_code == 200 and seen.json()["post"]["is_hidden"] is True
    [entry] = sql("select actor_id::text, action, target_id, before, after, request_id from audit_log where action = 'forum.hide'")
    assert entry["actor_id"] == ACME_ADMIN and entry["target_id"] == created["id"]
    assert entry["before"]["hidden"] is False and entry["after"]["hidden"] is True
    assert entry["request_id"] == hidden.headers["x-request-id"]

    restored = await moderate(client, f"posts/{created['id']}", "restore", MANAGER)
    assert restored.status_code == 200 and restored.json()["is_hidden"] is False
    assert (await client.get(f"{POSTS}/{created['id']}", headers=auth(ACME_LENA))).status_code == 200


async def test_a_hidden_reply_is_gone_for_members(client: httpx.AsyncClient, db: str) -> None:
    created = await post(client)
    answer = await reply(client, created["id"])
    assert (await moderate(client, f"replies/{answer['id']}", "hide")).status_code == 200
    seen = (await client.get(f"{POSTS}/{created['id']}", headers=auth(ACME_LENA))).json()
    assert seen["replies"] == []
    admin = (await client.get(f"{POSTS}/{created['id']}", headers=auth(ACME_ADMIN))).json()
    assert [r["is_hidden"] for r in admin["replies"]] == [True]
    assert_problem(await moderate(client, f"replies/{answer['id']}", "pin"), 422, "validation_failed")


async def test_reply_count_counts_the_replies_members_see(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    first, second, third = [await reply(client, created["id"]) for _ in range(3)]

    async def counted() -> tuple[int, int]:
        listed = (await client.get(POSTS, params={"community_id": ACME}, headers=auth(ACME_LENA))).json()
        stored = sql("select reply_count from forum_posts where id = %s", (created["id"],))[0]["reply_count"]
        return listed["items"][0]["reply_count"], stored

    assert await counted() == (3, 3)
    assert (await client.delete(f"/forum/replies/{first['id']}", headers=auth(ACME_LIAM))).status_code == 200
    assert (await moderate(client, f"replies/{second['id']}", "hide")).status_code == 200
    assert (await moderate(client, f"replies/{second['id']}", "hide")).status_code == 200  # twice: counted once
    assert await counted() == (1, 1)
    assert (await moderate(client, f"replies/{second['id']}", "restore")).status_code == 200
    assert (await moderate(client, f"replies/{first['id']}", "restore")).status_code == 200  # deleted stays deleted
    assert await counted() == (2, 2)
    sql("delete from forum_replies where id = %s", (third["id"],))  # a service-role clean-up counts too
    assert await counted() == (1, 1)
    thread = (await client.get(f"{POSTS}/{created['id']}", headers=auth(ACME_LENA))).json()
    assert thread["post"]["reply_count"] == 1
    assert [r["id"] for r in thread["replies"] if not r["is_deleted"]] == [second["id"]]


async def test_a_locked_thread_takes_no_replies_and_no_edits(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    assert (await moderate(client, f"posts/{created['id']}", "lock")).json()["is_locked"] is True
    refused = await client.post(f"{POSTS}/{created['id']}/replies", headers=auth(ACME_LIAM), json={"body": "late"})
    assert_problem(refused, 409, "thread_locked")
    edit = await client.patch(f"{POSTS}/{created['id']}", headers=auth(ACME_LENA), json={"title": "New"})
    assert_problem(edit, 409, "thread_locked")
    with pytest.raises(ConflictError, match="locked"):
        async with as_user(claims(ACME_LIAM)) as tx:
            await tx.fetch_val("select app.forum_create_reply(%s, null, 'sql')", (created["id"],))
    assert count(sql, "select count(*) as n from forum_replies") == 0
    assert (await moderate(client, f"posts/{created['id']}", "unlock")).json()["is_locked"] is False
    await reply(client, created["id"])


async def test_pinned_posts_are_listed_on_their_own(client: httpx.AsyncClient, db: str) -> None:
    created = await post(client)
    await post(client, title="Other")
    assert (await moderate(client, f"posts/{created['id']}", "pin")).json()["is_pinned"] is True
    pinned = await client.get(POSTS, params={"community_id": ACME, "pinned": "true"}, headers=auth(ACME_LENA))
    assert [p["id"] for p in pinned.json()["items"]] == [created["id"]]


@pytest.mark.parametrize("user", [ACME_LENA, SPECIALIST], ids=["learner", "specialist"])
async def test_only_admins_and_staff_writers_moderate(client: httpx.AsyncClient, sql: Sql, user: str) -> None:
    created = await post(client)
    assert_problem(await moderate(client, f"posts/{created['id']}", "hide", user), 403, "forbidden")
    assert_problem(
        await client.get("/forum/reports", params={"community_id": ACME}, headers=auth(ACME_LENA)), 403, "forbidden"
    )
    with pytest.raises(ConflictError, match="moderate"):
        async with as_user(claims(user)) as tx:
            await tx.fetch_val("select app.forum_moderate(%s, null, 'hide', null, null, null)", (created["id"],))
    assert sql("select hidden_at from forum_posts") == [{"hidden_at": None}]
    assert count(sql, "select count(*) as n from audit_log where action like 'forum.%%'") == 0


# --- reactions, reports, edits, deletion --------------------------------------------------------------


async def test_reactions_are_one_per_kind_per_member(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    path = f"{POSTS}/{created['id']}/reactions"
    for _ in range(2):
        liked = await client.post(path, headers=auth(ACME_LIAM), json={"kind": "like"})
        assert liked.status_code == 200, liked.text
    await client.post(path, headers=auth(ACME_LENA), json={"kind": "like"})
    await client.post(path, headers=auth(ACME_LIAM), json={"kind": "insightful"})
    view = (await client.get(f"{POSTS}/{created['id']}", headers=auth(ACME_LIAM))).json()["post"]
    assert view["reactions"] == [
        {"kind": "insightful", "count": 1, "mine": True},
        {"kind": "like", "count": 2, "mine": True},
    ]
    taken_back = await client.delete(path, params={"kind": "like"}, headers=auth(ACME_LIAM))
    assert taken_back.json()["reactions"][1] == {"kind": "like", "count": 1, "mine": False}
    assert_problem(await client.post(path, headers=auth(ACME_LIAM), json={"kind": "angry"}), 422, "validation_failed")
    answer = await reply(client, created["id"])
    on_reply = await client.post(f"/forum/replies/{answer['id']}/reactions", headers=auth(ACME_LENA), json={"kind": "love"})
    assert on_reply.json()["reactions"] == [{"kind": "love", "count": 1, "mine": True}]
    assert count(sql, "select count(*) as n from forum_reactions") == 3


async def test_members_report_once_and_admins_work_the_queue(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    answer = await reply(client, created["id"])
    first = await client.post(f"{POSTS}/{created['id']}/reports", headers=auth(ACME_LIAM), json={"reason": "Spam"})
    assert first.status_code == 201, first.text
    again = await client.post(f"{POSTS}/{created['id']}/reports", headers=auth(ACME_LIAM), json={"reason": "Spam!"})
    assert_problem(again, 409, "already_reported")
    on_reply = await client.post(f"/forum/replies/{answer['id']}/reports", headers=auth(ACME_LENA), json={"reason": "Rude"})
    assert on_reply.status_code == 201

    queue = await client.get("/forum/reports", params={"community_id": ACME}, headers=auth(ACME_ADMIN))
    assert [r["id"] for r in queue.json()["items"]] == [first.json()["id"], on_reply.json()["id"]]
    assert_problem(
        await client.get("/forum/reports", params={"community_id": ACME}, headers=auth(GLOBEX_ADMIN)), 404, "not_found"
    )
    await moderate(client, f"posts/{created['id']}", "hide")
    dismissed = await client.post(f"/forum/reports/{on_reply.json()['id']}/dismiss", headers=auth(ACME_ADMIN))
    assert dismissed.json()["resolution"] == "dismissed"
    assert_problem(
        await client.post(f"/forum/reports/{on_reply.json()['id']}/dismiss", headers=auth(GLOBEX_ADMIN)), 404, "not_found"
    )
    assert (await client.get("/forum/reports", params={"community_id": ACME}, headers=auth(ACME_ADMIN))).json()["items"] == []
    assert sql("select resolution from forum_reports order by created_at") == [
        {"resolution": "hidden"},
        {"resolution": "dismissed"},
    ]
    assert count(sql, "select count(*) as n from audit_log where action = 'forum.report_dismissed'") == 1


async def test_authors_edit_within_the_window_and_history_is_kept(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    edited = await client.patch(f"{POSTS}/{created['id']}", headers=auth(ACME_LENA), json={"body": "Better body"})
    assert edited.status_code == 200 and edited.json()["body"] == "Better body" and edited.json()["edited_at"]
    assert_problem(
        await client.patch(f"{POSTS}/{created['id']}", headers=auth(ACME_LIAM), json={"body": "mine now"}),
        403,
        "not_the_author",
    )
    history = await client.get(f"{POSTS}/{created['id']}/edits", headers=auth(ACME_LENA))
    assert [(e["title"], e["body"]) for e in history.json()["items"]] == [("Prompt tips", "Use **examples**.")]
    assert (await client.get(f"{POSTS}/{created['id']}/edits", headers=auth(ACME_LIAM))).json()["items"] == []

    answer = await reply(client, created["id"])
    fixed = await client.patch(f"/forum/replies/{answer['id']}", headers=auth(ACME_LIAM), json={"body": "Thank you!"})
    assert fixed.status_code == 200 and fixed.json()["body"] == "Thank you!"
    replies = await client.get(f"/forum/replies/{answer['id']}/edits", headers=auth(ACME_ADMIN))
    assert [e["body"] for e in replies.json()["items"]] == ["Thanks!"]
    sql("update forum_replies set created_at = now() - interval '2 hours'")
    late = await client.patch(f"/forum/replies/{answer['id']}", headers=auth(ACME_LIAM), json={"body": "changed"})
    assert_problem(late, 409, "edit_window_closed")
    assert sql("select body from forum_replies") == [{"body": "Thank you!"}]


async def test_authors_delete_their_own_posts_and_replies(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    answer = await reply(client, created["id"])
    await reply(client, created["id"], user=ACME_LENA, parent_id=answer["id"])
    assert_problem(await client.delete(f"/forum/replies/{answer['id']}", headers=auth(ACME_LENA)), 404, "not_found")
    gone = await client.delete(f"/forum/replies/{answer['id']}", headers=auth(ACME_LIAM))
    assert gone.status_code == 200
    thread = (await client.get(f"{POSTS}/{created['id']}", headers=auth(ACME_LENA))).json()
    assert [(r["is_deleted"], r["body"]) for r in thread["replies"]] == [(True, ""), (False, "Thanks!")]
    assert_problem(await client.delete(f"{POSTS}/{created['id']}", headers=auth(ACME_ADMIN)), 403, "not_the_author")
    assert (await client.delete(f"{POSTS}/{created['id']}", headers=auth(ACME_LENA))).status_code == 200
    assert count(sql, "select count(*) as n from forum_posts") == 0
    assert count(sql, "select count(*) as n from forum_replies") == 0


async def test_posting_is_rate_limited_per_member(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    for _ in range(9):
        await reply(client, created["id"], user=ACME_LENA)
    refused = await client.post(f"{POSTS}/{created['id']}/replies", headers=auth(ACME_LENA), json={"body": "more"})
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"]
    await reply(client, created["id"], user=ACME_LIAM)  # another member's own budget
    assert count(sql, "select count(*) as n from forum_replies where author_id = %s", (ACME_LENA,)) == 9


# --- events -------------------------------------------------------------------------------------------


async def test_posts_and_replies_send_their_events(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    answer = await reply(client, created["id"])
    posted = events(sql, "forum.posted")
    assert [(e["user_id"], e["post_id"], e["reply_id"]) for e in posted] == [
        (ACME_LENA, created["id"], None),
        (ACME_LIAM, created["id"], answer["id"]),
    ]
    [replied] = events(sql, "forum.replied")
    assert replied["post_author_id"] == ACME_LENA and replied["user_id"] == ACME_LIAM
    assert replied["community_id"] == ACME and replied["post_title"] == "Prompt tips"


async def test_unknown_ids_are_404(client: httpx.AsyncClient, db: str) -> None:
    missing = uuid.uuid4()
    assert_problem(await client.get(f"{POSTS}/{missing}", headers=auth(ACME_LENA)), 404, "not_found")
    assert_problem(
        await client.post(f"/forum/replies/{missing}/reports", headers=auth(ACME_LENA), json={"reason": "x"}),
        404,
        "not_found",
    )


async def test_a_reply_answers_a_reply_of_its_own_thread_only(client: httpx.AsyncClient, sql: Sql) -> None:
    first, second = await post(client), await post(client, title="Second")
    elsewhere = await reply(client, first["id"])
    crossed = await client.post(
        f"{POSTS}/{second['id']}/replies", headers=auth(ACME_LIAM), json={"body": "x", "parent_id": elsewhere["id"]}
    )
    assert_problem(crossed, 404, "not_found")
    assert count(sql, "select count(*) as n from forum_replies where post_id = %s", (second["id"],)) == 0


async def test_a_postgrest_caller_is_held_to_a_posting_pace_too(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await post(client)
    sql(
        "insert into forum_replies (post_id, community_id, author_id, body)"
        " select %s, %s, %s, 'spam' from generate_series(1, 29)",
        (created["id"], ACME, ACME_LENA),
    )
    with pytest.raises(ConflictError, match="30 posts and replies a minute"):
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.fetch_val("select app.forum_create_reply(%s, null, 'one more')", (created["id"],))
    liam = await client.post(f"{POSTS}/{created['id']}/replies", headers=auth(ACME_LIAM), json={"body": "mine"})
    assert liam.status_code == 201
    # Through the function the database's refusal is the same 429.
    lena = await client.post(f"{POSTS}/{created['id']}/replies", headers=auth(ACME_LENA), json={"body": "x"})
    assert_problem(lena, 429, "rate_limited")


async def test_a_repeated_post_with_its_idempotency_key_is_answered_once(client: httpx.AsyncClient, sql: Sql) -> None:
    headers = {**auth(ACME_LENA), "Idempotency-Key": "post-1"}
    body = {"community_id": ACME, "title": "Once", "body": "only once"}
    first = await client.post(POSTS, headers=headers, json=body)
    again = await client.post(POSTS, headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert_problem(await client.post(POSTS, headers=headers, json={**body, "body": "other"}), 422, "idempotency_key_reused")
    assert count(sql, "select count(*) as n from forum_posts") == 1
    assert len(events(sql, "forum.posted")) == 1
